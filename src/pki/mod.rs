//! Simulated PKI for signsim: a throwaway root CA, single-use signer certificates,
//! detached CMS/CAdES signatures over digests, PAdES baseline-T PDF signing with an
//! in-process RFC 3161 TSA, and a small text-to-PDF generator.
//!
//! Nothing here is meant to be secure; it is meant to produce artefacts that real
//! validators (pyHanko, qpdf, openssl) accept when told to trust the simulated CA.

mod appearance;
mod ca;
mod cms_sign;
mod keys;
mod pades;
mod pages;
mod pdfgen;
mod pdfobj;
mod png;
mod pool;
mod tsa;

use std::path::Path;
use std::sync::Mutex;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub use keys::KeyType;
pub use pages::{append_pages, page_count};
pub use pdfgen::text_pdf;

/// Whether a PDF can be signed (parses, not encrypted or damaged, has pages); the error
/// says why not.
pub fn check_pdf(pdf: &[u8]) -> Result<(), PkiError> {
    pades::check(pdf)
}

/// Default lifetime of a signer certificate (from `now - 5 min`).
pub const DEFAULT_SIGNER_VALIDITY: time::Duration = time::Duration::days(1);

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("invalid PDF: {0}")]
    InvalidPdf(String),
    #[error("unsupported PDF: {0}")]
    UnsupportedPdf(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("certificate error: {0}")]
    Cert(String),
    #[error("ASN.1 encoding error: {0}")]
    Encoding(String),
    #[error("CA storage error: {0}")]
    Storage(String),
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError::Encoding(e.to_string())
    }
}

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        PkiError::Cert(e.to_string())
    }
}

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
    cert_der: Vec<u8>,
    cert_pem: String,
    key: keys::SignerKey,
    common_name: String,
    serial_hex: String,
    subject: String,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
}

/// A TLS server certificate and its private key, PEM; see [`Pki::issue_server`].
#[derive(Clone)]
pub struct ServerCert {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The issuer of every signer certificate, in the same `K=V, ...` form as subjects.
pub const CA_NAME: &str =
    "CN=signsim Simulated Root CA - NOT FOR PRODUCTION, O=signsim simulated PKI, C=ES";

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
    /// Certificate serial number, upper-case hex without separators.
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

/// A signed attribute to add to a signature: `oid` in dotted form, `value` wrapped in an
/// OCTET STRING.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedAttribute {
    pub oid: String,
    pub value: Vec<u8>,
}

/// Largest attribute value accepted: the PDF reserves a fixed space for the signature.
pub const MAX_ATTRIBUTE_VALUE: usize = 2048;

impl SignedAttribute {
    fn encode(&self) -> Result<(der::asn1::ObjectIdentifier, Vec<u8>), PkiError> {
        use der::Encode;
        let oid = der::asn1::ObjectIdentifier::new(&self.oid)
            .map_err(|_| PkiError::InvalidInput(format!("'{}' is not an OID", self.oid)))?;
        if self.value.len() > MAX_ATTRIBUTE_VALUE {
            return Err(PkiError::InvalidInput(format!(
                "attribute {} is {} bytes; at most {MAX_ATTRIBUTE_VALUE} fit in a signature",
                self.oid,
                self.value.len()
            )));
        }
        let value = der::asn1::OctetString::new(self.value.clone())?.to_der()?;
        Ok((oid, value))
    }
}

/// Visible signature appearance.
#[derive(Debug, Clone, Default)]
pub struct Appearance {
    /// 0-based page index.
    pub page: u32,
    /// x1, y1, x2, y2 in PDF points from the bottom-left corner of the page.
    pub rect: [f64; 4],
    pub lines: Vec<String>,
    /// Optional PNG (8-bit gray/RGB/gray+alpha/RGBA, non-interlaced) drawn at the left.
    pub png: Option<bytes::Bytes>,
}

/// The simulated PKI: root CA, TSA and a (possibly seeded) RNG for keys and serials.
/// The pool that keeps RSA keys ready, for RSA signer certificates only.
fn rsa_pool(key_type: KeyType) -> Result<Option<pool::RsaPool>, PkiError> {
    Ok(match key_type {
        KeyType::P256 => None,
        KeyType::Rsa2048 => Some(pool::RsaPool::start()?),
    })
}

pub struct Pki {
    ca: ca::Authority,
    tsa: ca::Tsa,
    rng: Mutex<ChaCha20Rng>,
    /// Where signer certificates' RSA keys come from; `None` when they are P-256.
    rsa_pool: Option<pool::RsaPool>,
}

impl Pki {
    /// Throwaway root CA. `seed`: `Some(n)` makes keys and serials repeat run to run.
    /// `ca_dir`: load `ca.pem` + `ca.key` from it when both exist, otherwise create the
    /// CA and write them there (so a user only has to trust it once).
    pub fn new(seed: Option<u64>, ca_dir: Option<&Path>) -> Result<Pki, PkiError> {
        Pki::with_key_type(seed, ca_dir, KeyType::P256)
    }

    /// `new`, with signer certificates of `key_type`. RSA starts the background thread
    /// that keeps RSA keys ready (`pool.rs`); its keys do not repeat under a seed, while
    /// the CA, the TSA, serials and everything else still do.
    pub fn with_key_type(
        seed: Option<u64>,
        ca_dir: Option<&Path>,
        key_type: KeyType,
    ) -> Result<Pki, PkiError> {
        let mut rng = match seed {
            Some(n) => ChaCha20Rng::seed_from_u64(n),
            None => {
                let mut s = [0u8; 32];
                rand::rng().fill_bytes(&mut s);
                ChaCha20Rng::from_seed(s)
            }
        };
        let ca = match ca_dir {
            Some(dir) => ca::Authority::load_or_create(dir, &mut rng)?,
            None => ca::Authority::create(&mut rng)?,
        };
        let tsa = ca::Tsa::create(&ca, &mut rng)?;
        warn_if_short_lived(&ca);
        Ok(Pki {
            ca,
            tsa,
            rng: Mutex::new(rng),
            rsa_pool: rsa_pool(key_type)?,
        })
    }

    /// A PKI over an existing CA (certificate and PKCS#8 key, PEM), as a state file keeps
    /// it; the TSA is made afresh under it.
    pub fn with_ca(
        seed: Option<u64>,
        cert_pem: &str,
        key_pem: &str,
        key_type: KeyType,
    ) -> Result<Pki, PkiError> {
        let mut rng = match seed {
            Some(n) => ChaCha20Rng::seed_from_u64(n),
            None => ChaCha20Rng::from_seed(rand::random()),
        };
        let ca = ca::Authority::from_pem(cert_pem, key_pem)?;
        let tsa = ca::Tsa::create(&ca, &mut rng)?;
        Ok(Pki {
            ca,
            tsa,
            rng: Mutex::new(rng),
            rsa_pool: rsa_pool(key_type)?,
        })
    }

    /// The CA's private key (PKCS#8 PEM), for the state file; empty should encoding fail,
    /// which a restart then reports as a CA it cannot read.
    pub fn ca_key_pem(&self) -> String {
        self.ca.key_pem().unwrap_or_default()
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca.cert_pem
    }

    pub fn ca_der(&self) -> &[u8] {
        &self.ca.cert_der
    }

    /// The key type of the certificates `issue_signer` makes.
    pub fn key_type(&self) -> KeyType {
        match self.rsa_pool {
            Some(_) => KeyType::Rsa2048,
            None => KeyType::P256,
        }
    }

    /// About how many RSA keys wait in the pool, ready for signer certificates (0 for
    /// P-256); for benches and whoever wonders whether signatures will wait.
    pub fn rsa_keys_ready(&self) -> usize {
        self.rsa_pool.as_ref().map_or(0, pool::RsaPool::ready)
    }

    /// Fresh single-use end-entity certificate (of the `key_type`) issued by the CA, valid from 5 min
    /// before the earlier of `now` (virtual time) and real time to `DEFAULT_SIGNER_VALIDITY`
    /// after the later of them.
    ///
    /// Both, because a signature is judged at both: its timestamp says virtual time, while
    /// the people checking it (pyHanko, Acrobat) do so at real time. After the clock was
    /// moved 400 days ahead, a certificate valid only from virtual time would be "not yet
    /// valid" to all of them.
    pub fn issue_signer(
        &self,
        who: &SignerIdentity,
        now: time::OffsetDateTime,
    ) -> Result<SignerCert, PkiError> {
        self.issue(who, now, DEFAULT_SIGNER_VALIDITY, self.rsa_pool.as_ref())
    }

    /// A long-lived certificate for an operator (a registration authority's officer),
    /// issued once at start: like `issue_signer`'s, but valid until after the farthest
    /// instant the virtual clock can reach, so it never expires under a test's feet.
    /// Always P-256: it is shown, never signs, and an RSA key here would cost start time.
    pub fn issue_operator(
        &self,
        who: &SignerIdentity,
        now: time::OffsetDateTime,
    ) -> Result<SignerCert, PkiError> {
        let reach = crate::engine::seconds(crate::engine::clock::MAX_OFFSET_SECONDS);
        let validity = reach
            .checked_add(DEFAULT_SIGNER_VALIDITY)
            .unwrap_or(time::Duration::MAX);
        self.issue(who, now, validity, None)
    }

    fn issue(
        &self,
        who: &SignerIdentity,
        now: time::OffsetDateTime,
        validity: time::Duration,
        rsa: Option<&pool::RsaPool>,
    ) -> Result<SignerCert, PkiError> {
        let real = time::OffsetDateTime::now_utc();
        let (key, serial) = match rsa {
            // Taken outside the RNG lock: a key made inline must not hold up others.
            Some(pool) => (pool.take()?, self.next_serial()),
            None => {
                let mut rng = self.lock_rng();
                let key = keys::SignerKey::P256(keys::EcKey::generate_fast(&mut *rng));
                (key, ca::random_serial(&mut *rng))
            }
        };
        self.ca
            .issue_signer(who, key, serial, now.min(real), now.max(real), validity)
    }

    /// Whether the CA (and so every chain) is valid over all of `[from, to]`; a CA loaded
    /// from `--ca-dir` may be older and shorter-lived than one made today.
    pub fn ca_covers(&self, from: time::OffsetDateTime, to: time::OffsetDateTime) -> bool {
        ca::validity_of(&self.ca.cert_der)
            .is_ok_and(|(not_before, not_after)| not_before <= from && to <= not_after)
    }

    /// A TLS server certificate issued by the CA for `names` (host names or IP addresses),
    /// with its P-256 private key, both PEM (`CERTIFICATE`, PKCS#8 `PRIVATE KEY`). Whoever
    /// trusts `ca_pem` trusts a server presenting it: a webhook receiver in a test, or the
    /// simulator's own HTTPS listener. TLS clients check validity against the real clock,
    /// not the simulated one, so it is valid from an hour ago for a year.
    pub fn issue_server(&self, names: &[String]) -> Result<ServerCert, PkiError> {
        let (key, serial) = {
            let mut rng = self.lock_rng();
            let key = keys::EcKey::generate(&mut *rng);
            (key, ca::random_serial(&mut *rng))
        };
        let now = time::OffsetDateTime::now_utc();
        let cert_der = self.ca.issue_server(
            names,
            &key,
            serial,
            now - time::Duration::hours(1),
            now + time::Duration::days(365),
        )?;
        Ok(ServerCert {
            cert_pem: keys::pem_encode("CERTIFICATE", &cert_der),
            key_pem: keys::pem_encode("PRIVATE KEY", &key.to_pkcs8_der()?),
        })
    }

    /// PAdES baseline-T signature as an incremental update of `pdf`.
    pub fn sign_pdf(
        &self,
        pdf: &[u8],
        signer: &SignerCert,
        now: time::OffsetDateTime,
        appearance: Option<&Appearance>,
    ) -> Result<Vec<u8>, PkiError> {
        self.sign_pdf_with(pdf, signer, now, appearance, &[])
    }

    /// `sign_pdf` with further signed attributes in the CMS (e.g. customer metadata).
    pub fn sign_pdf_with(
        &self,
        pdf: &[u8],
        signer: &SignerCert,
        now: time::OffsetDateTime,
        appearance: Option<&Appearance>,
        extra: &[SignedAttribute],
    ) -> Result<Vec<u8>, PkiError> {
        let encoded = extra
            .iter()
            .map(SignedAttribute::encode)
            .collect::<Result<Vec<_>, _>>()?;
        pades::sign_pdf(self, pdf, signer, now, appearance, &encoded)
    }

    /// Detached CMS SignedData (DER, a `.p7m`) over an externally computed SHA-256
    /// `digest`: contentType, messageDigest, signingCertificateV2 and, optionally,
    /// signingTime as signed attributes.
    pub fn sign_digest(
        &self,
        digest: &[u8],
        signer: &SignerCert,
        now: time::OffsetDateTime,
        add_signing_time: bool,
    ) -> Result<Vec<u8>, PkiError> {
        if digest.len() != 32 {
            return Err(PkiError::InvalidInput(format!(
                "digest must be a 32-byte SHA-256 value, got {} bytes",
                digest.len()
            )));
        }
        let signing_time = if add_signing_time { Some(now) } else { None };
        cms_sign::SignedDataBuilder {
            cert_der: &signer.cert_der,
            key: &signer.key,
            extra_certs: &[&self.ca.cert_der],
            content_type: cms_sign::ID_DATA,
            econtent: None,
            message_digest: digest,
            signing_time,
            extra_attrs: &[],
        }
        .build(|_| Ok(Vec::new()))
    }

    fn lock_rng(&self) -> std::sync::MutexGuard<'_, ChaCha20Rng> {
        // A poisoned lock only means another thread panicked mid-draw; the RNG
        // state is still usable.
        self.rng.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Next TSA serial number from the shared RNG.
    fn next_serial(&self) -> Vec<u8> {
        ca::random_serial(&mut *self.lock_rng())
    }
}

/// Logs a warning when the CA does not cover every instant the virtual clock can show. A
/// CA made here always does; one loaded from `--ca-dir` may predate the bound (older ones
/// ended in 2049). It is still used, not replaced: the user trusts that CA, and a new one
/// would silently break their set-up. Signatures made while the clock is past the CA's end
/// carry timestamps validators will reject; deleting `ca.pem` and `ca.key` makes a new CA.
fn warn_if_short_lived(authority: &ca::Authority) {
    let Ok((not_before, not_after)) = ca::validity_of(&authority.cert_der) else {
        return;
    };
    let real = time::OffsetDateTime::now_utc();
    let reach = crate::engine::seconds(crate::engine::clock::MAX_OFFSET_SECONDS);
    let needed_from = real - time::Duration::days(1);
    let needed_to = crate::engine::later(real, reach + DEFAULT_SIGNER_VALIDITY);
    if not_before > needed_from || not_after < needed_to {
        tracing::warn!(
            "the root CA is valid from {not_before} to {not_after}, but the virtual clock can \
             reach {needed_to}: signatures made while the clock is outside the CA's validity \
             will not validate. Delete ca.pem and ca.key from --ca-dir to make a CA that \
             covers it (and trust the new one)."
        );
    }
}

/// The generator of keys and serials is saved, so that a seeded run restarted goes on
/// with new serials instead of repeating those it already issued.
impl crate::engine::state::Persist for Pki {
    fn snapshot(&self) -> Box<dyn crate::engine::state::file::Snapshot> {
        Box::new(crate::engine::ids::RngState::of(&self.lock_rng()))
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: crate::engine::ids::RngState = crate::engine::state::parse(json)?;
        *self.lock_rng() = saved.rng()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pki_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Pki>();
        assert_send_sync::<SignerCert>();
    }

    #[test]
    fn pdf_numbers_have_no_exponent() {
        assert_eq!(pdfobj::fmt_num(1e-9), "0");
        assert_eq!(pdfobj::fmt_num(595.28), "595.28");
        assert_eq!(pdfobj::fmt_num(-3.0), "-3");
        assert_eq!(pdfobj::fmt_num(f64::NAN), "0");
    }

    #[test]
    fn bad_identity_and_times_are_errors() {
        let pki = Pki::new(Some(5), None).unwrap();
        let who = SignerIdentity {
            given_name: "Ana".into(),
            surname_1: "Ruiz".into(),
            surname_2: None,
            serial_number: "IDCES-00000000T".into(),
            country: "ES".into(),
            email: None,
        };
        let far = time::OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT);
        assert!(pki.issue_signer(&who, far).is_err());
        let bad_country = SignerIdentity {
            country: "Spain".into(),
            ..who.clone()
        };
        assert!(matches!(
            pki.issue_signer(&bad_country, time::OffsetDateTime::now_utc()),
            Err(PkiError::InvalidInput(_))
        ));
        let signer = pki
            .issue_signer(&who, time::OffsetDateTime::now_utc())
            .unwrap();
        assert_eq!(
            signer.subject_string(),
            "C=ES, GN=Ana, SN=Ruiz, serialNumber=IDCES-00000000T, CN=Ana Ruiz"
        );
        assert!(pki.sign_digest(&[0; 32], &signer, far, true).is_err());
    }

    #[test]
    fn certificates_are_valid_at_real_and_at_virtual_time() {
        let pki = Pki::new(Some(5), None).unwrap();
        let who = SignerIdentity {
            given_name: "Ana".into(),
            surname_1: "Ruiz".into(),
            surname_2: None,
            serial_number: "IDCES-00000000T".into(),
            country: "ES".into(),
            email: None,
        };
        let real = time::OffsetDateTime::now_utc();
        let virtual_now = real + time::Duration::days(400);
        let signer = pki.issue_signer(&who, virtual_now).unwrap();
        assert!(signer.not_before() < real);
        assert!(signer.not_after() > virtual_now + time::Duration::hours(23));
        assert!(signer.not_after() < virtual_now + time::Duration::days(2));

        let operator = pki.issue_operator(&who, real).unwrap();
        let farthest = crate::engine::add_seconds(real, crate::engine::clock::MAX_OFFSET_SECONDS);
        assert!(operator.not_before() < real && operator.not_after() > farthest);

        // The CA covers the whole reach of the clock, with a margin.
        assert!(pki.ca_covers(
            real - time::Duration::days(365),
            farthest + time::Duration::days(365)
        ));
    }
}
