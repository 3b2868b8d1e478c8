//! Uanataca One-Shot Optimizer (`/api/v1/...`).
//!
//! The real API has no HTTP authentication: the RAO's token or username/password/pin travel
//! in the body. The caller's tenant is the Uanataca tenant `X-Signsim-Tenant` names
//! (`default` without one; `wire::TenantHeader`), never another provider's.
//!
//! This file is the top of the surface: the registry entry, the routes and the admission. Below
//! it, each layer uses only the ones under it: `admin` and `handlers` (one file per
//! resource), then `wire` (the envelope and the reading of every call's fields), then
//! `service` (the state handle `Uanataca`), then `model` and the shared one-shot model.

mod admin;
mod handlers;
mod model;
mod service;
mod wire;

pub use service::SLUG;

use handlers::{documents, images, requests, settings, tokens, videoid};
use service::Uanataca;

use crate::engine::scenarios::ProviderSpec;
use crate::providers::shared::oneshot::status::STATUS_NAMES;
use crate::providers::shared::oneshot::MATCH_FIELDS;
use crate::providers::{Mounted, Provider};
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use wire::UError;

/// Uanataca in the registry.
pub const PROVIDER: Provider = Provider {
    slug: SLUG,
    spec: SPEC,
    scenarios: (
        "scenarios/uanataca.toml",
        include_str!("../../../scenarios/uanataca.toml"),
    ),
    openapi: include_str!("../../../openapi/uanataca.json"),
    mount: |context| {
        let state = Arc::new(Uanataca::new(context.oneshot(), context.body_limit)?);
        context.resource_links(SLUG, admin::resource_links(state.clone()));
        context.open_paths(SLUG, admin::OPEN_PATHS);
        Ok(Mounted {
            admission: admission(&state),
            api: router(state.clone()),
            admin: admin::router(state),
        })
    },
};

/// What scenario files may script for this provider.
pub const SPEC: ProviderSpec = ProviderSpec {
    slug: SLUG,
    operations: &[
        "request.create",
        "request.get",
        "request.approve",
        "request.cancel",
        "request.update",
        "videoid.create",
        "videoid.evidences",
        "videoid.video",
        "videoid.validate",
        "videoid.refuse",
        "otp.generate",
        "sign",
        "async.status",
        "document.upload",
        "document.retrieve",
        "document.list",
        "contract",
    ],
    states: STATUS_NAMES,
    match_fields: MATCH_FIELDS,
    // Both calls that make a request: `POST /request` and `POST /videoid`.
    creates: &["request.create", "videoid.create"],
};

/// The provider's tenant reading and storage caps, which the dispatch service applies to
/// every call before the routes (`dispatch::admission`).
fn admission(state: &Arc<Uanataca>) -> Arc<dyn crate::dispatch::admission::Admission> {
    Arc::new(crate::dispatch::admission::StorageGate::new(
        state.clone(),
        state.oneshot.engine(),
        tenant_of_call,
        storage_full,
    ))
}

/// The provider's routes with its real paths (`/api/v1/...`).
pub fn router(state: Arc<Uanataca>) -> Router {
    let limit = state.body_limit;
    let routes = Router::new()
        .route("/api/v1/hello", get(settings::hello))
        .route("/api/v1/version", get(settings::version))
        .route(
            "/api/v1/settings",
            get(settings::get).post(settings::update),
        )
        .route("/api/v1/tokens", get(tokens::list))
        .route("/api/v1/image", post(images::upload))
        .route(
            "/api/v1/image/{uid}",
            get(images::retrieve).delete(images::delete),
        )
        .route(
            "/api/v1/images",
            get(images::list).delete(images::delete_all),
        )
        .route(
            "/api/v1/metadata",
            get(images::list_metadata)
                .post(images::upload_metadata)
                .delete(images::delete_all_metadata),
        )
        .route(
            "/api/v1/metadata/{uid}",
            get(images::get_metadata).delete(images::delete_metadata),
        )
        .route("/api/v1/token", post(tokens::create))
        .route(
            "/api/v1/token/{uid}",
            get(tokens::get).delete(tokens::delete),
        )
        .route("/api/v1/request", post(requests::create))
        .route(
            "/api/v1/request/{pk}",
            get(requests::get)
                .delete(requests::cancel)
                .put(videoid::update),
        )
        .route("/api/v1/videoid", post(videoid::create))
        .route("/api/v1/videoid/{pk}/evidences", post(videoid::evidences))
        .route(
            "/api/v1/videoid/{pk}/evidences/video",
            post(videoid::upload_video),
        )
        .route(
            "/api/v1/videoid/{pk}/download/video",
            get(videoid::download_video),
        )
        .route("/api/v1/videoid/{pk}/validate", post(videoid::validate))
        .route("/api/v1/videoid/{pk}/refuse", post(videoid::refuse))
        .route("/api/v1/request/{pk}/approve", post(requests::approve))
        .route("/api/v1/requests/{pk}/approve", post(requests::approve))
        .route("/api/v1/otp/{pk}", post(requests::otp))
        .route("/api/v1/sign/{pk}", post(requests::sign))
        .route("/api/v1/async/status/{pk}", get(requests::async_status))
        .route("/api/v1/document/{pk}", post(documents::upload))
        .route("/api/v1/document/{pk}/contract", get(documents::contract))
        .route(
            "/api/v1/document/{pk}/{kind}/{uid}",
            get(documents::retrieve).delete(documents::delete),
        )
        .route(
            "/api/v1/documents/{pk}",
            get(documents::list).delete(documents::delete_all),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body reader enforces the limit itself and answers in the envelope.
        .layer(DefaultBodyLimit::max(limit));
    routes.with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    axum::response::IntoResponse::into_response(UError::not_found(format!(
        "The requested URL {} was not found on this server",
        uri.path()
    )))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    axum::response::IntoResponse::into_response(UError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {method} is not allowed for {}", uri.path()),
    ))
}

/// Uanataca's tenant is the `X-Signsim-Tenant` header (the real API has no per-client
/// credential on these calls).
fn tenant_of_call(_: &Uanataca, headers: &axum::http::HeaderMap) -> Option<String> {
    Some(crate::wire::tenant_from_headers(headers))
}

/// A call past the storage caps: 507 (413 for a body over a cap) in the One-Shot envelope.
fn storage_full(full: &crate::engine::quota::Full, _: &axum::extract::Request) -> Response {
    axum::response::IntoResponse::into_response(UError::new(
        crate::dispatch::admission::storage_status(full),
        full.to_string(),
    ))
}

/// The hashfile parser alone, for the fuzz targets in `fuzz/` (it is private to the wire
/// layer otherwise); not an API: it only says whether the file is accepted, and why not.
#[doc(hidden)]
pub fn parse_hashfile(bytes: &[u8]) -> Result<(), String> {
    wire::hashfile::parse(bytes).map(drop)
}
