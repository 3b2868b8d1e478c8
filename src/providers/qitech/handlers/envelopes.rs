//! `/sign/envelope` and `/sign/envelope/{id}`: create an envelope (choosing and assigning
//! its scenario), read it, and submit or cancel it.

use crate::providers::qitech::handlers::ApiKey;
use crate::providers::qitech::model::{Envelope, ModelError, Phone, Signer};
use crate::providers::qitech::wire::QError;
use crate::providers::qitech::wire::{render, request, Path, QResult};
use crate::providers::qitech::{QiTech, SLUG};
use crate::wire::{Fields, RequestedScenario};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::sync::Arc;

/// What a scenario's `match` may test, taken from one signer (or the envelope).
fn match_field(envelope: &Envelope, signer: &Signer, field: &str) -> Option<String> {
    match field {
        "subject" => Some(envelope.subject.clone()),
        "name" => Some(signer.name.clone()),
        "email" => signer.email.clone(),
        "phone" => signer.phone.as_ref().map(Phone::e164),
        "document_number" => Some(signer.document_number.clone()),
        _ => None,
    }
}

/// A new envelope, in status `created`. Its scenario is the one the header names, else the
/// first whose `match` fits a signer; it is assigned before the operation's effects run.
pub async fn create(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    RequestedScenario(requested): RequestedScenario,
    request: Request,
) -> QResult {
    let fields = Fields::read_json(request, state.body_limit).await?;
    let envelope = request::parse_envelope(state.engine().now(&tenant), &fields.values)?;
    if state.envelopes.contains(&tenant, &envelope.id) {
        return Err(ModelError::DuplicateEnvelope(envelope.id).into());
    }
    let engine = state.engine();
    // The header wins; else the first signer whose data a scenario's `match` fits.
    let mut scenario = None;
    for signer in &envelope.signers {
        scenario = engine
            .scenarios
            .choose(SLUG, requested.as_deref(), |f| {
                match_field(&envelope, signer, f)
            })
            .map_err(|e| QError::invalid(e, "Cenário desconhecido"))?;
        if scenario.is_some() {
            break;
        }
    }
    let id = envelope.id.clone();
    engine.assign_scenario(&tenant, &id, scenario);
    state.script(&tenant, &id, "envelope.create").await?;
    state.create(&tenant, envelope)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "status": "created" })),
    )
        .into_response())
}

pub async fn get_envelope(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path(id): Path<String>,
) -> QResult {
    state.script(&tenant, &id, "envelope.get").await?;
    let envelope = state.get(&tenant, &id)?;
    let body = render::envelope(&envelope, |s| {
        s.link_code.as_deref().map(|c| state.signature_url(c))
    });
    Ok(Json(body).into_response())
}

pub async fn patch(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path(id): Path<String>,
    request: Request,
) -> QResult {
    let fields = Fields::read_json(request, state.body_limit).await?;
    let status = request::requested_status(&fields.values)?;
    // Unknown envelopes are reported before scenarios run.
    state.get(&tenant, &id)?;
    if status == "submitted" {
        let applied = state.script(&tenant, &id, "envelope.submit").await?;
        state.submit(&tenant, &id, &applied)?;
    } else {
        state.script(&tenant, &id, "envelope.cancel").await?;
        state.cancel(&tenant, &id)?;
    }
    Ok(Json(json!({ "status": status })).into_response())
}
