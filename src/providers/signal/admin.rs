//! What `/_signsim/signal` serves: the file links `retrieve` hands out and the biometric
//! check's page and admin call.

use super::handlers::files::{filename, octet_stream};
use super::model::{Session, OUTCOMES};
use super::service::{Signal, SLUG};
use crate::engine::rfc3339;
use crate::ui::{self, Caller};
use crate::wire::admin::{AdminBody, AdminError, AdminResult, Path};
use crate::wire::Fields;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use std::sync::Arc;

/// What the API's download and biometric links open, and where the biometric page
/// posts: open with `--admin-token` (see `Context::open_paths`).
pub const OPEN_PATHS: &[&str] = &["/files/{id}", "/biometric/{id}", "/biometric/{id}/complete"];

pub fn router(state: Arc<Signal>) -> Router {
    Router::new()
        .route("/files/{id}", get(by_link))
        .route("/biometric/{id}", get(page))
        .route("/biometric/{id}/complete", post(complete))
        .with_state(state)
}

/// `GET /_signsim/signal/files/{id}`: what a retrieve link downloads, until it expires.
async fn by_link(State(state): State<Arc<Signal>>, Path(id): Path<String>) -> AdminResult {
    let (tenant, link) = state
        .files
        .get(&id)
        .ok_or_else(|| AdminError::not_found("Link not found"))?;
    if state.oneshot.engine().now() > link.expires_at {
        return Err(AdminError::gone("Link expired"));
    }
    let bytes = state
        .file(&tenant, link.pk, &link.uid, link.signed)
        .map_err(|_| AdminError::not_found("The file of this link is gone"))?;
    Ok(octet_stream(bytes, &filename(link.signed, &link.uid)))
}

fn session(state: &Signal, id: &str) -> AdminResult<(String, Session)> {
    let (tenant, session) = state
        .biometrics
        .get(id)
        .ok_or_else(|| AdminError::not_found("Biometric session not found"))?;
    if state.oneshot.engine().now() > session.expires_at {
        return Err(AdminError::gone("Biometric session expired"));
    }
    Ok((tenant, session))
}

/// `GET /_signsim/signal/biometric/{id}`: the page the link opens.
async fn page(
    State(state): State<Arc<Signal>>,
    Path(id): Path<String>,
    caller: Caller,
) -> Response {
    let found = match session(&state, &id) {
        Ok((_, found)) => found,
        Err(error) => return caller.failed(error),
    };
    let action = format!("/_signsim/signal/biometric/{}/complete", ui::escape(&id));
    let body = match &found.outcome {
        Some(outcome) => format!(
            "<p class=\"note\">This biometric check is done: <strong>{}</strong>.</p>",
            ui::escape(outcome)
        ),
        None => format!(
            "<p>Signal would now film your face and compare it with your identity document. \
             Choose how the check ends.</p>\n\
             <form method=\"post\" action=\"{action}\">\n\
             <button name=\"outcome\" value=\"passed\">Pass the check</button>\n\
             <button name=\"outcome\" value=\"failed\">Fail the check</button>\n\
             </form>\n\
             <p class=\"note\">Link issued {}, valid until {}.</p>",
            rfc3339(found.created_at),
            rfc3339(found.expires_at)
        ),
    };
    ui::page("Signal biometric check", &body).into_response()
}

/// `POST /_signsim/signal/biometric/{id}/complete` `{"outcome": "passed"|"failed"}`; the
/// page's form posts here too.
async fn complete(
    State(state): State<Arc<Signal>>,
    Path(id): Path<String>,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    caller.answer(complete_check(&state, &id, &fields).map(|outcome| {
        let html = format!(
            "<p class=\"note\">Biometric check <strong>{}</strong>. You can close this page.</p>",
            ui::escape(&outcome)
        );
        let json = json!({ "id": id, "outcome": outcome });
        (json, "Signal biometric check".to_owned(), html)
    }))
}

fn complete_check(state: &Signal, id: &str, fields: &Fields) -> AdminResult<String> {
    let (tenant, found) = session(state, id)?;
    let outcome = fields.text("outcome")?.unwrap_or_default();
    if !OUTCOMES.contains(&outcome.as_str()) {
        return Err(AdminError::bad_request(format!(
            "Invalid outcome '{outcome}': use passed or failed"
        )));
    }
    if let Some(done) = found.outcome {
        return Err(AdminError::gone(format!(
            "Biometric session already completed: {done}"
        )));
    }
    state
        .biometrics
        .update(id, |s| s.outcome = Some(outcome.clone()));
    let engine = state.oneshot.engine();
    engine.record(
        SLUG,
        &tenant,
        id,
        "biometric",
        format!("biometric check {outcome}"),
    );
    Ok(outcome)
}
