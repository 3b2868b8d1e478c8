//! QI Tech Sign (Brazil): envelopes, signers, identification documents, dossiers and the
//! HMAC-signed `envelope_completed` webhook, at the API's own paths (`/sign/envelope...`).
//!
//! Every call carries `Authorization: <api key>` (the plain key, no scheme); each key is a
//! tenant and sees only its own envelopes.

mod admin;
mod dossier;
mod handlers;
mod model;
mod wire;

use crate::engine::links::Links;
use crate::engine::scenarios::{Applied, ProviderSpec};
use crate::engine::store::TenantStore;
use crate::engine::timers::read_payload;
use crate::engine::Engine;
use crate::providers::{Mounted, Provider};
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::{Arc, Weak};
use wire::QError;

pub const SLUG: &str = "qitech";

/// QI Tech in the registry.
pub const PROVIDER: Provider = Provider {
    slug: SLUG,
    spec: SPEC,
    scenarios: (
        "scenarios/qitech.toml",
        include_str!("../../../scenarios/qitech.toml"),
    ),
    openapi: include_str!("../../../openapi/qitech.json"),
    mount: |context| {
        let state = QiTech::new(context.engine.clone(), context.body_limit);
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
        "envelope.create",
        "envelope.get",
        "envelope.submit",
        "envelope.cancel",
        "document.add",
        "personal_document.add",
        "signer.get",
        "signer.face",
        "signer.personal_document",
        "report",
        "document.report",
        "sign",
        "webhook",
    ],
    states: model::STATUS_NAMES,
    match_fields: &["subject", "name", "email", "phone", "document_number"],
};

/// Largest identification document or document, decoded (the manual's 10 MB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// A scenario's scripted status, later: `[envelope id, status]`.
const STATUS_TIMER: &str = "qitech.status";
/// An envelope's expiry, so that it shows in the timeline when the clock passes it even
/// if nobody reads the envelope: its id.
pub(crate) const EXPIRY_TIMER: &str = "qitech.expire";

pub struct QiTech {
    engine: Arc<Engine>,
    envelopes: Arc<TenantStore<String, model::Envelope>>,
    links: Links<model::service::LinkTarget>,
    files: Links<model::service::FileLink>,
    hooks: Arc<TenantStore<(), wire::webhook::HookConfig>>,
    body_limit: usize,
}

impl QiTech {
    pub fn new(engine: Arc<Engine>, body_limit: usize) -> Arc<QiTech> {
        Arc::new_cyclic(|me: &Weak<QiTech>| {
            // What its timers do, registered before any can be set or restored.
            engine
                .timers
                .on_model(STATUS_TIMER, me.clone(), |model, tenant, payload| {
                    if let Some((id, to)) =
                        read_payload::<(String, model::Status)>(STATUS_TIMER, payload)
                    {
                        model.force_status(tenant, &id, to);
                    }
                });
            engine
                .timers
                .on_model(EXPIRY_TIMER, me.clone(), |model, tenant, id| {
                    model.get(tenant, id).ok();
                });
            QiTech {
                envelopes: engine.new_store("qitech.envelopes"),
                links: Links::new(&engine, "qitech.links"),
                files: Links::new(&engine, "qitech.files"),
                hooks: engine.new_store("qitech.hooks"),
                engine,
                // base64 makes a 10 MB file about 13.4 MB of JSON.
                body_limit: body_limit.max(MAX_FILE_BYTES * 4 / 3 + 64 * 1024),
            }
        })
    }

    /// Applies the envelope's scenario for `operation`: latency, a broken connection or a
    /// scripted answer (as the error), and a scripted status later on the virtual clock.
    async fn script(&self, tenant: &str, id: &str, operation: &str) -> Result<Applied, QError> {
        let applied = self.engine.scenarios.on(SLUG, tenant, id, operation);
        if let Some(transition) = &applied.transition {
            if let Some(to) = model::Status::parse(&transition.to) {
                let due = crate::engine::add_seconds(self.engine.now(), transition.after_seconds);
                self.engine
                    .timers
                    .at_json(due, tenant, STATUS_TIMER, &(id, to));
            }
        }
        crate::wire::act_out(&self.engine, &applied)
            .await
            .map_err(|scripted| QError::Scripted(Box::new(scripted)))?;
        Ok(applied)
    }
}

/// The call's API key, for the journal.
fn journal_tenant(_: &QiTech, headers: &HeaderMap) -> Option<String> {
    tenant(headers).ok()
}

/// Extracts the API key, which is the tenant; a call without one answers 401.
pub struct ApiKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ApiKey {
    type Rejection = QError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ApiKey, QError> {
        tenant(&parts.headers).map(ApiKey)
    }
}

/// The API key is the tenant. The manual sends it bare; a scheme in front of it is a
/// client bug the real service would reject, so it is refused here too.
fn tenant(headers: &HeaderMap) -> Result<String, QError> {
    let key = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if key.is_empty() {
        return Err(QError::unauthenticated(
            "Missing API key: send it in the Authorization header (Authorization: <api key>)",
        ));
    }
    let lower = key.to_ascii_lowercase();
    if lower.starts_with("bearer ") || lower.starts_with("basic ") {
        return Err(QError::unauthenticated(
            "Invalid API key: send the key alone, without a scheme (Authorization: <api key>)",
        ));
    }
    Ok(key.to_owned())
}

/// The provider's tenant reading and storage caps, which the dispatch service applies to
/// every call before the routes (`dispatch::admission`).
fn admission(state: &Arc<QiTech>) -> Arc<dyn crate::dispatch::admission::Admission> {
    Arc::new(crate::dispatch::admission::StorageGate::new(
        state.clone(),
        &state.engine,
        journal_tenant,
        storage_full,
    ))
}

/// The provider's routes with its real paths.
pub fn router(state: Arc<QiTech>) -> Router {
    let limit = state.body_limit;
    let routes = Router::new()
        .route("/sign/envelope", post(handlers::create))
        .route(
            "/sign/envelope/{id}",
            get(handlers::get_envelope).patch(handlers::patch),
        )
        .route("/sign/envelope/{id}/document", post(handlers::add_document))
        .route(
            "/sign/envelope/{id}/document/{document_id}/report",
            get(handlers::document_report),
        )
        .route("/sign/envelope/{id}/report", get(handlers::report))
        .route(
            "/sign/envelope/{id}/signer/{signer_id}",
            get(handlers::signer),
        )
        .route(
            "/sign/envelope/{id}/signer/{signer_id}/face",
            get(handlers::face),
        )
        .route(
            "/sign/envelope/{id}/signer/{signer_id}/personal_document",
            post(handlers::add_personal_document).get(handlers::personal_documents),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body reader enforces the limit itself and answers in QI Tech's shape.
        .layer(DefaultBodyLimit::max(limit));
    routes.with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    QError::not_found(
        "ENDPOINT_NOT_FOUND",
        format!("No endpoint at {}", uri.path()),
        format!("Endpoint {} não encontrado", uri.path()),
    )
    .into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    QError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "Method Not Allowed",
        format!("Method {method} is not allowed for {}", uri.path()),
        format!("Método {method} não permitido para {}", uri.path()),
    )
    .into_response()
}

/// A call past the storage caps: 507 in QI Tech's error shape.
fn storage_full(full: &crate::engine::quota::Full, _: &axum::extract::Request) -> Response {
    QError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        "STORAGE_FULL",
        "Insufficient Storage",
        full.to_string(),
        "Armazenamento do simulador cheio: libere espaço com POST /_signsim/reset",
    )
    .into_response()
}
