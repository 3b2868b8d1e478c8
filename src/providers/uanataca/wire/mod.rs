//! Uanataca's wire: the envelope (`{"status": "200 OK", "details": ...}` for answers and
//! errors alike), its error type and extractors, and the reading of every call's fields
//! (`request`, `rao`, `videoid`, `documents`, `images`, `sign_options`, `hashfile`) into
//! the model's values; what goes out beyond the envelope (`details`).

mod details;
pub mod documents;
pub mod hashfile;
pub mod images;
pub mod rao;
pub mod request;
mod sign_options;
pub mod videoid;

use super::service::{Uanataca, SLUG};
use crate::engine::scenarios::Applied;
use crate::engine::tenant::Tenant;
use crate::providers::shared::oneshot::{Event, OneShotError, Status};
use crate::wire::{BodyError, Fields, WrongType};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// The status line the service writes in `status`: `"404 Not Found"`.
pub fn status_line(code: StatusCode) -> String {
    format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("")
    )
}

/// The envelope as it goes out, serialised straight from its two fields rather than
/// through a `json!` map (the hot path: every answer of the surface is one).
#[derive(serde::Serialize)]
struct Envelope<'a> {
    status: &'a str,
    details: Value,
}

pub fn envelope(code: StatusCode, details: impl Into<Value>) -> Response {
    let status = match code {
        StatusCode::OK => std::borrow::Cow::Borrowed("200 OK"),
        other => std::borrow::Cow::Owned(status_line(other)),
    };
    let body = Envelope {
        status: &status,
        details: details.into(),
    };
    (code, Json(body)).into_response()
}

pub fn ok(details: impl Into<Value>) -> Response {
    envelope(StatusCode::OK, details)
}

/// An error answered in the envelope, or a scenario's scripted answer as it is.
#[derive(Debug)]
pub enum UError {
    Envelope {
        code: StatusCode,
        details: Value,
    },
    /// An envelope whose `status` is not the standard line of `code`, as some documented
    /// answers write it (`"Invalid JSON"`, `"404 Not found"`).
    Worded {
        code: StatusCode,
        status: &'static str,
        details: Value,
    },
    /// Boxed: a response is large and errors travel through every `?`.
    Scripted(Box<Response>),
}

pub type UResult = Result<Response, UError>;

impl UError {
    pub fn new(code: StatusCode, details: impl Into<Value>) -> UError {
        UError::Envelope {
            code,
            details: details.into(),
        }
    }
    pub fn bad_request(details: impl Into<Value>) -> UError {
        UError::new(StatusCode::BAD_REQUEST, details)
    }
    pub fn not_found(details: impl Into<Value>) -> UError {
        UError::new(StatusCode::NOT_FOUND, details)
    }
    pub fn precondition(details: impl Into<Value>) -> UError {
        UError::new(StatusCode::PRECONDITION_FAILED, details)
    }
    pub fn forbidden(details: impl Into<Value>) -> UError {
        UError::new(StatusCode::FORBIDDEN, details)
    }
    pub fn unsupported(details: impl Into<Value>) -> UError {
        UError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, details)
    }
    /// The documented `500 Internal Server Error` answers (field errors of the create call,
    /// billing credentials, a wrong scratchcard, an unfinished video identification).
    pub fn internal(details: impl Into<Value>) -> UError {
        UError::new(StatusCode::INTERNAL_SERVER_ERROR, details)
    }
    /// HTTP `code` with `status` written as the docs write it.
    pub fn worded(code: StatusCode, status: &'static str, details: impl Into<Value>) -> UError {
        UError::Worded {
            code,
            status,
            details: details.into(),
        }
    }
}

impl IntoResponse for UError {
    fn into_response(self) -> Response {
        match self {
            UError::Envelope { code, details } => envelope(code, details),
            UError::Worded {
                code,
                status,
                details,
            } => (code, Json(json!({ "status": status, "details": details }))).into_response(),
            UError::Scripted(response) => *response,
        }
    }
}

/// How a call words a body that is not JSON. Most calls: `400 Bad Request` with `Could
/// not parse JSON body - <parser message>` (the token call's documented answer); the calls
/// below have their own documented words.
pub mod invalid_json {
    /// `400 Bad Request`, `Could not parse JSON body - <parser message>`.
    pub const BAD_REQUEST: u8 = 0;
    /// `Invalid JSON`, `Could not parse JSON body` (settings).
    pub const BARE: u8 = 1;
    /// `400 Invalid JSON`, `Could not parse JSON body` (metadata).
    pub const CODED: u8 = 2;
    /// `Invalid JSON`, `Could not parse JSON body - <parser message>` (evidences, refuse).
    pub const BARE_WITH_REASON: u8 = 3;
}

/// Extracts the call's fields (multipart, form or JSON) under the provider's body limit;
/// a body that cannot be read answers in Uanataca's error envelope, unparseable JSON in
/// the words `INVALID_JSON` (one of `invalid_json`) names.
pub struct Body<const INVALID_JSON: u8 = { invalid_json::BAD_REQUEST }>(pub Fields);

impl<const INVALID_JSON: u8> FromRequest<Arc<Uanataca>> for Body<INVALID_JSON> {
    type Rejection = UError;

    async fn from_request(request: Request, state: &Arc<Uanataca>) -> Result<Self, UError> {
        match Fields::read(request, state.body_limit).await {
            Ok(fields) => Ok(Body(fields)),
            Err(BodyError::InvalidJson(reason)) => Err(invalid_json_error(INVALID_JSON, &reason)),
            Err(error) => Err(error.into()),
        }
    }
}

fn invalid_json_error(wording: u8, reason: &impl std::fmt::Display) -> UError {
    const PLAIN: &str = "Could not parse JSON body";
    let code = StatusCode::BAD_REQUEST;
    match wording {
        invalid_json::BARE => UError::worded(code, "Invalid JSON", PLAIN),
        invalid_json::CODED => UError::worded(code, "400 Invalid JSON", PLAIN),
        invalid_json::BARE_WITH_REASON => {
            UError::worded(code, "Invalid JSON", format!("{PLAIN} - {reason}"))
        }
        _ => UError::bad_request(format!("{PLAIN} - {reason}")),
    }
}

/// The call's tenant: Uanataca's tenant named by `X-Signsim-Tenant` (`default` without
/// one). Always a Uanataca tenant, so no header value reaches another surface's requests
/// (a Signal username names a different tenant here).
pub struct TenantHeader(pub Tenant);

impl<S: Send + Sync> FromRequestParts<S> for TenantHeader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(TenantHeader(tenant_of(&parts.headers)))
    }
}

/// Uanataca's tenant of a call with these headers (`TenantHeader`, the admission).
pub fn tenant_of(headers: &axum::http::HeaderMap) -> Tenant {
    Tenant::new(SLUG, crate::wire::tenant_from_headers(headers))
}

/// Uanataca's tenant `name` (an admin call's `?tenant=`; `default` when none).
pub fn tenant_named(name: Option<String>) -> Tenant {
    Tenant::new(
        SLUG,
        name.unwrap_or_else(|| crate::engine::DEFAULT_TENANT.to_owned()),
    )
}

/// Path parameters; a segment that is not valid UTF-8 answers in Uanataca's envelope
/// rather than axum's plain-text rejection.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(UError))]
pub struct Path<T>(pub T);

impl From<PathRejection> for UError {
    fn from(rejection: PathRejection) -> UError {
        UError::bad_request(rejection.body_text())
    }
}

impl From<BodyError> for UError {
    fn from(error: BodyError) -> UError {
        let code = match error {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        UError::new(code, error.to_string())
    }
}

impl From<WrongType> for UError {
    fn from(error: WrongType) -> UError {
        UError::bad_request(error.to_string())
    }
}

/// Path ids are numbers; anything else is a request that cannot exist.
pub fn parse_pk(raw: &str) -> Option<u64> {
    raw.trim().parse().ok()
}

impl Uanataca {
    /// Applies what the request's scenario scripts for `operation`: latency, a broken
    /// connection or a scripted answer (returned as the error), and a status change later
    /// on the virtual clock. The rest of `Applied` is for the caller to use.
    pub(crate) async fn script(
        &self,
        tenant: &Tenant,
        pk: u64,
        operation: &str,
    ) -> Result<Applied, UError> {
        let applied = self.oneshot.scripted(tenant, pk, operation);
        crate::wire::act_out(self.oneshot.engine(), &applied)
            .await
            .map_err(|scripted| UError::Scripted(Box::new(scripted)))?;
        Ok(applied)
    }
}

/// The words the service uses when an operation meets a request in the wrong status.
pub fn wrong_status(pk: u64, status: Status, event: Event) -> UError {
    let details = match (event, status) {
        (Event::Sign, Status::Issued) => "Request already in ISSUED status".to_owned(),
        (Event::Sign, _) => format!("Cannot sign Request {pk}: Invalid request status {status}"),
        // The documented words, without the status: clients compare them whole.
        (Event::GenerateOtp, _) => {
            tracing::info!(pk, %status, "OTP refused: the request is not ENROLLREADY");
            "Error occured during OTP generation: Invalid request status".to_owned()
        }
        // The real service answers a 500 when the video identification is unfinished;
        // clients show "video identification not done" on exactly that.
        (
            Event::Approve,
            Status::VideoPending | Status::VideoIncomplete | Status::VideoError,
        ) => {
            return UError::internal(format!(
                "Cannot approve Request {pk}: Invalid request status {status}"
            ))
        }
        (Event::Approve, _) => {
            format!("Cannot approve Request {pk}: Invalid request status {status}")
        }
        (Event::VideoSucceeded | Event::VideoPartial | Event::VideoFailed, _) => format!(
            "Cannot upload evidences data for Request {pk}: {{\"detail\": \"Invalid VideoId status '{status}'\"}}"
        ),
        (Event::Validate, _) => {
            format!("Cannot validate Request {pk}: Invalid request status {status}")
        }
        (Event::Refuse, _) => {
            format!("Cannot refuse Request {pk}: Invalid request status {status}")
        }
        (Event::Update, _) => {
            format!("Cannot update the Request {pk}: Invalid request status {status}")
        }
    };
    UError::precondition(details)
}

/// Maps a model error about request `pk`; `not_found` is the operation's own wording for
/// an unknown request (the service words it differently per call).
pub fn model_error(pk: u64, error: OneShotError, not_found: impl FnOnce(u64) -> String) -> UError {
    match error {
        OneShotError::RequestNotFound(pk) => UError::not_found(not_found(pk)),
        OneShotError::WrongStatus { status, event } => wrong_status(pk, status, event),
        OneShotError::OtpTooSoon => UError::precondition(
            "Error occured during OTP generation: Otp generated less than a minute ago",
        ),
        OneShotError::OtpInvalid => UError::forbidden("Confirmation Code invalid"),
        OneShotError::TooManyDocuments => UError::bad_request(format!(
            "Maximum number of document reached for Request {pk}"
        )),
        OneShotError::DocumentNotFound => UError::not_found("Document not found"),
        OneShotError::MissingFields(fields) => UError::precondition(format!(
            "Cannot approve Request {pk}: Invalid request fields: {}",
            fields.join("; ")
        )),
        OneShotError::WrongScratchcard => UError::internal(format!(
            "Cannot update the Request {pk}: {{\"detail\": \"Invalid ScratchCard\"}}"
        )),
        OneShotError::NotVideo => {
            UError::precondition(format!("Request {pk} is not a Video ID request"))
        }
        OneShotError::Signing { uid, reason } => {
            UError::bad_request(json!({ uid.clone(): format!("Cannot sign file {uid}: {reason}") }))
        }
        OneShotError::SigningAborted => UError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Signature process aborted",
        ),
    }
}
