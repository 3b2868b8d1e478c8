//! Keys: the P-256 key shared by the CA, the TSA and signer certificates, and the
//! [`SignerKey`] a signer certificate holds (P-256 or RSA-2048), which both issuing (as
//! the certificate's public key) and CMS signing (its signature and algorithm) read.
//!
//! The CA signs its own certificate with the RustCrypto `p256` crate because its ECDSA is
//! deterministic (RFC 6979): with a seeded RNG the root is byte-identical run to run (what
//! `ca export --seed` relies on), which aws-lc's randomized ECDSA would not give. Everything
//! else signs with aws-lc, about ten times cheaper (callgrind: ~1.9 M instructions per key
//! or signature in `p256`; five of them per Uanataca flow were half of its cost; with a
//! fresh certificate per signature, the CA's own signature was still 8 % of a flow's CPU in
//! `perf`): the TSA and single-use signer keys (`EcKey::generate_fast`), and the CA once its
//! root is made (`EcKey::issuing_fast`). Those signatures cover a time and never repeated
//! anyway; the keys still come from the seeded RNG, so keys and serials repeat. RSA keys come from aws-lc through rcgen (the only RSA key generator in
//! our tree); PKCS#1 v1.5 signatures are deterministic, but aws-lc's key generation takes
//! no seed, so RSA keys never repeat run to run.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand::RngCore;

use x509_cert::spki;

use super::error::PkiError;

pub(crate) struct EcKey {
    key: EcSigner,
    /// Uncompressed SEC1 public point, as placed in SubjectPublicKeyInfo.
    public_sec1: Vec<u8>,
}

/// Who computes the signatures of an `EcKey`.
enum EcSigner {
    /// RustCrypto, RFC 6979: the same signature for the same message (the CA).
    Deterministic(SigningKey),
    /// aws-lc: fast, with a random nonce (the TSA, signers).
    Fast(aws_lc_rs::signature::EcdsaKeyPair),
    /// The CA's key after its root is made: signs with aws-lc, exports the RustCrypto key
    /// it came from (the key file reads back byte for byte as it was written).
    Issuing {
        exported: SigningKey,
        fast: aws_lc_rs::signature::EcdsaKeyPair,
    },
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

    /// Like `generate` (the same draw from `rng`, so the same key), signing with aws-lc.
    pub(crate) fn generate_fast(rng: &mut impl RngCore) -> EcKey {
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
        loop {
            let mut scalar = [0u8; 32];
            rng.fill_bytes(&mut scalar);
            // RFC 5915 ECPrivateKey { version 1, privateKey } with the curve implied: aws-lc
            // computes the public point itself.
            let mut der = vec![0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20];
            der.extend_from_slice(&scalar);
            // Rejected only for zero or >= curve order: probability ~2^-32.
            if let Ok(pair) =
                EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, &der)
            {
                let public_sec1 = pair.public_key().as_ref().to_vec();
                return EcKey {
                    key: EcSigner::Fast(pair),
                    public_sec1,
                };
            }
        }
    }

    /// The same key signing with aws-lc (exports unchanged): the CA's twin for the
    /// single-use signer certificates, one per signature. A key aws-lc would refuse (none:
    /// the scalar is already valid) gives a twin signing with RustCrypto.
    pub(crate) fn issuing_twin(&self) -> Result<EcKey, PkiError> {
        use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
        let exported = SigningKey::from_pkcs8_der(&self.to_pkcs8_der()?)
            .map_err(|e| PkiError::Cert(format!("cannot read the CA key back: {e}")))?;
        let mut der = vec![0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20];
        der.extend_from_slice(&exported.to_bytes());
        let key = match EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, &der) {
            Ok(fast) => EcSigner::Issuing { exported, fast },
            Err(_) => EcSigner::Deterministic(exported),
        };
        Ok(EcKey {
            key,
            public_sec1: self.public_sec1.clone(),
        })
    }

    fn from_signing_key(key: SigningKey) -> EcKey {
        let public_sec1 = key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        EcKey {
            key: EcSigner::Deterministic(key),
            public_sec1,
        }
    }

    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<EcKey, PkiError> {
        let key = SigningKey::from_pkcs8_der(der)
            .map_err(|e| PkiError::Cert(format!("CA key is not a P-256 PKCS#8 key: {e}")))?;
        Ok(EcKey::from_signing_key(key))
    }

    pub(crate) fn to_pkcs8_der(&self) -> Result<Vec<u8>, PkiError> {
        let cannot = |e: &dyn std::fmt::Display| PkiError::Cert(format!("cannot encode key: {e}"));
        match &self.key {
            EcSigner::Deterministic(key) | EcSigner::Issuing { exported: key, .. } => Ok(key
                .to_pkcs8_der()
                .map_err(|e| cannot(&e))?
                .as_bytes()
                .to_vec()),
            EcSigner::Fast(pair) => {
                Ok(pair.to_pkcs8v1().map_err(|e| cannot(&e))?.as_ref().to_vec())
            }
        }
    }

    pub(crate) fn public_sec1(&self) -> &[u8] {
        &self.public_sec1
    }

    /// ECDSA P-256 with SHA-256 over `msg`; DER-encoded `Ecdsa-Sig-Value`.
    pub(crate) fn sign_der(&self, msg: &[u8]) -> Result<Vec<u8>, PkiError> {
        match &self.key {
            EcSigner::Deterministic(key) => {
                let sig: Signature = key.sign(msg);
                Ok(sig.to_der().as_bytes().to_vec())
            }
            EcSigner::Fast(pair) | EcSigner::Issuing { fast: pair, .. } => {
                let sig = pair
                    .sign(&aws_lc_rs::rand::SystemRandom::new(), msg)
                    .map_err(|_| PkiError::Cert("aws-lc could not sign".into()))?;
                Ok(sig.as_ref().to_vec())
            }
        }
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
        self.sign_der(msg).map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// The algorithm of signer certificates' keys (`--key-type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyType {
    /// ECDSA P-256: fast, and seeded runs repeat byte for byte.
    #[default]
    #[value(name = "p256")]
    P256,
    /// RSA 2048 bits (PKCS#1 v1.5, SHA-256), for verifiers that expect RSA; the keys come
    /// from a background pool and do not repeat under `--seed`.
    #[value(name = "rsa2048")]
    Rsa2048,
}

/// sha256WithRSAEncryption (RFC 4055, RFC 5754 §3.2).
const SHA256_WITH_RSA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const ECDSA_WITH_SHA256: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// The private key of a signer certificate.
pub(crate) enum SignerKey {
    P256(EcKey),
    /// An aws-lc RSA-2048 key pair (rcgen's `KeyPair`, made for `PKCS_RSA_SHA256`).
    Rsa2048(rcgen::KeyPair),
}

impl SignerKey {
    /// A fresh RSA-2048 key: tens to hundreds of milliseconds of one core, which is why
    /// `pool::RsaPool` makes them ahead of need.
    pub(crate) fn generate_rsa() -> Result<SignerKey, PkiError> {
        let pair =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?;
        Ok(SignerKey::Rsa2048(pair))
    }

    /// The signature over `msg` as CMS carries it: a DER `Ecdsa-Sig-Value` for P-256, the
    /// PKCS#1 v1.5 block (SHA-256) for RSA.
    pub(crate) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, PkiError> {
        match self {
            SignerKey::P256(key) => key.sign_der(msg),
            SignerKey::Rsa2048(pair) => Ok(rcgen::SigningKey::sign(pair, msg)?),
        }
    }

    /// The longest value `sign` can return: a DER ECDSA P-256 signature is 70-72 bytes
    /// (each of r and s may need a leading zero), an RSA-2048 one always the modulus's
    /// 256. PDF signing reserves room for the CMS from it before anything is signed.
    pub(crate) fn max_signature_len(&self) -> usize {
        match self {
            SignerKey::P256(_) => 72,
            SignerKey::Rsa2048(_) => 256,
        }
    }

    /// The SignerInfo's signatureAlgorithm for what `sign` makes. For RSA,
    /// sha256WithRSAEncryption with NULL parameters rather than the bare rsaEncryption
    /// RFC 3370 also allows: it names the hash as well (as ETSI TS 119 312 and PAdES
    /// signers such as pyHanko write it), and RFC 5754 §3.2 has every CMS verifier accept
    /// it; OpenSSL and pyHanko both do (tests/pki.rs checks with each).
    pub(crate) fn cms_algorithm(&self) -> Result<spki::AlgorithmIdentifierOwned, PkiError> {
        Ok(match self {
            SignerKey::P256(_) => spki::AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA256,
                parameters: None,
            },
            SignerKey::Rsa2048(_) => spki::AlgorithmIdentifierOwned {
                oid: SHA256_WITH_RSA,
                parameters: Some(der::Any::encode_from(&der::asn1::Null)?),
            },
        })
    }
}

impl rcgen::PublicKeyData for SignerKey {
    fn der_bytes(&self) -> &[u8] {
        match self {
            SignerKey::P256(key) => rcgen::PublicKeyData::der_bytes(key),
            SignerKey::Rsa2048(pair) => rcgen::PublicKeyData::der_bytes(pair),
        }
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            SignerKey::P256(key) => rcgen::PublicKeyData::algorithm(key),
            SignerKey::Rsa2048(pair) => rcgen::PublicKeyData::algorithm(pair),
        }
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
