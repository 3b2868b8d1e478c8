//! The `envelope_completed` webhook on the wire: what support sets up for an API key, the
//! documented body, and its signature, HMAC-SHA1 of `endpoint + method + payload` under the
//! key's `signature_key` (header `Signature`). Queuing the delivery is the service's
//! (`service::signing`).

use crate::providers::qitech::model::Envelope;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;

/// What `endpoint` stands for in the signed string; the manual does not pin it down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EndpointForm {
    /// The path of the webhook URL (`/hooks/qi`), with its query if any. The default.
    Path,
    /// The whole URL as configured (`https://example.com/hooks/qi`).
    Url,
}

impl EndpointForm {
    pub fn parse(text: &str) -> Option<EndpointForm> {
        match text {
            "path" => Some(EndpointForm::Path),
            "url" => Some(EndpointForm::Url),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointForm::Path => "path",
            EndpointForm::Url => "url",
        }
    }
}

/// What support sets up for an API key.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HookConfig {
    pub url: String,
    pub signature_key: String,
    pub endpoint: EndpointForm,
}

impl HookConfig {
    /// The `endpoint` part of the signed string.
    pub fn endpoint(&self) -> String {
        match self.endpoint {
            EndpointForm::Url => self.url.clone(),
            EndpointForm::Path => match url::Url::parse(&self.url) {
                Ok(parsed) => match parsed.query() {
                    Some(query) => format!("{}?{query}", parsed.path()),
                    None => parsed.path().to_owned(),
                },
                Err(_) => self.url.clone(),
            },
        }
    }
}

/// Hex HMAC-SHA1 of `endpoint + method + payload`, as the manual's Python computes it.
pub fn signature(key: &str, endpoint: &str, method: &str, payload: &str) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(endpoint.as_bytes());
    mac.update(method.as_bytes());
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The body the manual shows: envelope id and status, and each signer's checks.
pub fn body(envelope: &Envelope) -> Value {
    let signers: Vec<Value> = envelope
        .signers
        .iter()
        .map(|signer| {
            let checks = signer.checks.clone().unwrap_or_default();
            json!({
                "id": signer.id,
                "biometry": {
                    "face_validation_available": checks.face_validation_available,
                    "fraud_base_flag": checks.fraud_base_flag,
                    "face_validation_score": checks.face_validation_score,
                },
                "liveness": { "result": checks.liveness },
                "document": { "face_match_score": checks.face_match_score },
            })
        })
        .collect();
    json!({
        "id": envelope.id,
        "status": envelope.status.as_str(),
        "webhook_type": "envelope_completed",
        "signers": signers,
    })
}

impl crate::engine::quota::Stored for HookConfig {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_hmac() {
        // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", "what do ya ", "want", " for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn endpoint_is_the_path_or_the_url() {
        let mut config = HookConfig {
            url: "https://example.com/hooks/qi?x=1".into(),
            signature_key: "k".into(),
            endpoint: EndpointForm::Path,
        };
        assert_eq!(config.endpoint(), "/hooks/qi?x=1");
        config.endpoint = EndpointForm::Url;
        assert_eq!(config.endpoint(), "https://example.com/hooks/qi?x=1");
    }
}
