//! Signal (Ecuador): a Bearer-token facade that sells the one-shot signature through one
//! call (person, identity images, PDF and OTP together), over the same one-shot model as
//! the Uanataca surface.
//!
//! A token from the simulator's `/auth/login` belongs to the username that logged in; any
//! other Bearer token is a tenant of its own. Files and the biometric check are reached through
//! unguessable links under `/_signsim/signal/...`, without the token.

mod admin;
mod handlers;
mod model;
mod wire;

use handlers::{auth, biometric, files, sign};

use crate::engine::links::Links;
use crate::engine::scenarios::{Applied, ProviderSpec};
use crate::engine::store::TenantStore;
use crate::pki::{PkiError, SignerIdentity};
use crate::providers::shared::oneshot::status::STATUS_NAMES;
use crate::providers::shared::oneshot::MATCH_FIELDS;
use crate::providers::shared::oneshot::{IssuedCertificate, OneShot};
use crate::providers::{Mounted, Provider};
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use wire::SError;

pub const SLUG: &str = "signal";

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
};

/// The RAO that approves every Signal request, as the docs show it.
const RAO_GIVEN_NAME: &str = "RAO Ecuador One-Shot";
const RAO_SURNAME: &str = "SandBox";
const RAO_DOCUMENT: &str = "99999999R";

pub struct Signal {
    oneshot: Arc<OneShot>,
    /// The approving RAO's certificate, shown in the request details.
    rao_certificate: IssuedCertificate,
    residences: Arc<TenantStore<u64, model::Residence>>,
    files: Links<model::FileLink>,
    biometrics: Links<model::Session>,
    body_limit: usize,
}

impl Signal {
    pub fn new(oneshot: Arc<OneShot>, body_limit: usize) -> Result<Signal, PkiError> {
        let engine = oneshot.engine();
        let rao = SignerIdentity {
            given_name: RAO_GIVEN_NAME.into(),
            surname_1: RAO_SURNAME.into(),
            surname_2: None,
            serial_number: format!("IDCEC-{RAO_DOCUMENT}"),
            country: "EC".into(),
            email: None,
        };
        let rao_certificate =
            IssuedCertificate::from(&engine.pki.issue_operator(&rao, engine.now())?);
        Ok(Signal {
            rao_certificate,
            residences: engine.new_store("signal.residences"),
            files: Links::new(engine, "signal.files"),
            biometrics: Links::new(engine, "signal.biometrics"),
            oneshot,
            body_limit,
        })
    }

    /// Acts out what the request's scenario scripts for `operation` (latency, a broken
    /// connection or a scripted answer, returned as the error) and schedules scripted
    /// status changes.
    async fn script(&self, tenant: &str, pk: u64, operation: &str) -> Result<Applied, SError> {
        let applied = self.oneshot.scripted(SLUG, tenant, pk, operation);
        crate::wire::act_out(self.oneshot.engine(), &applied)
            .await
            .map_err(|scripted| SError::Scripted(Box::new(scripted)))?;
        Ok(applied)
    }
}

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

/// A request pk as clients send it (`"23483"` or `23483`); anything else cannot exist.
fn parse_pk(raw: &str) -> Option<u64> {
    raw.trim().parse().ok()
}

/// A call past the storage caps: 507 in Signal's error shape.
fn storage_full(full: &crate::engine::quota::Full, _: &axum::extract::Request) -> Response {
    SError::new(StatusCode::INSUFFICIENT_STORAGE, full.to_string()).into_response()
}
