//! The RAO credentials a call carries in its body (a token, or username/password/pin) and
//! the token call's fields. Whether a token seen for the first time is accepted is the
//! request's scenario's (`handlers::tokens`, `accept_rao`).

use super::request::check_env;
use super::UError;
use crate::engine::tenant::Tenant;
use crate::providers::uanataca::model::Token;
use crate::providers::uanataca::service::Uanataca;
use crate::wire::Fields;

/// Which words a call uses for RAO credentials it refuses (both documented).
#[derive(Debug, Clone, Copy)]
pub(crate) enum RaoCall {
    /// `POST request`: `403 Invalid RAO Credentials`.
    Create,
    /// approve, validate and refuse: `403 Invalid RAO credentials`.
    Review,
}

impl RaoCall {
    pub(crate) fn refused(self) -> UError {
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
    pub first_seen: Option<(String, Token)>,
}

/// A token as the service issues them (32 hex digits), or any other plausible one: letters,
/// digits, `-` and `_`, at most 128 characters.
fn well_formed(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn incomplete() -> UError {
    UError::bad_request("Missing required parameters: incomplete RAO's credentials")
}

impl Uanataca {
    /// The RAO named by the body's token or username/password/pin: `Ok(None)` when the body
    /// names none, an error when the credentials are incomplete or the token malformed. Any
    /// complete username/password/pin and any well-formed token are accepted: a user's
    /// token for the real service works here unchanged (see `accept_rao`).
    pub(crate) fn rao(
        &self,
        tenant: &Tenant,
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
        tenant: &Tenant,
        fields: &Fields,
        call: RaoCall,
    ) -> Result<Rao, UError> {
        self.rao(tenant, fields, call)?.ok_or_else(incomplete)
    }

    /// The token call's fields: the credentials a new token stands for, in an environment
    /// that exists.
    pub(crate) fn new_token(&self, tenant: &Tenant, fields: &Fields) -> Result<Token, UError> {
        let username = fields
            .text("username")?
            .ok_or_else(|| UError::bad_request("Missing required parameter: 'username'"))?;
        let env = fields
            .text("env")?
            .or_else(|| self.setting(tenant, "general", "environment"));
        check_env(env.as_deref())?;
        Ok(Token {
            username,
            password: fields.text("password")?,
            pin: fields.text("pin")?,
        })
    }
}
