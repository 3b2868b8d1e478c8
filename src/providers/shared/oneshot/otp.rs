//! The one-time code that authorizes a signature: how long it lives, how often a new one
//! may be generated, how many wrong tries it takes. Data and rules only; generating and
//! sending one is `OneShot::generate_otp` (`service.rs`), spending it `authorize_signature`
//! (`signing.rs`).

use crate::engine::outbox::Channel;
use crate::engine::scenarios::Applied;
use crate::engine::seconds;
use time::{Duration, OffsetDateTime};

/// How long an OTP can be used after it was generated.
pub const OTP_VALIDITY: Duration = Duration::minutes(10);
/// A new OTP cannot be generated sooner than this after the previous one.
pub const OTP_COOLDOWN: Duration = Duration::seconds(60);
/// Wrong codes accepted before the OTP is spent and a new one must be generated.
pub const OTP_MAX_FAILURES: u32 = 3;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Otp {
    pub code: String,
    pub generated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub failures: u32,
    pub spent: bool,
}

/// How one OTP is made; scenarios change these.
#[derive(Debug, Clone, Copy)]
pub struct OtpOptions {
    pub channel: Channel,
    pub validity: Duration,
    /// `false`: generated but never reaches the outbox (a gateway that loses SMS).
    pub deliver: bool,
}

impl OtpOptions {
    pub fn new(channel: Channel) -> OtpOptions {
        OtpOptions {
            channel,
            validity: OTP_VALIDITY,
            deliver: true,
        }
    }

    /// A code sent by `channel` as the request's scenario has it (`applied`, its effects on
    /// the OTP call): delivered or lost, and valid for its `expiry_seconds` if it sets one.
    pub fn scripted(channel: Channel, applied: &Applied) -> OtpOptions {
        let mut options = OtpOptions::new(channel);
        options.deliver = applied.deliver;
        if let Some(expiry) = applied.expiry_seconds {
            options.validity = seconds(expiry);
        }
        options
    }
}

/// The code was wrong, expired, spent or never generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

/// A right, fresh, unspent code is spent; a wrong one counts as a failure, and after
/// `OTP_MAX_FAILURES` failures the code is spent too.
pub fn consume(otp: Option<&mut Otp>, secret: &str, now: OffsetDateTime) -> Result<(), Invalid> {
    let otp = otp.ok_or(Invalid)?;
    if otp.spent || now > otp.expires_at {
        return Err(Invalid);
    }
    if otp.code != secret.trim() {
        otp.failures = otp.failures.saturating_add(1);
        otp.spent = otp.failures >= OTP_MAX_FAILURES;
        return Err(Invalid);
    }
    otp.spent = true;
    Ok(())
}

/// Whether a new code generated at `now` comes too soon after `previous`.
pub fn too_soon(previous: Option<&Otp>, now: OffsetDateTime) -> bool {
    previous.is_some_and(|previous| now - previous.generated_at < OTP_COOLDOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn otp_at(now: OffsetDateTime) -> Otp {
        Otp {
            code: "123456".into(),
            generated_at: now,
            expires_at: now + OTP_VALIDITY,
            failures: 0,
            spent: false,
        }
    }

    #[test]
    fn right_code_is_spent_once() {
        let now = OffsetDateTime::now_utc();
        let mut otp = otp_at(now);
        assert_eq!(consume(Some(&mut otp), "123456", now), Ok(()));
        assert_eq!(consume(Some(&mut otp), "123456", now), Err(Invalid));
    }

    #[test]
    fn wrong_codes_spend_the_otp_after_the_limit() {
        let now = OffsetDateTime::now_utc();
        let mut otp = otp_at(now);
        for _ in 0..OTP_MAX_FAILURES {
            assert!(consume(Some(&mut otp), "000000", now).is_err());
        }
        assert_eq!(consume(Some(&mut otp), "123456", now), Err(Invalid));
    }

    #[test]
    fn expired_code_is_refused() {
        let now = OffsetDateTime::now_utc();
        let mut otp = otp_at(now - OTP_VALIDITY - Duration::seconds(1));
        assert!(consume(Some(&mut otp), "123456", now).is_err());
    }
}
