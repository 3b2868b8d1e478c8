//! P-256 key wrapper shared by the CA, the TSA and signer certificates.
//!
//! We sign with the RustCrypto `p256` crate rather than rcgen's aws-lc key pair because
//! RustCrypto ECDSA is deterministic (RFC 6979): with a seeded RNG the CA certificate
//! DER is then byte-identical run to run, which aws-lc's randomized ECDSA would not give.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand::RngCore;

use super::PkiError;

pub(crate) struct EcKey {
    key: SigningKey,
    /// Uncompressed SEC1 public point, as placed in SubjectPublicKeyInfo.
    public_sec1: Vec<u8>,
}

impl EcKey {
    /// Draws a scalar from `rng`. p256 0.13 speaks rand_core 0.6 while our RNG is
    /// rand 0.9, so we feed raw bytes instead of calling `SecretKey::random`.
    pub(crate) fn generate(rng: &mut impl RngCore) -> EcKey {
        loop {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            // Rejected only for zero or >= curve order: probability ~2^-32.
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                return EcKey::from_signing_key(key);
            }
        }
    }

    fn from_signing_key(key: SigningKey) -> EcKey {
        let public_sec1 = key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        EcKey { key, public_sec1 }
    }

    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<EcKey, PkiError> {
        let key = SigningKey::from_pkcs8_der(der)
            .map_err(|e| PkiError::Cert(format!("CA key is not a P-256 PKCS#8 key: {e}")))?;
        Ok(EcKey::from_signing_key(key))
    }

    pub(crate) fn to_pkcs8_der(&self) -> Result<Vec<u8>, PkiError> {
        let doc = self
            .key
            .to_pkcs8_der()
            .map_err(|e| PkiError::Cert(format!("cannot encode key: {e}")))?;
        Ok(doc.as_bytes().to_vec())
    }

    pub(crate) fn public_sec1(&self) -> &[u8] {
        &self.public_sec1
    }

    /// ECDSA P-256 with SHA-256 over `msg`; DER-encoded `Ecdsa-Sig-Value`.
    pub(crate) fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        let sig: Signature = self.key.sign(msg);
        sig.to_der().as_bytes().to_vec()
    }
}

impl rcgen::PublicKeyData for EcKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public_sec1
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for EcKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.sign_der(msg))
    }
}

/// Minimal PEM armour (RFC 7468), enough for certificates and PKCS#8 keys.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

pub(crate) fn pem_decode(label: &str, pem: &str) -> Result<Vec<u8>, PkiError> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| PkiError::Cert(format!("no {label} PEM block")))?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or_else(|| PkiError::Cert(format!("unterminated {label} PEM block")))?
        + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| PkiError::Cert(format!("bad base64 in {label} PEM: {e}")))
}
