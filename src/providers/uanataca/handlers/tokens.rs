//! RAO tokens: stored credentials that stand in for username/password/pin.

use crate::engine::scenarios::Applied;
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

/// Which words a call uses for RAO credentials it refuses (both documented).
#[derive(Debug, Clone, Copy)]
pub(crate) enum RaoCall {
    /// `POST request`: `403 Invalid RAO Credentials`.
    Create,
    /// approve, validate and refuse: `403 Invalid RAO credentials`.
    Review,
}

impl RaoCall {
    fn refused(self) -> UError {
        UError::forbidden(match self {
            RaoCall::Create => "Invalid RAO Credentials",
            RaoCall::Review => "Invalid RAO credentials",
        })
    }
}

/// The RAO a call names.
pub(crate) struct Rao {
    pub username: String,
    /// A token this optimizer has not seen (the user holds it for the real service): stored
    /// once the call is accepted, unless the request's scenario makes tokens strict.
    first_seen: Option<(String, Token)>,
}

/// The value a request's scenario gives on an operation to accept only known tokens.
pub(crate) const STRICT_TOKENS: &str = "strict_rao_tokens";

/// A token as the service issues them (32 hex digits), or any other plausible one: letters,
/// digits, `-` and `_`, at most 128 characters.
fn well_formed(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Uanataca {
    fn token(&self, tenant: &str, uid: &str) -> Option<Token> {
        if uid == DEMO_TOKEN {
            return Some(Token::demo());
        }
        self.tokens.get(tenant, &uid.to_owned())
    }

    /// The RAO named by the body's token or username/password/pin: `Ok(None)` when the body
    /// names none, an error when the credentials are incomplete or the token malformed. Any
    /// complete username/password/pin and any well-formed token are accepted: a user's
    /// token for the real service works here unchanged (see `accept_rao`).
    pub(crate) fn rao(
        &self,
        tenant: &str,
        fields: &Fields,
        call: RaoCall,
    ) -> Result<Option<Rao>, UError> {
        let username = fields.text("username")?;
        let password = fields.text("password")?;
        let pin = fields.text("pin")?;
        if let Some(uid) = fields.text("token")? {
            let uid = uid.trim().to_owned();
            if !well_formed(&uid) {
                tracing::warn!(token = %uid, "RAO token refused: not a token's form");
                return Err(call.refused());
            }
            let Some(token) = self.token(tenant, &uid) else {
                let token = Token::first_seen(username, password, pin);
                return Ok(Some(Rao {
                    username: token.username.clone(),
                    first_seen: Some((uid, token)),
                }));
            };
            if (token.password.is_none() && password.is_none())
                || (token.pin.is_none() && pin.is_none())
            {
                return Err(incomplete());
            }
            return Ok(Some(Rao {
                username: token.username,
                first_seen: None,
            }));
        }
        match (username, password, pin) {
            (None, None, None) => Ok(None),
            (Some(username), Some(_), Some(_)) => Ok(Some(Rao {
                username,
                first_seen: None,
            })),
            _ => Err(incomplete()),
        }
    }

    /// `rao`, for calls that cannot go on without a RAO (approve, refuse).
    pub(crate) fn required_rao(
        &self,
        tenant: &str,
        fields: &Fields,
        call: RaoCall,
    ) -> Result<Rao, UError> {
        self.rao(tenant, fields, call)?.ok_or_else(incomplete)
    }

    /// Accepts `rao` for a call with the scenario effects `applied`, answering the RAO's
    /// username. A token seen for the first time is stored (then listed by `GET tokens`),
    /// or refused when the scenario makes tokens strict (`strict-rao-tokens`).
    pub(crate) fn accept_rao(
        &self,
        tenant: &str,
        rao: Rao,
        applied: &Applied,
        call: RaoCall,
    ) -> Result<String, UError> {
        if let Some((uid, token)) = rao.first_seen {
            let strict = applied.values.get(STRICT_TOKENS).and_then(Value::as_bool) == Some(true);
            if strict {
                tracing::warn!(token = %uid, "RAO token refused: unknown, and the scenario accepts only known tokens");
                return Err(call.refused());
            }
            tracing::info!(token = %uid, username = %token.username, "RAO token seen for the first time: stored");
            self.tokens.insert(tenant, uid, token);
        }
        Ok(rao.username)
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
