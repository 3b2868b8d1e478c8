//! The fields of Signal's calls: the one-call request (person, identity images, PDF),
//! every missing field named at once and then each value checked in the docs' order; the
//! request pk a body names; the sign call's OTP and pk; the login's credentials.

use super::details::REGISTRATION_AUTHORITY;
use super::parse_pk;
use super::SError;
use crate::providers::shared::oneshot::{IdImages, NewRequest, Person, ID_DOCUMENT_TYPES};
use crate::providers::signal::model::Residence;
use crate::providers::signal::service::RAO_DOCUMENT;
use crate::wire::checks::{
    decode_base64, international_phone, is_country_code, is_jpeg_or_png, is_pdf, valid_email,
};
use crate::wire::Fields;
use bytes::Bytes;

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

/// What the create call carries once checked.
pub struct Checked {
    pub new: NewRequest,
    pub residence: Residence,
    pub pdf: Bytes,
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
pub fn check(fields: &Fields) -> Result<Checked, SError> {
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
    let raw_phone = fields.phone("mobile_phone_number")?.unwrap_or_default();
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

/// The request's pk from a body field, or 404 when it cannot exist.
pub fn body_pk(fields: &Fields) -> Result<u64, SError> {
    let raw = fields
        .text("pk")?
        .ok_or_else(|| SError::bad_request("Missing required parameters: pk"))?;
    parse_pk(&raw).ok_or_else(|| SError::not_found(format!("Request {raw} not found")))
}

/// The sign call's `pk` and `secret` (the OTP), both required.
pub fn read_sign(fields: &Fields) -> Result<(u64, String), SError> {
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
    let pk = body_pk(fields)?;
    let secret = secret.unwrap_or_default();
    Ok((pk, secret))
}

/// The login's `username` (with a `password`, which any value satisfies).
pub fn read_login(fields: &Fields) -> Result<String, SError> {
    let username = fields.text("username")?;
    let password = fields.text("password")?;
    let missing: Vec<&str> = [("username", &username), ("password", &password)]
        .into_iter()
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| name)
        .collect();
    let Some(username) = username.filter(|_| missing.is_empty()) else {
        return Err(SError::bad_request(format!(
            "Missing required parameters: {}",
            missing.join(", ")
        )));
    };
    Ok(username)
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
