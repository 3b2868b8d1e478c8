//! Video ID: create, evidences, video upload and download, validate, refuse, update.

use super::requests::{check_env, field_error};
use crate::providers::shared::oneshot::{
    IdImages, NewRequest, NewVideo, Person, PersonPatch, VideoOutcome,
};
use crate::providers::uanataca::handlers::tokens::RaoCall;
use crate::providers::uanataca::wire::{
    invalid_json, model_error, ok, Body, Path, UError, UResult,
};
use crate::providers::uanataca::{parse_pk, Uanataca, SLUG};
use crate::wire::checks::{international_phone, is_country_code, valid_email};
use crate::wire::{Fields, RequestedScenario, Tenant};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::sync::Arc;

fn request_not_found(_: u64) -> String {
    "Request not found".to_owned()
}

/// The documented `400 Missing required parameters`, as it is; the missing field goes to
/// the log.
fn missing_parameters(field: &str) -> UError {
    tracing::info!(
        field,
        "Video ID request refused: a required parameter is missing"
    );
    UError::bad_request("Missing required parameters")
}

/// The page the person opens to do the video identification.
pub(crate) fn videoid_link(state: &Uanataca, tenant: &str, pk: u64) -> String {
    let query = if tenant == crate::engine::DEFAULT_TENANT {
        String::new()
    } else {
        format!("?tenant={tenant}")
    };
    state
        .oneshot
        .engine()
        .link(&format!("/_signsim/{SLUG}/videoid/{pk}{query}"))
}

pub async fn create(
    State(state): State<Arc<Uanataca>>,
    Tenant(tenant): Tenant,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> UResult {
    let env = fields
        .text("env")?
        .or_else(|| state.setting(&tenant, "general", "environment"));
    check_env(env.as_deref())?;
    let phone = fields
        .text("mobile_phone_number")?
        .ok_or_else(|| missing_parameters("mobile_phone_number"))?;
    let phone = international_phone(&phone).ok_or_else(|| {
        UError::bad_request("Please use the mobile phone number with an international prefix")
    })?;
    let email = fields
        .text("email")?
        .ok_or_else(|| missing_parameters("email"))?;
    if !valid_email(&email) {
        return Err(field_error("email", "Enter a valid email address"));
    }
    let registration_authority = fields
        .text("registration_authority")?
        .or_else(|| state.setting(&tenant, "request", "default_ra"))
        .ok_or_else(|| missing_parameters("registration_authority"))?;
    let registration_authority = registration_authority.parse().map_err(|_| {
        UError::not_found(format!(
            "Registration Authority not found: '{registration_authority}' is not a number"
        ))
    })?;
    let profile = fields
        .text("profile")?
        .or_else(|| state.setting(&tenant, "request", "default_profile"))
        .unwrap_or_else(|| "PFnubeQAFCiudadano".into());
    // The docs' own example gives a webhook without a scheme.
    let webhook_url = fields.text("webhook_url")?.map(|url| {
        if url.contains("://") {
            url
        } else {
            format!("http://{url}")
        }
    });
    let new = NewRequest {
        provider: SLUG,
        person: Person {
            id_document_type: "IDC".into(),
            id_document_country: "ES".into(),
            email,
            mobile_phone_number: phone,
            ..Person::default()
        },
        profile,
        registration_authority,
        env: env.unwrap_or_default(),
        approved_by: None,
        communication_language: String::new(),
        useasync: false,
        callback: None,
        id_images: IdImages::default(),
        video: Some(NewVideo { webhook_url }),
    };
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
        "videoid_link": videoid_link(&state, &tenant, pk),
        "request_pk": pk,
    })))
}

/// What uploaded evidences amount to: every part present and every check passed is a
/// review; a part missing is incomplete; a failed check or a broken image is an error.
fn classify(fields: &Fields) -> (VideoOutcome, PersonPatch) {
    let data = fields.values.get("videoid_data").and_then(Value::as_object);
    let section = |name: &str| data.and_then(|d| d.get(name)).and_then(Value::as_object);
    let patch = section("ocr_data").map(read_ocr).unwrap_or_default();

    let failed_check = section("security_checks")
        .is_some_and(|checks| checks.values().any(|v| v == &Value::Bool(false)));
    let broken_image = section("images").is_some_and(|images| {
        images.values().any(|image| match image {
            Value::String(text) => {
                let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .is_err()
            }
            _ => true,
        })
    });
    let low_similarity = match data.and_then(|d| d.get("similarity_level")) {
        Some(Value::String(level)) => level.eq_ignore_ascii_case("low"),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n < 50.0),
        _ => false,
    };
    if failed_check || broken_image || low_similarity {
        return (VideoOutcome::Error, patch);
    }
    let has_images = section("images").is_some_and(|images| {
        ["document_front", "document_rear", "document_owner"]
            .iter()
            .all(|name| images.contains_key(*name))
    });
    let complete = fields
        .values
        .get("acceptance")
        .is_some_and(Value::is_object)
        && has_images
        && section("ocr_data").is_some()
        && section("security_checks").is_some()
        && data.is_some_and(|d| d.contains_key("similarity_level"));
    let outcome = if complete {
        VideoOutcome::Review
    } else {
        VideoOutcome::Incomplete
    };
    (outcome, patch)
}

fn read_ocr(ocr: &Map<String, Value>) -> PersonPatch {
    let text = |name: &str| match ocr.get(name) {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    PersonPatch {
        given_name: text("given_name"),
        surname_1: text("surname_1"),
        surname_2: text("surname_2"),
        serial_number: text("serial_number"),
        id_document_type: text("id_document_type").map(|t| t.to_ascii_uppercase()),
        id_document_country: text("id_document_country")
            .filter(|c| c.len() == 2)
            .map(|c| c.to_ascii_uppercase()),
        email: text("email"),
        mobile_phone_number: text("mobile_phone_number").and_then(|p| international_phone(&p)),
        birth_date: text("birth_date"),
    }
}

pub async fn evidences(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
    Body(fields): Body,
) -> UResult {
    let not_found = |pk: u64| format!("Request {pk} not found");
    let id = parse_pk(&pk).ok_or_else(|| UError::not_found(format!("Request {pk} not found")))?;
    let scratchcard = fields
        .text("scratchcard")?
        .ok_or_else(|| UError::bad_request("Missing required parameter: 'scratchcard'"))?;
    let email = fields.text("email")?;
    if email.as_deref().is_some_and(|e| !valid_email(e)) {
        return Err(field_error("email", "Enter a valid email address"));
    }
    let phone = match fields.text("mobile_phone_number")? {
        Some(phone) => Some(international_phone(&phone).ok_or_else(|| {
            UError::bad_request("Please use the mobile phone number with an international prefix")
        })?),
        None => None,
    };
    let country = fields.text("country_name")?.map(|c| c.to_ascii_uppercase());
    if let Some(country) = &country {
        if !is_country_code(country) {
            return Err(field_error(
                "country_name",
                &format!("'{country}' is not a valid ISO 3166-1 alpha-2 country code"),
            ));
        }
    }
    let registration_authority = match fields.text("registration_authority")? {
        Some(ra) => Some(ra.parse::<u64>().map_err(|_| {
            UError::bad_request(format!(
                "Invalid registration_authority '{ra}': expected a number"
            ))
        })?),
        None => None,
    };
    let patch = PersonPatch {
        given_name: fields.text("given_name")?,
        surname_1: fields.text("surname_1")?,
        surname_2: fields.text("surname_2")?,
        serial_number: fields.text("serial_number")?,
        id_document_type: None,
        id_document_country: country,
        email,
        mobile_phone_number: phone,
        birth_date: fields.text("birth_date")?,
    };
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
