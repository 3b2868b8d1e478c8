//! Mensatek identity verification by video (API 3.0): `VerificarIdentidad` sends the
//! person an SMS with a link, status reports go to the account's report URL at every
//! change, `GetCertificadoVerificacion` hands out the signed certificate and `GetCreditos`
//! the balance. Every call is a POST with HTTP Basic `APIUser:APIToken`; the API user is
//! the tenant (`ApiUser`): its verifications, balance, report URL and clock are its own.

mod admin;
mod certificate;
mod handlers;
mod model;
mod service;
mod wire;

use crate::engine::links::Links;
use crate::engine::scenarios::{Applied, ProviderSpec};
use crate::engine::store::TenantStore;
use crate::engine::tenant::Tenant;
use crate::engine::Engine;
use crate::providers::{Mounted, Provider};
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::Router;
use std::sync::{Arc, Weak};
use wire::Refusal;

pub const SLUG: &str = "mensatek";

/// Mensatek in the registry.
pub const PROVIDER: Provider = Provider {
    slug: SLUG,
    spec: SPEC,
    scenarios: (
        "scenarios/mensatek.toml",
        include_str!("../../../scenarios/mensatek.toml"),
    ),
    openapi: include_str!("../../../openapi/mensatek.json"),
    mount: |context| {
        let state = Mensatek::new(context.engine.clone(), context.body_limit);
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
        "verificar",
        "send",
        "open",
        "complete",
        "certificado",
        "report",
    ],
    states: model::STATUS_NAMES,
    match_fields: &["telefono", "dni", "remitente"],
    // `VerificarIdentidad` makes the verification its scenario is chosen for.
    creates: &["verificar"],
};

/// The calls carry a few short parameters; nothing larger is read.
pub const BODY_LIMIT: usize = 256 * 1024;

/// A scenario's scripted status, later: `[verification id, status]`.
const STATUS_TIMER: &str = "mensatek.status";

pub struct Mensatek {
    engine: Arc<Engine>,
    verifications: Arc<TenantStore<String, model::Verification>>,
    /// Link code → verification id (the tenant is the link's owner).
    links: Links<String>,
    credits: Arc<TenantStore<(), u64>>,
    reports: Arc<TenantStore<(), model::ReportConfig>>,
    body_limit: usize,
}

impl Mensatek {
    pub fn new(engine: Arc<Engine>, body_limit: usize) -> Arc<Mensatek> {
        Arc::new_cyclic(|me: &Weak<Mensatek>| {
            // What its timers do, registered before any can be set or restored.
            engine.on_scripted_status(STATUS_TIMER, me.clone(), |model, tenant, id, to| {
                if let Some(to) = model::Status::parse(to) {
                    model.force_status(tenant, id, to);
                }
            });
            service::timer_kinds(&engine, me);
            Mensatek {
                verifications: engine.new_store("mensatek.verifications"),
                links: Links::new(&engine, "mensatek.links"),
                credits: engine.new_store("mensatek.credits"),
                reports: engine.new_store("mensatek.reports"),
                engine,
                body_limit: body_limit.min(BODY_LIMIT),
            }
        })
    }

    /// Applies the verification's scenario for `operation`: latency, a broken connection
    /// or a scripted answer (as the refusal), and a scripted status later on the clock.
    async fn script(&self, tenant: &Tenant, id: &str, operation: &str) -> Result<Applied, Refusal> {
        let applied = self.engine.scripted(tenant, id, operation, STATUS_TIMER);
        crate::wire::act_out(&self.engine, &applied)
            .await
            .map_err(Refusal::Scripted)?;
        Ok(applied)
    }
}

/// A call's tenant: the API user of its Basic credentials, under Mensatek (`None` when
/// they are missing or malformed; the handler answers -1 in the format the call asks for).
pub struct ApiUser(pub Option<Tenant>);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ApiUser, Self::Rejection> {
        Ok(ApiUser(
            wire::api_user(&parts.headers).map(|user| Tenant::new(SLUG, user)),
        ))
    }
}

/// The call's API user, for the journal and the storage caps (the dispatch service makes
/// it a Mensatek tenant).
fn journal_tenant(_: &Mensatek, headers: &axum::http::HeaderMap) -> Option<String> {
    wire::api_user(headers)
}

/// The provider's tenant reading and storage caps, which the dispatch service applies to
/// every call before the routes (`dispatch::admission`).
fn admission(state: &Arc<Mensatek>) -> Arc<dyn crate::dispatch::admission::Admission> {
    Arc::new(crate::dispatch::admission::StorageGate::new(
        state.clone(),
        &state.engine,
        journal_tenant,
        storage_full,
    ))
}

/// Where the functions are served: under `/v7/`, where every client of Mensatek's REST API
/// builds `https://api.mensatek.com/v7/<Function>` (FIELD-NOTES), and at the root, the
/// `/<Function>` of the verification guide. The same table at each, so they cannot differ.
const BASES: [&str; 2] = ["/v7", ""];

/// The provider's routes with its real paths (the guide names only `VerificarIdentidad`;
/// the other two are the names of the functions).
pub fn router(state: Arc<Mensatek>) -> Router {
    let functions: [(&str, MethodRouter<Arc<Mensatek>>); 3] = [
        (
            "VerificarIdentidad",
            post(handlers::verifications::verificar_identidad),
        ),
        (
            "GetCertificadoVerificacion",
            post(handlers::certificates::get_certificado),
        ),
        ("GetCreditos", post(handlers::credits::get_creditos)),
    ];
    let mut routes = Router::new();
    for base in BASES {
        for (name, function) in &functions {
            routes = routes.route(&format!("{base}/{name}"), function.clone());
        }
    }
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body reader enforces the limit itself and answers -3.
        .layer(DefaultBodyLimit::max(state.body_limit))
        .with_state(state)
}

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

async fn not_found(uri: Uri) -> Response {
    plain(
        StatusCode::NOT_FOUND,
        format!("Not Found: no function at {}", uri.path()),
    )
}

async fn method_not_allowed(uri: Uri) -> Response {
    plain(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method Not Allowed: {} takes POST", uri.path()),
    )
}

/// A call past the storage caps: `Res` -3 with the reason, HTTP 200 like every Mensatek
/// error, in the format the query asks for (the body is not read for a refused call).
fn storage_full(full: &crate::engine::quota::Full, request: &axum::extract::Request) -> Response {
    let format = request
        .uri()
        .query()
        .and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name.eq_ignore_ascii_case("resp"))
                .map(|(_, value)| wire::Format::parse(&value))
        })
        .unwrap_or(wire::Format::Legacy);
    wire::MError::invalid(full.to_string())
        .reply()
        .render(format)
}
