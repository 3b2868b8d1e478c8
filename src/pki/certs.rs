//! What the CA issues: who a signer certificate is for ([`SignerIdentity`]), the signer
//! certificate with its key ([`SignerCert`]), and a TLS server certificate
//! ([`ServerCert`]).

use super::keys::SignerKey;

/// The issuer of every signer certificate, in the same `K=V, ...` form as subjects.
pub const CA_NAME: &str =
    "CN=signsim Simulated Root CA - NOT FOR PRODUCTION, O=signsim simulated PKI, C=ES";

/// Default lifetime of a signer certificate (from `now - 5 min`).
pub const DEFAULT_SIGNER_VALIDITY: time::Duration = time::Duration::days(1);

/// Who a signer certificate is issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerIdentity {
    pub given_name: String,
    pub surname_1: String,
    pub surname_2: Option<String>,
    /// X.520 serialNumber, e.g. `IDCES-12345678A` (ETSI EN 319 412-1 semantics).
    pub serial_number: String,
    /// ISO 3166 alpha-2 country code.
    pub country: String,
    pub email: Option<String>,
}

/// A freshly issued end-entity certificate together with its private key.
pub struct SignerCert {
    pub(super) cert_der: Vec<u8>,
    pub(super) cert_pem: String,
    pub(super) key: SignerKey,
    pub(super) common_name: String,
    pub(super) serial_hex: String,
    pub(super) subject: String,
    pub(super) not_before: time::OffsetDateTime,
    pub(super) not_after: time::OffsetDateTime,
}

impl SignerCert {
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }
    pub fn common_name(&self) -> &str {
        &self.common_name
    }
    /// Certificate serial number, lower-case hex without separators (16 digits: signer
    /// serials are 8 bytes, as the real one-shot CA's).
    pub fn serial_hex(&self) -> &str {
        &self.serial_hex
    }
    /// Subject DN in `C=ES, GN=..., SN=..., serialNumber=..., CN=...` form.
    pub fn subject_string(&self) -> &str {
        &self.subject
    }
    pub fn issuer_string(&self) -> &str {
        CA_NAME
    }
    pub fn not_before(&self) -> time::OffsetDateTime {
        self.not_before
    }
    pub fn not_after(&self) -> time::OffsetDateTime {
        self.not_after
    }
}

/// A TLS server certificate and its private key, PEM; see
/// [`Pki::issue_server`](super::Pki::issue_server).
#[derive(Clone)]
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
}
