//! Simulated PKI for signsim: a throwaway root CA, single-use signer certificates,
//! detached CMS/CAdES signatures over digests, PAdES baseline-T PDF signing with an
//! in-process RFC 3161 TSA, and a small text-to-PDF generator.
//!
//! Bytes in, bytes out: nothing here knows the simulator. The caller hands in what it
//! would otherwise reach for: the seed of the generator behind every key and serial
//! ([`Setup::seed`]), how far ahead of real time its clock may run ([`Setup::reach`]) and
//! the time of each act (`now`). What a restart must keep (the CA's PEM, the generator's
//! position: [`Pki::generator`]) is handed out as values for the caller to save.
//!
//! Nothing here is meant to be secure; it is meant to produce artefacts that real
//! validators (pyHanko, qpdf, openssl) accept when told to trust the simulated CA.
//!
//! The parts: [`error`](PkiError), `keys` (P-256 and RSA keys), `certs` (what is issued),
//! `ca` (the CA and TSA certificates), `pool` (RSA keys made ahead), `cms_sign` (CMS
//! SignedData), `tsa` (time-stamp tokens), `pades` (PDF signing), `appearance` (a visible
//! signature), `pdfobj`/`pdfgen`/`pages`/`png` (PDF and image plumbing). Each imports only
//! the parts below it; this file puts them together as [`Pki`].

mod appearance;
mod ca;
mod certs;
mod cms_sign;
mod error;
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

pub use appearance::Appearance;
pub use certs::{ServerCert, SignerCert, SignerIdentity, CA_NAME, DEFAULT_SIGNER_VALIDITY};
pub use cms_sign::{SignedAttribute, MAX_ATTRIBUTE_VALUE};
pub use error::PkiError;
pub use keys::KeyType;
pub use pages::{append_pages, page_count};
pub use pdfgen::{sample_pdf, text_pdf};

/// Whether a PDF can be signed (parses, not encrypted or damaged, has pages); the error
/// says why not.
pub fn check_pdf(pdf: &[u8]) -> Result<(), PkiError> {
    pades::check(pdf)
}

/// Where the root CA comes from.
#[derive(Debug, Clone, Copy)]
pub enum CaSource<'a> {
    /// A new one, drawn from the generator.
    New,
    /// `ca.pem` + `ca.key` in the directory when both exist; otherwise a new CA, written
    /// there (so a user only has to trust it once).
    Dir(&'a Path),
    /// A certificate and its PKCS#8 key, PEM, as a state file keeps them.
    Pem { cert: &'a str, key: &'a str },
}

/// What a [`Pki`] is made from.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// The seed of the generator every key and serial is drawn from (a new CA too): the
    /// same seed gives the same certificates.
    pub seed: [u8; 32],
    pub ca: CaSource<'a>,
    /// The key type of signer certificates; the CA and the TSA are always P-256.
    pub key_type: KeyType,
    /// How far ahead of real time the `now` the caller passes may be (the simulator's
    /// virtual clock bound): operator certificates outlast it, and a CA from a directory
    /// that does not cover it is warned about.
    pub reach: time::Duration,
}

/// The seed bytes `Pki::new` uses for `seed`: ChaCha20's own `seed_from_u64` for a number
/// (the same bytes every run), fresh OS randomness for `None`.
fn seed_of(seed: Option<u64>) -> [u8; 32] {
    match seed {
        Some(n) => ChaCha20Rng::seed_from_u64(n).get_seed(),
        None => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            bytes
        }
    }
}

/// The pool that keeps RSA keys ready, for RSA signer certificates only.
fn rsa_pool(key_type: KeyType) -> Result<Option<pool::RsaPool>, PkiError> {
    Ok(match key_type {
        KeyType::P256 => None,
        KeyType::Rsa2048 => Some(pool::RsaPool::start()?),
    })
}

/// The simulated PKI: root CA, TSA and a (possibly seeded) RNG for keys and serials.
pub struct Pki {
    ca: ca::Authority,
    tsa: ca::Tsa,
    rng: Mutex<ChaCha20Rng>,
    /// Where signer certificates' RSA keys come from; `None` when they are P-256.
    rsa_pool: Option<pool::RsaPool>,
    /// How far ahead of real time a caller's `now` may be (`Setup::reach`).
    reach: time::Duration,
    /// A token as long as any the TSA makes (`tsa::longest_token`), made once: PDF
    /// signing sizes /Contents with it.
    longest_token: Vec<u8>,
}

impl Pki {
    /// A PKI as `setup` says. An RSA `key_type` starts the background thread that keeps
    /// RSA keys ready (`pool.rs`); its keys do not repeat under a seed, while the CA, the
    /// TSA, serials and everything else still do.
    pub fn setup(setup: Setup<'_>) -> Result<Pki, PkiError> {
        let mut rng = ChaCha20Rng::from_seed(setup.seed);
        let ca = match setup.ca {
            CaSource::New => ca::Authority::create(&mut rng)?,
            CaSource::Dir(dir) => ca::Authority::load_or_create(dir, &mut rng)?,
            CaSource::Pem { cert, key } => ca::Authority::from_pem(cert, key)?,
        };
        let tsa = ca::Tsa::create(&ca, &mut rng)?;
        // A CA a state file keeps was checked when it was made or loaded.
        if !matches!(setup.ca, CaSource::Pem { .. }) {
            warn_if_short_lived(&ca, setup.reach);
        }
        let longest_token = tsa::longest_token(&tsa, &ca.cert_der)?;
        Ok(Pki {
            longest_token,
            ca,
            tsa,
            rng: Mutex::new(rng),
            rsa_pool: rsa_pool(setup.key_type)?,
            reach: setup.reach,
        })
    }

    /// Throwaway root CA with P-256 signer certificates, for tests and tools that have no
    /// clock running ahead (`reach` zero). `seed`: `Some(n)` makes keys and serials repeat
    /// run to run. `ca_dir`: see [`CaSource::Dir`].
    pub fn new(seed: Option<u64>, ca_dir: Option<&Path>) -> Result<Pki, PkiError> {
        Pki::with_key_type(seed, ca_dir, KeyType::P256)
    }

    /// `new`, with signer certificates of `key_type`.
    pub fn with_key_type(
        seed: Option<u64>,
        ca_dir: Option<&Path>,
        key_type: KeyType,
    ) -> Result<Pki, PkiError> {
        Pki::setup(Setup {
            seed: seed_of(seed),
            ca: ca_dir.map_or(CaSource::New, CaSource::Dir),
            key_type,
            reach: time::Duration::ZERO,
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

    /// The generator of keys and serials, where it is now: a state file keeps it, so that
    /// a seeded run restarted goes on with new serials instead of repeating those it
    /// already issued.
    pub fn generator(&self) -> ChaCha20Rng {
        self.lock_rng().clone()
    }

    /// Puts the generator where a saved state had it.
    pub fn set_generator(&self, rng: ChaCha20Rng) {
        *self.lock_rng() = rng;
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
        self.issue(
            who,
            now,
            DEFAULT_SIGNER_VALIDITY,
            self.rsa_pool.as_ref(),
            true,
        )
    }

    /// A long-lived certificate for an operator (a registration authority's officer),
    /// issued once at start: like `issue_signer`'s, but valid until after the farthest
    /// instant the caller's clock can reach (`Setup::reach`), so it never expires under a
    /// test's feet. Always P-256: it is shown, never signs, and an RSA key here would cost
    /// start time.
    pub fn issue_operator(
        &self,
        who: &SignerIdentity,
        now: time::OffsetDateTime,
    ) -> Result<SignerCert, PkiError> {
        let validity = self
            .reach
            .checked_add(DEFAULT_SIGNER_VALIDITY)
            .unwrap_or(time::Duration::MAX);
        self.issue(who, now, validity, None, false)
    }

    fn issue(
        &self,
        who: &SignerIdentity,
        now: time::OffsetDateTime,
        validity: time::Duration,
        rsa: Option<&pool::RsaPool>,
        single_use: bool,
    ) -> Result<SignerCert, PkiError> {
        let real = time::OffsetDateTime::now_utc();
        let (key, serial) = match rsa {
            // Taken outside the RNG lock: a key made inline must not hold up others.
            Some(pool) => (pool.take()?, self.next_serial(ca::SIGNER_SERIAL_BYTES)),
            None => {
                let mut rng = self.lock_rng();
                let key = keys::SignerKey::P256(keys::EcKey::generate_fast(&mut *rng));
                (key, ca::random_serial(&mut *rng, ca::SIGNER_SERIAL_BYTES))
            }
        };
        self.ca.issue_signer(
            who,
            key,
            serial,
            now.min(real),
            now.max(real),
            validity,
            single_use,
        )
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
            (key, ca::random_serial(&mut *rng, ca::SERIAL_BYTES))
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
        // The token's serial is drawn when the signature is made, as the TSA would.
        let stamp = pades::Stamp {
            token: |imprint: &[u8]| {
                tsa::timestamp_token(
                    &self.tsa,
                    &self.ca.cert_der,
                    self.next_serial(ca::SERIAL_BYTES),
                    imprint,
                    now,
                )
            },
            longest: &self.longest_token,
        };
        pades::sign_pdf(
            &self.ca.cert_der,
            &stamp,
            pdf,
            signer,
            now,
            appearance,
            &encoded,
        )
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

    /// Next serial number of `len` bytes (of a certificate or a time-stamp token) from the
    /// shared RNG.
    fn next_serial(&self, len: usize) -> Vec<u8> {
        ca::random_serial(&mut *self.lock_rng(), len)
    }
}

/// Logs a warning when the CA does not cover every instant the caller's clock can show
/// (`reach` ahead of real time). A CA made here always does; one loaded from `--ca-dir` may
/// predate the bound (older ones ended in 2049). It is still used, not replaced: the user
/// trusts that CA, and a new one would silently break their set-up. Signatures made while
/// the clock is past the CA's end carry timestamps validators will reject; deleting
/// `ca.pem` and `ca.key` makes a new CA.
fn warn_if_short_lived(authority: &ca::Authority, reach: time::Duration) {
    let Ok((not_before, not_after)) = ca::validity_of(&authority.cert_der) else {
        return;
    };
    let real = time::OffsetDateTime::now_utc();
    let needed_from = real.checked_sub(time::Duration::DAY);
    // Checked, not added: an instant past the last date `time` knows is one no CA covers.
    let needed_to = real.checked_add(reach.saturating_add(DEFAULT_SIGNER_VALIDITY));
    let covered = needed_from.is_some_and(|from| not_before <= from)
        && needed_to.is_some_and(|to| to <= not_after);
    if !covered {
        let needed_to = needed_to.map_or_else(|| "past year 9999".to_owned(), |t| t.to_string());
        tracing::warn!(
            "the root CA is valid from {not_before} to {not_after}, but the virtual clock can \
             reach {needed_to}: signatures made while the clock is outside the CA's validity \
             will not validate. Delete ca.pem and ca.key from --ca-dir to make a CA that \
             covers it (and trust the new one)."
        );
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
        // The simulator's clock runs up to 100 years ahead (`engine::clock`).
        let reach = time::Duration::days(36_525);
        let pki = Pki::setup(Setup {
            seed: [5; 32],
            ca: CaSource::New,
            key_type: KeyType::P256,
            reach,
        })
        .unwrap();
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
        let farthest = real + reach;
        assert!(operator.not_before() < real && operator.not_after() > farthest);

        // The CA covers the whole reach of the clock, with a margin.
        assert!(pki.ca_covers(
            real - time::Duration::days(365),
            farthest + time::Duration::days(365)
        ));
    }

    #[test]
    fn signer_serials_are_eight_positive_bytes_each_its_own() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let serial = ca::random_serial(&mut rng, ca::SIGNER_SERIAL_BYTES);
            assert_eq!(serial.len(), 8);
            // Positive without a sign byte, and no leading zero: 16 hex digits always.
            assert!((0x10..=0x7f).contains(&serial[0]), "{serial:02x?}");
            assert!(seen.insert(serial), "a serial drawn twice");
        }
        assert_eq!(ca::random_serial(&mut rng, ca::SERIAL_BYTES).len(), 16);
    }
}
