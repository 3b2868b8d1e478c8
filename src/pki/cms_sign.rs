//! Detached CMS SignedData (RFC 5652) with CAdES signed attributes, built directly on
//! the `cms` crate types so we control exactly what is signed; and [`SignedAttribute`],
//! a further signed attribute a caller asks for.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;
use x509_cert::Certificate;

use super::error::PkiError;
use super::keys::SignerKey;

use x509_cert::spki;

pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const ID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ATTR_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ATTR_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ATTR_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ATTR_SIGNING_CERT_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// RFC 5035 `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, ... }`.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// `ESSCertIDv2`; hashAlgorithm is omitted because SHA-256 is its DEFAULT.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

pub(crate) fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, PkiError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5 rule, also used by CMS).
fn der_time(t: time::OffsetDateTime) -> Result<Time, PkiError> {
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| PkiError::InvalidInput("time before 1970".into()))?;
    let d = std::time::Duration::from_secs(secs);
    Ok(match UtcTime::from_unix_duration(d) {
        Ok(u) => Time::UtcTime(u),
        Err(_) => Time::GeneralTime(GeneralizedTime::from_unix_duration(d)?),
    })
}

/// Everything needed for one SignedData with a single signer.
pub(crate) struct SignedDataBuilder<'a> {
    pub cert_der: &'a [u8],
    pub key: &'a SignerKey,
    /// Further certificates to embed (the CA), after the signer's own.
    pub extra_certs: &'a [&'a [u8]],
    pub content_type: ObjectIdentifier,
    /// Encapsulated content; `None` for a detached signature.
    pub econtent: Option<Vec<u8>>,
    /// SHA-256 of the (possibly external) content.
    pub message_digest: &'a [u8],
    pub signing_time: Option<time::OffsetDateTime>,
    /// Further signed attributes, each `(oid, DER value)`.
    pub extra_attrs: &'a [(ObjectIdentifier, Vec<u8>)],
}

impl SignedDataBuilder<'_> {
    /// Builds the DER `ContentInfo`. `unsigned` receives the raw signature value and
    /// returns the unsigned attributes (e.g. a signature time-stamp).
    pub(crate) fn build(
        self,
        unsigned: impl FnOnce(&[u8]) -> Result<Vec<Attribute>, PkiError>,
    ) -> Result<Vec<u8>, PkiError> {
        let key = self.key;
        self.assemble(|signed_attrs| key.sign(signed_attrs), unsigned)
    }

    /// What `build` makes, with a filler of the longest signature value the key can give
    /// in place of signing: no `build` from inputs of the same lengths (a digest of the
    /// same size, unsigned attributes no longer) is longer, since every DER length only
    /// grows with what it covers. Sizes a reservation before the signed bytes are known.
    pub(crate) fn build_longest(
        self,
        unsigned: impl FnOnce(&[u8]) -> Result<Vec<Attribute>, PkiError>,
    ) -> Result<Vec<u8>, PkiError> {
        let filler = vec![0xFF; self.key.max_signature_len()];
        self.assemble(|_| Ok(filler), unsigned)
    }

    /// The SignedData around the signature `sign` makes over the DER signed attributes.
    fn assemble(
        self,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, PkiError>,
        unsigned: impl FnOnce(&[u8]) -> Result<Vec<Attribute>, PkiError>,
    ) -> Result<Vec<u8>, PkiError> {
        let cert = Certificate::from_der(self.cert_der)
            .map_err(|e| PkiError::Cert(format!("signer certificate does not parse: {e}")))?;
        let tbs = &cert.tbs_certificate;

        let mut attrs = vec![
            attribute(ATTR_CONTENT_TYPE, Any::encode_from(&self.content_type)?)?,
            attribute(
                ATTR_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(self.message_digest)?)?,
            )?,
        ];
        if let Some(t) = self.signing_time {
            attrs.push(attribute(
                ATTR_SIGNING_TIME,
                Any::encode_from(&der_time(t)?)?,
            )?);
        }
        let signing_cert = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                cert_hash: OctetString::new(Sha256::digest(self.cert_der).to_vec())?,
                issuer_serial: IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer.clone())],
                    serial_number: tbs.serial_number.clone(),
                },
            }],
        };
        attrs.push(attribute(
            ATTR_SIGNING_CERT_V2,
            Any::encode_from(&signing_cert)?,
        )?);
        for (oid, value) in self.extra_attrs {
            attrs.push(der_attribute(*oid, value)?);
        }

        // The signature covers the DER encoding of the attributes as a SET OF
        // (tag 0x31), not the [0] IMPLICIT form they take inside SignerInfo
        // (RFC 5652 §5.4). SetOfVec sorts them into DER order.
        let signed_attrs = SetOfVec::try_from(attrs)?;
        let signature = sign(&signed_attrs.to_der()?)?;
        let unsigned_attrs = unsigned(&signature)?;

        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer.clone(),
                serial_number: tbs.serial_number.clone(),
            }),
            digest_alg: sha256_alg(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: self.key.cms_algorithm()?,
            signature: OctetString::new(signature)?,
            unsigned_attrs: if unsigned_attrs.is_empty() {
                None
            } else {
                Some(SetOfVec::try_from(unsigned_attrs)?)
            },
        };

        let mut certs = vec![CertificateChoices::Certificate(cert.clone())];
        for der in self.extra_certs {
            let c = Certificate::from_der(der)
                .map_err(|e| PkiError::Cert(format!("chain certificate does not parse: {e}")))?;
            certs.push(CertificateChoices::Certificate(c));
        }

        let econtent = match self.econtent {
            Some(bytes) => Some(Any::encode_from(&OctetString::new(bytes)?)?),
            None => None,
        };
        let signed_data = SignedData {
            // RFC 5652 §5.1: version 3 when eContentType is not id-data.
            version: if self.content_type == ID_DATA {
                CmsVersion::V1
            } else {
                CmsVersion::V3
            },
            digest_algorithms: SetOfVec::try_from(vec![sha256_alg()])?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: self.content_type,
                econtent,
            },
            certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
        };
        let content_info = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data)?,
        };
        Ok(content_info.to_der()?)
    }
}

/// A signed attribute to add to a signature: `oid` in dotted form, `value` wrapped in an
/// OCTET STRING.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedAttribute {
    pub oid: String,
    pub value: Vec<u8>,
}

/// Largest attribute value accepted: each one grows the room a signed PDF reserves for
/// its signature.
pub const MAX_ATTRIBUTE_VALUE: usize = 2048;

impl SignedAttribute {
    /// The OID and the DER of the OCTET STRING around the value, as `extra_attrs` takes them.
    pub(crate) fn encode(&self) -> Result<(ObjectIdentifier, Vec<u8>), PkiError> {
        let oid = ObjectIdentifier::new(&self.oid)
            .map_err(|_| PkiError::InvalidInput(format!("'{}' is not an OID", self.oid)))?;
        if self.value.len() > MAX_ATTRIBUTE_VALUE {
            return Err(PkiError::InvalidInput(format!(
                "attribute {} is {} bytes; at most {MAX_ATTRIBUTE_VALUE} fit in a signature",
                self.oid,
                self.value.len()
            )));
        }
        let value = OctetString::new(self.value.clone())?.to_der()?;
        Ok((oid, value))
    }
}

/// Wraps an already-encoded DER value as a single-valued attribute.
pub(crate) fn der_attribute(
    oid: ObjectIdentifier,
    value_der: &[u8],
) -> Result<Attribute, PkiError> {
    attribute(oid, Any::from_der(value_der)?)
}
