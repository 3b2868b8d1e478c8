//! Admin calls and pages under `/_signsim/mensatek`: what the provider's panel sets (the
//! report URL, the balance), the person's act (JSON for tests, the page behind `[LINK]`
//! for people; one code path), and a report receiver that is always down.

use super::model::{Act, ModelError, Outcome, ReportConfig, ReportFormat, Status, OUTCOME_NAMES};
use super::service::MAX_CREDITS;
use super::wire::report::minutes;
use super::wire::Refusal;
use super::{Mensatek, SLUG};
use crate::engine::journal::ActedFor;
use crate::engine::tenant::Tenant;
use crate::ui::{escape, page, Caller};
use crate::wire::admin::{AdminBody, AdminError, AdminResult, Path, Query};
use crate::wire::Fields;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What the verification link opens, where its page posts (through the link: its code is
/// in the path), and the always-down receiver the simulator delivers to: open with
/// `--admin-token` (see `Context::open_paths`). `/verifications/{id}/complete` also takes
/// the `api_user` alone (a name, not a secret), so it is an admin call: under
/// `--admin-token` it needs the token.
pub const OPEN_PATHS: &[&str] = &[
    "/v/{code}",
    "/verifications/{id}/links/{code}",
    "/receiver-down",
];

pub fn router(state: Arc<Mensatek>) -> Router {
    Router::new()
        .route("/report-url", post(report_url))
        .route("/credits", post(credits))
        .route("/verifications/{id}/complete", post(complete_call))
        .route("/verifications/{id}/links/{code}", post(complete_by_link))
        .route("/verifications/{id}/certificate", get(certificate))
        .route("/v/{code}", get(verification_page))
        .route("/receiver-down", post(crate::wire::admin::receiver_down))
        .with_state(state)
}

/// `response`, journaled under `tenant`: the API user whose account or verification the
/// call acted on, which the path alone does not name (`ActedFor`). Every call below that
/// learns its tenant answers through this, failures included.
fn acted_for(tenant: &Tenant, mut response: Response) -> Response {
    response.extensions_mut().insert(ActedFor(tenant.clone()));
    response
}

/// The account an account call names by `api_user`.
fn account(fields: &Fields) -> AdminResult<Tenant> {
    Ok(Tenant::new(
        SLUG,
        fields.required("api_user", "my-api-user")?,
    ))
}

/// `{api_user, url, username?, password?, format: "json" | "form"}`: where the account's
/// status reports go, with Basic auth when `username` is given.
async fn report_url(State(state): State<Arc<Mensatek>>, AdminBody(fields): AdminBody) -> Response {
    let tenant = match account(&fields) {
        Ok(tenant) => tenant,
        Err(error) => return error.into_response(),
    };
    let answer = set_report_url(&state, &tenant, &fields).into_response();
    acted_for(&tenant, answer)
}

fn set_report_url(state: &Mensatek, tenant: &Tenant, fields: &Fields) -> AdminResult<Json<Value>> {
    let url = fields.required("url", "https://example.com/mensatek/report")?;
    if url::Url::parse(&url).is_err() {
        return Err(AdminError::bad_request(format!(
            "'url' must be an absolute URL, not {url}"
        )));
    }
    let format = match fields.text("format")? {
        None => ReportFormat::Json,
        Some(given) => ReportFormat::parse(&given).ok_or_else(|| {
            AdminError::bad_request(format!("'format' must be json or form, not {given}"))
        })?,
    };
    let basic_auth = match (fields.text("username")?, fields.text("password")?) {
        (Some(user), password) => Some((user, password.unwrap_or_default())),
        (None, Some(_)) => {
            return Err(AdminError::bad_request(
                "'password' needs a 'username' (Basic auth)",
            ))
        }
        (None, None) => None,
    };
    let body = json!({
        "status": "ok",
        "api_user": tenant.name,
        "url": url,
        "format": format.as_str(),
        "basic_auth": basic_auth.is_some(),
    });
    state.set_report(
        tenant,
        ReportConfig {
            url,
            basic_auth,
            format,
        },
    );
    Ok(Json(body))
}

/// `{api_user, credits}`: sets the account's balance (0 to 1 000 000 000).
async fn credits(State(state): State<Arc<Mensatek>>, AdminBody(fields): AdminBody) -> Response {
    let tenant = match account(&fields) {
        Ok(tenant) => tenant,
        Err(error) => return error.into_response(),
    };
    let answer = set_credits(&state, &tenant, &fields).into_response();
    acted_for(&tenant, answer)
}

fn set_credits(state: &Mensatek, tenant: &Tenant, fields: &Fields) -> AdminResult<Json<Value>> {
    let raw = fields.required("credits", "100")?;
    let credits = raw
        .parse::<u64>()
        .ok()
        .filter(|c| *c <= MAX_CREDITS)
        .ok_or_else(|| {
            AdminError::bad_request(format!(
                "'credits' must be a whole number from 0 to {MAX_CREDITS}, not {raw}"
            ))
        })?;
    state.set_credits(tenant, credits);
    Ok(Json(
        json!({ "status": "ok", "api_user": tenant.name, "credits": credits }),
    ))
}

/// `{api_user | link, outcome, dni?}`: the person opens the link (if not yet), shows the
/// document, takes the selfie and finishes with `outcome`. Tests name the tenant by
/// `api_user`; the page posts the `link` it was opened from instead.
async fn complete_call(
    State(state): State<Arc<Mensatek>>,
    Path(id): Path<String>,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    complete_act(&state, &id, caller, fields).await
}

/// `POST /verifications/{id}/links/{code}` `{outcome, dni?}`: what the page's form posts,
/// through the link it was opened from (which must lead to this verification).
async fn complete_by_link(
    State(state): State<Arc<Mensatek>>,
    Path((id, code)): Path<(String, String)>,
    caller: Caller,
    AdminBody(mut fields): AdminBody,
) -> Response {
    // The link is the credential: whatever else the form carried, the act is by link.
    fields.values.remove("api_user");
    fields.values.insert("link".to_owned(), Value::String(code));
    complete_act(&state, &id, caller, fields).await
}

/// The act of `complete_call` and `complete_by_link`.
async fn complete_act(state: &Mensatek, id: &str, caller: Caller, fields: Fields) -> Response {
    let actor = match actor(state, id, &fields) {
        Ok(actor) => actor,
        Err(error) => return caller.failed(error),
    };
    let answer = match complete(state, id, &actor, &fields).await {
        Ok(done) => {
            let json = json!({
                "status": done.status.as_str(),
                "estado": done.status.code(),
                "id": done.id,
                "outcome": done.findings.as_ref().map(|f| f.outcome.as_str()),
            });
            let html = match done.status {
                Status::Verified => {
                    "<p>Your identity has been verified. You can close this page.</p>"
                }
                _ => "<p>The verification did not succeed. You can close this page.</p>",
            };
            caller.done(json, "Verification finished", html)
        }
        Err(NotDone::Refused(error)) => caller.failed(error),
        Err(NotDone::Scripted(response)) => response,
    };
    acted_for(&actor.tenant, answer)
}

/// Why the act did not happen: an admin error, or the scenario's scripted answer.
enum NotDone {
    Refused(AdminError),
    Scripted(Response),
}

impl<E: Into<AdminError>> From<E> for NotDone {
    fn from(error: E) -> NotDone {
        NotDone::Refused(error.into())
    }
}

/// Who acts on a verification: its tenant, and whether through the link the SMS carried
/// (the page's form) rather than by `api_user` (a test).
struct Actor {
    tenant: Tenant,
    by_link: bool,
}

/// The admin API's one rule: 404 for an unknown verification; through the link, 410 once
/// the link expired or was used (the verification is over for the person); otherwise 409,
/// the verification's state does not allow the act (not sent yet, or over, named by
/// `api_user`).
fn refusal(error: ModelError, by_link: bool) -> AdminError {
    match error {
        ModelError::NotFound(id) => AdminError::not_found(format!("no verification {id}")),
        ModelError::WrongStatus { status, .. } if by_link && status != Status::Scheduled => {
            AdminError::gone(format!(
                "the verification is {status}: {}",
                link_gone(status)
            ))
        }
        ModelError::WrongStatus { status, .. } => AdminError::conflict(format!(
            "the verification is {status}: the person cannot act on it now"
        )),
        other => AdminError::conflict(format!("{other:?}")),
    }
}

/// Why a link the person can no longer act on is gone.
fn link_gone(status: Status) -> &'static str {
    match status {
        Status::Expired => "this link has expired: it was not opened in time",
        _ => "this link has been used: there is nothing more to do",
    }
}

fn scripted(refusal: Refusal) -> NotDone {
    match refusal {
        Refusal::Scripted(response) => NotDone::Scripted(response),
        Refusal::Api(error) => NotDone::Refused(AdminError::conflict(format!("{error:?}"))),
    }
}

/// The tenant of an act: the `api_user` a test gives, or the owner of the page's link
/// (which must lead to this verification).
fn actor(state: &Mensatek, id: &str, fields: &Fields) -> AdminResult<Actor> {
    if fields.text("api_user")?.is_none() {
        if let Some(code) = fields.text("link")? {
            return state
                .link_target(&code)
                .filter(|(_, target)| target == id)
                .map(|(tenant, _)| Actor {
                    tenant,
                    by_link: true,
                })
                .ok_or_else(|| AdminError::not_found("this verification link does not exist"));
        }
    }
    // By `api_user` (when it is missing too, the error names it).
    Ok(Actor {
        tenant: account(fields)?,
        by_link: false,
    })
}

async fn complete(
    state: &Mensatek,
    id: &str,
    actor: &Actor,
    fields: &Fields,
) -> Result<super::model::Verification, NotDone> {
    let tenant = &actor.tenant;
    let refused = |error| refusal(error, actor.by_link);
    let given = fields.required("outcome", "verified")?;
    let chosen = Outcome::parse(&given).ok_or_else(|| {
        AdminError::bad_request(format!(
            "'outcome' must be one of {}, not {given}",
            OUTCOME_NAMES.join(", ")
        ))
    })?;
    let dni = fields.text("dni")?;
    if dni
        .as_ref()
        .is_some_and(|d| d.len() > 20 || !d.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(AdminError::bad_request("'dni' must be letters and digits, at most 20").into());
    }
    state.get(tenant, id).map_err(refused)?;
    let applied = state
        .script(tenant, id, "complete")
        .await
        .map_err(scripted)?;
    // A scenario's outcome wins over the person's choice (the check fails whatever they do).
    let outcome = applied
        .values
        .get("outcome")
        .and_then(Value::as_str)
        .and_then(Outcome::parse)
        .unwrap_or(chosen);
    Ok(state
        .complete(tenant, id, Act { outcome, dni })
        .map_err(refused)?)
}

fn not_a_link() -> Response {
    (
        StatusCode::NOT_FOUND,
        page(
            "Link not found",
            "<p>This verification link does not exist (or the simulator was reset).</p>",
        ),
    )
        .into_response()
}

/// The page behind `[LINK]`: opening it opens the verification (status 5002); its form
/// shows the document, takes the "selfie" and finishes with an outcome, posting to the
/// same admin call the tests use.
async fn verification_page(
    State(state): State<Arc<Mensatek>>,
    Path(code): Path<String>,
) -> Response {
    // The link's owner is the tenant the page acts for.
    let Some((tenant, id)) = state.link_target(&code) else {
        return not_a_link();
    };
    let answer = open_page(&state, &tenant, &id, &code).await;
    acted_for(&tenant, answer)
}

async fn open_page(state: &Mensatek, tenant: &Tenant, id: &str, code: &str) -> Response {
    let Ok(current) = state.get(tenant, id) else {
        return not_a_link();
    };
    let title = "Identity verification";
    if current.status == Status::Sent {
        if let Err(refused) = state.script(tenant, id, "open").await {
            return refused.render(super::wire::Format::Legacy);
        }
    }
    let Ok(verification) = state.open(tenant, id) else {
        return not_a_link();
    };
    if !verification.status.open_to_person() {
        // An expired link, or one the person has gone through, says so with 410 Gone.
        let (status, what) = match verification.status {
            Status::Scheduled => (StatusCode::OK, "the message has not been sent yet"),
            gone => (StatusCode::GONE, link_gone(gone)),
        };
        let body = format!(
            "<p class=\"note\">This verification is <strong>{}</strong>: {what}.</p>",
            escape(&verification.status.to_string())
        );
        return (status, page(title, &body)).into_response();
    }
    let requested = verification
        .requested_dni
        .as_deref()
        .map(|dni| {
            format!(
                "<p>The document expected is <strong>{}</strong>.</p>",
                escape(dni)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<p>Verification {id} for {phone}, sent {sent}.</p>
{requested}
<form method="post" action="{action}">
<fieldset><legend>1. Show your identity document</legend>
<label>Document number read from it (empty: the one expected, or an invented one)
<input name="dni" maxlength="20" placeholder="00000000T"></label>
</fieldset>
<fieldset><legend>2. Take the selfie</legend>
<p class="note">Simulated: no camera is used. Choose how the checks end.</p>
</fieldset>
<fieldset><legend>3. Finish</legend>
<button type="submit" name="outcome" value="verified">I am the person on the document</button>
<button type="submit" name="outcome" value="liveness_failed">Fail the liveness check</button>
<button type="submit" name="outcome" value="document_mismatch">Show another document</button>
</fieldset>
</form>"#,
        id = escape(&verification.id),
        phone = escape(&verification.phone),
        sent = escape(&verification.sent_at.map(minutes).unwrap_or_default()),
        // Through the link: its code is the credential.
        action = escape(&format!(
            "/_signsim/{SLUG}/verifications/{}/links/{}",
            crate::ui::path_segment(&verification.id),
            crate::ui::path_segment(code)
        )),
    );
    page(title, &body).into_response()
}

/// `GET /verifications/{id}/certificate?api_user=`: the signed certificate, inline, once
/// it is available (what `GetCertificadoVerificacion` hands out); 404 before.
async fn certificate(
    State(state): State<Arc<Mensatek>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(api_user) = query.get("api_user") else {
        return AdminError::bad_request("give the verification's 'api_user'").into_response();
    };
    let tenant = Tenant::new(SLUG, api_user.as_str());
    let answer = match state.certificate(&tenant, &id) {
        Ok(pdf) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "inline; filename=\"certificado-{}.pdf\"",
                        id.chars()
                            .filter(char::is_ascii_alphanumeric)
                            .collect::<String>()
                    ),
                ),
            ],
            pdf,
        )
            .into_response(),
        Err(super::model::ModelError::NotFound(_)) => {
            AdminError::not_found(format!("no verification {id}")).into_response()
        }
        // Not made yet: the document does not exist (yet), as its link says.
        Err(_) => AdminError::not_found("the certificate is not available (yet)").into_response(),
    };
    acted_for(&tenant, answer)
}

/// What the resource page links for a verification: its certificate once available, and
/// the page behind `[LINK]`.
pub fn resource_links(state: Arc<Mensatek>) -> crate::ui::LinksFn {
    Arc::new(move |api_user: &str, id: &str| {
        let tenant = Tenant::new(SLUG, api_user);
        let Ok(verification) = state.get(&tenant, id) else {
            return Default::default();
        };
        let mut documents = Vec::new();
        if state.certificate(&tenant, id).is_ok() {
            documents.push((
                "verification certificate (PDF)".to_owned(),
                format!(
                    "/_signsim/{SLUG}/verifications/{}/certificate?api_user={}",
                    crate::ui::path_segment(&verification.id),
                    crate::ui::query_value(api_user)
                ),
            ));
        }
        let acts = vec![(
            format!("verification page of {} ([LINK])", verification.phone),
            state.verification_url(&verification.link),
        )];
        crate::ui::ResourceLinks { documents, acts }
    })
}
