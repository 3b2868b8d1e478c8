//! JSON Web Tokens that the simulator mints for providers whose login hands one out
//! (Signal, IdentiaSign), and checks when they come back.
//!
//! Tokens are HS256, signed with a key made from the seed, so a run with `--seed` hands
//! out the same tokens; under `--admin-token` the key is random whatever the seed
//! (`EngineConfig::secret_seed`), so nobody mints tokens another instance accepts. Expiry is judged on the virtual clock, not on real time: a test
//! that advances the clock a day sees its token expire, as it would against the real
//! service. `jsonwebtoken`'s own `exp` check reads the system clock, so it is turned off
//! and done here.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// What every token carries, and whatever else the provider puts in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Who logged in: the provider decides what that names (a user, an entity).
    pub sub: String,
    /// Issued at and expiry, in seconds since the epoch on the virtual clock.
    pub iat: i64,
    pub exp: i64,
    /// Makes two tokens issued in the same second differ.
    pub jti: String,
    /// Provider-specific claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Claims {
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        now.unix_timestamp() >= self.exp
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a JWT this simulator signed")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

pub struct Jwt {
    /// The key, also for `tag`.
    secret: [u8; 32],
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Jwt {
    /// A signer with a 32-byte key (a fixed size: the crate refuses only an empty key).
    pub fn new(secret: &[u8; 32]) -> Jwt {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Jwt {
            secret: *secret,
            encoding: EncodingKey::from_secret(secret).unwrap_or_else(|_| unreachable!()),
            decoding: DecodingKey::from_secret(secret).unwrap_or_else(|_| unreachable!()),
            validation,
        }
    }

    /// A signed token for `claims`.
    pub fn mint(&self, claims: &Claims) -> String {
        // Encoding HS256 over claims that serialize to plain JSON cannot fail; an empty
        // token would be refused by `verify`, never accepted.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .unwrap_or_default()
    }

    /// The claims of a token this simulator signed, expired or not.
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| JwtError::Invalid)
    }

    /// A keyed digest of `data` (HMAC-SHA256 under the signing key, 16 bytes in hex): a
    /// claim a provider puts in the tokens it mints to say which secret a login checked,
    /// without the token carrying anything from which that secret could be guessed.
    pub fn tag(&self, data: &[u8]) -> String {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(data);
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The claims of a token this simulator signed that is still valid at `now`.
    pub fn check(&self, token: &str, now: OffsetDateTime) -> Result<Claims, JwtError> {
        let claims = self.verify(token)?;
        if claims.expired(now) {
            return Err(JwtError::Expired);
        }
        Ok(claims)
    }
}

/// The claims of a JWT another issuer signed (the real provider), read without checking
/// the signature, which only that issuer could: `None` when `token` is not a JWT at all
/// (three base64url parts whose middle one is a JSON object). Providers use it to accept
/// the tokens users already hold for the real service, as their tenants. A token whose
/// `alg` is `none` (in any case) is never one: no real service issues unsigned tokens, and
/// accepting one would let anyone name any tenant.
pub fn foreign_claims(token: &str) -> Option<Map<String, Value>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok();
    let header: Value = serde_json::from_slice(&decode(header)?).ok()?;
    let alg = header.get("alg")?.as_str()?;
    if alg.trim().eq_ignore_ascii_case("none") {
        return None;
    }
    match serde_json::from_slice(&decode(payload)?).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "alice".into(),
            iat: 0,
            exp,
            jti: "1".into(),
            extra: Map::new(),
        }
    }

    #[test]
    fn round_trip_and_expiry_on_the_given_clock() {
        let jwt = Jwt::new(&[7; 32]);
        let token = jwt.mint(&claims(100));
        assert_eq!(jwt.verify(&token).unwrap().sub, "alice");
        let before = OffsetDateTime::from_unix_timestamp(99).unwrap();
        let after = OffsetDateTime::from_unix_timestamp(100).unwrap();
        assert!(jwt.check(&token, before).is_ok());
        assert_eq!(jwt.check(&token, after), Err(JwtError::Expired));
    }

    #[test]
    fn foreign_claims_are_read_from_well_formed_tokens_only() {
        let token = Jwt::new(&[9; 32]).mint(&claims(100));
        assert_eq!(foreign_claims(&token).unwrap()["sub"], "alice");
        assert!(foreign_claims("not.a.jwt").is_none());
        assert!(foreign_claims("a.b").is_none());
        assert!(foreign_claims("").is_none());
        let none = |alg: &str| {
            let part = |v: &str| URL_SAFE_NO_PAD.encode(v);
            format!(
                "{}.{}.",
                part(&format!("{{\"alg\":\"{alg}\"}}")),
                part("{\"sub\":\"x\"}")
            )
        };
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        assert!(foreign_claims(&none("HS256")).is_some());
        for alg in ["none", "None", "NONE"] {
            assert!(foreign_claims(&none(alg)).is_none(), "{alg}");
        }
    }

    #[test]
    fn foreign_or_tampered_tokens_are_invalid() {
        let token = Jwt::new(&[9; 32]).mint(&claims(100));
        assert_eq!(Jwt::new(&[7; 32]).verify(&token), Err(JwtError::Invalid));
        assert_eq!(Jwt::new(&[7; 32]).verify("a.b.c"), Err(JwtError::Invalid));
    }
}
