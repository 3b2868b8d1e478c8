//! Signature requests: create, get, cancel, approve, OTP and sign.

use crate::engine::outbox::Channel;
use crate::engine::seconds;
use crate::providers::shared::oneshot::{AsyncSigning, OtpOptions, Status};
use crate::providers::shared::oneshot::{IdImages, NewRequest, Person};
use crate::providers::uanataca::handlers::tokens::RaoCall;
use crate::providers::uanataca::wire::{envelope, model_error, ok, Body, Path, UError, UResult};
use crate::providers::uanataca::{parse_pk, Uanataca, SLUG};
use crate::wire::checks::{international_phone, is_country_code, is_jpeg_or_png, valid_email};
use crate::wire::{Fields, RequestedScenario, Tenant, Upload};
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;

const ENVIRONMENTS: [&str; 3] = ["test", "sandbox", "prod"];
const ID_DOCUMENT_TYPES: [&str; 6] = ["IDC", "PAS", "PNO", "TIN", "CI", "CE"];
const LANGUAGES: [&str; 3] = ["ES", "PL", "EN"];

pub(crate) fn check_env(env: Option<&str>) -> Result<(), UError> {
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

fn unknown_request(pk: u64) -> String {
    format!("Request {pk} not found")
}

pub async fn create(
    State(state): State<Arc<Uanataca>>,
    Tenant(tenant): Tenant,
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

impl Uanataca {
    /// Validates the create call's fields, in the order the service reports them.
    fn new_request(
        &self,
        tenant: &str,
        fields: &Fields,
        approved_by: Option<String>,
    ) -> Result<NewRequest, UError> {
        let env = fields
            .text("env")?
            .or_else(|| self.setting(tenant, "general", "environment"));
        check_env(env.as_deref())?;

        let phone = fields.text("mobile_phone_number")?.ok_or_else(|| {
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
            provider: SLUG,
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
    fn check_billing(&self, tenant: &str, fields: &Fields) -> Result<(), UError> {
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

    /// A Spanish-DNI-like number for requests that give none (the quick start sends none).
    pub(crate) fn fake_serial_number(&self) -> String {
        const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
        let number = self.oneshot.engine().ids.number(10_000_000, 100_000_000);
        let letter = LETTERS[(number % 23) as usize] as char;
        format!("{number}{letter}")
    }
}

/// The per-field error object the service answers for model validation failures, with
/// the documented `500 Internal Server Error`.
pub(crate) fn field_error(field: &str, message: &str) -> UError {
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

pub async fn get(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
    Body(fields): Body,
) -> UResult {
    let not_found =
        |pk: &dyn std::fmt::Display| format!("Request {pk} not found. Cannot send OTP secret");
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found(not_found(&pk)))?;
    let channel = match fields.text("delivery_method")?.as_deref() {
        None => Channel::Sms,
        Some(method) => match Channel::parse(method) {
            Some(channel @ (Channel::Sms | Channel::Whatsapp)) => channel,
            _ => {
                return Err(UError::bad_request(format!(
                    "Invalid delivery_method '{method}'. Valid options are sms, whatsapp"
                )))
            }
        },
    };
    let applied = state.script(&tenant, pk, "otp.generate").await?;
    let mut options = OtpOptions::new(channel);
    options.deliver = applied.deliver;
    if let Some(expiry) = applied.expiry_seconds {
        options.validity = seconds(expiry);
    }
    state
        .oneshot
        .generate_otp(&tenant, pk, options)
        .map_err(|e| model_error(pk, e, |pk| not_found(&pk)))?;
    Ok(ok("OTP generated"))
}

pub async fn sign(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Tenant(tenant): Tenant,
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

    // Issuing a certificate and signing every document is CPU work: keep it off the
    // runtime's worker threads.
    let outcome = tokio::task::spawn_blocking(move || {
        oneshot.complete_signature(&tenant, &authorized, &options)
    })
    .await
    .map_err(|_| {
        UError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Signature process aborted",
        )
    })?;
    outcome.map_err(|e| model_error(pk, e, |pk| not_found(&pk)))?;
    Ok(ok("Documents correctly signed"))
}

/// Where an asynchronous signature is: `approved` (as documented) before signing, then
/// `signing`, `signed` or `error`.
pub async fn async_status(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Tenant(tenant): Tenant,
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
