//! Uanataca One-Shot Optimizer (`/api/v1/...`).
//!
//! The real API has no HTTP authentication: the RAO's token or username/password/pin travel
//! in the body. State is global unless the caller sends `X-Signsim-Tenant`.

mod admin;
mod handlers;
mod model;
mod wire;

use handlers::{documents, images, requests, settings, tokens, videoid};

use crate::engine::scenarios::{Applied, ProviderSpec};
use crate::engine::store::TenantStore;
use crate::engine::webhooks::WebhookRequest;
use crate::pki::{PkiError, SignerIdentity};
use crate::providers::shared::oneshot::status::STATUS_NAMES;
use crate::providers::shared::oneshot::MATCH_FIELDS;
use crate::providers::shared::oneshot::{IssuedCertificate, OneShot, StatusNotice};
use crate::providers::{Mounted, Provider};
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use wire::UError;

pub const SLUG: &str = "uanataca";

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
            gate: gate(&state),
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
};

pub struct Uanataca {
    oneshot: Arc<OneShot>,
    /// The operator certificate shown as the approving RAO's.
    rao_certificate: IssuedCertificate,
    tokens: Arc<TenantStore<String, model::Token>>,
    images: Arc<TenantStore<String, model::Image>>,
    metadata: Arc<TenantStore<String, model::Metadata>>,
    settings: Arc<TenantStore<(), serde_json::Value>>,
    body_limit: usize,
}

impl Uanataca {
    pub fn new(oneshot: Arc<OneShot>, body_limit: usize) -> Result<Uanataca, PkiError> {
        let engine = oneshot.engine();
        let operator = SignerIdentity {
            given_name: "OneShot".into(),
            surname_1: "Operator".into(),
            surname_2: None,
            serial_number: "IDCES-123213123".into(),
            country: "ES".into(),
            email: Some("operator@signsim.invalid".into()),
        };
        let rao_certificate =
            IssuedCertificate::from(&engine.pki.issue_operator(&operator, engine.now())?);
        let notifier = Arc::downgrade(&oneshot);
        oneshot.on_status_change(SLUG, move |change| {
            if let Some(oneshot) = notifier.upgrade() {
                notify_status(oneshot.engine(), change);
            }
        });
        Ok(Uanataca {
            rao_certificate,
            tokens: engine.new_store("uanataca.tokens"),
            images: engine.new_store("uanataca.images"),
            metadata: engine.new_store("uanataca.metadata"),
            settings: engine.new_store("uanataca.settings"),
            oneshot,
            body_limit,
        })
    }
}

/// POSTs `{status, date, previous_status, request, registration_authority}` to the URL the
/// request was created with (async `callback`, video `webhook_url`), as the service does at
/// every status change.
fn notify_status(engine: &crate::engine::Engine, change: StatusNotice) {
    let Some(url) = change.callback else { return };
    let date = change
        .at
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]"
        ))
        .unwrap_or_default();
    let body = serde_json::json!({
        "status": change.to.as_str(),
        "date": date,
        "previous_status": change.from.as_str(),
        "request": change.pk,
        "registration_authority": change.registration_authority,
    });
    engine.webhook(
        WebhookRequest {
            provider: SLUG,
            tenant: change.tenant,
            resource: change.pk.to_string(),
            url,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into(),
        },
        time::Duration::ZERO,
    );
}

impl Uanataca {
    /// Applies what the request's scenario scripts for `operation`: latency, a broken
    /// connection or a scripted answer (returned as the error), and a status change later
    /// on the virtual clock. The rest of `Applied` is for the caller to use.
    async fn script(&self, tenant: &str, pk: u64, operation: &str) -> Result<Applied, UError> {
        let applied = self.oneshot.scripted(SLUG, tenant, pk, operation);
        crate::wire::act_out(self.oneshot.engine(), &applied)
            .await
            .map_err(|scripted| UError::Scripted(Box::new(scripted)))?;
        Ok(applied)
    }
}

/// The provider's tenant reading and storage caps, which the dispatch service applies to
/// every call before the routes (`wire::Gate`).
fn gate(state: &Arc<Uanataca>) -> Arc<dyn crate::wire::Gate> {
    Arc::new(crate::wire::TenantGate::new(
        state.clone(),
        state.oneshot.engine(),
        gate_tenant,
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

/// Path ids are numbers; anything else is a request that cannot exist.
fn parse_pk(raw: &str) -> Option<u64> {
    raw.trim().parse().ok()
}

/// Uanataca's tenant is the `X-Signsim-Tenant` header (the real API has no per-client
/// credential on these calls).
fn gate_tenant(_: &Uanataca, headers: &axum::http::HeaderMap) -> Option<String> {
    Some(crate::wire::tenant_from_headers(headers))
}

/// A call past the storage caps: 507 in the One-Shot envelope.
fn storage_full(full: &crate::engine::quota::Full, _: &axum::extract::Request) -> Response {
    axum::response::IntoResponse::into_response(UError::new(
        axum::http::StatusCode::INSUFFICIENT_STORAGE,
        full.to_string(),
    ))
}

/// The hashfile parser alone, for the fuzz targets in `fuzz/` (it is private to the wire
/// layer otherwise); not an API: it only says whether the file is accepted, and why not.
#[doc(hidden)]
pub fn parse_hashfile(bytes: &[u8]) -> Result<(), String> {
    wire::hashfile::parse(bytes).map(drop)
}
