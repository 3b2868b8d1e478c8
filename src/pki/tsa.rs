//! In-process RFC 3161 time-stamping authority: a token over an imprint, signed with the
//! TSA certificate (`ca::Tsa`) and serial the caller hands in.

use der::asn1::{GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::Encode;
use sha2::{Digest, Sha256};
use x509_tsp::{Accuracy, MessageImprint, TspVersion, TstInfo};

use super::ca::Tsa;
use super::cms_sign::{SignedDataBuilder, ID_SHA256};
use super::error::PkiError;

/// Private-arc policy OID under which our simulated TSA issues tokens.
const TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// DER `TimeStampToken` (a ContentInfo) over `imprint`, a SHA-256 hash, made by `tsa`
/// at `now` with the token serial `serial`; `ca_der` is embedded after the TSA's own
/// certificate.
pub(crate) fn timestamp_token(
    tsa: &Tsa,
    ca_der: &[u8],
    serial: Vec<u8>,
    imprint: &[u8],
    now: time::OffsetDateTime,
) -> Result<Vec<u8>, PkiError> {
    let tst_der = tst_info(serial, imprint, now)?;
    let digest = Sha256::digest(&tst_der);
    token_builder(tsa, &[ca_der], tst_der, &digest).build(|_| Ok(Vec::new()))
}

/// A token no token of `timestamp_token` is longer than: one made with a serial of the
/// length `ca::random_serial` draws for tokens (`ca::SERIAL_BYTES`, no sign byte) and a
/// filler as long as the longest signature the TSA's key gives. Every other field has a
/// fixed length (the imprint is a SHA-256, the time a 15-character GeneralizedTime), so one
/// such token bounds every token this TSA makes: `Pki` makes it once.
pub(crate) fn longest_token(tsa: &Tsa, ca_der: &[u8]) -> Result<Vec<u8>, PkiError> {
    let tst_der = tst_info(
        vec![0x7F; super::ca::SERIAL_BYTES],
        &[0; 32],
        time::OffsetDateTime::UNIX_EPOCH,
    )?;
    token_builder(tsa, &[ca_der], tst_der, &[0; 32]).build_longest(|_| Ok(Vec::new()))
}

fn token_builder<'a>(
    tsa: &'a Tsa,
    extra_certs: &'a [&'a [u8]],
    tst_der: Vec<u8>,
    digest: &'a [u8],
) -> SignedDataBuilder<'a> {
    SignedDataBuilder {
        cert_der: &tsa.cert_der,
        key: &tsa.key,
        extra_certs,
        content_type: ID_CT_TST_INFO,
        econtent: Some(tst_der),
        message_digest: digest,
        signing_time: None,
        extra_attrs: &[],
    }
}

/// The DER `TSTInfo` (RFC 3161 §2.4.2) the token signs.
fn tst_info(
    serial: Vec<u8>,
    imprint: &[u8],
    now: time::OffsetDateTime,
) -> Result<Vec<u8>, PkiError> {
    let secs = u64::try_from(now.unix_timestamp())
        .map_err(|_| PkiError::InvalidInput("time before 1970".into()))?;
    let tst = TstInfo {
        version: TspVersion::V1,
        policy: TSA_POLICY,
        message_imprint: MessageImprint {
            hash_algorithm: x509_cert::spki::AlgorithmIdentifier {
                oid: ID_SHA256,
                parameters: None,
            },
            hashed_message: OctetString::new(imprint)?,
        },
        serial_number: Int::new(&serial)?,
        gen_time: GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))?,
        accuracy: Some(Accuracy {
            seconds: Some(1),
            millis: None,
            micros: None,
        }),
        ordering: false,
        nonce: None,
        tsa: None,
        extensions: None,
    };
    Ok(tst.to_der()?)
}
