//! The API key every call carries in `Authorization` (the plain key, no scheme): it is the
//! tenant, so each key sees only its own envelopes.

use super::QError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

/// Extracts the API key, which is the tenant; a call without one answers 401.
pub struct ApiKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ApiKey {
    type Rejection = QError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ApiKey, QError> {
        tenant(&parts.headers).map(ApiKey)
    }
}

/// The API key is the tenant. The manual sends it bare; a scheme in front of it is a
/// client bug the real service would reject, so it is refused here too.
pub fn tenant(headers: &HeaderMap) -> Result<String, QError> {
    let key = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if key.is_empty() {
        return Err(QError::unauthenticated(
            "Missing API key: send it in the Authorization header (Authorization: <api key>)",
        ));
    }
    let lower = key.to_ascii_lowercase();
    if lower.starts_with("bearer ") || lower.starts_with("basic ") {
        return Err(QError::unauthenticated(
            "Invalid API key: send the key alone, without a scheme (Authorization: <api key>)",
        ));
    }
    Ok(key.to_owned())
}
