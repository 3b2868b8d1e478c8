//! QI Tech's JSON renderings: GET envelope and its signers, the report status, and dates
//! and timestamps as the API writes them.

use crate::providers::qitech::model::{self, Envelope, Signer, Status};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// `2023-01-01T00:00:00.000Z`, the API's timestamps.
pub fn timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// `2023-09-20T02:59:59Z`, the form of `expiration_date` in GET envelope.
pub fn deadline(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

fn documents(envelope: &Envelope) -> Value {
    envelope
        .documents
        .iter()
        .map(|d| json!({ "id": d.id, "name": d.name, "document_type": "pdf" }))
        .collect()
}

/// One signer in GET envelope: the creation fields plus status, signing time and link.
pub fn signer(envelope: &Envelope, signer: &Signer, signature_url: Option<String>) -> Value {
    let mut out = json!({
        "id": signer.id,
        "name": signer.name,
        "email": signer.email,
        "birthdate": signer.birthdate,
        "document_number": signer.document_number,
        "phone": signer.phone.as_ref().map(|p| json!({
            "international_dial_code": p.international_dial_code,
            "area_code": p.area_code,
            "number": p.number,
        })),
        "document_submission_method": signer.document_submission_method.as_str(),
        "authentication_submission_method": signer.authentication_submission_method.as_str(),
        "status": signer.status(),
        "signed_at": signer.signed_at.map(timestamp),
        "signature_url": signature_url,
        "documents": documents(envelope),
    });
    // A signer created with only a phone shows no `email`, and the other way round.
    if let Some(map) = out.as_object_mut() {
        map.retain(|key, value| !(value.is_null() && (key == "email" || key == "phone")));
    }
    out
}

/// GET envelope; `links` gives each signer's signature URL once it has one.
pub fn envelope(envelope: &Envelope, link: impl Fn(&Signer) -> Option<String>) -> Value {
    let signers: Vec<Value> = envelope
        .signers
        .iter()
        .map(|s| signer(envelope, s, link(s)))
        .collect();
    json!({
        "id": envelope.id,
        "subject": envelope.subject,
        "expiration_date": deadline(model::deadline(envelope.expiration_date)),
        "status": envelope.status.as_str(),
        "signers": signers,
        "documents": documents(envelope),
    })
}

/// `available` once the dossiers exist.
pub fn report_status(envelope: &Envelope) -> &'static str {
    if envelope.status == Status::Completed && !envelope.dossiers.is_empty() {
        "available"
    } else {
        "unavailable"
    }
}
