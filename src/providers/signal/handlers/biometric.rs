//! `POST /biometric`: a temporary link to a (simulated) biometric check. The page lets a
//! person pass or fail it; tests post the same admin call the page's form does.

use crate::engine::{later, seconds};
use crate::providers::signal::model::{Session, SESSION_LIFETIME_SECONDS};
use crate::providers::signal::service::Signal;
use crate::providers::signal::wire::{Bearer, Body, SResult};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::sync::Arc;

pub async fn create(
    State(state): State<Arc<Signal>>,
    Bearer(tenant): Bearer,
    // The documented body is `{}`; whatever comes is read only to reject garbage.
    Body(_): Body,
) -> SResult {
    let engine = state.oneshot.engine();
    let now = engine.now(&tenant);
    let session = Session {
        created_at: now,
        expires_at: later(now, seconds(SESSION_LIFETIME_SECONDS)),
        outcome: None,
    };
    let id = state.biometrics.insert(engine, &tenant, session);
    engine.record(&tenant, &id, "biometric", "biometric check link issued");
    Ok(Json(json!({
        "status": 200,
        "url": engine.link(&format!(
            "/_signsim/signal/biometric/{}",
            crate::ui::path_segment(&id)
        )),
    }))
    .into_response())
}
