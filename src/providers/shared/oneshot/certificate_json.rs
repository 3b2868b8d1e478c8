//! A certificate as the one-shot surfaces show it in request details (`approving_rao`'s
//! and every entry of `certificate_set`): one writer for Uanataca and Signal, which differ
//! only in how dates and the serial are written.

use super::model::IssuedCertificate;
use base64::Engine as _;
use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;

/// How a surface writes a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateForm {
    /// Uanataca's optimizer: dates `2019-10-31 16:38:00+00:00`, the serial as issued.
    Optimizer,
    /// Signal: dates `2022-11-23T16:49:00Z`, a lowercase serial and `revokation_reason`.
    Signal,
}

impl CertificateForm {
    fn date(self, at: OffsetDateTime) -> String {
        let formatted = match self {
            CertificateForm::Optimizer => at.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]+00:00"
            )),
            CertificateForm::Signal => at.format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            )),
        };
        formatted.unwrap_or_default()
    }
}

/// `{profile, status, valid_from, valid_to, valid, [revokation_reason,] serial_number,
/// issuer, data, subject}` in the docs' order; `data` is the DER in base64.
pub fn certificate_json(cert: &IssuedCertificate, profile: &str, form: CertificateForm) -> Value {
    let serial = match form {
        CertificateForm::Optimizer => cert.serial_hex.clone(),
        CertificateForm::Signal => cert.serial_hex.to_ascii_lowercase(),
    };
    let mut shown = json!({
        "profile": profile,
        "status": 0,
        "valid_from": form.date(cert.valid_from),
        "valid_to": form.date(cert.valid_to),
        "valid": "VALID",
    });
    if let Some(fields) = shown.as_object_mut() {
        if form == CertificateForm::Signal {
            fields.insert("revokation_reason".into(), Value::Null);
        }
        fields.insert("serial_number".into(), Value::from(serial));
        fields.insert("issuer".into(), Value::from(cert.issuer.clone()));
        fields.insert(
            "data".into(),
            Value::from(base64::engine::general_purpose::STANDARD.encode(&cert.der)),
        );
        fields.insert("subject".into(), Value::from(cert.subject.clone()));
    }
    shown
}
