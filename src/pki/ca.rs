//! Root CA, TSA certificate and end-entity issuance (rcgen with our own P-256 signer).

use std::path::Path;

use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose, SanType, SerialNumber,
};

use super::certs::{SignerCert, SignerIdentity};
use super::error::PkiError;
use super::keys::{pem_decode, pem_encode, EcKey, SignerKey};

// X.520 / PKCS#9 attribute types rcgen has no DnType for.
const OID_GIVEN_NAME: &[u64] = &[2, 5, 4, 42];
const OID_SURNAME: &[u64] = &[2, 5, 4, 4];
const OID_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
const OID_EMAIL_ADDRESS: &[u64] = &[1, 2, 840, 113549, 1, 9, 1];
const OID_EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
/// DER of `SEQUENCE { id-kp-timeStamping }` (1.3.6.1.5.5.7.3.8).
const EKU_TIME_STAMPING_DER: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
];

/// CA and TSA validity is fixed (not derived from the clock) so that a seeded CA is
/// byte-for-byte reproducible and a CA saved to disk stays valid for years. It must also
/// cover every instant the caller's clock can show (`Setup::reach`: the simulator's runs up
/// to 100 years ahead), since certificates are issued and timestamps made at that time:
/// 2299 leaves that margin for any real date before 2199. Not the RFC 5280
/// `99991231235959Z`: validators add a tolerance to `notAfter`, which overflows there.
fn fixed_not_before() -> time::OffsetDateTime {
    rcgen::date_time_ymd(2020, 1, 1)
}
fn fixed_not_after() -> time::OffsetDateTime {
    rcgen::date_time_ymd(2299, 12, 31)
}

/// The `notBefore` and `notAfter` of a DER certificate.
pub(crate) fn validity_of(
    cert_der: &[u8],
) -> Result<(time::OffsetDateTime, time::OffsetDateTime), PkiError> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| PkiError::Cert(format!("certificate does not parse: {e}")))?;
    let validity = &cert.tbs_certificate.validity;
    let at = |t: &x509_cert::time::Time| {
        let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        time::OffsetDateTime::from_unix_timestamp(secs)
            .map_err(|e| PkiError::Cert(format!("certificate time out of range: {e}")))
    };
    Ok((at(&validity.not_before)?, at(&validity.not_after)?))
}

/// Serials of the CA, the TSA, server certificates and time-stamp tokens, in bytes.
pub(crate) const SERIAL_BYTES: usize = 16;

/// Serials of signer certificates, in bytes: 8, like the real one-shot CA's
/// (`531d5f96ec8c6dac`), because the one-shot surfaces show the serial of the very
/// certificate that signed.
pub(crate) const SIGNER_SERIAL_BYTES: usize = 8;

/// `len` random bytes, positive and without a leading zero byte: the top bit is cleared (a
/// DER INTEGER with it set would be negative, or need a sign byte) and the next ones give a
/// non-zero first nibble, so the DER length and the hex (`2 * len` digits) never vary.
pub(crate) fn random_serial(rng: &mut impl RngCore, len: usize) -> Vec<u8> {
    let mut s = vec![0u8; len];
    rng.fill_bytes(&mut s);
    if let Some(first) = s.first_mut() {
        *first = (*first & 0x7f) | 0x10;
    }
    s
}

fn org_name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, printable("ES"));
    dn.push(DnType::OrganizationName, "signsim simulated PKI");
    dn.push(DnType::CommonName, cn);
    dn
}

/// PrintableString when the value allows it (as X.520 wants for C and serialNumber),
/// UTF8String otherwise.
fn printable(s: &str) -> DnValue {
    match s.try_into() {
        Ok(p) => DnValue::PrintableString(p),
        Err(_) => DnValue::Utf8String(s.to_string()),
    }
}

pub(crate) struct Authority {
    /// Signs with RustCrypto's deterministic ECDSA: the TSA's and servers' certificates.
    issuer: Issuer<'static, EcKey>,
    /// The same CA key signing with aws-lc: the single-use signer certificates, one per
    /// signature, where the CA's signature was 8 % of a flow's CPU (`keys.rs`). Made at
    /// the first one.
    signer_issuer: std::sync::OnceLock<Issuer<'static, EcKey>>,
    pub(crate) cert_der: Vec<u8>,
    pub(crate) cert_pem: String,
}

impl Authority {
    pub(crate) fn create(rng: &mut impl RngCore) -> Result<Authority, PkiError> {
        let key = EcKey::generate(rng);
        let mut params = CertificateParams::default();
        params.not_before = fixed_not_before();
        params.not_after = fixed_not_after();
        params.serial_number = Some(SerialNumber::from_slice(&random_serial(rng, SERIAL_BYTES)));
        params.distinguished_name = org_name("signsim Simulated Root CA - NOT FOR PRODUCTION");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key)?;
        let cert_der = cert.der().to_vec();
        Ok(Authority {
            cert_pem: pem_encode("CERTIFICATE", &cert_der),
            signer_issuer: std::sync::OnceLock::new(),
            cert_der,
            issuer: Issuer::new(params, key),
        })
    }

    /// Loads `dir/ca.pem` + `dir/ca.key` when both exist; otherwise creates a CA and
    /// writes both files (the key with mode 0600 on Unix).
    pub(crate) fn load_or_create(
        dir: &Path,
        rng: &mut impl RngCore,
    ) -> Result<Authority, PkiError> {
        let cert_path = dir.join("ca.pem");
        let key_path = dir.join("ca.key");
        let io_err =
            |what: &Path, e: std::io::Error| PkiError::Storage(format!("{}: {e}", what.display()));
        if cert_path.exists() && key_path.exists() {
            let read = |path: &Path| {
                crate::files::read_bounded_text(path, crate::files::SMALL_FILE_LIMIT)
                    .map_err(|e| io_err(path, e))
            };
            let cert_pem = read(&cert_path)?;
            let key_pem = read(&key_path)?;
            return Authority::from_pem(&cert_pem, &key_pem)
                .map_err(|e| PkiError::Cert(format!("{}: {e}", cert_path.display())));
        }
        let ca = Authority::create(rng)?;
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let key_pem = pem_encode("PRIVATE KEY", &ca.issuer.key().to_pkcs8_der()?);
        write_private(&key_path, key_pem.as_bytes()).map_err(|e| io_err(&key_path, e))?;
        std::fs::write(&cert_path, &ca.cert_pem).map_err(|e| io_err(&cert_path, e))?;
        Ok(ca)
    }

    /// The CA of a certificate and its PKCS#8 key, both PEM (a `--ca-dir`, a state file).
    pub(crate) fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Authority, PkiError> {
        let key = EcKey::from_pkcs8_der(&pem_decode("PRIVATE KEY", key_pem)?)?;
        let cert_der = pem_decode("CERTIFICATE", cert_pem)?;
        check_key_matches(&cert_der, &key)?;
        let issuer = Issuer::from_ca_cert_der(&cert_der.clone().into(), key)
            .map_err(|e| PkiError::Cert(e.to_string()))?;
        Ok(Authority {
            issuer,
            signer_issuer: std::sync::OnceLock::new(),
            cert_pem: pem_encode("CERTIFICATE", &cert_der),
            cert_der,
        })
    }

    /// The CA issuing with its key's aws-lc twin, made at the first call.
    fn signer_issuer(&self) -> Result<&Issuer<'static, EcKey>, PkiError> {
        if let Some(issuer) = self.signer_issuer.get() {
            return Ok(issuer);
        }
        let twin = self.issuer.key().issuing_twin()?;
        let issuer = Issuer::from_ca_cert_der(&self.cert_der.clone().into(), twin)
            .map_err(|e| PkiError::Cert(e.to_string()))?;
        // Two first calls at once each make one; the first stored is kept by both.
        Ok(self.signer_issuer.get_or_init(|| issuer))
    }

    /// The CA's private key, PKCS#8 PEM.
    pub(crate) fn key_pem(&self) -> Result<String, PkiError> {
        Ok(pem_encode(
            "PRIVATE KEY",
            &self.issuer.key().to_pkcs8_der()?,
        ))
    }

    /// A certificate for `who`, valid from five minutes before `from` to `validity` after
    /// `to`. A `single_use` one (made for one signature) is signed through aws-lc, the
    /// others (an operator's, made at start) by the deterministic key: aws-lc's first
    /// signature seeds its generator (~25 ms), which start-up should not wait for.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn issue_signer(
        &self,
        who: &SignerIdentity,
        key: SignerKey,
        serial: Vec<u8>,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
        validity: time::Duration,
        single_use: bool,
    ) -> Result<SignerCert, PkiError> {
        let given = who.given_name.trim();
        let surnames = match who.surname_2.as_deref().map(str::trim) {
            Some(s2) if !s2.is_empty() => format!("{} {s2}", who.surname_1.trim()),
            _ => who.surname_1.trim().to_string(),
        };
        let country = who.country.trim().to_ascii_uppercase();
        if given.is_empty() || surnames.is_empty() {
            return Err(PkiError::InvalidInput(
                "given name and first surname are required".into(),
            ));
        }
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(PkiError::InvalidInput(format!(
                "country must be an ISO 3166 alpha-2 code, got {:?}",
                who.country
            )));
        }
        let serial_number = who.serial_number.trim();
        if serial_number.is_empty() {
            return Err(PkiError::InvalidInput("serial number is required".into()));
        }
        let common_name = format!("{given} {surnames}");

        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable(&country));
        dn.push(DnType::CustomDnType(OID_GIVEN_NAME.to_vec()), given);
        dn.push(
            DnType::CustomDnType(OID_SURNAME.to_vec()),
            surnames.as_str(),
        );
        dn.push(
            DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()),
            printable(serial_number),
        );
        dn.push(DnType::CommonName, common_name.as_str());
        let mut subject = format!(
            "C={}, GN={}, SN={}, serialNumber={}, CN={}",
            escape_dn(&country),
            escape_dn(given),
            escape_dn(&surnames),
            escape_dn(serial_number),
            escape_dn(&common_name)
        );

        let mut params = CertificateParams::default();
        if let Some(email) = who
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let ia5: rcgen::string::Ia5String = email.try_into().map_err(|_| {
                PkiError::InvalidInput(format!("email must be ASCII, got {email:?}"))
            })?;
            dn.push(
                DnType::CustomDnType(OID_EMAIL_ADDRESS.to_vec()),
                DnValue::Ia5String(ia5.clone()),
            );
            params.subject_alt_names.push(SanType::Rfc822Name(ia5));
            subject.push_str(&format!(", E={}", escape_dn(email)));
        }
        params.distinguished_name = dn;
        let out_of_range = |at| PkiError::InvalidInput(format!("time {at} out of range"));
        params.not_before = from
            .checked_sub(time::Duration::minutes(5))
            .ok_or_else(|| out_of_range(from))?;
        params.not_after = to.checked_add(validity).ok_or_else(|| out_of_range(to))?;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::EmailProtection,
        ];
        params.use_authority_key_identifier_extension = true;
        let (not_before, not_after) = (params.not_before, params.not_after);
        let issuer = if single_use {
            self.signer_issuer()?
        } else {
            &self.issuer
        };
        let cert = params.signed_by(&key, issuer)?;
        let cert_der = cert.der().to_vec();
        Ok(SignerCert {
            not_before,
            not_after,
            cert_pem: pem_encode("CERTIFICATE", &cert_der),
            cert_der,
            key,
            common_name,
            serial_hex: hex::encode(&serial),
            subject,
        })
    }
}

impl Authority {
    /// A TLS server certificate for `names` (DNS names or IP addresses, the first one also
    /// the common name), valid from `not_before` to `not_after`.
    pub(crate) fn issue_server(
        &self,
        names: &[String],
        key: &EcKey,
        serial: Vec<u8>,
        not_before: time::OffsetDateTime,
        not_after: time::OffsetDateTime,
    ) -> Result<Vec<u8>, PkiError> {
        let Some(first) = names.first() else {
            return Err(PkiError::InvalidInput(
                "a server certificate needs at least one name".into(),
            ));
        };
        let mut params = CertificateParams::default();
        for name in names {
            // TLS clients match the host they dialled against the subject alternative
            // names only, so an address must be an IP entry, not a DNS one.
            let san = match name.trim().parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => {
                    let dns: rcgen::string::Ia5String = name.trim().try_into().map_err(|_| {
                        PkiError::InvalidInput(format!("{name:?} is not a host name"))
                    })?;
                    if dns.as_str().is_empty() {
                        return Err(PkiError::InvalidInput("an empty host name".into()));
                    }
                    SanType::DnsName(dns)
                }
            };
            params.subject_alt_names.push(san);
        }
        params.distinguished_name = org_name(first.trim());
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        Ok(params.signed_by(key, &self.issuer)?.der().to_vec())
    }
}

/// Escapes a value for the `K=V, ...` form of a name (RFC 4514), so that a surname such as
/// `Ñandú, CN=x` cannot read as an extra attribute.
fn escape_dn(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn check_key_matches(cert_der: &[u8], key: &EcKey) -> Result<(), PkiError> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| PkiError::Cert(format!("CA certificate does not parse: {e}")))?;
    let spki_key = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    if spki_key != key.public_sec1() {
        return Err(PkiError::Cert(
            "ca.key does not match the public key in ca.pem".into(),
        ));
    }
    Ok(())
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(data)
}

/// The simulated time-stamping authority: its key and CA-issued certificate.
pub(crate) struct Tsa {
    /// Always P-256, whatever `--key-type` says of signers.
    pub(crate) key: SignerKey,
    pub(crate) cert_der: Vec<u8>,
}

impl Tsa {
    pub(crate) fn create(ca: &Authority, rng: &mut impl RngCore) -> Result<Tsa, PkiError> {
        let key = EcKey::generate_fast(rng);
        let mut params = CertificateParams::default();
        params.not_before = fixed_not_before();
        params.not_after = fixed_not_after();
        params.serial_number = Some(SerialNumber::from_slice(&random_serial(rng, SERIAL_BYTES)));
        params.distinguished_name = org_name("signsim Simulated TSA");
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        // RFC 3161 §2.3: the TSA certificate's EKU must be exactly id-kp-timeStamping
        // and critical; rcgen writes EKU non-critical, so we add it by hand.
        let mut eku =
            CustomExtension::from_oid_content(OID_EXT_KEY_USAGE, EKU_TIME_STAMPING_DER.to_vec());
        eku.set_criticality(true);
        params.custom_extensions = vec![eku];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &ca.issuer)?;
        Ok(Tsa {
            key: SignerKey::P256(key),
            cert_der: cert.der().to_vec(),
        })
    }
}

#[cfg(test)]
mod dn_tests {
    #[test]
    fn names_are_escaped() {
        assert_eq!(super::escape_dn("Ñandú, CN=x"), "Ñandú\\, CN=x");
        assert_eq!(super::escape_dn(" a+b "), "\\ a\\+b\\ ");
        assert_eq!(super::escape_dn("plain"), "plain");
    }
}
