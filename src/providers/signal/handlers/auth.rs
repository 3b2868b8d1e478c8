//! `POST /auth/login`: any username and password get a fresh JWT signed by the simulator,
//! which belongs to that username (every token of one username sees the same requests).

use crate::engine::jwt::Claims;
use crate::engine::tenant::Tenant;
use crate::providers::signal::service::{Signal, SLUG};
use crate::providers::signal::wire::request::read_login;
use crate::providers::signal::wire::{Body, SResult};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::sync::Arc;

/// How long the token says it is valid (`exp`); Signal documents no expired-token answer,
/// so the simulator does not enforce it.
const TOKEN_LIFETIME_SECONDS: i64 = 24 * 3600;

pub async fn login(State(state): State<Arc<Signal>>, Body(fields): Body) -> SResult {
    let username = read_login(&fields)?;
    let tenant = Tenant::new(SLUG, username.clone());
    let engine = state.oneshot.engine();
    let issued_at = engine.now(&tenant).unix_timestamp();
    let token = engine.jwt.mint(&Claims {
        sub: username.clone(),
        iat: issued_at,
        exp: issued_at.saturating_add(TOKEN_LIFETIME_SECONDS),
        jti: engine.ids.uuid(),
        extra: Default::default(),
    });
    engine.record(
        &tenant,
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
