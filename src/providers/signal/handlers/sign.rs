//! `/sign`: service status, the one-call request (person, images, PDF, OTP), the request
//! details and the signature with the OTP.

use crate::engine::outbox::Channel;
use crate::engine::tenant::Tenant;
use crate::providers::shared::oneshot::{DocumentKind, NewDocument, OtpOptions, SignOptions};
use crate::providers::signal::service::Signal;
use crate::providers::signal::wire::details::Shown;
use crate::providers::signal::wire::request::{check, read_sign, Checked};
use crate::providers::signal::wire::{
    error_body, model_error, parse_pk, Bearer, Body, Path, SError, SResult,
};
use crate::wire::RequestedScenario;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn status(_: Bearer) -> SResult {
    Ok(Json(json!({ "status": "200 OK", "details": "Hello" })).into_response())
}

pub async fn create(
    State(state): State<Arc<Signal>>,
    Bearer(tenant): Bearer,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> SResult {
    let Checked {
        new,
        residence,
        pdf,
    } = check(&fields)?;
    let oneshot = &state.oneshot;
    let pk = oneshot
        .create_with_scenario(&tenant, new, requested.as_deref())
        .map_err(SError::bad_request)?
        .pk;
    state.residences.insert(&tenant, pk, residence);
    if let Err(scripted) = state.script(&tenant, pk, "request.create").await {
        // A scripted failure means the request was never made.
        oneshot.cancel(&tenant, pk).ok();
        return Err(scripted);
    }

    let upload = NewDocument {
        kind: DocumentKind::Pdf,
        key: "documents_to_sign".into(),
        filename: "documents_to_sign.pdf".into(),
        bytes: pdf,
    };
    let uid = oneshot
        .add_documents(&tenant, pk, vec![upload])
        .map_err(|e| model_error(pk, e))?
        .into_iter()
        .next()
        .map(|document| document.uid)
        .unwrap_or_default();

    let otp = generate_otp(&state, &tenant, pk).await?;
    let otp_ok = otp["status"] == true;
    let request = oneshot.get(&tenant, pk).map_err(|e| model_error(pk, e))?;
    Ok(Json(json!({
        "status": otp_ok,
        "pk": pk,
        "uid": uid,
        "details": [
            { "requestDetails": state.request_details(&tenant, &request, Shown::Created) },
            { "upload": { "status": "200 OK", "details": uid } },
            { "otp": otp },
        ],
    }))
    .into_response())
}

/// The OTP step of the create call, as its `otp` result. A scripted answer or a model
/// error becomes `{"status": false, "response": <error>}`; a scripted broken connection
/// breaks the whole answer (the request exists all the same).
async fn generate_otp(state: &Signal, tenant: &Tenant, pk: u64) -> Result<Value, SError> {
    let engine = state.oneshot.engine();
    let mut applied = state.oneshot.scripted(tenant, pk, "otp.generate");
    let respond = applied.respond.take();
    crate::wire::act_out(engine, &applied)
        .await
        .map_err(|broken| SError::Scripted(Box::new(broken)))?;
    if let Some(respond) = respond {
        return Ok(json!({ "status": false, "response": respond.body }));
    }
    let options = OtpOptions::scripted(Channel::Sms, &applied);
    Ok(match state.oneshot.generate_otp(tenant, pk, options) {
        Ok(()) => json!({
            "status": true,
            "response": { "status": "200 OK", "details": "OTP generated" },
        }),
        Err(error) => {
            let (code, message) = match model_error(pk, error) {
                SError::Plain { code, message } => (code, message),
                SError::Scripted(_) => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
            };
            json!({ "status": false, "response": error_body(code, &message) })
        }
    })
}

pub async fn get(
    State(state): State<Arc<Signal>>,
    Bearer(tenant): Bearer,
    Path(pk): Path<String>,
) -> SResult {
    let not_found = || SError::not_found(format!("Request {pk} not found"));
    let id = parse_pk(&pk).ok_or_else(not_found)?;
    state.script(&tenant, id, "request.get").await?;
    let found = state.oneshot.get(&tenant, id).map_err(|_| not_found())?;
    Ok(Json(json!({
        "status": "200 OK",
        "details": state.request_details(&tenant, &found, Shown::Retrieved),
    }))
    .into_response())
}

pub async fn sign(
    State(state): State<Arc<Signal>>,
    Bearer(tenant): Bearer,
    Body(fields): Body,
) -> SResult {
    let (pk, secret) = read_sign(&fields)?;
    state.script(&tenant, pk, "sign").await?;
    let oneshot = state.oneshot.clone();
    let authorized = oneshot
        .authorize_signature(&tenant, pk, &secret)
        .map_err(|e| model_error(pk, e))?;
    oneshot
        .sign_now(&tenant, authorized, SignOptions::default())
        .await
        .map_err(|e| model_error(pk, e))?;
    Ok(Json(json!({ "status": "true" })).into_response())
}
