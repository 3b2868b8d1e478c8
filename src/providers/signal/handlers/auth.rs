//! `POST /auth/login`: any username and password get a fresh JWT-looking token, which is
//! a tenant of its own.

use crate::providers::signal::wire::{Body, SError, SResult};
use crate::providers::signal::{Signal, SLUG};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::json;
use std::sync::Arc;

/// How long the token says it is valid (`exp`); the simulator does not enforce it.
const TOKEN_LIFETIME_SECONDS: i64 = 24 * 3600;

pub async fn login(State(state): State<Arc<Signal>>, Body(fields): Body) -> SResult {
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
    let engine = state.oneshot.engine();
    let issued_at = engine.now().unix_timestamp();
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let claims = json!({
        "sub": username,
        "iat": issued_at,
        "exp": issued_at + TOKEN_LIFETIME_SECONDS,
        "jti": engine.ids.uuid(),
    });
    let signature = hex::decode(engine.ids.hex(32)).unwrap_or_default();
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    );
    engine.record(
        SLUG,
        &token,
        "login",
        "login",
        format!("token issued to {username}"),
    );
    Ok(Json(json!({
        "status": 200,
        "message": "authorization completed",
        "token": token,
    }))
    .into_response())
}
