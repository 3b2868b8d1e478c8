//! The one-shot request as data: who signs (`Person`), the documents, the certificate
//! issued, the request itself (`SignatureRequest`) and the errors its operations answer.
//! No engine effects and no HTTP: the operations are `service.rs`, `signing.rs` and
//! `video.rs`; the statuses and their transitions `status.rs`; the OTP `otp.rs`.

use super::appearance::{SignatureText, VisibleSignature};
use super::otp::Otp;
use super::status::{self, Event, Status};
use crate::engine::tenant::Tenant;
use crate::pki::{SignedAttribute, SignerCert};
use bytes::Bytes;
use time::OffsetDateTime;

/// Most documents one request can hold.
pub const MAX_DOCUMENTS: usize = 10;

/// The identity documents a signer's `id_document_type` may name (ID card, passport, ...),
/// on every one-shot surface.
pub const ID_DOCUMENT_TYPES: [&str; 6] = ["IDC", "PAS", "PNO", "TIN", "CI", "CE"];

/// Who the certificate is for.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Person {
    pub given_name: String,
    pub surname_1: String,
    pub surname_2: Option<String>,
    pub serial_number: String,
    pub id_document_type: String,
    pub id_document_country: String,
    pub email: String,
    pub mobile_phone_number: String,
    pub birth_date: Option<String>,
}

/// The signer fields a scenario's `match` may test, on every one-shot surface.
pub const MATCH_FIELDS: &[&str] = &[
    "given_name",
    "surname_1",
    "surname_2",
    "serial_number",
    "email",
    "mobile_phone_number",
];

impl Person {
    /// The value of a `MATCH_FIELDS` field.
    pub fn field(&self, name: &str) -> Option<String> {
        match name {
            "given_name" => Some(self.given_name.clone()),
            "surname_1" => Some(self.surname_1.clone()),
            "surname_2" => self.surname_2.clone(),
            "serial_number" => Some(self.serial_number.clone()),
            "email" => Some(self.email.clone()),
            "mobile_phone_number" => Some(self.mobile_phone_number.clone()),
            _ => None,
        }
    }

    /// The fields a certificate cannot be issued without, when empty.
    pub fn missing_fields(&self) -> Vec<&'static str> {
        [
            ("given_name", &self.given_name),
            ("serial_number", &self.serial_number),
            ("surname_1", &self.surname_1),
        ]
        .into_iter()
        .filter(|(_, value)| value.trim().is_empty())
        .map(|(name, _)| name)
        .collect()
    }

    /// The subject serialNumber, as ETSI EN 319 412-1 writes it: `IDCES-12345678A`.
    pub fn subject_serial_number(&self) -> String {
        format!(
            "{}{}-{}",
            self.id_document_type, self.id_document_country, self.serial_number
        )
    }
}

/// Identity images sent with the request (JPEG or PNG).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct IdImages {
    #[serde(with = "crate::engine::state::blob::option")]
    pub front: Option<Bytes>,
    #[serde(with = "crate::engine::state::blob::option")]
    pub rear: Option<Bytes>,
    #[serde(with = "crate::engine::state::blob::option")]
    pub owner: Option<Bytes>,
    #[serde(with = "crate::engine::state::blob::option")]
    pub extra: Option<Bytes>,
}

#[derive(Debug, Clone)]
pub struct NewRequest {
    pub person: Person,
    pub profile: String,
    pub registration_authority: u64,
    pub env: String,
    /// The RAO username that approves it at creation; `None` leaves it in CREATED.
    pub approved_by: Option<String>,
    pub communication_language: String,
    pub useasync: bool,
    pub callback: Option<String>,
    pub id_images: IdImages,
    /// Set for a video identification request, which starts in VIDEOPENDING.
    pub video: Option<NewVideo>,
}

#[derive(Debug, Clone, Default)]
pub struct NewVideo {
    /// Where every status change is POSTed.
    pub webhook_url: Option<String>,
}

/// The video identification part of a request.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VideoId {
    pub videoid_pk: u64,
    pub webhook_url: Option<String>,
    /// The uploaded recording (external mode).
    #[serde(with = "crate::engine::state::blob::option")]
    pub recording: Option<Bytes>,
    pub refusal_reason: Option<String>,
}

/// What the video identification came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VideoOutcome {
    /// Every evidence: VIDEOREVIEW.
    Review,
    /// Part of the evidences: VIDEOINCOMPLETE.
    Incomplete,
    /// Failed: VIDEOERROR.
    Error,
}

/// Changes to the signer's data; `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct PersonPatch {
    pub given_name: Option<String>,
    pub surname_1: Option<String>,
    pub surname_2: Option<String>,
    pub serial_number: Option<String>,
    pub id_document_type: Option<String>,
    pub id_document_country: Option<String>,
    pub email: Option<String>,
    pub mobile_phone_number: Option<String>,
    pub birth_date: Option<String>,
}

/// What a document is and how it gets signed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DocumentKind {
    /// A PDF, signed as PAdES.
    Pdf,
    /// A precomputed SHA-256 digest (hash signature flow), signed as a detached CMS (p7m).
    Hash { digest: Vec<u8>, signing_time: bool },
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Document {
    pub uid: String,
    pub kind: DocumentKind,
    /// The multipart field it came in (`file`, `file2`, ...).
    pub key: String,
    pub filename: String,
    #[serde(with = "crate::engine::state::blob")]
    pub original: Bytes,
    /// SHA-256 of the original, lowercase hex.
    pub digest: String,
    pub uploaded_at: OffsetDateTime,
    #[serde(with = "crate::engine::state::blob::option")]
    pub signed: Option<Bytes>,
}

pub struct NewDocument {
    pub kind: DocumentKind,
    pub key: String,
    pub filename: String,
    pub bytes: Bytes,
}

/// How documents are signed, beyond the certificate: visible signatures per document uid,
/// the text drawn in them (`None`: no text), and further signed attributes (metadata).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SignOptions {
    pub visible: Vec<(String, VisibleSignature)>,
    pub text: Option<SignatureText>,
    pub attributes: Vec<SignedAttribute>,
}

/// Where an asynchronous signature is (`useasync`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AsyncSigning {
    InProgress,
    Done,
    Failed(String),
}

/// A request changed status; the surface it came through may tell someone (its listener,
/// `OneShot::on_status_change`). Not the timeline's record of it, which is the engine's
/// typed `acts::StatusChange`.
#[derive(Debug, Clone)]
pub struct StatusNotice {
    /// Whose request: its provider is the surface whose listener is told.
    pub tenant: Tenant,
    pub pk: u64,
    pub registration_authority: u64,
    pub from: Status,
    pub to: Status,
    pub at: OffsetDateTime,
    /// The URLs the creator gave for notifications (async `callback`, video `webhook_url`).
    pub callback: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IssuedCertificate {
    pub serial_hex: String,
    pub subject: String,
    pub issuer: String,
    #[serde(with = "crate::engine::state::blob")]
    pub der: Bytes,
    pub valid_from: OffsetDateTime,
    pub valid_to: OffsetDateTime,
}

/// A request, as the store keeps it under its tenant (whose provider is the surface it
/// came through).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SignatureRequest {
    pub pk: u64,
    pub status: Status,
    pub person: Person,
    pub profile: String,
    pub registration_authority: u64,
    pub env: String,
    pub scratchcard: String,
    pub communication_language: String,
    pub approved_by: Option<String>,
    pub useasync: bool,
    pub callback: Option<String>,
    pub id_images: IdImages,
    pub created_at: OffsetDateTime,
    pub documents: Vec<Document>,
    pub otp: Option<Otp>,
    pub certificate: Option<IssuedCertificate>,
    #[serde(with = "crate::engine::state::blob")]
    pub contract: Bytes,
    #[serde(with = "crate::engine::state::blob::option")]
    pub signed_contract: Option<Bytes>,
    pub async_signing: Option<AsyncSigning>,
    pub video: Option<VideoId>,
}

impl SignatureRequest {
    pub fn document(&self, uid: &str) -> Option<&Document> {
        self.documents.iter().find(|d| d.uid == uid)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneShotError {
    RequestNotFound(u64),
    /// The event is not allowed in the request's current status.
    WrongStatus {
        status: Status,
        event: Event,
    },
    OtpTooSoon,
    /// Approval needs these signer fields, which are empty.
    MissingFields(Vec<&'static str>),
    /// The scratchcard given does not match the request's.
    WrongScratchcard,
    /// A video call on a request without video identification.
    NotVideo,
    /// Wrong, expired, spent or never generated.
    OtpInvalid,
    TooManyDocuments,
    DocumentNotFound,
    /// The PKI could not sign a document (e.g. a PDF it cannot parse).
    Signing {
        uid: String,
        reason: String,
    },
    /// The thread signing at once (`sign_now`) died before it answered.
    SigningAborted,
}

/// The status `event` leads to from `from`, or the error that names the request's status.
pub fn transition(from: Status, event: Event) -> Result<Status, OneShotError> {
    status::next(from, event).ok_or(OneShotError::WrongStatus {
        status: from,
        event,
    })
}

impl Person {
    /// Takes every value the patch has.
    pub fn apply(&mut self, patch: PersonPatch) {
        let set = |field: &mut String, value: Option<String>| {
            if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
                *field = value;
            }
        };
        set(&mut self.given_name, patch.given_name);
        set(&mut self.surname_1, patch.surname_1);
        set(&mut self.serial_number, patch.serial_number);
        set(&mut self.id_document_type, patch.id_document_type);
        set(&mut self.id_document_country, patch.id_document_country);
        set(&mut self.email, patch.email);
        set(&mut self.mobile_phone_number, patch.mobile_phone_number);
        if let Some(surname_2) = patch.surname_2.filter(|v| !v.trim().is_empty()) {
            self.surname_2 = Some(surname_2);
        }
        if let Some(birth_date) = patch.birth_date.filter(|v| !v.trim().is_empty()) {
            self.birth_date = Some(birth_date);
        }
    }
}

impl From<&SignerCert> for IssuedCertificate {
    fn from(cert: &SignerCert) -> IssuedCertificate {
        IssuedCertificate {
            serial_hex: cert.serial_hex().to_owned(),
            subject: cert.subject_string().to_owned(),
            issuer: cert.issuer_string().to_owned(),
            der: Bytes::copy_from_slice(cert.cert_der()),
            valid_from: cert.not_before(),
            valid_to: cert.not_after(),
        }
    }
}

/// The bytes `part` holds apart from `whole`: none when it is a view into `whole`'s
/// buffer (an original shares its signed copy's, see `signing::prefix_of`), so a shared
/// buffer is weighed once.
fn own_len(part: &Bytes, whole: Option<&Bytes>) -> usize {
    let within = whole.is_some_and(|whole| {
        let (part, whole) = (part.as_ptr_range(), whole.as_ptr_range());
        whole.start <= part.start && part.end <= whole.end
    });
    if within {
        0
    } else {
        part.len()
    }
}

impl crate::engine::quota::Stored for SignatureRequest {
    fn heap_bytes(&self) -> usize {
        let images = &self.id_images;
        let optional = [
            &images.front,
            &images.rear,
            &images.owner,
            &images.extra,
            &self.signed_contract,
            &self.video.as_ref().and_then(|v| v.recording.clone()),
        ];
        let documents: usize = self
            .documents
            .iter()
            .map(|d| {
                own_len(&d.original, d.signed.as_ref()) + d.signed.as_ref().map_or(0, |s| s.len())
            })
            .sum();
        documents
            + own_len(&self.contract, self.signed_contract.as_ref())
            + optional
                .iter()
                .map(|b| b.as_ref().map_or(0, |b| b.len()))
                .sum::<usize>()
    }

    /// Signed, cancelled, refused or failed video: nothing more can happen to it.
    fn is_finished(&self) -> bool {
        matches!(
            self.status,
            Status::Issued
                | Status::Renewed
                | Status::Cancelled
                | Status::Refused
                | Status::VideoError
        )
    }
}
