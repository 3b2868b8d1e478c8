//! IdentiaSign's signature processes as a state machine: statuses, the one table of moves
//! between them, signers, documents and the ID types of the docs' table; and an entity's
//! other records (labels, configuration, the links it handed out). No HTTP types here;
//! `super::service` adds the engine effects.

use crate::engine::outbox::Channel;
use bytes::Bytes;
use serde_json::{Map, Value};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// Out for signature: some signer has not signed yet.
    Pending,
    Signed,
    Rejected,
    Expired,
}

/// The statuses as the API writes them (and scenario files name them).
pub const STATUS_NAMES: &[&str] = &["pending", "signed", "rejected", "expired"];

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Signed => "signed",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "pending" => Some(Status::Pending),
            "signed" => Some(Status::Signed),
            "rejected" => Some(Status::Rejected),
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

/// What moves a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// `POST /api/signature_processes`: description or signers changed.
    Modify,
    /// `POST /api/notify`: the links go out again.
    Notify,
    /// One signer signed; others are still to sign.
    Sign,
    /// The last signer signed.
    Complete,
    /// `DELETE /api/signature_processes`, or a signer rejected.
    Reject,
    /// `expire` seconds passed.
    Expire,
}

/// Every move there is, and no other: only a pending process changes, and it ends signed,
/// rejected or expired.
const TRANSITIONS: &[(Status, Event, Status)] = &[
    (Status::Pending, Event::Modify, Status::Pending),
    (Status::Pending, Event::Notify, Status::Pending),
    (Status::Pending, Event::Sign, Status::Pending),
    (Status::Pending, Event::Complete, Status::Signed),
    (Status::Pending, Event::Reject, Status::Rejected),
    (Status::Pending, Event::Expire, Status::Expired),
];

/// Where `event` takes a process in status `from`, if it may happen at all.
pub fn next(from: Status, event: Event) -> Option<Status> {
    crate::engine::transitions::next(TRANSITIONS, from, event)
}

/// The ID types of the docs' table; the starred ones are "as contracted".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Nat {
    Per,
    Chl,
    PerPass,
    PerCe,
}

pub const NAT_NAMES: &[&str] = &["PER", "CHL", "PERPASS", "PERCE"];

impl Nat {
    pub fn parse(text: &str) -> Option<Nat> {
        match text {
            "PER" => Some(Nat::Per),
            "CHL" => Some(Nat::Chl),
            "PERPASS" => Some(Nat::PerPass),
            "PERCE" => Some(Nat::PerCe),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Nat::Per => "PER",
            Nat::Chl => "CHL",
            Nat::PerPass => "PERPASS",
            Nat::PerCe => "PERCE",
        }
    }

    /// The docs' example of the format, for error messages.
    pub fn example(self) -> &'static str {
        match self {
            Nat::Per => "12345678",
            Nat::Chl => "12345678-5",
            Nat::PerPass => "1234567891",
            Nat::PerCe => "123456789123",
        }
    }

    /// Whether `doc_id` has this type's format (and, for a RUN, its check digit).
    pub fn valid(self, doc_id: &str) -> bool {
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        match self {
            Nat::Per => digits(doc_id, 8),
            Nat::PerPass => digits(doc_id, 10),
            Nat::PerCe => digits(doc_id, 12),
            Nat::Chl => valid_run(doc_id),
        }
    }
}

/// A Chilean RUN, `12345678-5`: 7 or 8 digits, a dash and the modulo-11 check digit
/// (`K` for 10, `0` for 11).
pub fn valid_run(run: &str) -> bool {
    let Some((number, check)) = run.split_once('-') else {
        return false;
    };
    if !(7..=8).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut sum = 0u32;
    for (i, b) in number.bytes().rev().enumerate() {
        // Weights 2..7, repeating; at most 8 digits, so the sum stays small.
        let weight = 2 + (i % 6) as u32;
        sum += u32::from(b - b'0') * weight;
    }
    let expected = match 11 - (sum % 11) {
        11 => '0',
        10 => 'K',
        d => char::from_digit(d, 10).unwrap_or('?'),
    };
    check.len() == 1 && check.eq_ignore_ascii_case(&expected.to_string())
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    /// `email` or `whatsapp`.
    pub channel: Channel,
    pub value: String,
    /// `(+|-)HH:MM`; `-05:00` by default.
    pub tz: String,
    /// Whether a notification went out to it.
    pub notified: bool,
}

/// What the facial challenge found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Facial {
    pub result: bool,
    pub id: String,
    pub at: OffsetDateTime,
}

/// What the signer finally did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Act {
    Sign,
    Reject,
}

impl Act {
    pub fn as_str(self) -> &'static str {
        match self {
            Act::Sign => "sign",
            Act::Reject => "reject",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Signer {
    pub nat: Nat,
    pub doc_id: String,
    pub alias: Option<String>,
    pub signature_type: String,
    pub sign_challenges: Vec<String>,
    /// As given: file index → page → position (the system places the stamp itself).
    pub stamp_positions: Map<String, Value>,
    pub contact: Option<Contact>,
    pub facial: Option<Facial>,
    pub act: Option<(Act, OffsetDateTime)>,
    /// Own signing link, when links are listed per signer.
    pub link: Option<String>,
}

impl Signer {
    /// `PER:12345678`, how the API names a signer (`signers_search`, `nat_dni`).
    pub fn key(&self) -> String {
        format!("{}:{}", self.nat.as_str(), self.doc_id)
    }

    pub fn signed(&self) -> bool {
        matches!(self.act, Some((Act::Sign, _)))
    }

    /// The indexes of the files this signer signs: those of `stampPositions`, or every
    /// file when it names none.
    pub fn files(&self, count: usize) -> Vec<usize> {
        let named: Vec<usize> = self
            .stamp_positions
            .keys()
            .filter_map(|k| k.parse().ok())
            .filter(|i| *i < count)
            .collect();
        if named.is_empty() {
            (0..count).collect()
        } else {
            named
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Document {
    pub id: String,
    pub name: String,
    /// The file as uploaded with the blank signature page appended, then one incremental
    /// update per signature.
    #[serde(with = "crate::engine::state::blob")]
    pub bytes: Bytes,
    pub pages: usize,
}

/// One signing link: the whole process's (`msg`), or one signer's (the list form).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Link {
    pub code: String,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Process {
    pub id: String,
    /// Creation order: what listings page by.
    pub seq: u64,
    pub description: String,
    pub sign_order: bool,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub url_callback: Option<String>,
    pub labels: Vec<String>,
    pub status: Status,
    pub signers: Vec<Signer>,
    pub documents: Vec<Document>,
    /// Every link handed out, newest last.
    pub links: Vec<Link>,
    /// The client name that created it.
    pub creator: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    ProcessNotFound(String),
    SignerNotFound(String),
    /// `event` cannot happen in `status`.
    WrongStatus {
        status: Status,
        event: Event,
    },
    AlreadyActed(String),
    /// `signOrder`: `waiting` has to sign before.
    OutOfOrder {
        waiting: String,
    },
    /// The facial challenge has not been passed.
    FacialFailed,
    /// A signer who signed cannot be removed.
    SignedSignerRemoved(String),
    /// Removing would leave no signer.
    NoSignersLeft,
    /// Another signature landed while this one was being made: try again.
    Concurrent,
    Pdf(String),
}

impl Process {
    pub fn signer(&self, key: &str) -> Result<&Signer, ModelError> {
        self.signers
            .iter()
            .find(|s| s.key() == key)
            .ok_or_else(|| ModelError::SignerNotFound(key.to_owned()))
    }

    pub fn signer_mut(&mut self, key: &str) -> Result<&mut Signer, ModelError> {
        self.signers
            .iter_mut()
            .find(|s| s.key() == key)
            .ok_or_else(|| ModelError::SignerNotFound(key.to_owned()))
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

    /// Moves a pending process past its `expire` to `expired`; true if it did.
    pub fn expire_if_due(&mut self, now: OffsetDateTime) -> bool {
        now >= self.expires_at && self.apply(Event::Expire).is_ok()
    }

    pub fn all_signed(&self) -> bool {
        self.signers.iter().all(Signer::signed)
    }

    /// Whether signer `key` may sign now: the process is pending, the signer has not acted,
    /// and with `signOrder` it is their turn.
    pub fn may_sign(&self, key: &str) -> Result<(), ModelError> {
        if self.status != Status::Pending {
            return Err(ModelError::WrongStatus {
                status: self.status,
                event: Event::Sign,
            });
        }
        if self.signer(key)?.act.is_some() {
            return Err(ModelError::AlreadyActed(key.to_owned()));
        }
        if self.sign_order {
            if let Some(first) = self.next_in_order() {
                if first.key() != key {
                    return Err(ModelError::OutOfOrder {
                        waiting: first.key(),
                    });
                }
            }
        }
        Ok(())
    }

    /// With `signOrder`, the first signer who has not signed: only they may sign now.
    pub fn next_in_order(&self) -> Option<&Signer> {
        self.signers.iter().find(|s| !s.signed())
    }

    /// Whether a signing link `code` of this process still opens.
    pub fn link_open(&self, code: &str, now: OffsetDateTime) -> bool {
        self.links
            .iter()
            .any(|l| l.code == code && now < l.expires_at)
    }
}

/// A change to one signer (`POST /api/signature_processes`).
#[derive(Debug, Clone)]
pub enum SignerChange {
    Update {
        key: String,
        alias: Option<String>,
        stamp_positions: Option<Map<String, Value>>,
        contact: Option<Contact>,
    },
    Remove {
        key: String,
    },
}

// What an entity keeps beside its processes: the links it handed out, its labels and its
// configuration.

/// Whose link a signing link is (its tenant is the one that owns the link).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinkTarget {
    pub process: String,
    /// The signer a per-signer link is for; `None` for the process's shared link.
    pub signer: Option<String>,
}

/// What a document URL serves.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileLink {
    pub process: String,
    pub index: usize,
    pub expires_at: OffsetDateTime,
}

/// A label of an entity.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Label {
    pub label: String,
    /// The client name that created or last changed it.
    pub usr_id: String,
    pub description: Option<String>,
}

/// What an entity has set up (`POST /_signsim/identiasign/config`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct EntityConfig {
    /// `msg` as the March 2026 list `[{link, nat_dni}]` instead of one link.
    pub msg_list: bool,
    /// ID types the entity has not contracted: refused with a 400.
    pub refused_nats: Vec<Nat>,
    /// When set, logins need this password.
    pub password: Option<String>,
}

impl crate::engine::quota::Stored for Process {
    fn heap_bytes(&self) -> usize {
        self.documents.iter().map(|d| d.bytes.len()).sum()
    }

    fn is_finished(&self) -> bool {
        matches!(
            self.status,
            Status::Signed | Status::Rejected | Status::Expired
        )
    }
}

impl crate::engine::quota::Stored for LinkTarget {}
impl crate::engine::quota::Stored for FileLink {}
impl crate::engine::quota::Stored for Label {}
impl crate::engine::quota::Stored for EntityConfig {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_table_moves_a_process() {
        assert_eq!(next(Status::Pending, Event::Complete), Some(Status::Signed));
        assert_eq!(next(Status::Signed, Event::Reject), None);
        assert_eq!(next(Status::Rejected, Event::Modify), None);
        assert_eq!(next(Status::Expired, Event::Sign), None);
        for name in STATUS_NAMES {
            assert_eq!(Status::parse(name).map(Status::as_str), Some(*name));
        }
    }

    #[test]
    fn id_formats_follow_the_table() {
        assert!(Nat::Per.valid("12345678"));
        assert!(!Nat::Per.valid("1234567"));
        assert!(!Nat::Per.valid("1234567a"));
        assert!(Nat::PerPass.valid("1234567891"));
        assert!(Nat::PerCe.valid("123456789123"));
        assert!(!Nat::PerCe.valid("12345678912"));
        // 12.345.678-5 and 7.654.321-6 are well-formed RUNs; K stands for 10.
        assert!(valid_run("12345678-5"));
        assert!(valid_run("7654321-6"));
        assert!(valid_run("10000013-k"));
        assert!(!valid_run("12345678-9"));
        assert!(!valid_run("12345678"));
        assert!(!valid_run("1234-5"));
    }
}
