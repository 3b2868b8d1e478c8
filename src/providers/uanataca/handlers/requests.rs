//! Signature requests: create, get, cancel, approve, OTP and sign.

use crate::engine::seconds;
use crate::providers::shared::oneshot::{AsyncSigning, OtpOptions, Status};
use crate::providers::uanataca::service::Uanataca;
use crate::providers::uanataca::wire::rao::RaoCall;
use crate::providers::uanataca::wire::request::delivery_channel;
use crate::providers::uanataca::wire::{
    envelope, model_error, ok, parse_pk, Body, Path, TenantHeader, UError, UResult,
};
use crate::wire::RequestedScenario;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;

fn unknown_request(pk: u64) -> String {
    format!("Request {pk} not found")
}

pub async fn create(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> UResult {
    let rao = state.rao(&tenant, &fields, RaoCall::Create)?;
    let approved_by = rao.as_ref().map(|rao| rao.username.clone());
    let new = state.new_request(&tenant, &fields, approved_by)?;
    let pk = state
        .oneshot
        .create_with_scenario(&tenant, new, requested.as_deref())
        .map_err(UError::bad_request)?
        .pk;
    // The request's scenario decides whether an unknown token is accepted; a refused
    // call (scripted or strict) means the request was never made.
    let accepted = match state.script(&tenant, pk, "request.create").await {
        Ok(applied) => match rao {
            Some(rao) => state
                .accept_rao(&tenant, rao, &applied, RaoCall::Create)
                .map(|_| ()),
            None => Ok(()),
        },
        Err(scripted) => Err(scripted),
    };
    if let Err(refused) = accepted {
        state.oneshot.cancel(&tenant, pk).ok();
        return Err(refused);
    }
    Ok(envelope(StatusCode::CREATED, pk))
}

pub async fn get(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let not_found =
        || UError::not_found("Request not found. Make sure the upload directory is correct.");
    let pk = parse_pk(&pk).ok_or_else(not_found)?;
    state.script(&tenant, pk, "request.get").await?;
    let found = state.oneshot.get(&tenant, pk).map_err(|_| not_found())?;
    Ok(ok(state.request_details(&found)))
}

pub async fn cancel(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let not_found = || UError::not_found(format!("Request {pk} not found"));
    let id = parse_pk(&pk).ok_or_else(not_found)?;
    state.script(&tenant, id, "request.cancel").await?;
    state.oneshot.cancel(&tenant, id).map_err(|_| not_found())?;
    Ok(ok("Request directory removed successfully"))
}

pub async fn approve(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body,
) -> UResult {
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found(format!("Request {pk} not found")))?;
    let rao = state.required_rao(&tenant, &fields, RaoCall::Review)?;
    let applied = state.script(&tenant, pk, "request.approve").await?;
    let rao = state.accept_rao(&tenant, rao, &applied, RaoCall::Review)?;
    state
        .oneshot
        .approve(&tenant, pk, &rao)
        .map_err(|e| model_error(pk, e, unknown_request))?;
    Ok(ok("Request approved successfully"))
}

pub async fn otp(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body,
) -> UResult {
    let not_found =
        |pk: &dyn std::fmt::Display| format!("Request {pk} not found. Cannot send OTP secret");
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found(not_found(&pk)))?;
    let channel = delivery_channel(&fields)?;
    let applied = state.script(&tenant, pk, "otp.generate").await?;
    let options = OtpOptions::scripted(channel, &applied);
    state
        .oneshot
        .generate_otp(&tenant, pk, options)
        .map_err(|e| model_error(pk, e, |pk| not_found(&pk)))?;
    Ok(ok("OTP generated"))
}

pub async fn sign(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body,
) -> UResult {
    let not_found =
        |pk: &dyn std::fmt::Display| format!("Request {pk} not found. Cannot sign documents");
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found(not_found(&pk)))?;
    let secret = fields
        .text("secret")?
        .ok_or_else(|| UError::bad_request("Missing required parameter: 'secret'"))?;
    let applied = state.script(&tenant, pk, "sign").await?;
    // Options are checked before the OTP is spent, so a bad option costs no code.
    let current = state
        .oneshot
        .get(&tenant, pk)
        .map_err(|e| model_error(pk, e, |pk| not_found(&pk)))?;
    let options = state.sign_options(&tenant, &fields, &current)?;
    let oneshot = state.oneshot.clone();
    let authorized = oneshot
        .authorize_signature(&tenant, pk, &secret)
        .map_err(|e| model_error(pk, e, |pk| not_found(&pk)))?;

    if authorized.useasync {
        // Answer at once; the signature completes on the engine's clock, after the delay a
        // scenario scripts with a transition to ISSUED (none by default).
        let delay = applied
            .transition
            .filter(|t| t.to == Status::Issued.as_str())
            .map_or(0, |t| t.after_seconds);
        oneshot.sign_later(&tenant, authorized, options, seconds(delay));
        return Ok(ok(
            "Your documents are going to be signed. You will receive them in a few seconds",
        ));
    }

    oneshot
        .sign_now(&tenant, authorized, options)
        .await
        .map_err(|e| model_error(pk, e, |pk| not_found(&pk)))?;
    Ok(ok("Documents correctly signed"))
}

/// Where an asynchronous signature is: `approved` (as documented) before signing, then
/// `signing`, `signed` or `error`.
pub async fn async_status(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let not_found = || {
        UError::not_found(format!(
            "Request {pk} not found. Make sure the upload directory is correct"
        ))
    };
    let id = parse_pk(&pk).ok_or_else(not_found)?;
    state.script(&tenant, id, "async.status").await?;
    let found = state.oneshot.get(&tenant, id).map_err(|_| not_found())?;
    let details = match (&found.async_signing, found.status) {
        (Some(AsyncSigning::InProgress), _) => "signing",
        (Some(AsyncSigning::Failed(_)), _) => "error",
        (Some(AsyncSigning::Done), _) | (None, Status::Issued) => "signed",
        (None, Status::EnrollReady) => "approved",
        (None, status) => return Ok(ok(status.as_str().to_ascii_lowercase())),
    };
    Ok(ok(details))
}
