//! Uanataca's own state beside the shared one-shot requests: RAO tokens, images for
//! visible signatures, metadata signed into signatures, and each tenant's settings.ini.
//! No HTTP types here; the handlers turn these into the optimizer's answers.

use bytes::Bytes;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The sandbox's pre-configured token: always listed, valid, and impossible to delete.
pub const DEMO_TOKEN: &str = "fd6a21e6fb7d43b9893a520d67d6ff60";
const DEMO_USERNAME: &str = "1125824";

/// A stored RAO credential that stands in for username/password/pin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    pub username: String,
    pub password: Option<String>,
    pub pin: Option<String>,
}

/// The username a token first seen without one stands for: the docs' RAO account.
const FIRST_SEEN_USERNAME: &str = "9001800";

impl Token {
    pub fn demo() -> Token {
        Token {
            username: DEMO_USERNAME.into(),
            password: Some("demo".into()),
            pin: Some("demo".into()),
        }
    }

    /// A token a call names that this optimizer has not seen: the user holds it for the
    /// real service, where it stands for a complete set of credentials. The username,
    /// password and pin given beside it are kept; those not given are held (empty) all
    /// the same, as the real token holds them.
    pub fn first_seen(
        username: Option<String>,
        password: Option<String>,
        pin: Option<String>,
    ) -> Token {
        Token {
            username: username.unwrap_or_else(|| FIRST_SEEN_USERNAME.into()),
            password: Some(password.unwrap_or_default()),
            pin: Some(pin.unwrap_or_default()),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Image {
    #[serde(with = "crate::engine::state::blob")]
    pub bytes: Bytes,
    pub filename: String,
    pub uploaded_at: OffsetDateTime,
    /// Width and height from the PNG header.
    pub size: (u32, u32),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Metadata {
    pub oid: String,
    /// As uploaded: base64 text.
    pub encoded: String,
    pub decoded: Vec<u8>,
}

/// Width and height of a PNG, or `None` if the bytes are not one.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.get(12..16) != Some(b"IHDR") {
        return None;
    }
    let word = |at: usize| -> Option<u32> {
        let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(raw))
    };
    Some((word(16)?, word(20)?))
}

/// The settings.ini of a fresh optimizer, as the docs show it.
pub fn default_settings() -> Value {
    json!({
        "tsa": { "tsa_url": "https://tsa.sandbox.uanataca.com/tsa/tss01" },
        "request": { "default_profile": "PFnubeQAFCiudadano", "default_ra": "9999" },
        "billing": { "billing_username": "user@uanataca.com", "billing_password": "UGVyb2xpdG8xLg==" },
        "general": {
            "environment": "sandbox",
            "rootstore": "uanataca",
            "configuration": "default",
            "usepdfclean": false
        }
    })
}

pub const SETTINGS_SECTIONS: [&str; 4] = ["tsa", "request", "billing", "general"];

impl crate::engine::quota::Stored for Token {}

impl crate::engine::quota::Stored for Image {
    fn heap_bytes(&self) -> usize {
        self.bytes.len()
    }
}

impl crate::engine::quota::Stored for Metadata {
    fn heap_bytes(&self) -> usize {
        self.encoded.len() + self.decoded.len()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_png_dimensions() {
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend(600u32.to_be_bytes());
        png.extend(300u32.to_be_bytes());
        assert_eq!(super::png_size(&png), Some((600, 300)));
        assert_eq!(super::png_size(b"GIF89a"), None);
    }
}
