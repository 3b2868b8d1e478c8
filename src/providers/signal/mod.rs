//! Signal (Ecuador): a Bearer-token facade that sells the one-shot signature through one
//! call (person, identity images, PDF and OTP together), over the same one-shot model as
//! the Uanataca surface.
//!
//! A token from the simulator's `/auth/login` belongs to the username that logged in; any
//! other Bearer token is a tenant of its own. Files and the biometric check are reached through
//! unguessable links under `/_signsim/signal/...`, without the token.
//!
//! This file is the top of the surface: the registry entry, the routes and the admission. Below
//! it, each layer uses only the ones under it: `admin` and `handlers`, then `wire` (its
//! error shape, the Bearer token and the reading of every call's fields), then `service`
//! (the state handle `Signal`), then `model` and the shared one-shot model.

mod admin;
mod handlers;
mod model;
mod service;
mod wire;

pub use service::SLUG;

use handlers::{auth, biometric, files, sign};
use service::Signal;

use crate::engine::scenarios::ProviderSpec;
use crate::providers::shared::oneshot::status::STATUS_NAMES;
use crate::providers::shared::oneshot::MATCH_FIELDS;
use crate::providers::{Mounted, Provider};
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use wire::SError;

/// Signal in the registry: a facade over the one-shot model Uanataca serves too.
pub const PROVIDER: Provider = Provider {
    slug: SLUG,
    spec: SPEC,
    scenarios: (
        "scenarios/signal.toml",
        include_str!("../../../scenarios/signal.toml"),
    ),
    openapi: include_str!("../../../openapi/signal.json"),
    mount: |context| {
        let state = Arc::new(Signal::new(context.oneshot(), context.body_limit)?);
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
        "otp.generate",
        "sign",
        "retrieve",
        "download",
    ],
    states: STATUS_NAMES,
    match_fields: MATCH_FIELDS,
    // `POST /sign/request` makes the request (and generates its first OTP, which counts
    // per request as `otp.generate`).
    creates: &["request.create"],
};

/// The call's tenant as `wire::tenant_of` reads its Bearer token, for the journal.
fn journal_tenant(state: &Signal, headers: &axum::http::HeaderMap) -> Option<String> {
    wire::bearer(headers)
        .ok()
        .map(|token| wire::tenant_of(state, &token))
}

/// The provider's tenant reading and storage caps, which the dispatch service applies to
/// every call before the routes (`dispatch::admission`).
fn admission(state: &Arc<Signal>) -> Arc<dyn crate::dispatch::admission::Admission> {
    Arc::new(crate::dispatch::admission::StorageGate::new(
        state.clone(),
        state.oneshot.engine(),
        journal_tenant,
        storage_full,
    ))
}

/// The provider's routes at its real paths.
pub fn router(state: Arc<Signal>) -> Router {
    let limit = state.body_limit;
    let routes = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/sign", get(sign::status).post(sign::sign))
        .route("/sign/request", post(sign::create))
        .route("/sign/retrieve", post(files::retrieve))
        .route("/sign/download", post(files::download))
        .route("/sign/{pk}", get(sign::get))
        .route("/biometric", post(biometric::create))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body reader enforces the limit and answers in Signal's error shape.
        .layer(DefaultBodyLimit::max(limit));
    routes.with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    SError::not_found(format!("The requested URL {} was not found", uri.path())).into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    SError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {method} is not allowed for {}", uri.path()),
    )
    .into_response()
}

/// A call past the storage caps: 507 in Signal's error shape.
fn storage_full(full: &crate::engine::quota::Full, _: &axum::extract::Request) -> Response {
    // Signal's error table has no 413: a body over a cap is a bad request, as a body over
    // the size limit is (wire/mod.rs).
    let status = if full.too_large() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INSUFFICIENT_STORAGE
    };
    SError::new(status, full.to_string()).into_response()
}
