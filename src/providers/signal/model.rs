//! Signal's own state beside the shared one-shot requests: the residence fields the
//! one-shot model does not keep, and what its unguessable links open (files, biometric
//! sessions). No HTTP types here.

use time::OffsetDateTime;

/// The residence country of the create call, which the one-shot model does not keep
/// (the details show `residence_address` and `residence_city` null, as the docs do).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Residence {
    pub country: Option<String>,
}

/// How long a retrieve link works, on the virtual clock (boto3's presigned default).
pub const LINK_LIFETIME_SECONDS: u64 = 3600;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileLink {
    pub pk: u64,
    pub uid: String,
    pub signed: bool,
    pub expires_at: OffsetDateTime,
}

/// How long a biometric link works, on the virtual clock.
pub const SESSION_LIFETIME_SECONDS: u64 = 30 * 60;

pub const OUTCOMES: [&str; 2] = ["passed", "failed"];

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Session {
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// `None` until the person goes through the check.
    pub outcome: Option<String>,
}

impl crate::engine::quota::Stored for Residence {}
impl crate::engine::quota::Stored for FileLink {}
impl crate::engine::quota::Stored for Session {}
