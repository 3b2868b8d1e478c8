//! QI Tech Sign's envelopes as data and a state machine: statuses, the one table of moves
//! between them, signers, documents and the identity checks, and when an envelope's date
//! runs out (`deadline`, `Envelope::expire_if_due`). No wire, HTTP or engine effects here:
//! `super::service` adds those, `super::wire` reads and renders this data.

use crate::engine::outbox::Channel;
use bytes::Bytes;
use time::{Date, OffsetDateTime, Time};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Status {
    Created,
    Submitted,
    Completed,
    Canceled,
    Expired,
}

/// The statuses as the API writes them (and scenario files name them).
pub const STATUS_NAMES: &[&str] = &["created", "submitted", "completed", "canceled", "expired"];

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Submitted => "submitted",
            Status::Completed => "completed",
            Status::Canceled => "canceled",
            Status::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "created" => Some(Status::Created),
            "submitted" => Some(Status::Submitted),
            "completed" => Some(Status::Completed),
            "canceled" => Some(Status::Canceled),
            "expired" => Some(Status::Expired),
            _ => None,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What moves an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// `PATCH {"status": "submitted"}`.
    Submit,
    /// `PATCH {"status": "canceled"}`.
    Cancel,
    /// The last signer signed.
    Complete,
    /// The expiration date passed.
    Expire,
}

/// Every move the status table implies, and no other: an envelope is sent once, can be
/// canceled until it is finished, and only a sent one completes or expires.
const TRANSITIONS: &[(Status, Event, Status)] = &[
    (Status::Created, Event::Submit, Status::Submitted),
    (Status::Created, Event::Cancel, Status::Canceled),
    (Status::Submitted, Event::Cancel, Status::Canceled),
    (Status::Submitted, Event::Complete, Status::Completed),
    (Status::Submitted, Event::Expire, Status::Expired),
];

/// Where `event` takes an envelope in status `from`, if it may happen at all.
pub fn next(from: Status, event: Event) -> Option<Status> {
    crate::engine::transitions::next(TRANSITIONS, from, event)
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Phone {
    pub international_dial_code: String,
    pub area_code: String,
    pub number: String,
}

impl Phone {
    /// `+5511988878722`, the address the outbox uses.
    pub fn e164(&self) -> String {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        format!(
            "+{}{}{}",
            digits(&self.international_dial_code),
            digits(&self.area_code),
            digits(&self.number)
        )
    }
}

/// The identification document templates the API analyses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Template {
    CnhFront,
    CnhBack,
    RgFront,
    RgBack,
}

pub const TEMPLATE_NAMES: &[&str] = &["cnh_front", "cnh_back", "rg_front", "rg_back"];

impl Template {
    pub fn parse(text: &str) -> Option<Template> {
        match text {
            "cnh_front" => Some(Template::CnhFront),
            "cnh_back" => Some(Template::CnhBack),
            "rg_front" => Some(Template::RgFront),
            "rg_back" => Some(Template::RgBack),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Template::CnhFront => "cnh_front",
            Template::CnhBack => "cnh_back",
            Template::RgFront => "rg_front",
            Template::RgBack => "rg_back",
        }
    }

    pub fn is_front(self) -> bool {
        matches!(self, Template::CnhFront | Template::RgFront)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PersonalDocument {
    pub template: Template,
    pub file_type: String,
    #[serde(with = "crate::engine::state::blob")]
    pub bytes: Bytes,
    pub created_at: OffsetDateTime,
}

/// What the identity checks found when the signer signed; the webhook reports them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Checks {
    pub face_validation_available: bool,
    pub fraud_base_flag: bool,
    pub face_validation_score: i64,
    /// `live` or `spoof`.
    pub liveness: String,
    pub face_match_score: i64,
    /// `pass` or `fail`: whether the identification document was accepted.
    pub document_check: String,
}

impl Default for Checks {
    /// The manual's webhook example: a clean pass.
    fn default() -> Self {
        Checks {
            face_validation_available: true,
            fraud_base_flag: false,
            face_validation_score: 90,
            liveness: "live".into(),
            face_match_score: 85,
            document_check: "pass".into(),
        }
    }
}

/// What a signer act or a scenario says the identity checks found; what neither says
/// keeps the default (a clean pass).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckOverrides {
    pub face_validation_available: Option<bool>,
    pub fraud_base_flag: Option<bool>,
    pub face_validation_score: Option<i64>,
    pub liveness: Option<String>,
    pub face_match_score: Option<i64>,
    pub document_check: Option<String>,
}

impl CheckOverrides {
    /// `self`, with what it leaves unset taken from `fallback`.
    pub fn or(self, fallback: CheckOverrides) -> CheckOverrides {
        CheckOverrides {
            face_validation_available: self
                .face_validation_available
                .or(fallback.face_validation_available),
            fraud_base_flag: self.fraud_base_flag.or(fallback.fraud_base_flag),
            face_validation_score: self
                .face_validation_score
                .or(fallback.face_validation_score),
            liveness: self.liveness.or(fallback.liveness),
            face_match_score: self.face_match_score.or(fallback.face_match_score),
            document_check: self.document_check.or(fallback.document_check),
        }
    }

    pub fn checks(self) -> Checks {
        let default = Checks::default();
        Checks {
            face_validation_available: self
                .face_validation_available
                .unwrap_or(default.face_validation_available),
            fraud_base_flag: self.fraud_base_flag.unwrap_or(default.fraud_base_flag),
            face_validation_score: self
                .face_validation_score
                .unwrap_or(default.face_validation_score),
            liveness: self.liveness.unwrap_or(default.liveness),
            face_match_score: self.face_match_score.unwrap_or(default.face_match_score),
            document_check: self.document_check.unwrap_or(default.document_check),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Signer {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub birthdate: String,
    pub document_number: String,
    pub phone: Option<Phone>,
    pub document_submission_method: Channel,
    pub authentication_submission_method: Channel,
    /// The code of the signature link, once the envelope is submitted.
    pub link_code: Option<String>,
    /// The last authentication token sent when the signer opened the link.
    pub token: Option<String>,
    pub signed_at: Option<OffsetDateTime>,
    pub checks: Option<Checks>,
    pub personal_documents: Vec<PersonalDocument>,
}

impl Signer {
    /// Where a message by `channel` goes: the e-mail or the phone.
    pub fn address(&self, channel: Channel) -> Option<String> {
        match channel {
            Channel::Email => self.email.clone(),
            Channel::Sms | Channel::Whatsapp => self.phone.as_ref().map(Phone::e164),
        }
    }

    pub fn status(&self) -> &'static str {
        if self.signed_at.is_some() {
            "signed"
        } else {
            "pending"
        }
    }

    /// The CPF's digits, as a signer types them on the page.
    pub fn cpf_digits(&self) -> String {
        digits(&self.document_number)
    }
}

pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Document {
    pub id: String,
    pub name: String,
    #[serde(with = "crate::engine::state::blob")]
    pub bytes: Bytes,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Dossier {
    pub document_id: String,
    #[serde(with = "crate::engine::state::blob")]
    pub bytes: Bytes,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    pub id: String,
    pub subject: String,
    pub expiration_date: Date,
    /// When it expires: `deadline(expiration_date)`, or a scenario's override.
    pub expires_at: OffsetDateTime,
    pub status: Status,
    pub signers: Vec<Signer>,
    pub documents: Vec<Document>,
    pub dossiers: Vec<Dossier>,
    pub created_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
}

/// When an envelope dated `date` expires: `2023-09-20` → `2023-09-20T02:59:59Z`, the
/// instant the manual's GET example shows for that date (the last second of the 19th in
/// Brasília). The simulator expires it exactly when its GET says; see fidelity.md.
pub fn deadline(date: Date) -> OffsetDateTime {
    let last = Time::from_hms(2, 59, 59).unwrap_or(Time::MIDNIGHT);
    date.with_time(last).assume_utc()
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    EnvelopeNotFound(String),
    SignerNotFound(String),
    DocumentNotFound(String),
    DuplicateEnvelope(String),
    DuplicateDocument(String),
    /// `event` cannot happen in `status`.
    WrongStatus {
        status: Status,
        event: Event,
    },
    /// The call needs the envelope in another status (adding documents after sending).
    NotEditable(Status),
    /// Signing needs a submitted envelope.
    NotSignable(Status),
    NoDocuments,
    DeadlinePassed,
    AlreadySigned,
    CpfMismatch,
    TokenInvalid,
    NotAvailable(String),
    Dossier(String),
}

impl Envelope {
    pub fn signer(&self, id: &str) -> Result<&Signer, ModelError> {
        self.signers
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| ModelError::SignerNotFound(id.to_owned()))
    }

    pub fn signer_mut(&mut self, id: &str) -> Result<&mut Signer, ModelError> {
        self.signers
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| ModelError::SignerNotFound(id.to_owned()))
    }

    /// Applies `event`, or says why it cannot happen now.
    pub fn apply(&mut self, event: Event) -> Result<Status, ModelError> {
        let to = next(self.status, event).ok_or(ModelError::WrongStatus {
            status: self.status,
            event,
        })?;
        self.status = to;
        Ok(to)
    }

    /// Moves a submitted envelope past its deadline to `expired`; true if it did.
    pub fn expire_if_due(&mut self, now: OffsetDateTime) -> bool {
        now > self.expires_at && self.apply(Event::Expire).is_ok()
    }

    pub fn all_signed(&self) -> bool {
        self.signers.iter().all(|s| s.signed_at.is_some())
    }
}

impl crate::engine::quota::Stored for Envelope {
    fn heap_bytes(&self) -> usize {
        let documents: usize = self.documents.iter().map(|d| d.bytes.len()).sum();
        let dossiers: usize = self.dossiers.iter().map(|d| d.bytes.len()).sum();
        let personal: usize = self
            .signers
            .iter()
            .flat_map(|s| &s.personal_documents)
            .map(|d| d.bytes.len())
            .sum();
        documents + dossiers + personal
    }

    fn is_finished(&self) -> bool {
        matches!(
            self.status,
            Status::Completed | Status::Canceled | Status::Expired
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn only_the_table_moves_an_envelope() {
        assert_eq!(
            next(Status::Created, Event::Submit),
            Some(Status::Submitted)
        );
        assert_eq!(next(Status::Submitted, Event::Submit), None);
        assert_eq!(next(Status::Completed, Event::Cancel), None);
        assert_eq!(next(Status::Created, Event::Expire), None);
        assert_eq!(next(Status::Expired, Event::Complete), None);
        for name in STATUS_NAMES {
            assert_eq!(Status::parse(name).map(Status::as_str), Some(*name));
        }
    }

    #[test]
    fn the_deadline_is_the_one_get_shows() {
        assert_eq!(
            deadline(date!(2023 - 09 - 20)),
            datetime!(2023-09-20 02:59:59 UTC)
        );
    }
}
