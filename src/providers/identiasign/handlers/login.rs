//! `POST /api/auth/login`: the entity's access token (a JWT) for a client name.

use crate::engine::journal::ActedFor;
use crate::engine::jwt::Claims;
use crate::engine::tenant::Tenant;
use crate::providers::identiasign::wire::{self, Body, IError, IResult};
use crate::providers::identiasign::{IdentiaSign, ENTITY, SLUG};
use crate::wire::{Fields, RequestedScenario};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map};
use std::sync::Arc;

/// How long an access token is valid, on the entity's virtual clock.
pub const TOKEN_SECONDS: i64 = 3600;

/// The login is the entity's call, but it carries no token to read the entity from before
/// the call (`wire::entity`): its answer names the entity (`ActedFor`), so that the journal
/// lists it with the entity's other calls and the entity's reset forgets it.
pub async fn login(
    State(state): State<Arc<IdentiaSign>>,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> Response {
    let entity = fields.text("username").ok().flatten();
    let mut answer = log_in(&state, requested, &fields).await.into_response();
    if let Some(username) = entity {
        let tenant = Tenant::new(SLUG, username);
        answer.extensions_mut().insert(ActedFor(tenant));
    }
    answer
}

async fn log_in(state: &IdentiaSign, requested: Option<String>, fields: &Fields) -> IResult {
    let refused = || IError::not_found("Credenciales incorrectas o inexistentes");
    let text = |name: &str| fields.text(name).ok().flatten();
    let (Some(username), Some(clientname), Some(password)) =
        (text("username"), text("clientname"), text("password"))
    else {
        return Err(refused());
    };
    let engine = state.engine();
    let chosen = engine
        .scenarios
        .choose(SLUG, requested.as_deref(), |field| match field {
            "username" => Some(username.clone()),
            "clientname" => Some(clientname.clone()),
            _ => None,
        })
        .map_err(|_| state.unknown_scenario(requested.as_deref()))?;
    // The entity is the tenant: the token's `iat` and `exp` are on its clock, which is
    // the one `wire::session` checks them on.
    let tenant = Tenant::new(SLUG, username.clone());
    let session = format!("login:{clientname}");
    engine.assign_scenario(&tenant, &session, chosen.clone());
    engine.assign_scenario(&tenant, ENTITY, chosen);
    state.script(&tenant, &session, "login").await?;
    let mut extra = Map::new();
    if let Some(expected) = state.config(&tenant).password {
        if expected != password {
            return Err(refused());
        }
        // Only tokens that carry this are the entity's while its password is set.
        let tag = wire::password_tag(state, &tenant, &expected);
        extra.insert(wire::PASSWORD_CLAIM.into(), json!(tag));
    }
    let issued_at = engine.now(&tenant).unix_timestamp();
    extra.insert("clientname".into(), json!(clientname));
    let token = engine.jwt.mint(&Claims {
        sub: username.clone(),
        iat: issued_at,
        exp: issued_at.saturating_add(TOKEN_SECONDS),
        jti: engine.ids.uuid(),
        extra,
    });
    engine.record(
        &tenant,
        &session,
        "login",
        format!("token issued to {clientname}"),
    );
    Ok(Json(json!({
        "access_token": token,
        "token_type": wire::SCHEME,
        "expires_in": TOKEN_SECONDS,
    }))
    .into_response())
}
