//! The API key every call carries in `Authorization` (the plain key, no scheme): it names
//! the tenant, so each key sees only its own envelopes. The extractor that makes it a
//! tenant is the handlers' (`handlers::ApiKey`).

use super::QError;
use axum::http::HeaderMap;

/// The call's API key. The manual sends it bare; a scheme in front of it is a client bug
/// the real service would reject, so it is refused here too.
pub fn key(headers: &HeaderMap) -> Result<String, QError> {
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
