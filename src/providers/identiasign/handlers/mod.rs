//! The API calls under `/api`: read and check the request, run the model, render
//! IdentiaSign's shapes. Every field error is a 400 that names the field. `login` is here;
//! the process and label calls have files of their own, and `fields` reads what they share.

mod fields;
mod labels;
mod processes;

pub use labels::{delete_label, list_labels, put_label};
pub use processes::{create, list, modify, notify, reject};

use super::wire::{self, Body, IError, IResult};
use super::{IdentiaSign, ENTITY, SLUG};
use crate::engine::jwt::Claims;
use crate::wire::RequestedScenario;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Map};
use std::sync::Arc;

/// How long an access token is valid, on the virtual clock.
pub const TOKEN_SECONDS: i64 = 3600;

pub async fn login(
    State(state): State<Arc<IdentiaSign>>,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> IResult {
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
        .map_err(IError::bad_request)?;
    let session = format!("login:{clientname}");
    engine.assign_scenario(SLUG, &username, &session, chosen.clone());
    engine.assign_scenario(SLUG, &username, ENTITY, chosen);
    state.script(&username, &session, "login").await?;
    if let Some(expected) = state.config(&username).password {
        if expected != password {
            return Err(refused());
        }
    }
    let issued_at = engine.now().unix_timestamp();
    let mut extra = Map::new();
    extra.insert("clientname".into(), json!(clientname));
    let token = engine.jwt.mint(&Claims {
        sub: username.clone(),
        iat: issued_at,
        exp: issued_at.saturating_add(TOKEN_SECONDS),
        jti: engine.ids.uuid(),
        extra,
    });
    engine.record(
        SLUG,
        &username,
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
