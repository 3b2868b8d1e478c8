//! The admin API under `/_signsim`: what a test or a person uses to look inside the
//! simulator and steer it (health, CA, outbox, clock, reset, journal, webhooks, events,
//! scenarios), the built-in webhook receiver ([`captures`]) and a sample PDF
//! ([`samples`]). Its paths are a stable contract, documented in `openapi/admin.json` and
//! served by [`openapi`]; the admin token that guards them is [`token`]. The pages people
//! open under `/_signsim` (dashboard, resource pages, inbox) are `ui`'s, mounted here.

pub mod captures;
pub mod openapi;
pub mod samples;
pub mod token;

use crate::engine::bounded::{Page, PageQuery, Paging, DEFAULT_PAGE, OLDER_HEADER};
use crate::engine::clock::MAX_OFFSET_SECONDS;
use crate::engine::events::EventFilter;
use crate::engine::journal::JournalFilter;
use crate::engine::outbox::OutboxFilter;
use crate::engine::tenant::Tenants;
use crate::engine::{rfc3339, Engine};
use crate::ui::pages::Pages;
use crate::ui::{self, Caller};
use crate::wire::admin::{
    known_provider, wait_seconds, AdminBody, AdminError, Path, Query, ADMIN_BODY_LIMIT,
};
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// The admin API; `providers` are each provider's own admin calls and pages, mounted at
/// `/<slug>` below it; `pages` the dashboard, resource pages and inbox (`ui`); `documents`
/// the OpenAPI documents.
pub fn router(
    engine: Arc<Engine>,
    providers: Vec<(&'static str, Router)>,
    pages: Arc<Pages>,
    documents: openapi::Documents,
) -> Router {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/ca.pem", get(ca_pem))
        .route("/outbox", get(outbox))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/reset", post(reset))
        .route("/logout", post(logout))
        .route("/requests", get(requests))
        .route("/webhooks", get(webhooks))
        .route("/webhooks/{id}/redeliver", post(redeliver))
        .route("/events", get(events))
        .route("/scenarios", get(list_scenarios).post(load_scenarios))
        .fallback(not_found)
        .with_state(engine.clone())
        .merge(captures::router(engine))
        .merge(samples::router())
        .merge(openapi::router(documents))
        .merge(ui::pages::router(pages.clone()))
        .merge(ui::inbox::router(pages));
    for (slug, provider) in providers {
        router = router.nest(&format!("/{slug}"), provider);
    }
    // One body limit for every admin call, the providers' own included; the extractors
    // read within it and answer a larger body in the admin error shape.
    router.layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT))
}

fn bad_request(message: impl Into<String>) -> AdminError {
    AdminError::bad_request(message)
}

async fn not_found(uri: Uri) -> AdminError {
    AdminError::not_found(format!(
        "no admin endpoint at {}; see the README's admin API table",
        uri.path()
    ))
}

/// Open even with `--admin-token`, for container health checks (`signsim healthcheck`).
/// With `--state-file`, also where the state is kept and when it was last saved (real
/// time; `null` before the first save), so a script can wait for a save. Under a token,
/// a caller without it ([`token::Guest`]) gets status, version and uptime only: the
/// storage names every tenant, and a tenant's name is its credential in some providers.
async fn health(
    State(engine): State<Arc<Engine>>,
    guest: Option<axum::Extension<token::Guest>>,
) -> Json<Value> {
    let mut health = json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": engine.started.elapsed().as_secs(),
    });
    if guest.is_some() {
        return Json(health);
    }
    health["storage"] = storage(&engine);
    if let Some(file) = engine.saves.file() {
        let last = engine.saves.last();
        health["state"] = json!({
            "file": file.display().to_string(),
            "last_saved_at": last.map(|(at, _)| rfc3339(at)),
            "saves": last.map_or(0, |(_, count)| count),
        });
    }
    Json(health)
}

/// What the simulator stores against its caps, and the retention period: in
/// `/_signsim/health` and on the dashboard.
pub fn storage(engine: &Engine) -> Value {
    let caps = engine.meter.caps();
    let tenants: serde_json::Map<String, Value> = engine
        .meter
        .tenants()
        .into_iter()
        .map(|(tenant, used)| (format!("{}/{}", tenant.provider, tenant.name), json!(used)))
        .collect();
    json!({
        "used_bytes": engine.meter.total(),
        "max_bytes": caps.process_bytes,
        "max_tenant_bytes": caps.tenant_bytes,
        "tenants": tenants,
        "retention_seconds": engine.retention.map(|r| r.whole_seconds()),
    })
}

async fn ca_pem(State(engine): State<Arc<Engine>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        engine.pki.ca_pem().to_owned(),
    )
        .into_response()
}

/// `?provider=&tenant=` of the calls that pick tenants: a name alone is that name in every
/// provider, a provider alone every tenant of it, neither every tenant.
#[derive(Debug, Default, Deserialize)]
struct TenantQuery {
    provider: Option<String>,
    tenant: Option<String>,
}

impl TenantQuery {
    /// The tenants it names, from the query or else the body's fields.
    fn tenants(
        self,
        engine: &Engine,
        fields: Option<&crate::wire::Fields>,
    ) -> Result<Tenants, AdminError> {
        let field = |name: &str| match fields {
            Some(fields) => fields.text(name).map_err(AdminError::from),
            None => Ok(None),
        };
        let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let provider = match given(self.provider) {
            Some(provider) => Some(provider),
            None => given(field("provider")?),
        };
        let name = match given(self.tenant) {
            Some(name) => Some(name),
            None => given(field("tenant")?),
        };
        known_provider(engine, provider.as_deref())?;
        Ok(Tenants { provider, name })
    }
}

/// The page `?limit=&before=` asks for, if any (`None`: the whole list, as always).
fn paging(query: &PageQuery) -> Result<Option<Paging>, AdminError> {
    query.paging(DEFAULT_PAGE).map_err(bad_request)
}

/// A page of a list as JSON, newest first, with the cursor of the next, older page in
/// the `X-Signsim-Older` header (absent on the last page).
fn paged<T: serde::Serialize>(page: Page<T>) -> Response {
    let mut response = Json(json!(page.entries)).into_response();
    if let Some(older) = page.older {
        response.headers_mut().insert(
            header::HeaderName::from_static(OLDER_HEADER),
            header::HeaderValue::from(older),
        );
    }
    response
}

/// Every message "sent", oldest first; with `?limit=&before=`, a page of them newest
/// first.
async fn outbox(
    State(engine): State<Arc<Engine>>,
    Query(filter): Query<OutboxFilter>,
    Query(page): Query<PageQuery>,
) -> Result<Response, AdminError> {
    known_provider(&engine, filter.provider.as_deref())?;
    Ok(match paging(&page)? {
        None => Json(json!(engine.outbox.list(&filter))).into_response(),
        Some(paging) => paged(engine.outbox.page(&filter, paging)),
    })
}

/// `{"now", "offset_seconds"}` of the clock `tenants` names: a tenant's own, or the shared
/// one. A name in every provider reads the furthest of its clocks (they are equal when
/// only ever moved together, by name).
fn clock_state(engine: &Engine, tenants: &Tenants) -> Value {
    let offset = match engine.clock_scope(tenants) {
        Some(crate::engine::clock::Scope::Tenants(list)) => list
            .iter()
            .map(|(provider, name)| engine.clock.offset_nanos_of(provider, name))
            .max()
            .unwrap_or(0),
        _ => engine.clock.offset_nanos(),
    };
    let now = crate::engine::later(
        time::OffsetDateTime::now_utc(),
        time::Duration::nanoseconds(offset),
    );
    json!({
        "now": rfc3339(now),
        "offset_seconds": offset / 1_000_000_000,
    })
}

/// `?tenant=&provider=`: that tenant's clock (the shared one without `tenant`).
async fn clock(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<TenantQuery>,
) -> Result<Json<Value>, AdminError> {
    let tenants = query.tenants(&engine, None)?;
    Ok(Json(clock_state(&engine, &tenants)))
}

/// `{"seconds": n}`: moves the clock. The dashboard's form posts here too: a browser is
/// sent back to the dashboard (303), a client gets the clock as JSON.
async fn advance(
    State(engine): State<Arc<Engine>>,
    caller: Caller,
    body: Result<AdminBody, AdminError>,
) -> Response {
    let moved = match body {
        Ok(AdminBody(fields)) => advance_clock(&engine, &fields).await,
        Err(error) => Err(error),
    };
    match (moved, caller) {
        (Ok(tenants), Caller::Client) => Json(clock_state(&engine, &tenants)).into_response(),
        (Ok(_), Caller::Browser) => Redirect::to("/_signsim").into_response(),
        (Err(error), caller) => caller.failed(error),
    }
}

/// `{"seconds": n, "tenant"?, "provider"?}`: plays that tenant's clock forward (the
/// tenant of that name in every provider without `provider`; every clock without
/// `tenant`).
async fn advance_clock(
    engine: &Engine,
    fields: &crate::wire::Fields,
) -> Result<Tenants, AdminError> {
    let seconds = fields.text("seconds")?.ok_or_else(|| {
        bad_request("missing 'seconds': how far to move the clock, e.g. {\"seconds\": 3600}")
    })?;
    let seconds = advance_seconds(&seconds)?;
    let tenants = TenantQuery::default().tenants(engine, Some(fields))?;
    let scope = engine.clock_scope(&tenants).ok_or_else(|| {
        bad_request(
            "'provider' names whose clock to move only with 'tenant', e.g. \
             {\"seconds\": 3600, \"tenant\": \"w1\", \"provider\": \"qitech\"}; \
             without both every clock moves",
        )
    })?;
    engine.advance(&scope, seconds).await.map_err(|too_far| {
        bad_request(format!(
            "the clock can be at most {MAX_OFFSET_SECONDS} seconds (100 years of 365.25 days) \
             ahead of real time; it is {} ahead, so it can move {} more; \
             POST /_signsim/reset puts it back to real time",
            too_far.offset_seconds,
            i64::try_from(MAX_OFFSET_SECONDS)
                .unwrap_or(i64::MAX)
                .saturating_sub(too_far.offset_seconds)
                .max(0)
        ))
    })?;
    Ok(tenants)
}

/// The `seconds` of a clock advance: a whole number from 0 to the clock's bound, each
/// refusal saying what would be accepted.
fn advance_seconds(text: &str) -> Result<u64, AdminError> {
    let text = text.trim();
    // i128 holds any integer a client is likely to send, so a negative or huge one gets
    // its own message instead of "not a number".
    let Ok(seconds) = text.parse::<i128>() else {
        return Err(bad_request(format!(
            "'seconds' must be a whole number of seconds, e.g. {{\"seconds\": 3600}}, not {text}"
        )));
    };
    if seconds < 0 {
        return Err(bad_request(format!(
            "'seconds' must not be negative ({seconds}): the clock only moves forward; \
             POST /_signsim/reset puts it back to real time"
        )));
    }
    u64::try_from(seconds)
        .ok()
        .filter(|s| *s <= MAX_OFFSET_SECONDS)
        .ok_or_else(|| {
            bad_request(format!(
                "'seconds' is {seconds}, more than the clock can move: at most \
                 {MAX_OFFSET_SECONDS} (100 years of 365.25 days) ahead of real time"
            ))
        })
}

/// Refuses a body with anything but `takes`: a state-changing call must not act on a
/// form meant for something else (a signing page's form aimed here by a hostile id).
fn only_fields(call: &str, fields: &crate::wire::Fields, takes: &[&str]) -> Result<(), AdminError> {
    let stray = fields
        .values
        .keys()
        .map(String::as_str)
        .chain(fields.files.iter().map(|f| f.field.as_str()))
        .find(|name| !takes.contains(name));
    let Some(stray) = stray else {
        return Ok(());
    };
    let takes = match takes {
        [] => "no body".to_owned(),
        [name] => format!("only '{name}'"),
        names => format!(
            "only {} (in the query or the body)",
            names
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    Err(bad_request(format!(
        "{call} takes {takes}, not '{stray}': the body is not one of its own"
    )))
}

/// Forgets everything, or the tenants `tenant` and `provider` name (query or body).
async fn reset(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<TenantQuery>,
    AdminBody(fields): AdminBody,
) -> Result<Json<Value>, AdminError> {
    only_fields("POST /_signsim/reset", &fields, &["provider", "tenant"])?;
    let tenants = query.tenants(&engine, Some(&fields))?;
    engine.reset(&tenants);
    // What the reset freed goes back to the system before the answer (a failed blocking
    // task only means it stays with the allocator, for reuse).
    let _ = tokio::task::spawn_blocking(crate::engine::memory::give_back).await;
    let mut answer = json!({ "status": "ok", "tenant": tenants.name });
    if let Some(provider) = tenants.provider {
        answer["provider"] = json!(provider);
    }
    Ok(Json(answer))
}

/// `POST /_signsim/logout`: the admin token's guard has forgotten the session and clears
/// the cookie (without a token there is none); a browser goes back to the dashboard.
async fn logout(caller: Caller) -> Response {
    match caller {
        Caller::Client => Json(json!({ "status": "ok" })).into_response(),
        Caller::Browser => Redirect::to("/_signsim").into_response(),
    }
}

/// The calls answered, oldest first; with `?limit=&before=`, a page of them newest first
/// (the cursor is an entry's `seq`).
async fn requests(
    State(engine): State<Arc<Engine>>,
    Query(filter): Query<JournalFilter>,
    Query(page): Query<PageQuery>,
) -> Result<Response, AdminError> {
    known_provider(&engine, filter.provider.as_deref())?;
    Ok(match paging(&page)? {
        None => Json(json!(engine.journal.list(&filter))).into_response(),
        Some(paging) => paged(engine.journal.page(&filter, paging)),
    })
}

/// `?resource=&wait=` of `GET /_signsim/webhooks`.
#[derive(Debug, Default, Deserialize)]
struct AttemptQuery {
    resource: Option<String>,
    wait: Option<String>,
}

/// Every webhook delivery attempt of the tenants `?provider=&tenant=` name (of the
/// resource `?resource=` names), oldest first; with `?limit=&before=`, a page of them
/// newest first. With `?wait=SECONDS`, when there is none yet, waits that long for the
/// first.
async fn webhooks(
    State(engine): State<Arc<Engine>>,
    Query(query): Query<TenantQuery>,
    Query(attempts): Query<AttemptQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Response, AdminError> {
    let tenants = query.tenants(&engine, None)?;
    let paging = paging(&page)?;
    let resource = attempts
        .resource
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(wait) = wait_seconds(attempts.wait.as_deref())? {
        let found = engine
            .webhooks
            .wait_attempts(&tenants, resource, wait)
            .await;
        if paging.is_none() {
            return Ok(Json(json!(found)).into_response());
        }
    }
    Ok(match paging {
        None => Json(json!(engine.webhooks.attempts(&tenants, resource))).into_response(),
        Some(paging) => paged(engine.webhooks.attempts_page(&tenants, resource, paging)),
    })
}

/// Queues delivery `id` again, at once, as a new delivery. A browser (the resource page's
/// button) is sent back to the page of the delivery's resource (303).
async fn redeliver(
    State(engine): State<Arc<Engine>>,
    caller: Caller,
    path: Result<Path<String>, AdminError>,
    body: Result<AdminBody, AdminError>,
) -> Response {
    let id = match path {
        Ok(Path(id)) => id,
        Err(error) => return caller.failed(error),
    };
    let own_body = body.and_then(|AdminBody(fields)| {
        only_fields("POST /_signsim/webhooks/{id}/redeliver", &fields, &["back"])
    });
    if let Err(error) = own_body {
        return caller.failed(error);
    }
    let Some(request) = engine.webhooks.request(&id) else {
        return caller.failed(AdminError::not_found(format!(
            "no webhook delivery {id}; GET /_signsim/webhooks lists them"
        )));
    };
    let new_id = engine.ids.uuid();
    let now = engine.clock.now_of(request.provider, &request.tenant);
    engine.webhooks.redeliver(&id, new_id.clone(), now);
    engine.tick();
    match caller {
        Caller::Client => Json(json!({ "status": "ok", "delivery": new_id })).into_response(),
        Caller::Browser => Redirect::to(&ui::resource_path(
            request.provider,
            &request.tenant,
            &request.resource,
        ))
        .into_response(),
    }
}

/// The timeline of resources, filtered by `provider`, `id` and `tenant`, oldest first;
/// with `?limit=&before=`, a page of it newest first.
async fn events(
    State(engine): State<Arc<Engine>>,
    Query(filter): Query<EventFilter>,
    Query(page): Query<PageQuery>,
) -> Result<Response, AdminError> {
    known_provider(&engine, filter.provider.as_deref())?;
    Ok(match paging(&page)? {
        None => Json(json!(engine.events.list(&filter))).into_response(),
        Some(paging) => paged(engine.events.page(&filter, paging)),
    })
}

async fn list_scenarios(State(engine): State<Arc<Engine>>) -> Json<Value> {
    let list: Vec<Value> = engine
        .scenarios
        .list()
        .iter()
        .map(|s| json!(s.as_ref()))
        .collect();
    Json(json!(list))
}

/// Loads scenarios from a TOML body (the format of scenario files), replacing any of the
/// same name. Errors come back with line and column.
async fn load_scenarios(
    State(engine): State<Arc<Engine>>,
    request: axum::extract::Request,
) -> Result<Json<Value>, Response> {
    let body = axum::body::to_bytes(request.into_body(), ADMIN_BODY_LIMIT)
        .await
        .map_err(|_| {
            AdminError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a scenario file is at most {ADMIN_BODY_LIMIT} bytes"),
            )
            .into_response()
        })?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        bad_request("the body must be a TOML scenario file (UTF-8)").into_response()
    })?;
    let specs = engine.scenarios.specs().to_vec();
    match crate::engine::scenarios::parse("request body", text, &specs) {
        Ok(scenarios) => {
            let names: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
            engine.scenarios.load(scenarios);
            Ok(Json(json!({ "status": "ok", "loaded": names })))
        }
        Err(errors) => {
            let listed: Vec<Value> = errors
                .iter()
                .map(|e| json!({ "line": e.line, "column": e.column, "message": e.message }))
                .collect();
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            Err((
                StatusCode::BAD_REQUEST,
                Json(
                    json!({ "error": format!("invalid scenario file: {first}"), "errors": listed }),
                ),
            )
                .into_response())
        }
    }
}
