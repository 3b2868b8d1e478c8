//! RAO tokens: stored credentials that stand in for username/password/pin.

use crate::providers::uanataca::model::{Token, DEMO_TOKEN};
use crate::providers::uanataca::wire::{ok, Body, Path, UError, UResult};
use crate::providers::uanataca::Uanataca;
use crate::wire::{Fields, Tenant};
use axum::extract::State;
use serde_json::{json, Map, Value};
use std::sync::Arc;
/// How a token shows in `GET tokens`: which credentials it holds, never their values.
fn summary(token: &Token) -> Value {
    json!({
        "username": token.username,
        "password": token.password.is_some(),
        "pin": token.pin.is_some(),
    })
}

impl Uanataca {
    fn token(&self, tenant: &str, uid: &str) -> Option<Token> {
        if uid == DEMO_TOKEN {
            return Some(Token::demo());
        }
        self.tokens.get(tenant, &uid.to_owned())
    }

    /// The RAO named by the body's token or username/password/pin: `Ok(None)` when the body
    /// names none, an error when the credentials are incomplete or the token is unknown.
    /// Any complete username/password/pin is accepted.
    pub(crate) fn rao(&self, tenant: &str, fields: &Fields) -> Result<Option<String>, UError> {
        let username = fields.text("username")?;
        let password = fields.text("password")?;
        let pin = fields.text("pin")?;
        if let Some(uid) = fields.text("token")? {
            let token = self
                .token(tenant, &uid)
                .ok_or_else(|| UError::forbidden("Invalid RAO Credentials"))?;
            if (token.password.is_none() && password.is_none())
                || (token.pin.is_none() && pin.is_none())
            {
                return Err(incomplete());
            }
            return Ok(Some(token.username));
        }
        match (username, password, pin) {
            (None, None, None) => Ok(None),
            (Some(username), Some(_), Some(_)) => Ok(Some(username)),
            _ => Err(incomplete()),
        }
    }
}

fn incomplete() -> UError {
    UError::bad_request("Missing required parameters: incomplete RAO's credentials")
}

pub async fn list(State(state): State<Arc<Uanataca>>, Tenant(tenant): Tenant) -> UResult {
    let mut details = Map::new();
    details.insert(DEMO_TOKEN.into(), summary(&Token::demo()));
    for (uid, token) in state.tokens.entries(&tenant) {
        details.insert(uid, summary(&token));
    }
    Ok(ok(details))
}

pub async fn create(
    State(state): State<Arc<Uanataca>>,
    Tenant(tenant): Tenant,
    Body(fields): Body,
) -> UResult {
    let username = fields
        .text("username")?
        .ok_or_else(|| UError::bad_request("Missing required parameter: 'username'"))?;
    let env = fields
        .text("env")?
        .or_else(|| state.setting(&tenant, "general", "environment"));
    super::requests::check_env(env.as_deref())?;
    let token = Token {
        username,
        password: fields.text("password")?,
        pin: fields.text("pin")?,
    };
    let exists = token == Token::demo()
        || state
            .tokens
            .entries(&tenant)
            .iter()
            .any(|(_, known)| *known == token);
    if exists {
        return Err(UError::bad_request(
            "A token with these credentials already exist!",
        ));
    }
    let uid = state.oneshot.engine().ids.hex(16);
    state.tokens.insert(&tenant, uid.clone(), token);
    Ok(ok(uid))
}

pub async fn get(
    State(state): State<Arc<Uanataca>>,
    Path(uid): Path<String>,
    Tenant(tenant): Tenant,
) -> UResult {
    let token = state
        .token(&tenant, &uid)
        .ok_or_else(|| UError::not_found(format!("Token {uid} not found")))?;
    Ok(ok(summary(&token)))
}

pub async fn delete(
    State(state): State<Arc<Uanataca>>,
    Path(uid): Path<String>,
    Tenant(tenant): Tenant,
) -> UResult {
    if uid == DEMO_TOKEN {
        return Err(UError::bad_request(format!(
            "Token {uid} is the demo token and cannot be deleted"
        )));
    }
    state
        .tokens
        .remove(&tenant, &uid)
        .ok_or_else(|| UError::not_found("Token not found"))?;
    Ok(ok("Token deleted successfully"))
}
