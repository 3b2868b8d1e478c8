//! The video identification calls' fields: the request a video identification starts,
//! the evidences a client uploads (what they amount to, and what they read from the
//! document) and the changes `PUT /request/{pk}` makes.

use super::request::{check_env, field_error};
use super::UError;
use crate::engine::tenant::Tenant;
use crate::providers::shared::oneshot::{
    IdImages, NewRequest, NewVideo, Person, PersonPatch, VideoOutcome,
};
use crate::providers::uanataca::service::Uanataca;
use crate::wire::checks::{international_phone, is_country_code, valid_email};
use crate::wire::Fields;
use base64::Engine as _;
use serde_json::{Map, Value};

/// The documented `400 Missing required parameters`, as it is; the missing field goes to
/// the log.
fn missing_parameters(field: &str) -> UError {
    tracing::info!(
        field,
        "Video ID request refused: a required parameter is missing"
    );
    UError::bad_request("Missing required parameters")
}

impl Uanataca {
    /// The video identification call's fields, as a new request that starts in
    /// VIDEOPENDING.
    pub(crate) fn new_video(&self, tenant: &Tenant, fields: &Fields) -> Result<NewRequest, UError> {
        let env = fields
            .text("env")?
            .or_else(|| self.setting(tenant, "general", "environment"));
        check_env(env.as_deref())?;
        let phone = fields
            .phone("mobile_phone_number")?
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
            .or_else(|| self.setting(tenant, "request", "default_ra"))
            .ok_or_else(|| missing_parameters("registration_authority"))?;
        let registration_authority = registration_authority.parse().map_err(|_| {
            UError::not_found(format!(
                "Registration Authority not found: '{registration_authority}' is not a number"
            ))
        })?;
        let profile = fields
            .text("profile")?
            .or_else(|| self.setting(tenant, "request", "default_profile"))
            .unwrap_or_else(|| "PFnubeQAFCiudadano".into());
        // The docs' own example gives a webhook without a scheme.
        let webhook_url = fields.text("webhook_url")?.map(|url| {
            if url.contains("://") {
                url
            } else {
                format!("http://{url}")
            }
        });
        Ok(NewRequest {
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
        })
    }
}

/// What uploaded evidences amount to: every part present and every check passed is a
/// review; a part missing is incomplete; a failed check or a broken image is an error.
pub fn classify(fields: &Fields) -> (VideoOutcome, PersonPatch) {
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
        // A number cannot carry the `+` (as `Fields::phone` reads it).
        mobile_phone_number: match ocr.get("mobile_phone_number") {
            Some(Value::Number(n)) => Some(format!("+{n}")),
            _ => text("mobile_phone_number"),
        }
        .and_then(|p| international_phone(&p)),
        birth_date: text("birth_date"),
    }
}

/// What `PUT /request/{pk}` changes; the scratchcard proves the caller knows the request.
/// (`profile` is read after the scenario is acted out, as the service does.)
pub struct Update {
    pub scratchcard: String,
    pub patch: PersonPatch,
    pub registration_authority: Option<u64>,
}

pub fn read_update(fields: &Fields) -> Result<Update, UError> {
    let scratchcard = fields
        .text("scratchcard")?
        .ok_or_else(|| UError::bad_request("Missing required parameter: 'scratchcard'"))?;
    let email = fields.text("email")?;
    if email.as_deref().is_some_and(|e| !valid_email(e)) {
        return Err(field_error("email", "Enter a valid email address"));
    }
    let phone = match fields.phone("mobile_phone_number")? {
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
    Ok(Update {
        scratchcard,
        patch,
        registration_authority,
    })
}
