//! `POST /biometric`: a temporary link to a (simulated) biometric check. The page lets a
//! person pass or fail it; tests post the same admin call the page's form does.

use super::wire::{Bearer, Body, Path, SError, SResult};
use super::{Signal, SLUG};
use crate::engine::{rfc3339, seconds};
use crate::ui;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::sync::Arc;
use time::OffsetDateTime;

/// How long a biometric link works, on the virtual clock.
pub const SESSION_LIFETIME_SECONDS: u64 = 30 * 60;

const OUTCOMES: [&str; 2] = ["passed", "failed"];

#[derive(Debug, Clone)]
pub struct Session {
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    /// `None` until the person goes through the check.
    outcome: Option<String>,
}

pub async fn create(
    State(state): State<Arc<Signal>>,
    Bearer(tenant): Bearer,
    // The documented body is `{}`; whatever comes is read only to reject garbage.
    Body(_): Body,
) -> SResult {
    let engine = state.oneshot.engine();
    let now = engine.now();
    let session = Session {
        created_at: now,
        expires_at: now + seconds(SESSION_LIFETIME_SECONDS),
        outcome: None,
    };
    let id = state.biometrics.insert(engine, &tenant, session);
    engine.record(
        SLUG,
        &tenant,
        &id,
        "biometric",
        "biometric check link issued",
    );
    Ok(Json(json!({
        "status": 200,
        "url": engine.link(&format!("/_signsim/signal/biometric/{id}")),
    }))
    .into_response())
}

fn session(state: &Signal, id: &str) -> Result<(String, Session), SError> {
    let (tenant, session) = state
        .biometrics
        .get(id)
        .ok_or_else(|| SError::not_found("Biometric session not found"))?;
    if state.oneshot.engine().now() > session.expires_at {
        return Err(SError::new(StatusCode::GONE, "Biometric session expired"));
    }
    Ok((tenant, session))
}

/// `GET /_signsim/signal/biometric/{id}`: the page the link opens.
pub async fn page(State(state): State<Arc<Signal>>, Path(id): Path<String>) -> SResult {
    let (_, found) = session(&state, &id)?;
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
    Ok(ui::page("Signal biometric check", &body).into_response())
}

/// `POST /_signsim/signal/biometric/{id}/complete` `{"outcome": "passed"|"failed"}`.
pub async fn complete(
    State(state): State<Arc<Signal>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(fields): Body,
) -> SResult {
    let (tenant, found) = session(&state, &id)?;
    let outcome = fields.text("outcome")?.unwrap_or_default();
    if !OUTCOMES.contains(&outcome.as_str()) {
        return Err(SError::bad_request(format!(
            "Invalid outcome '{outcome}': use passed or failed"
        )));
    }
    if let Some(done) = found.outcome {
        return Err(SError::new(
            StatusCode::GONE,
            format!("Biometric session already completed: {done}"),
        ));
    }
    state
        .biometrics
        .update(&id, |s| s.outcome = Some(outcome.clone()));
    let engine = state.oneshot.engine();
    engine.record(
        SLUG,
        &tenant,
        &id,
        "biometric",
        format!("biometric check {outcome}"),
    );
    let from_browser = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if from_browser {
        let body = format!(
            "<p class=\"note\">Biometric check <strong>{}</strong>. You can close this page.</p>",
            ui::escape(&outcome)
        );
        return Ok(ui::page("Signal biometric check", &body).into_response());
    }
    Ok(Json(json!({ "id": id, "outcome": outcome })).into_response())
}
