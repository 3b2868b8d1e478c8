//! Signal's wire conventions: its error body, the Bearer token, the acting out of a
//! request's scenario, and the reading of every call's fields (`request`: the create
//! call and the calls that name a request; `files`: which file a call wants); what goes
//! out beyond the error shape (`details`).

pub mod details;
pub mod files;
pub mod request;

use super::service::{Signal, SLUG};
use crate::engine::scenarios::Applied;
use crate::engine::tenant::Tenant;
use crate::providers::shared::oneshot::{Event, OneShotError, Status};
use crate::wire::{BodyError, Fields, WrongType};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

/// An error as Signal answers it: `{"status": false, "code": 404, "message": "..."}`. The
/// docs list plain HTTP codes without a body; `status` is false so that every client test
/// of success (`status == true`, `== "true"`, `== 200`) fails on it.
#[derive(Debug)]
pub enum SError {
    Plain {
        code: StatusCode,
        message: String,
    },
    /// A scenario's scripted answer, as it is. Boxed: responses are large.
    Scripted(Box<Response>),
}

pub type SResult = Result<Response, SError>;

impl SError {
    pub fn new(code: StatusCode, message: impl Into<String>) -> SError {
        SError::Plain {
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> SError {
        SError::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> SError {
        SError::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden(message: impl Into<String>) -> SError {
        SError::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found(message: impl Into<String>) -> SError {
        SError::new(StatusCode::NOT_FOUND, message)
    }
}

/// The JSON body of an error with `code` and `message`.
pub fn error_body(code: StatusCode, message: &str) -> serde_json::Value {
    json!({ "status": false, "code": code.as_u16(), "message": message })
}

impl IntoResponse for SError {
    fn into_response(self) -> Response {
        match self {
            SError::Plain { code, message } => {
                let mut response = (code, Json(error_body(code, &message))).into_response();
                if code == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        header::HeaderValue::from_static("Bearer"),
                    );
                }
                response
            }
            SError::Scripted(response) => *response,
        }
    }
}

impl From<BodyError> for SError {
    fn from(error: BodyError) -> SError {
        // Signal's error page has no 413: a body over the limit is a bad request.
        SError::bad_request(error.to_string())
    }
}

impl From<WrongType> for SError {
    fn from(error: WrongType) -> SError {
        SError::bad_request(error.to_string())
    }
}

/// A request pk as clients send it (`"23483"` or `23483`); anything else cannot exist.
pub fn parse_pk(raw: &str) -> Option<u64> {
    raw.trim().parse().ok()
}

impl Signal {
    /// Acts out what the request's scenario scripts for `operation` (latency, a broken
    /// connection or a scripted answer, returned as the error) and schedules scripted
    /// status changes.
    pub(crate) async fn script(
        &self,
        tenant: &Tenant,
        pk: u64,
        operation: &str,
    ) -> Result<Applied, SError> {
        let applied = self.oneshot.scripted(tenant, pk, operation);
        crate::wire::act_out(self.oneshot.engine(), &applied)
            .await
            .map_err(|scripted| SError::Scripted(Box::new(scripted)))?;
        Ok(applied)
    }
}

/// Maps a model error about request `pk` onto the codes Signal's error page lists.
pub fn model_error(pk: u64, error: OneShotError) -> SError {
    match error {
        OneShotError::RequestNotFound(pk) => SError::not_found(format!("Request {pk} not found")),
        OneShotError::WrongStatus {
            status: Status::Issued,
            ..
        } => SError::forbidden("Request already in ISSUED status"),
        OneShotError::WrongStatus { status, event } => {
            // Signal requests never go through video identification or updates.
            let action = match event {
                Event::Sign => "sign",
                Event::GenerateOtp => "generate an OTP for",
                _ => "change",
            };
            SError::forbidden(format!(
                "Cannot {action} Request {pk}: Invalid request status {status}"
            ))
        }
        OneShotError::OtpTooSoon => SError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Otp generated less than a minute ago",
        ),
        OneShotError::OtpInvalid => SError::forbidden("Confirmation Code invalid"),
        OneShotError::TooManyDocuments => SError::bad_request(format!(
            "Maximum number of document reached for Request {pk}"
        )),
        OneShotError::DocumentNotFound => SError::not_found("Document not found"),
        OneShotError::Signing { uid, reason } => {
            SError::bad_request(format!("Cannot sign file {uid}: {reason}"))
        }
        OneShotError::SigningAborted => SError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Signature process aborted",
        ),
        OneShotError::MissingFields(fields) => SError::bad_request(format!(
            "Cannot approve Request {pk}: Invalid request fields: {}",
            fields.join("; ")
        )),
        OneShotError::WrongScratchcard | OneShotError::NotVideo => {
            SError::bad_request(format!("Request {pk} cannot be changed this way"))
        }
    }
}

/// The token of a call's `Authorization: Bearer <token>`; any well-formed one is accepted
/// (there is no real portal to ask).
pub fn bearer(headers: &HeaderMap) -> Result<String, SError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        SError::unauthorized("Authorization header missing: send 'Authorization: Bearer <token>'")
    })?;
    let malformed =
        || SError::unauthorized("Malformed Authorization header: expected 'Bearer <token>'");
    let value = value.to_str().map_err(|_| malformed())?.trim();
    let (scheme, token) = value.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !is_b64token(token) {
        return Err(malformed());
    }
    Ok(token.to_owned())
}

/// Path parameters; a segment that is not valid UTF-8 answers in Signal's error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(SError))]
pub struct Path<T>(pub T);

impl From<PathRejection> for SError {
    fn from(rejection: PathRejection) -> SError {
        SError::bad_request(rejection.body_text())
    }
}

/// Extracts the tenant from the Bearer token; a call without a good one answers 401.
/// Always a Signal tenant: the one-shot store keeps Uanataca's requests under Uanataca's
/// tenants, so no Signal token reaches them, whatever its name.
pub struct Bearer(pub Tenant);

impl FromRequestParts<Arc<Signal>> for Bearer {
    type Rejection = SError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Signal>) -> Result<Bearer, SError> {
        let token = bearer(&parts.headers)?;
        Ok(Bearer(Tenant::new(SLUG, tenant_of(state, &token))))
    }
}

/// The name of the tenant a Bearer token stands for. A token from the simulator's own
/// `/auth/login` belongs to the username that logged in, so logging in again sees the
/// same requests. Any other token (one a user holds for the real service) is accepted as
/// a tenant of its own. Expiry is not enforced: Signal documents no expired-token answer.
pub fn tenant_of(state: &Signal, token: &str) -> String {
    match state.oneshot.engine().jwt.verify(token) {
        Ok(claims) => claims.sub,
        Err(_) => token.to_owned(),
    }
}

/// Extracts the call's fields (JSON, form or multipart) under the body limit; a body that
/// cannot be read answers in Signal's error shape.
pub struct Body(pub Fields);

impl FromRequest<Arc<Signal>> for Body {
    type Rejection = SError;

    async fn from_request(request: Request, state: &Arc<Signal>) -> Result<Body, SError> {
        Ok(Body(Fields::read(request, state.body_limit).await?))
    }
}

/// RFC 6750's `b64token`: what a JWT or any opaque API key is made of.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert_eq!(bearer(&headers("Bearer abc.def-_")).unwrap(), "abc.def-_");
        assert!(bearer(&headers("Basic abc")).is_err());
        assert!(bearer(&headers("Bearer")).is_err());
        assert!(bearer(&headers("Bearer a b")).is_err());
        assert!(bearer(&HeaderMap::new()).is_err());
    }
}
