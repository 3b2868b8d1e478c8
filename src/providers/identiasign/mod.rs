//! IdentiaSign (Peru): login, signature processes, partial lists with `last_item`, labels,
//! notifications and the `urlCallback`, at the API's own paths (`/api/...`).
//!
//! `POST /api/auth/login` hands out a JWT; every other call carries
//! `Authorization: jwt-bearer <token>`. The token's `username` (the entity) is the tenant,
//! `Tenant::new(SLUG, username)`: every client name of one entity sees the same processes,
//! and everything time-based about them (the token's expiry, process and link expiry,
//! document URLs, the dates in listings, callbacks and signatures) reads the entity's own
//! clock, so that one entity's clock advance leaves every other's as it was.

mod admin;
mod handlers;
mod model;
mod service;
mod wire;

use handlers::{labels, login, processes};

use crate::engine::links::Links;
use crate::engine::scenarios::{Applied, ProviderSpec};
use crate::engine::store::TenantStore;
use crate::engine::tenant::Tenant;
use crate::engine::Engine;
use crate::providers::{Mounted, Provider};
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use std::sync::{Arc, Weak};
use wire::IError;

pub const SLUG: &str = "identiasign";

/// IdentiaSign in the registry.
pub const PROVIDER: Provider = Provider {
    slug: SLUG,
    spec: SPEC,
    scenarios: (
        "scenarios/identiasign.toml",
        include_str!("../../../scenarios/identiasign.toml"),
    ),
    openapi: include_str!("../../../openapi/identiasign.json"),
    mount: |context| {
        let state = IdentiaSign::new(context.engine.clone(), context.body_limit);
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
        "login",
        "create",
        "modify",
        "list",
        "reject",
        "notify",
        "labels.list",
        "sign",
        "callback",
    ],
    states: model::STATUS_NAMES,
    match_fields: &["username", "clientname", "description", "doc_id", "contact"],
    // A process is made by `create` (its scenario bound just before), so `times = N` there
    // counts the entity's first N creates that pick the scenario.
    creates: &["create"],
};

/// The resource that an entity's own operations (login, lists) bind scenarios to.
pub const ENTITY: &str = "-";

/// A scenario's scripted status, later: `[process id, status]`.
const STATUS_TIMER: &str = "identiasign.status";
/// A process's expiry, so that it shows in the timeline even if nobody reads the process:
/// its id.
pub(crate) const EXPIRY_TIMER: &str = "identiasign.expire";

pub struct IdentiaSign {
    engine: Arc<Engine>,
    processes: Arc<TenantStore<String, model::Process>>,
    links: Links<model::LinkTarget>,
    files: Links<model::FileLink>,
    labels: Arc<TenantStore<String, model::Label>>,
    configs: Arc<TenantStore<(), model::EntityConfig>>,
    seq: Arc<crate::engine::state::Counter>,
    body_limit: usize,
}

impl IdentiaSign {
    pub fn new(engine: Arc<Engine>, body_limit: usize) -> Arc<IdentiaSign> {
        Arc::new_cyclic(|me: &Weak<IdentiaSign>| {
            // What its timers do, registered before any can be set or restored.
            engine.on_scripted_status(STATUS_TIMER, me.clone(), |model, tenant, id, to| {
                if let Some(to) = model::Status::parse(to) {
                    model.force_status(tenant, id, to);
                }
            });
            engine
                .timers
                .on_model(EXPIRY_TIMER, me.clone(), |model, tenant, id| {
                    model.get(tenant, id).ok();
                });
            IdentiaSign {
                processes: engine.new_store("identiasign.processes"),
                links: Links::new(&engine, "identiasign.links"),
                files: Links::new(&engine, "identiasign.files"),
                labels: engine.new_store("identiasign.labels"),
                configs: engine.new_store("identiasign.configs"),
                seq: engine.new_counter("identiasign.seq", 1),
                engine,
                body_limit,
            }
        })
    }

    /// Applies the resource's scenario for `operation`: latency, a broken connection or a
    /// scripted answer (as the error), and a scripted status later on the virtual clock.
    async fn script(&self, tenant: &Tenant, id: &str, operation: &str) -> Result<Applied, IError> {
        let applied = self.engine.scripted(tenant, id, operation, STATUS_TIMER);
        crate::wire::act_out(&self.engine, &applied)
            .await
            .map_err(|scripted| IError::Scripted(Box::new(scripted)))?;
        Ok(applied)
    }

    /// Gives the entity (`ENTITY`) the scenario a listing call names by header, so that
    /// its `list` and `labels.list` act it out (a login gives it by `match` too).
    fn assign_entity_scenario(
        &self,
        tenant: &Tenant,
        requested: Option<&str>,
    ) -> Result<(), IError> {
        if requested.is_none() {
            return Ok(());
        }
        let chosen = self
            .engine
            .scenarios
            .choose(SLUG, requested, |_| None)
            .map_err(|_| self.unknown_scenario(requested))?;
        self.engine.assign_scenario(tenant, ENTITY, chosen);
        Ok(())
    }

    /// The 400 for an `X-Signsim-Scenario` that names no IdentiaSign scenario, naming the
    /// ones there are (in Spanish: the engine's own text is English).
    fn unknown_scenario(&self, requested: Option<&str>) -> IError {
        let known: Vec<String> = self
            .engine
            .scenarios
            .list()
            .into_iter()
            .filter(|s| s.provider == SLUG)
            .map(|s| s.name.clone())
            .collect();
        IError::bad_request(format!(
            "Escenario '{}' inexistente para {SLUG} (X-Signsim-Scenario); los hay: {}",
            requested.unwrap_or_default(),
            known.join(", ")
        ))
    }
}

/// The call's entity, read from its `jwt-bearer` token as the extractor reads it (expired
/// or not), for the journal and the storage caps.
fn journal_tenant(state: &IdentiaSign, headers: &axum::http::HeaderMap) -> Option<String> {
    wire::entity(state, headers).map(|tenant| tenant.name)
}

/// The provider's tenant reading and storage caps, which the dispatch service applies to
/// every call before the routes (`dispatch::admission`).
fn admission(state: &Arc<IdentiaSign>) -> Arc<dyn crate::dispatch::admission::Admission> {
    Arc::new(crate::dispatch::admission::StorageGate::new(
        state.clone(),
        &state.engine,
        journal_tenant,
        storage_full,
    ))
}

/// The provider's routes with its real paths.
pub fn router(state: Arc<IdentiaSign>) -> Router {
    let limit = state.body_limit;
    let routes = Router::new()
        .route("/api/auth/login", post(login::login))
        .route(
            "/api/signature_processes",
            put(processes::create)
                .post(processes::modify)
                .get(processes::list)
                .delete(processes::reject),
        )
        .route("/api/notify", post(processes::notify))
        .route(
            "/api/labels",
            get(labels::list_labels)
                .post(labels::put_label)
                .delete(labels::delete_label),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body reader enforces the limit itself and answers in IdentiaSign's shape.
        .layer(DefaultBodyLimit::max(limit));
    routes.with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    IError::not_found(format!("Ruta {} no encontrada", uri.path())).into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    IError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Método {method} no permitido en {}", uri.path()),
    )
    .into_response()
}

/// A call past the storage caps: 507 (413 for a body over a cap) in IdentiaSign's `{"msg"}`
/// shape, in Spanish (the engine's text is English).
fn storage_full(full: &crate::engine::quota::Full, _: &axum::extract::Request) -> Response {
    use crate::engine::quota::Full;
    let msg = match full {
        Full::Tenant { used, cap, .. } => format!(
            "Almacenamiento lleno: la entidad ocupa {used} de sus {cap} bytes \
             (--max-tenant-mb); libere espacio con POST /_signsim/reset o un periodo de \
             retención (--retention)"
        ),
        Full::Process { used, cap } => format!(
            "Almacenamiento lleno: el simulador ocupa {used} de sus {cap} bytes \
             (--max-memory-mb); libere espacio con POST /_signsim/reset o un periodo de \
             retención (--retention)"
        ),
        Full::Reading {
            stored,
            reading,
            incoming,
            cap,
        } => format!(
            "Almacenamiento lleno: el simulador ocupa {stored} bytes y está leyendo {reading} \
             más de sus {cap} bytes (--max-memory-mb); un cuerpo de {incoming} bytes no cabe: \
             reintente cuando terminen las llamadas en curso"
        ),
        Full::TooLarge {
            incoming,
            cap,
            flag,
        } => format!(
            "El cuerpo de la solicitud es demasiado grande: {incoming} bytes superan el límite \
             de almacenamiento de {cap} bytes ({flag})"
        ),
    };
    IError::new(crate::dispatch::admission::storage_status(full), msg).into_response()
}
