//! A certificate as the one-shot surfaces show it in request details (`approving_rao`'s
//! and every entry of `certificate_set`): one writer for Uanataca and Signal, in the real
//! service's format (`"valid_from": "2022-11-23T16:49:00Z"`, `"serial_number":
//! "531d5f96ec8c6dac"`), the values those of the very certificate in `data`.

use super::model::IssuedCertificate;
use base64::Engine as _;
use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;

/// How a surface writes a certificate: the same fields, Signal's with `revokation_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateForm {
    /// Uanataca's optimizer.
    Optimizer,
    /// Signal: `revokation_reason` (null) after `valid`, as its captured details show.
    Signal,
}

/// `2022-11-23T16:49:00Z`: UTC to the second, as the captured details and the vendor's
/// example (`2019-10-31T16:38:00Z`) write it.
fn date(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.checked_to_offset(time::UtcOffset::UTC)
        .and_then(|utc| utc.format(format).ok())
        .unwrap_or_default()
}

/// Lower-case hex, as the real serials (`531d5f96ec8c6dac`); certificates stored by older
/// versions kept it upper-case.
fn serial(cert: &IssuedCertificate) -> String {
    cert.serial_hex.to_ascii_lowercase()
}

/// `{profile, status, valid_from, valid_to, valid, [revokation_reason,] serial_number,
/// issuer, data, subject}` in the docs' order; `data` is the DER in base64.
pub fn certificate_json(cert: &IssuedCertificate, profile: &str, form: CertificateForm) -> Value {
    let mut shown = json!({
        "profile": profile,
        "status": 0,
        "valid_from": date(cert.valid_from),
        "valid_to": date(cert.valid_to),
        "valid": "VALID",
    });
    if let Some(fields) = shown.as_object_mut() {
        if form == CertificateForm::Signal {
            fields.insert("revokation_reason".into(), Value::Null);
        }
        fields.insert("serial_number".into(), Value::from(serial(cert)));
        fields.insert("issuer".into(), Value::from(cert.issuer.clone()));
        fields.insert(
            "data".into(),
            Value::from(base64::engine::general_purpose::STANDARD.encode(&cert.der)),
        );
        fields.insert("subject".into(), Value::from(cert.subject.clone()));
    }
    shown
}
