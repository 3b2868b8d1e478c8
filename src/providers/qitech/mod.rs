//! QI Tech Sign (Brazil): envelopes, signers, identification documents, dossiers and the
//! HMAC-signed `envelope_completed` webhook, at the API's own paths (`/sign/envelope...`).
//!
//! Every call carries `Authorization: <api key>` (the plain key, no scheme); each key is a
//! tenant and sees only its own envelopes.
//!
//! This file holds the provider's entry in the registry, its state (`QiTech`) with what
//! its timers do, the scenario effects of an operation (`QiTech::script`) and the routes.
//! Below it, layers point down: `handlers/` (one file per resource) read the request
//! through `wire/` and run `service/` (the operations with their engine effects: expiry,
//! signing, file URLs), which changes `model/` (the data and its table of moves);
//! `dossier.rs` builds the signed dossiers, `admin.rs` the `/_signsim/qitech` calls and
//! pages.

mod admin;
mod dossier;
mod handlers;
mod model;
mod service;
mod wire;

use handlers::{documents, envelopes, reports, signers};

use crate::engine::links::Links;
use crate::engine::scenarios::{Applied, ProviderSpec};
use crate::engine::store::TenantStore;
use crate::engine::tenant::Tenant;
use crate::engine::Engine;
use crate::providers::{Mounted, Provider};
use axum::extract::DefaultBodyLimit;
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
    creates: &["envelope.create"],
    match_fields: &["subject", "name", "email", "phone", "document_number"],
};

/// A scenario's scripted status, later: `[envelope id, status]` (`Engine::scripted`).
const STATUS_TIMER: &str = "qitech.status";

pub struct QiTech {
    engine: Arc<Engine>,
    envelopes: Arc<TenantStore<String, model::Envelope>>,
    links: Links<service::signing::LinkTarget>,
    files: Links<service::files::FileLink>,
    hooks: Arc<TenantStore<(), wire::webhook::HookConfig>>,
    body_limit: usize,
}

impl QiTech {
    pub fn new(engine: Arc<Engine>, body_limit: usize) -> Arc<QiTech> {
        Arc::new_cyclic(|me: &Weak<QiTech>| {
            // What its timers do, registered before any can be set or restored.
            engine.on_scripted_status(STATUS_TIMER, me.clone(), |model, tenant, id, to| {
                if let Some(to) = model::Status::parse(to) {
                    model.force_status(tenant, id, to);
                }
            });
            service::expiry::on_expiry(&engine, me.clone());
            QiTech {
                envelopes: engine.new_store("qitech.envelopes"),
                links: Links::new(&engine, "qitech.links"),
                files: Links::new(&engine, "qitech.files"),
                hooks: engine.new_store("qitech.hooks"),
                engine,
                // base64 makes a 10 MB file about 13.4 MB of JSON.
                body_limit: body_limit.max(wire::request::MAX_FILE_BYTES * 4 / 3 + 64 * 1024),
            }
        })
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Applies the envelope's scenario for `operation`: latency, a broken connection or a
    /// scripted answer (as the error), and a scripted status later on the virtual clock.
    async fn script(&self, tenant: &Tenant, id: &str, operation: &str) -> Result<Applied, QError> {
        let applied = self.engine.scripted(tenant, id, operation, STATUS_TIMER);
        crate::wire::act_out(&self.engine, &applied)
            .await
            .map_err(|scripted| QError::Scripted(Box::new(scripted)))?;
        Ok(applied)
    }
}

/// The call's API key, the name of its tenant (for the journal and the storage caps).
fn journal_tenant(_: &QiTech, headers: &HeaderMap) -> Option<String> {
    wire::api_key::key(headers).ok()
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
        .route("/sign/envelope", post(envelopes::create))
        .route(
            "/sign/envelope/{id}",
            get(envelopes::get_envelope).patch(envelopes::patch),
        )
        .route(
            "/sign/envelope/{id}/document",
            post(documents::add_document),
        )
        .route(
            "/sign/envelope/{id}/document/{document_id}/report",
            get(reports::document_report),
        )
        .route("/sign/envelope/{id}/report", get(reports::report))
        .route(
            "/sign/envelope/{id}/signer/{signer_id}",
            get(signers::signer),
        )
        .route(
            "/sign/envelope/{id}/signer/{signer_id}/face",
            get(signers::face),
        )
        .route(
            "/sign/envelope/{id}/signer/{signer_id}/personal_document",
            post(signers::add_personal_document).get(signers::personal_documents),
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

/// A call past the storage caps: 507 (413 for a body over a cap) in QI Tech's error shape.
fn storage_full(full: &crate::engine::quota::Full, _: &axum::extract::Request) -> Response {
    let (code, title, translation) = if full.too_large() {
        (
            "PAYLOAD_TOO_LARGE",
            "Payload Too Large",
            "Corpo da requisição maior que o limite de armazenamento do simulador",
        )
    } else {
        (
            "STORAGE_FULL",
            "Insufficient Storage",
            "Armazenamento do simulador cheio: libere espaço com POST /_signsim/reset",
        )
    };
    QError::new(
        crate::dispatch::admission::storage_status(full),
        code,
        title,
        full.to_string(),
        translation,
    )
    .into_response()
}
