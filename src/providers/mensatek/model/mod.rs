//! Mensatek's identity verifications as a state machine: the status codes (`Estado`), the
//! one table of moves between them, what the person's act found, and the account (credits,
//! report URL). No HTTP types here; `super::service` adds the engine effects.

use time::OffsetDateTime;

/// A verification's `Estado`. The provider documents only 5001 and 5100; the rest of the
/// list is the simulator's choice (see docs/providers/mensatek.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// `Fecha` is in the future: the SMS waits for it. Never reported (nothing changed yet).
    Scheduled,
    /// The SMS with the link went out.
    Sent,
    /// The person opened the link.
    Opened,
    /// The person showed the document and is taking the selfie.
    InProgress,
    /// The person and the document check out; the certificate is being made.
    Verified,
    /// The liveness or the document check failed.
    Failed,
    /// The link was never opened in time.
    Expired,
    /// The certificate can be downloaded with `GetCertificadoVerificacion`.
    CertificateAvailable,
}

/// The statuses as scenario files name them.
pub const STATUS_NAMES: &[&str] = &[
    "scheduled",
    "sent",
    "opened",
    "in_progress",
    "verified",
    "failed",
    "expired",
    "certificate_available",
];

const ALL: [Status; 8] = [
    Status::Scheduled,
    Status::Sent,
    Status::Opened,
    Status::InProgress,
    Status::Verified,
    Status::Failed,
    Status::Expired,
    Status::CertificateAvailable,
];

impl Status {
    /// The `Estado` code of the status reports.
    pub fn code(self) -> u16 {
        match self {
            Status::Scheduled => 5000,
            Status::Sent => 5001,
            Status::Opened => 5002,
            Status::InProgress => 5003,
            Status::Verified => 5010,
            Status::Failed => 5020,
            Status::Expired => 5030,
            Status::CertificateAvailable => 5100,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Sent => "sent",
            Status::Opened => "opened",
            Status::InProgress => "in_progress",
            Status::Verified => "verified",
            Status::Failed => "failed",
            Status::Expired => "expired",
            Status::CertificateAvailable => "certificate_available",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the status reports carry `Result`: from the final outcome (5010 or 5020) on,
    /// not while the person is still at it (5003 knows the document, not the result).
    pub fn has_result(self) -> bool {
        matches!(
            self,
            Status::Verified | Status::Failed | Status::CertificateAvailable
        )
    }

    /// Whether the person can still act on the link.
    pub fn open_to_person(self) -> bool {
        matches!(self, Status::Sent | Status::Opened | Status::InProgress)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code(), self.as_str())
    }
}

/// What moves a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// The SMS goes out (at once, or when `Fecha` comes).
    Send,
    /// The person opens the link.
    Open,
    /// The person shows the document.
    ShowDocument,
    /// The checks pass.
    Pass,
    /// A check fails.
    Fail,
    /// The link was not opened in time.
    Expire,
    /// The certificate is ready.
    Certify,
}

/// Every move there is, and no other.
const TRANSITIONS: &[(Status, Event, Status)] = &[
    (Status::Scheduled, Event::Send, Status::Sent),
    (Status::Sent, Event::Open, Status::Opened),
    (Status::Sent, Event::Expire, Status::Expired),
    (Status::Opened, Event::ShowDocument, Status::InProgress),
    (Status::InProgress, Event::Pass, Status::Verified),
    (Status::InProgress, Event::Fail, Status::Failed),
    (
        Status::Verified,
        Event::Certify,
        Status::CertificateAvailable,
    ),
];

/// Where `event` takes a verification in status `from`, if it may happen at all.
pub fn next(from: Status, event: Event) -> Option<Status> {
    crate::engine::transitions::next(TRANSITIONS, from, event)
}

/// How the person's act ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    Verified,
    LivenessFailed,
    DocumentMismatch,
}

pub const OUTCOME_NAMES: &[&str] = &["verified", "liveness_failed", "document_mismatch"];

impl Outcome {
    pub fn parse(text: &str) -> Option<Outcome> {
        match text {
            "verified" => Some(Outcome::Verified),
            "liveness_failed" => Some(Outcome::LivenessFailed),
            "document_mismatch" => Some(Outcome::DocumentMismatch),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::LivenessFailed => "liveness_failed",
            Outcome::DocumentMismatch => "document_mismatch",
        }
    }
}

/// Where and from what the person opened the link (`Acceso`, `Posicion`, `Dispositivo`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Access {
    pub at: OffsetDateTime,
    pub ip: String,
    pub port: u16,
    pub address: String,
    pub longitude: f64,
    pub latitude: f64,
    pub altitude: f64,
    pub accuracy: f64,
    pub browser: String,
    pub os: String,
    pub resolution: String,
}

/// The identity document the process read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IdDocument {
    /// Number on the front and on the back (they differ when the document is tampered with).
    pub front: String,
    pub back: String,
    pub given_name: String,
    pub surnames: String,
    /// `dd/mm/yyyy`.
    pub birth_date: String,
    pub age: u32,
    pub serial: String,
    /// `M` or `F`.
    pub sex: String,
    pub expires: String,
}

/// What the checks found (`Result`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Findings {
    pub outcome: Outcome,
    pub document: IdDocument,
    /// Similarity of the selfie to the document's photo, 0-100.
    pub similarity: f64,
    pub liveness: bool,
    pub same_person: bool,
    pub beard: bool,
    pub glasses: bool,
    pub sex_probability: f64,
    pub apparent_age: (u32, u32),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Verification {
    pub id: String,
    pub status: Status,
    pub phone: String,
    pub message: String,
    pub sender: Option<String>,
    /// `Dni`: the document number the caller expects, if any.
    pub requested_dni: Option<String>,
    pub created_at: OffsetDateTime,
    /// When the SMS is (or was) due.
    pub send_at: OffsetDateTime,
    /// When it went out.
    pub sent_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
    /// The link code the SMS carries.
    pub link: String,
    pub access: Option<Access>,
    pub findings: Option<Findings>,
    /// The signed certificate, once made.
    #[serde(with = "crate::engine::state::blob::option")]
    pub certificate: Option<bytes::Bytes>,
}

/// What `VerificarIdentidad` asks for, checked (`super::wire::verification`).
#[derive(Debug, Clone)]
pub struct NewVerification {
    pub phone: String,
    pub message: String,
    pub sender: Option<String>,
    pub requested_dni: Option<String>,
    pub send_at: OffsetDateTime,
}

/// What the person's act says; what it leaves out is made up (seeded).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Act {
    pub outcome: Outcome,
    /// The document number the person shows.
    pub dni: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    NotFound(String),
    /// The move is not in the table.
    WrongStatus {
        status: Status,
        event: Event,
    },
    NotEnoughCredits {
        balance: u64,
    },
    CertificateNotReady,
}

impl Verification {
    /// Moves by the table; the status is unchanged when the move is not allowed.
    pub fn apply(&mut self, event: Event, at: OffsetDateTime) -> Result<Status, ModelError> {
        let to = next(self.status, event).ok_or(ModelError::WrongStatus {
            status: self.status,
            event,
        })?;
        self.status = to;
        self.updated_at = at;
        Ok(to)
    }
}

/// Where the account's status reports go, as the panel sets it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportConfig {
    pub url: String,
    pub basic_auth: Option<(String, String)>,
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReportFormat {
    Json,
    Form,
}

impl ReportFormat {
    pub fn parse(text: &str) -> Option<ReportFormat> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Some(ReportFormat::Json),
            "form" => Some(ReportFormat::Form),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Form => "form",
        }
    }
}

impl crate::engine::quota::Stored for Verification {
    fn heap_bytes(&self) -> usize {
        self.certificate.as_ref().map_or(0, |c| c.len())
    }

    fn is_finished(&self) -> bool {
        matches!(
            self.status,
            Status::Failed | Status::Expired | Status::CertificateAvailable
        )
    }
}

impl crate::engine::quota::Stored for ReportConfig {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_allows_only_its_moves() {
        assert_eq!(next(Status::Scheduled, Event::Send), Some(Status::Sent));
        assert_eq!(next(Status::Sent, Event::Pass), None);
        assert_eq!(next(Status::Opened, Event::Expire), None);
        assert_eq!(
            next(Status::Verified, Event::Certify),
            Some(Status::CertificateAvailable)
        );
        for status in ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::Sent.code(), 5001);
        assert_eq!(Status::CertificateAvailable.code(), 5100);
    }
}
