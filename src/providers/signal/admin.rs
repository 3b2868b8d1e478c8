//! What `/_signsim/signal` serves: the file links `retrieve` hands out and the biometric
//! check's page and admin call.
//!
//! Each is reached by its link alone; the link's owner (`Links::get`) is the Signal
//! tenant the call acted for (`ActedFor`, for the journal), and the tenant's clock says
//! whether the link expired. 404 for an unknown link, 410 for an expired or used one.

use super::handlers::files::{filename, octet_stream};
use super::model::{FileLink, Session, OUTCOMES};
use super::service::Signal;
use crate::engine::journal::ActedFor;
use crate::engine::rfc3339;
use crate::engine::tenant::Tenant;
use crate::ui::{self, Caller};
use crate::wire::admin::{AdminBody, AdminError, AdminResult, Path};
use crate::wire::Fields;
use axum::extract::State;
use axum::http::StatusCode;
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

/// `response`, journaled as an act for `tenant` (`ActedFor`): a link names its tenant
/// only through its owner.
fn acted_for(mut response: Response, tenant: Option<Tenant>) -> Response {
    if let Some(tenant) = tenant {
        response.extensions_mut().insert(ActedFor(tenant));
    }
    response
}

/// `GET /_signsim/signal/files/{id}`: what a retrieve link downloads, until it expires on
/// its tenant's clock (410 after; 404 for an unknown link).
async fn by_link(State(state): State<Arc<Signal>>, Path(id): Path<String>) -> Response {
    let Some((tenant, link)) = state.files.get(&id) else {
        return AdminError::not_found("Link not found").into_response();
    };
    let answer = file_by_link(&state, &tenant, &link).into_response();
    acted_for(answer, Some(tenant))
}

fn file_by_link(state: &Signal, tenant: &Tenant, link: &FileLink) -> AdminResult {
    if state.oneshot.engine().now(tenant) > link.expires_at {
        return Err(AdminError::gone("Link expired"));
    }
    let bytes = state
        .file(tenant, link.pk, &link.uid, link.signed)
        .map_err(|_| AdminError::not_found("The file of this link is gone"))?;
    Ok(octet_stream(bytes, &filename(link.signed, &link.uid)))
}

/// The biometric session behind link `id` and its tenant: 404 for an unknown link; 410
/// (with the tenant, for the journal) once it expired on the tenant's clock.
fn session(state: &Signal, id: &str) -> Result<(Tenant, Session), (Option<Tenant>, AdminError)> {
    let (tenant, session) = state
        .biometrics
        .get(id)
        .ok_or_else(|| (None, AdminError::not_found("Biometric session not found")))?;
    if state.oneshot.engine().now(&tenant) > session.expires_at {
        return Err((Some(tenant), AdminError::gone("Biometric session expired")));
    }
    Ok((tenant, session))
}

/// `GET /_signsim/signal/biometric/{id}`: the page the link opens; once the check is
/// done, the link is used: the page says how it ended, with 410.
async fn page(
    State(state): State<Arc<Signal>>,
    Path(id): Path<String>,
    caller: Caller,
) -> Response {
    let (tenant, found) = match session(&state, &id) {
        Ok(found) => found,
        Err((tenant, error)) => return acted_for(caller.failed(error), tenant),
    };
    let action = ui::escape(&format!(
        "/_signsim/signal/biometric/{}/complete",
        ui::path_segment(&id)
    ));
    let answer = match &found.outcome {
        Some(outcome) => {
            let body = format!(
                "<p class=\"note\">This biometric check is done: <strong>{}</strong>.</p>",
                ui::escape(outcome)
            );
            (StatusCode::GONE, ui::page("Signal biometric check", &body)).into_response()
        }
        None => {
            let body = format!(
                "<p>Signal would now film your face and compare it with your identity \
                 document. Choose how the check ends.</p>\n\
                 <form method=\"post\" action=\"{action}\">\n\
                 <button name=\"outcome\" value=\"passed\">Pass the check</button>\n\
                 <button name=\"outcome\" value=\"failed\">Fail the check</button>\n\
                 </form>\n\
                 <p class=\"note\">Link issued {}, valid until {}.</p>",
                rfc3339(found.created_at),
                rfc3339(found.expires_at)
            );
            ui::page("Signal biometric check", &body).into_response()
        }
    };
    acted_for(answer, Some(tenant))
}

/// `POST /_signsim/signal/biometric/{id}/complete` `{"outcome": "passed"|"failed"}`; the
/// page's form posts here too. 404 for an unknown link, 410 for an expired one or one
/// already used (the check is done).
async fn complete(
    State(state): State<Arc<Signal>>,
    Path(id): Path<String>,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    let (tenant, found) = match session(&state, &id) {
        Ok(found) => found,
        Err((tenant, error)) => return acted_for(caller.failed(error), tenant),
    };
    let answer = caller.answer(complete_check(&state, &tenant, &id, found, &fields).map(
        |outcome| {
            let html = format!(
                "<p class=\"note\">Biometric check <strong>{}</strong>. You can close this \
                 page.</p>",
                ui::escape(&outcome)
            );
            let json = json!({ "id": id, "outcome": outcome });
            (json, "Signal biometric check".to_owned(), html)
        },
    ));
    acted_for(answer, Some(tenant))
}

fn complete_check(
    state: &Signal,
    tenant: &Tenant,
    id: &str,
    found: Session,
    fields: &Fields,
) -> AdminResult<String> {
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
    state.oneshot.engine().record(
        tenant,
        id,
        "biometric",
        format!("biometric check {outcome}"),
    );
    Ok(outcome)
}
