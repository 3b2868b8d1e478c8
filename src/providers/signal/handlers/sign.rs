//! `/sign`: service status, the one-call request (person, images, PDF, OTP), the request
//! details and the signature with the OTP.

use crate::engine::outbox::Channel;
use crate::engine::seconds;
use crate::providers::shared::oneshot::{
    DocumentKind, IdImages, NewDocument, NewRequest, OtpOptions, Person, SignOptions,
};
use crate::providers::signal::model::Residence;
use crate::providers::signal::wire::details::{Shown, REGISTRATION_AUTHORITY};
use crate::providers::signal::wire::{
    error_body, model_error, Bearer, Body, Path, SError, SResult,
};
use crate::providers::signal::{parse_pk, Signal, RAO_DOCUMENT, SLUG};
use crate::wire::checks::{
    decode_base64, international_phone, is_country_code, is_jpeg_or_png, is_pdf, valid_email,
};
use crate::wire::{Fields, RequestedScenario};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;

const ID_DOCUMENT_TYPES: [&str; 6] = ["IDC", "PAS", "PNO", "TIN", "CI", "CE"];

/// Required fields of the create call, in the docs' order. `id_document_type` and
/// `id_document_country` are marked required too, but their descriptions give the defaults
/// the service applies when they are absent (IDC, ES).
const REQUIRED: [&str; 9] = [
    "given_name",
    "surname_1",
    "serial_number",
    "email",
    "mobile_phone_number",
    "document_front",
    "document_rear",
    "document_owner",
    "documents_to_sign",
];

pub async fn status(_: Bearer) -> SResult {
    Ok(Json(json!({ "status": "200 OK", "details": "Hello" })).into_response())
}

/// What the create call carries once checked.
struct Checked {
    new: NewRequest,
    residence: Residence,
    pdf: Bytes,
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
async fn generate_otp(state: &Signal, tenant: &str, pk: u64) -> Result<Value, SError> {
    let engine = state.oneshot.engine();
    let mut applied = state.oneshot.scripted(SLUG, tenant, pk, "otp.generate");
    let respond = applied.respond.take();
    crate::wire::act_out(engine, &applied)
        .await
        .map_err(|broken| SError::Scripted(Box::new(broken)))?;
    if let Some(respond) = respond {
        return Ok(json!({ "status": false, "response": respond.body }));
    }
    let mut options = OtpOptions::new(Channel::Sms);
    options.deliver = applied.deliver;
    if let Some(expiry) = applied.expiry_seconds {
        options.validity = seconds(expiry);
    }
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

/// A base64 payload (or a multipart file part of the same name), decoded.
fn payload(fields: &Fields, name: &str) -> Result<Bytes, SError> {
    if let Some(file) = fields.file(name) {
        return Ok(file.bytes.clone());
    }
    let text = fields.text(name)?.unwrap_or_default();
    decode_base64(&text).ok_or_else(|| SError::bad_request(format!("Invalid base64 in '{name}'")))
}

/// Validates the create call: every missing required field is named at once, then each
/// value is checked in the docs' order.
fn check(fields: &Fields) -> Result<Checked, SError> {
    let mut missing = Vec::new();
    for name in REQUIRED {
        if fields.file(name).is_none() && fields.text(name)?.is_none() {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(SError::bad_request(format!(
            "Missing required parameters: {}",
            missing.join(", ")
        )));
    }
    let text =
        |name: &str| -> Result<String, SError> { Ok(fields.text(name)?.unwrap_or_default()) };

    let id_document_type = fields
        .text("id_document_type")?
        .unwrap_or_else(|| "IDC".into())
        .to_ascii_uppercase();
    if !ID_DOCUMENT_TYPES.contains(&id_document_type.as_str()) {
        return Err(SError::bad_request(format!(
            "Invalid id_document_type '{id_document_type}'. Valid options are {}",
            ID_DOCUMENT_TYPES.join(", ")
        )));
    }
    let country = fields
        .text("id_document_country")?
        .unwrap_or_else(|| "ES".into())
        .to_ascii_uppercase();
    if !is_country_code(&country) {
        return Err(SError::bad_request(format!(
            "Invalid id_document_country '{country}': expected an ISO 3166-1 alpha-2 code"
        )));
    }
    let email = text("email")?;
    if !valid_email(&email) {
        return Err(SError::bad_request(format!("Invalid email '{email}'")));
    }
    let raw_phone = text("mobile_phone_number")?;
    let phone = international_phone(&raw_phone).ok_or_else(|| {
        SError::bad_request(format!(
            "Invalid mobile_phone_number '{raw_phone}': use the international prefix (+593...)"
        ))
    })?;
    let residence_country = fields.text("residence")?.map(|c| c.to_ascii_uppercase());
    if let Some(code) = residence_country.as_deref().filter(|c| !is_country_code(c)) {
        return Err(SError::bad_request(format!(
            "Invalid residence '{code}': expected an ISO 3166-1 alpha-2 code"
        )));
    }

    let mut images = Vec::with_capacity(3);
    for name in ["document_front", "document_rear", "document_owner"] {
        let bytes = payload(fields, name)?;
        if !is_jpeg_or_png(&bytes) {
            return Err(SError::bad_request(format!(
                "'{name}' must be a JPEG or PNG image"
            )));
        }
        images.push(bytes);
    }
    let mut images = images.into_iter();
    let id_images = IdImages {
        front: images.next(),
        rear: images.next(),
        owner: images.next(),
        extra: None,
    };
    let pdf = payload(fields, "documents_to_sign")?;
    if !is_pdf(&pdf) {
        return Err(SError::bad_request("'documents_to_sign' must be a PDF"));
    }
    if let Err(reason) = crate::pki::check_pdf(&pdf) {
        return Err(SError::bad_request(format!(
            "'documents_to_sign' is not a PDF that can be signed: {reason}"
        )));
    }

    let new = NewRequest {
        provider: SLUG,
        person: Person {
            given_name: text("given_name")?,
            surname_1: text("surname_1")?,
            surname_2: fields.text("surname_2")?,
            serial_number: text("serial_number")?,
            id_document_type,
            id_document_country: country,
            email,
            mobile_phone_number: phone,
            birth_date: None,
        },
        profile: String::new(),
        registration_authority: REGISTRATION_AUTHORITY,
        env: "sandbox".into(),
        // Signal's own RAO approves every request at once.
        approved_by: Some(RAO_DOCUMENT.into()),
        communication_language: String::new(),
        useasync: false,
        callback: None,
        id_images,
        video: None,
    };
    // `residence_address` and `residence_city` are accepted and not shown back: the docs'
    // details show them null although the request sent them.
    for name in ["residence_address", "residence_city"] {
        fields.text(name)?;
    }
    let residence = Residence {
        country: residence_country,
    };
    Ok(Checked {
        new,
        residence,
        pdf,
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

/// The request's pk from a body field, or 404 when it cannot exist.
pub(crate) fn body_pk(fields: &Fields) -> Result<u64, SError> {
    let raw = fields
        .text("pk")?
        .ok_or_else(|| SError::bad_request("Missing required parameters: pk"))?;
    parse_pk(&raw).ok_or_else(|| SError::not_found(format!("Request {raw} not found")))
}

pub async fn sign(
    State(state): State<Arc<Signal>>,
    Bearer(tenant): Bearer,
    Body(fields): Body,
) -> SResult {
    let secret = fields.text("secret")?;
    let pk = fields.text("pk")?;
    let missing: Vec<&str> = [("secret", secret.is_none()), ("pk", pk.is_none())]
        .into_iter()
        .filter(|(_, absent)| *absent)
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        return Err(SError::bad_request(format!(
            "Missing required parameters: {}",
            missing.join(", ")
        )));
    }
    let pk = body_pk(&fields)?;
    let secret = secret.unwrap_or_default();
    state.script(&tenant, pk, "sign").await?;
    let oneshot = state.oneshot.clone();
    let authorized = oneshot
        .authorize_signature(&tenant, pk, &secret)
        .map_err(|e| model_error(pk, e))?;
    // Issuing a certificate and signing is CPU work: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        oneshot.complete_signature(&tenant, &authorized, &SignOptions::default())
    })
    .await
    .map_err(|_| {
        SError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Signature process aborted",
        )
    })?
    .map_err(|e| model_error(pk, e))?;
    Ok(Json(json!({ "status": "true" })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_need_an_international_prefix() {
        assert_eq!(
            international_phone("+593 99 123 4567").as_deref(),
            Some("+593991234567")
        );
        assert_eq!(international_phone("0991234567"), None);
    }
}
