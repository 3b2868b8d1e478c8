//! The fields of a request's calls: the create call (signer, profile, RA, billing,
//! identity images), checked in the order the service reports them, and the OTP call's
//! delivery method.

use super::UError;
use crate::engine::outbox::Channel;
use crate::engine::tenant::Tenant;
use crate::providers::shared::oneshot::{IdImages, NewRequest, Person, ID_DOCUMENT_TYPES};
use crate::providers::uanataca::service::Uanataca;
use crate::wire::checks::{international_phone, is_country_code, is_jpeg_or_png, valid_email};
use crate::wire::{Fields, Upload};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::json;

const ENVIRONMENTS: [&str; 3] = ["test", "sandbox", "prod"];
const LANGUAGES: [&str; 3] = ["ES", "PL", "EN"];

pub fn check_env(env: Option<&str>) -> Result<(), UError> {
    match env {
        None => Err(UError::bad_request(
            "Missing env parameter. Please set it in settings or specify it as parameter",
        )),
        Some(env) if ENVIRONMENTS.contains(&env) => Ok(()),
        Some(env) => Err(UError::bad_request(format!(
            "Environment {env} does not exist"
        ))),
    }
}

impl Uanataca {
    /// Validates the create call's fields, in the order the service reports them.
    pub(crate) fn new_request(
        &self,
        tenant: &Tenant,
        fields: &Fields,
        approved_by: Option<String>,
    ) -> Result<NewRequest, UError> {
        let env = fields
            .text("env")?
            .or_else(|| self.setting(tenant, "general", "environment"));
        check_env(env.as_deref())?;

        let phone = fields.phone("mobile_phone_number")?.ok_or_else(|| {
            UError::bad_request("Missing parameter: mobile_phone_number required")
        })?;
        let phone = international_phone(&phone).ok_or_else(|| {
            UError::bad_request("Please use the mobile phone number with an international prefix")
        })?;

        let email = match fields.values.get("email") {
            None => return Err(field_error("email", "This field is required")),
            Some(_) => fields.text("email")?.unwrap_or_default(),
        };
        if email.is_empty() {
            return Err(field_error("email", "This field may not be blank"));
        }
        if !valid_email(&email) {
            return Err(field_error("email", "Enter a valid email address"));
        }

        let id_document_type = fields
            .text("id_document_type")?
            .map(|t| t.to_ascii_uppercase())
            .unwrap_or_else(|| "IDC".into());
        if !ID_DOCUMENT_TYPES.contains(&id_document_type.as_str()) {
            return Err(UError::bad_request(
                "The id_document_type specified is not valid. Valid options are IDC, PAS, PNO, TIN, CI, CE",
            ));
        }
        let country = fields
            .text("id_document_country")?
            .unwrap_or_else(|| "ES".into());
        if !is_country_code(&country) {
            return Err(field_error(
                "id_document_country",
                &format!("'{country}' is not a valid ISO 3166-1 alpha-2 country code"),
            ));
        }

        let given_name = fields.text("given_name")?;
        let surname_1 = fields.text("surname_1")?;
        let missing: Vec<&str> = [("given_name", &given_name), ("surname_1", &surname_1)]
            .into_iter()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name)
            .collect();
        if !missing.is_empty() {
            return Err(UError::precondition(format!(
                "Error occured during request approval: Invalid request fields: {}",
                missing.join("; ")
            )));
        }

        let registration_authority = fields
            .text("registration_authority")?
            .or_else(|| self.setting(tenant, "request", "default_ra"))
            .ok_or_else(|| {
                UError::bad_request("Missing required parameter: 'registration_authority'")
            })?;
        let registration_authority = registration_authority.parse().map_err(|_| {
            UError::bad_request(format!(
                "Invalid registration_authority '{registration_authority}': expected a number"
            ))
        })?;
        let profile = fields
            .text("profile")?
            .or_else(|| self.setting(tenant, "request", "default_profile"))
            .unwrap_or_else(|| "PFnubeQAFCiudadano".into());

        let communication_language = fields
            .text("communication_language")?
            .map(|l| l.to_ascii_uppercase())
            .unwrap_or_default();
        if !communication_language.is_empty()
            && !LANGUAGES.contains(&communication_language.as_str())
        {
            return Err(UError::bad_request(format!(
                "Invalid communication_language '{communication_language}'. Valid options are ES, PL, EN"
            )));
        }
        self.check_billing(tenant, fields)?;
        let callback = fields.text("callback")?;
        if let Some(url) = &callback {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(UError::bad_request(format!(
                    "Invalid callback '{url}': expected an http(s) URL"
                )));
            }
        }

        let serial_number = match fields.text("serial_number")? {
            Some(serial) => serial,
            None => self.fake_serial_number(),
        };
        Ok(NewRequest {
            person: Person {
                given_name: given_name.unwrap_or_default(),
                surname_1: surname_1.unwrap_or_default(),
                surname_2: fields.text("surname_2")?,
                serial_number,
                id_document_type,
                id_document_country: country.to_ascii_uppercase(),
                email,
                mobile_phone_number: phone,
                birth_date: fields.text("birth_date")?,
            },
            profile,
            registration_authority,
            env: env.unwrap_or_default(),
            approved_by,
            communication_language,
            useasync: fields.flag("useasync")?.unwrap_or(false),
            callback,
            id_images: IdImages {
                front: image(fields.file("document_front"))?,
                rear: image(fields.file("document_rear"))?,
                owner: image(fields.file("document_owner"))?,
                extra: fields.file("extra_document").map(|f| f.bytes.clone()),
            },
            video: None,
        })
    }

    /// Billing credentials, from the call or settings.ini, as the service checks them:
    /// both present, the password in base64 (documented 500s).
    fn check_billing(&self, tenant: &Tenant, fields: &Fields) -> Result<(), UError> {
        let username = fields
            .text("billing_username")?
            .or_else(|| self.setting(tenant, "billing", "billing_username"));
        let password = fields
            .text("billing_password")?
            .or_else(|| self.setting(tenant, "billing", "billing_password"));
        let (Some(_), Some(password)) = (username, password) else {
            tracing::warn!("billing credentials missing from the call and from settings.ini");
            return Err(UError::internal(
                "Cannot check the remaining credit for the billing user. Please check the credentials",
            ));
        };
        if base64::engine::general_purpose::STANDARD
            .decode(password.trim())
            .is_err()
        {
            return Err(UError::internal(
                "Billing credentials not valid. Please check if they are base64 encoded",
            ));
        }
        Ok(())
    }
}

/// The per-field error object the service answers for model validation failures, with
/// the documented `500 Internal Server Error`.
pub fn field_error(field: &str, message: &str) -> UError {
    UError::internal(json!({ field: [message] }))
}

/// An identity image: JPEG or PNG, told by its first bytes.
fn image(upload: Option<&Upload>) -> Result<Option<Bytes>, UError> {
    let Some(upload) = upload else {
        return Ok(None);
    };
    let bytes = &upload.bytes;
    if is_jpeg_or_png(bytes) {
        Ok(Some(bytes.clone()))
    } else {
        tracing::warn!(
            field = %upload.field,
            filename = %upload.filename,
            content_type = upload.content_type.as_deref().unwrap_or("unknown type"),
            "identity image refused: use JPEG or PNG"
        );
        Err(UError::unsupported(format!(
            "Unsupported file type: {}",
            upload.filename
        )))
    }
}

/// The OTP call's `delivery_method`: SMS unless WhatsApp is asked for.
pub fn delivery_channel(fields: &Fields) -> Result<Channel, UError> {
    match fields.text("delivery_method")?.as_deref() {
        None => Ok(Channel::Sms),
        Some(method) => match Channel::parse(method) {
            Some(channel @ (Channel::Sms | Channel::Whatsapp)) => Ok(channel),
            _ => Err(UError::bad_request(format!(
                "Invalid delivery_method '{method}'. Valid options are sms, whatsapp"
            ))),
        },
    }
}
