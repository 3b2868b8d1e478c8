//! The `hashfile` of the hash signature flow: a JSON file whose `messageDigest` is the
//! base64 of the DER messageDigest attribute the client computed over its document.

use crate::providers::shared::oneshot::DocumentKind;
use base64::Engine as _;
use der::asn1::{ObjectIdentifier, OctetString};
use der::Decode;
use serde_json::Value;
use x509_cert::attr::Attribute;

const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// Reads a hashfile; the error says what is wrong in words a developer can act on.
pub fn parse(bytes: &[u8]) -> Result<DocumentKind, String> {
    let json: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    let Value::Object(fields) = json else {
        return Err("expected a JSON object".into());
    };
    let encoded = match fields.get("messageDigest") {
        Some(Value::String(text)) => text,
        Some(_) => return Err("messageDigest must be a base64 string".into()),
        None => return Err("missing messageDigest".into()),
    };
    let algorithm = match fields.get("digestAlgorithm") {
        None | Some(Value::Null) => "sha256".to_owned(),
        Some(Value::String(name)) => name.to_ascii_lowercase(),
        Some(_) => return Err("digestAlgorithm must be a string such as \"sha256\"".into()),
    };
    if algorithm != "sha256" {
        return Err(format!(
            "unsupported digestAlgorithm '{algorithm}': only sha256 is supported"
        ));
    }
    if let Some(other) = fields.get("otherAuthAttributes") {
        if !other.is_array() {
            return Err("otherAuthAttributes must be a list".into());
        }
    }
    let signing_time = flag(fields.get("addSigningTime"), "addSigningTime")?;
    flag(fields.get("addAuthAttribute"), "addAuthAttribute")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("messageDigest is not valid base64 ({e})"))?;
    let digest = digest_of(&raw)?;
    Ok(DocumentKind::Hash {
        digest,
        signing_time,
    })
}

/// The 32 digest bytes: from the DER attribute `SEQUENCE { id-messageDigest, SET {
/// OCTET STRING } }` the docs describe, or given bare.
fn digest_of(raw: &[u8]) -> Result<Vec<u8>, String> {
    if raw.len() == 32 {
        return Ok(raw.to_vec());
    }
    let attribute = Attribute::from_der(raw).map_err(|e| {
        format!("messageDigest must be the DER messageDigest attribute (or 32 bare bytes): {e}")
    })?;
    if attribute.oid != MESSAGE_DIGEST {
        return Err(format!(
            "messageDigest holds attribute {} instead of messageDigest (1.2.840.113549.1.9.4)",
            attribute.oid
        ));
    }
    let value = attribute
        .values
        .iter()
        .next()
        .ok_or("the messageDigest attribute has no value")?;
    let octets: OctetString = value
        .decode_as()
        .map_err(|e| format!("the messageDigest value is not an OCTET STRING: {e}"))?;
    let digest = octets.as_bytes();
    if digest.len() != 32 {
        return Err(format!(
            "the digest is {} bytes long; a SHA-256 digest has 32",
            digest.len()
        ));
    }
    Ok(digest.to_vec())
}

fn flag(value: Option<&Value>, name: &str) -> Result<bool, String> {
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(false),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(true),
        Some(Value::String(s)) if s == "0" || s == "false" => Ok(false),
        Some(Value::String(s)) if s == "1" || s == "true" => Ok(true),
        Some(_) => Err(format!("{name} must be 0 or 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    /// The DER messageDigest attribute over `digest`, base64-encoded, as clients send it.
    pub fn encoded_attribute(digest: &[u8]) -> String {
        let value = der::Any::encode_from(&OctetString::new(digest).unwrap()).unwrap();
        let mut values = der::asn1::SetOfVec::new();
        values.insert(value).unwrap();
        let attribute = Attribute {
            oid: MESSAGE_DIGEST,
            values,
        };
        base64::engine::general_purpose::STANDARD.encode(attribute.to_der().unwrap())
    }

    #[test]
    fn reads_the_documented_shape() {
        let digest = [7u8; 32];
        let file = serde_json::json!({
            "messageDigest": encoded_attribute(&digest),
            "digestAlgorithm": "sha256",
            "addAuthAttribute": 1,
            "addSigningTime": 1,
            "otherAuthAttributes": []
        });
        let kind = parse(file.to_string().as_bytes()).unwrap();
        assert_eq!(
            kind,
            DocumentKind::Hash {
                digest: digest.to_vec(),
                signing_time: true
            }
        );
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(parse(b"nope").unwrap_err().contains("not valid JSON"));
        assert!(parse(b"{}").unwrap_err().contains("missing messageDigest"));
        let bad = serde_json::json!({ "messageDigest": "@@@" }).to_string();
        assert!(parse(bad.as_bytes()).unwrap_err().contains("base64"));
        let short =
            serde_json::json!({ "messageDigest": encoded_attribute(&[1u8; 20]) }).to_string();
        assert!(parse(short.as_bytes()).unwrap_err().contains("20 bytes"));
        let sha1 = serde_json::json!({ "messageDigest": encoded_attribute(&[1u8; 32]), "digestAlgorithm": "sha1" }).to_string();
        assert!(parse(sha1.as_bytes()).unwrap_err().contains("only sha256"));
    }
}
