//! RAO tokens: stored credentials that stand in for username/password/pin.

use crate::engine::scenarios::Applied;
use crate::engine::tenant::Tenant;
use crate::providers::uanataca::model::{Token, DEMO_TOKEN};
use crate::providers::uanataca::service::Uanataca;
use crate::providers::uanataca::wire::rao::{Rao, RaoCall};
use crate::providers::uanataca::wire::{ok, Body, Path, TenantHeader, UError, UResult};
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

/// The value a request's scenario gives on an operation to accept only known tokens.
pub(crate) const STRICT_TOKENS: &str = "strict_rao_tokens";

impl Uanataca {
    /// Accepts `rao` for a call with the scenario effects `applied`, answering the RAO's
    /// username. A token seen for the first time is stored (then listed by `GET tokens`),
    /// or refused when the scenario makes tokens strict (`strict-rao-tokens`).
    pub(crate) fn accept_rao(
        &self,
        tenant: &Tenant,
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

pub async fn list(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let mut details = Map::new();
    details.insert(DEMO_TOKEN.into(), summary(&Token::demo()));
    for (uid, token) in state.tokens.entries(&tenant) {
        details.insert(uid, summary(&token));
    }
    Ok(ok(details))
}

pub async fn create(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body,
) -> UResult {
    let token = state.new_token(&tenant, &fields)?;
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
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let token = state
        .token(&tenant, &uid)
        .ok_or_else(|| UError::not_found(format!("Token {uid} not found")))?;
    Ok(ok(summary(&token)))
}

pub async fn delete(
    State(state): State<Arc<Uanataca>>,
    Path(uid): Path<String>,
    TenantHeader(tenant): TenantHeader,
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
