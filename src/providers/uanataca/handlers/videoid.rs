//! Video ID: create, evidences, video upload and download, validate, refuse, update.

use crate::providers::uanataca::service::Uanataca;
use crate::providers::uanataca::wire::rao::RaoCall;
use crate::providers::uanataca::wire::videoid::{classify, read_update, Update};
use crate::providers::uanataca::wire::{
    invalid_json, model_error, ok, parse_pk, Body, Path, TenantHeader, UError, UResult,
};
use crate::wire::RequestedScenario;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;
use std::sync::Arc;

fn request_not_found(_: u64) -> String {
    "Request not found".to_owned()
}

pub async fn create(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> UResult {
    let new = state.new_video(&tenant, &fields)?;
    let created = state
        .oneshot
        .create_with_scenario(&tenant, new, requested.as_deref())
        .map_err(UError::bad_request)?;
    let pk = created.pk;
    if let Err(scripted) = state.script(&tenant, pk, "videoid.create").await {
        state.oneshot.cancel(&tenant, pk).ok();
        return Err(scripted);
    }
    let videoid_pk = created.video.map(|v| v.videoid_pk).unwrap_or_default();
    Ok(ok(json!({
        "videoid_pk": videoid_pk,
        "videoid_link": state.new_videoid_link(&tenant, pk),
        "request_pk": pk,
    })))
}

pub async fn evidences(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body<{ invalid_json::BARE_WITH_REASON }>,
) -> UResult {
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found("Request not found"))?;
    state.script(&tenant, pk, "videoid.evidences").await?;
    let (outcome, patch) = classify(&fields);
    state
        .oneshot
        .video_outcome(&tenant, pk, outcome, patch)
        .map_err(|e| model_error(pk, e, request_not_found))?;
    Ok(ok("Videoid evidences uploaded"))
}

pub async fn upload_video(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body,
) -> UResult {
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found("Request not found"))?;
    state.script(&tenant, pk, "videoid.video").await?;
    let video = fields
        .file("video")
        .ok_or_else(|| UError::bad_request("Missing required parameter: 'video'"))?;
    state
        .oneshot
        .attach_recording(&tenant, pk, video.bytes.clone())
        .map_err(|e| model_error(pk, e, request_not_found))?;
    Ok(ok("Videoid video upload completed"))
}

pub async fn download_video(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let not_found = || UError::not_found("Request not found");
    let pk = parse_pk(&pk).ok_or_else(not_found)?;
    let found = state.oneshot.get(&tenant, pk).map_err(|_| not_found())?;
    let video = found
        .video
        .and_then(|v| v.recording)
        .ok_or_else(|| UError::not_found(format!("No video uploaded for Request {pk}")))?;
    Ok(([(header::CONTENT_TYPE, "video/mp4")], video).into_response())
}

pub async fn validate(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body,
) -> UResult {
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found("Request not found"))?;
    let rao = state.rao(&tenant, &fields, RaoCall::Review)?;
    let applied = state.script(&tenant, pk, "videoid.validate").await?;
    let rao = match rao {
        Some(rao) => state.accept_rao(&tenant, rao, &applied, RaoCall::Review)?,
        None => String::new(),
    };
    state
        .oneshot
        .validate_video(&tenant, pk, &rao)
        .map_err(|e| model_error(pk, e, request_not_found))?;
    Ok(ok("Videoid validated"))
}

pub async fn refuse(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body<{ invalid_json::BARE_WITH_REASON }>,
) -> UResult {
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found("Request not found"))?;
    let rao = state.required_rao(&tenant, &fields, RaoCall::Review)?;
    // "Reason parameter not sent or sent blank".
    let reason = fields
        .text("reason")?
        .filter(|reason| !reason.trim().is_empty())
        .ok_or_else(|| UError::bad_request("No reason specified"))?;
    let applied = state.script(&tenant, pk, "videoid.refuse").await?;
    state.accept_rao(&tenant, rao, &applied, RaoCall::Review)?;
    state
        .oneshot
        .refuse(&tenant, pk, &reason)
        .map_err(|e| model_error(pk, e, request_not_found))?;
    Ok(ok("Videoid refuse completed"))
}

/// PUT /request/{pk}: changes the signer's data; the scratchcard proves the caller knows
/// the request.
pub async fn update(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body,
) -> UResult {
    let not_found = |pk: u64| format!("Request {pk} not found");
    let id = parse_pk(&pk).ok_or_else(|| UError::not_found(format!("Request {pk} not found")))?;
    let Update {
        scratchcard,
        patch,
        registration_authority,
    } = read_update(&fields)?;
    state.script(&tenant, id, "request.update").await?;
    state
        .oneshot
        .update_request(
            &tenant,
            id,
            &scratchcard,
            patch,
            registration_authority,
            fields.text("profile")?,
        )
        .map_err(|e| model_error(id, e, not_found))?;
    Ok(ok("Request updated"))
}
