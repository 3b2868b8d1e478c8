//! The one-shot signature model: requests for a single-use certificate, their documents,
//! OTPs and the signature that issues the certificate.
//!
//! It speaks in domain terms only. The Uanataca surface (and the Signal facade over it) turn
//! these values and errors into their own wire shapes.

pub mod appearance;
pub mod certificate_json;
pub mod status;
mod video;

use crate::engine::acts::StatusChange as TimelineChange;
use crate::engine::outbox::{Channel, Outgoing};
use crate::engine::scenarios::Applied;
use crate::engine::store::TenantStore;
use crate::engine::timers::read_payload;
use crate::engine::Engine;
use crate::pki::{SignedAttribute, SignerCert, SignerIdentity};
pub use appearance::{SignatureText, VisibleSignature};
use bytes::Bytes;
use sha2::{Digest, Sha256};
pub use status::{Event, Status};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// Most documents one request can hold.
pub const MAX_DOCUMENTS: usize = 10;
/// How long an OTP can be used after it was generated.
pub const OTP_VALIDITY: Duration = Duration::minutes(10);
/// A new OTP cannot be generated sooner than this after the previous one.
pub const OTP_COOLDOWN: Duration = Duration::seconds(60);
/// Wrong codes accepted before the OTP is spent and a new one must be generated.
pub const OTP_MAX_FAILURES: u32 = 3;

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
    /// The surface (provider slug) the request came through; its events and messages
    /// carry this name.
    pub provider: &'static str,
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

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Otp {
    pub code: String,
    pub generated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub failures: u32,
    pub spent: bool,
}

/// How one OTP is made; scenarios change these.
#[derive(Debug, Clone, Copy)]
pub struct OtpOptions {
    pub channel: Channel,
    pub validity: Duration,
    /// `false`: generated but never reaches the outbox (a gateway that loses SMS).
    pub deliver: bool,
}

impl OtpOptions {
    pub fn new(channel: Channel) -> OtpOptions {
        OtpOptions {
            channel,
            validity: OTP_VALIDITY,
            deliver: true,
        }
    }
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
    pub tenant: String,
    pub pk: u64,
    pub registration_authority: u64,
    pub from: Status,
    pub to: Status,
    pub at: OffsetDateTime,
    /// The URLs the creator gave for notifications (async `callback`, video `webhook_url`).
    pub callback: Option<String>,
}

type StatusListener = Arc<dyn Fn(StatusNotice) + Send + Sync>;

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

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SignatureRequest {
    pub pk: u64,
    #[serde(with = "crate::engine::state::blob::slug")]
    pub provider: crate::engine::state::blob::Slug,
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
}

/// A scenario's scripted status, later: `[pk, status]` as strings (`on_scripted_status`).
const STATUS_TIMER: &str = "oneshot.status";
/// An asynchronous signature completing: `SignLater`.
const SIGN_TIMER: &str = "oneshot.sign";

/// What `sign_later` signs: the request as it was authorized (its documents then), and how.
#[derive(serde::Serialize, serde::Deserialize)]
struct SignLater {
    request: SignatureRequest,
    options: SignOptions,
}

pub struct OneShot {
    engine: Arc<Engine>,
    /// Video identifications have their own numbering.
    next_videoid: Arc<crate::engine::state::Counter>,
    requests: Arc<TenantStore<u64, SignatureRequest>>,
    /// Per surface (provider slug), who hears about status changes.
    listeners: dashmap::DashMap<&'static str, StatusListener>,
    /// Status changes made under a request's lock, told to the listeners once `update`
    /// has let go of it: a listener that reads the store would otherwise deadlock.
    changes: std::sync::Mutex<Vec<(&'static str, StatusNotice)>>,
}

impl OneShot {
    pub fn new(engine: Arc<Engine>) -> Arc<OneShot> {
        let requests = engine.new_store("oneshot.requests");
        Arc::new_cyclic(|me: &std::sync::Weak<OneShot>| {
            // What its timers do, registered before any can be set or restored.
            engine.on_scripted_status(STATUS_TIMER, me.clone(), |model, tenant, id, to| {
                if let (Ok(pk), Some(to)) = (id.parse(), Status::parse(to)) {
                    model.force_status(tenant, pk, to).ok();
                }
            });
            engine
                .timers
                .on_model(SIGN_TIMER, me.clone(), |model, tenant, payload| {
                    if let Some(later) = read_payload::<SignLater>(SIGN_TIMER, payload) {
                        model
                            .complete_signature(tenant, &later.request, &later.options)
                            .ok();
                    }
                });
            OneShot {
                next_videoid: engine.new_counter("oneshot.next_videoid", 137),
                engine,
                requests,
                listeners: dashmap::DashMap::new(),
                changes: std::sync::Mutex::new(Vec::new()),
            }
        })
    }

    /// `listener` hears every status change of the requests created through `provider`.
    pub fn on_status_change(
        &self,
        provider: &'static str,
        listener: impl Fn(StatusNotice) + Send + Sync + 'static,
    ) {
        self.listeners.insert(provider, Arc::new(listener));
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn create(&self, tenant: &str, new: NewRequest) -> SignatureRequest {
        let pk = self.engine.ids.next_pk();
        let now = self.engine.now();
        let status = match (&new.video, &new.approved_by) {
            (Some(_), _) => Status::VideoPending,
            (None, Some(_)) => Status::EnrollReady,
            (None, None) => Status::Created,
        };
        let video = new.video.as_ref().map(|video| VideoId {
            videoid_pk: self.next_videoid_pk(),
            webhook_url: video.webhook_url.clone(),
            recording: None,
            refusal_reason: None,
        });
        let contract = Bytes::from(contract_pdf(pk, &new, now));
        let request = SignatureRequest {
            pk,
            provider: new.provider,
            status,
            scratchcard: self.engine.ids.number(1_000_000, 10_000_000).to_string(),
            person: new.person,
            profile: new.profile,
            registration_authority: new.registration_authority,
            env: new.env,
            communication_language: new.communication_language,
            approved_by: new.approved_by,
            useasync: new.useasync,
            callback: new.callback,
            id_images: new.id_images,
            created_at: now,
            documents: Vec::new(),
            otp: None,
            certificate: None,
            contract,
            signed_contract: None,
            async_signing: None,
            video,
        };
        self.requests.insert(tenant, pk, request.clone());
        self.engine.record_created(
            request.provider,
            tenant,
            &pk.to_string(),
            status.as_str(),
            format!("created in status {status}"),
        );
        request
    }

    /// Creates a request under the scenario chosen for it: the one named by `requested`
    /// (the surface's scenario header), else the first whose `match` the signer satisfies,
    /// else the default. An unknown name creates nothing and says which names exist.
    pub fn create_with_scenario(
        &self,
        tenant: &str,
        new: NewRequest,
        requested: Option<&str>,
    ) -> Result<SignatureRequest, String> {
        let provider = new.provider;
        let scenario = self
            .engine
            .scenarios
            .choose(provider, requested, |field| new.person.field(field))?;
        let created = self.create(tenant, new);
        self.engine
            .assign_scenario(provider, tenant, &created.pk.to_string(), scenario);
        Ok(created)
    }

    fn record(&self, request: &SignatureRequest, tenant: &str, kind: &str, text: String) {
        self.engine.record(
            request.provider,
            tenant,
            &request.pk.to_string(),
            kind,
            text,
        );
    }

    /// Moves `request` by `event` as the transition table allows, recording the change.
    fn apply(
        &self,
        tenant: &str,
        request: &mut SignatureRequest,
        event: Event,
    ) -> Result<(), OneShotError> {
        let to = transition(request.status, event)?;
        self.set_status(tenant, request, to);
        Ok(())
    }

    /// Sets the status, records it and queues the change for the surface's listener
    /// (called under the request's lock; `update` tells the listener after it).
    fn set_status(&self, tenant: &str, request: &mut SignatureRequest, to: Status) {
        let from = request.status;
        if to == from {
            return;
        }
        request.status = to;
        self.engine.record_status(
            request.provider,
            tenant,
            &request.pk.to_string(),
            TimelineChange::moved(from.as_str(), to.as_str()),
            format!("status {from} → {to}"),
        );
        let change = StatusNotice {
            tenant: tenant.to_owned(),
            pk: request.pk,
            registration_authority: request.registration_authority,
            from,
            to,
            at: self.engine.now(),
            callback: request
                .video
                .as_ref()
                .and_then(|v| v.webhook_url.clone())
                .or_else(|| request.callback.clone()),
        };
        self.lock_changes().push((request.provider, change));
    }

    /// Tells the listeners the changes queued so far; never called under a store lock.
    fn notify_changes(&self) {
        let changes = std::mem::take(&mut *self.lock_changes());
        for (provider, change) in changes {
            let listener = self.listeners.get(provider).map(|l| l.value().clone());
            if let Some(listener) = listener {
                listener(change);
            }
        }
    }

    fn lock_changes(&self) -> std::sync::MutexGuard<'_, Vec<(&'static str, StatusNotice)>> {
        self.changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The scenario effects for `operation` on request `pk` of surface `provider`. A
    /// scripted transition is scheduled here on the virtual clock (`Engine::script_transition`:
    /// one past the year 9999 never fires) and applied by the `STATUS_TIMER` handler `new`
    /// registers; the HTTP side (latency, scripted answers) is the surface's to act out. A
    /// transition to ISSUED is not forced: it is when an asynchronous signature completes,
    /// which `sign_later` schedules, so no timer is set for it.
    pub fn scripted(
        self: &Arc<Self>,
        provider: &'static str,
        tenant: &str,
        pk: u64,
        operation: &str,
    ) -> Applied {
        let engine = &self.engine;
        let id = pk.to_string();
        let applied = engine.scenarios.on(provider, tenant, &id, operation);
        let forced = applied
            .transition
            .as_ref()
            .filter(|t| t.to != Status::Issued.as_str());
        if let Some(transition) = forced {
            engine.script_transition(tenant, &id, transition, STATUS_TIMER);
        }
        applied
    }

    /// Completes an authorized asynchronous signature `delay` from now on the virtual clock.
    pub fn sign_later(
        self: &Arc<Self>,
        tenant: &str,
        authorized: SignatureRequest,
        options: SignOptions,
        delay: Duration,
    ) {
        let later = SignLater {
            request: authorized,
            options,
        };
        self.engine
            .timers
            .at_json(self.engine.after(delay), tenant, SIGN_TIMER, &later);
    }

    /// Moves a request to `to` whatever its status, as a scenario scripts it.
    pub fn force_status(&self, tenant: &str, pk: u64, to: Status) -> Result<(), OneShotError> {
        self.update(tenant, pk, |request| {
            self.set_status(tenant, request, to);
            Ok(())
        })
    }

    pub fn get(&self, tenant: &str, pk: u64) -> Result<SignatureRequest, OneShotError> {
        self.requests
            .get(tenant, &pk)
            .ok_or(OneShotError::RequestNotFound(pk))
    }

    /// Applies `f` to the stored request under its lock.
    fn update<R>(
        &self,
        tenant: &str,
        pk: u64,
        f: impl FnOnce(&mut SignatureRequest) -> Result<R, OneShotError>,
    ) -> Result<R, OneShotError> {
        let result = self
            .requests
            .update(tenant, &pk, f)
            .unwrap_or(Err(OneShotError::RequestNotFound(pk)));
        // The entry's guard is gone: listeners may read or write the store now.
        self.notify_changes();
        result
    }

    pub fn approve(&self, tenant: &str, pk: u64, rao: &str) -> Result<(), OneShotError> {
        self.update(tenant, pk, |request| {
            transition(request.status, Event::Approve)?;
            let missing = request.person.missing_fields();
            if !missing.is_empty() {
                return Err(OneShotError::MissingFields(missing));
            }
            self.apply(tenant, request, Event::Approve)?;
            request.approved_by = Some(rao.to_owned());
            Ok(())
        })
    }

    /// Cancels the request: it and its documents are forgotten.
    pub fn cancel(&self, tenant: &str, pk: u64) -> Result<(), OneShotError> {
        self.requests
            .remove(tenant, &pk)
            .map(|_| ())
            .ok_or(OneShotError::RequestNotFound(pk))
    }

    pub fn add_documents(
        &self,
        tenant: &str,
        pk: u64,
        uploads: Vec<NewDocument>,
    ) -> Result<Vec<Document>, OneShotError> {
        let now = self.engine.now();
        // Uids are drawn before taking the request's lock: the id generator has its own.
        let uids: Vec<String> = uploads.iter().map(|_| self.engine.ids.uuid()).collect();
        self.update(tenant, pk, |request| {
            if request.status == Status::Issued {
                return Err(OneShotError::WrongStatus {
                    status: request.status,
                    event: Event::Sign,
                });
            }
            if request.documents.len() + uploads.len() > MAX_DOCUMENTS {
                return Err(OneShotError::TooManyDocuments);
            }
            let added: Vec<Document> = uploads
                .into_iter()
                .zip(uids)
                .map(|(upload, uid)| Document {
                    uid,
                    kind: upload.kind,
                    key: upload.key,
                    filename: upload.filename,
                    digest: hex::encode(Sha256::digest(&upload.bytes)),
                    original: upload.bytes,
                    uploaded_at: now,
                    signed: None,
                })
                .collect();
            request.documents.extend(added.iter().cloned());
            Ok(added)
        })
    }

    /// Deletes one document, or only its signed version when `signed_only`.
    pub fn delete_document(
        &self,
        tenant: &str,
        pk: u64,
        uid: &str,
        signed_only: bool,
    ) -> Result<(), OneShotError> {
        self.update(tenant, pk, |request| {
            let index = request
                .documents
                .iter()
                .position(|d| d.uid == uid)
                .ok_or(OneShotError::DocumentNotFound)?;
            if signed_only {
                request.documents[index]
                    .signed
                    .take()
                    .ok_or(OneShotError::DocumentNotFound)?;
            } else {
                request.documents.remove(index);
            }
            Ok(())
        })
    }

    pub fn delete_documents(&self, tenant: &str, pk: u64) -> Result<(), OneShotError> {
        self.update(tenant, pk, |request| {
            request.documents.clear();
            Ok(())
        })
    }

    /// Generates a six-digit OTP and "sends" it to the signer's phone.
    pub fn generate_otp(
        &self,
        tenant: &str,
        pk: u64,
        options: OtpOptions,
    ) -> Result<(), OneShotError> {
        let now = self.engine.now();
        let channel = options.channel;
        let code = self.engine.ids.otp(6);
        let (phone, provider) = self.update(tenant, pk, |request| {
            self.apply(tenant, request, Event::GenerateOtp)?;
            if let Some(previous) = &request.otp {
                if now - previous.generated_at < OTP_COOLDOWN {
                    return Err(OneShotError::OtpTooSoon);
                }
            }
            request.otp = Some(Otp {
                code: code.clone(),
                generated_at: now,
                expires_at: crate::engine::later(now, options.validity),
                failures: 0,
                spent: false,
            });
            self.record(
                request,
                tenant,
                "otp_sent",
                format!("OTP sent by {}", channel.as_str()),
            );
            Ok((request.person.mobile_phone_number.clone(), request.provider))
        })?;
        if !options.deliver {
            self.engine.record(
                provider,
                tenant,
                &pk.to_string(),
                "otp_lost",
                "the OTP message was not delivered (scenario)",
            );
            return Ok(());
        }
        self.engine.send_about(
            &pk.to_string(),
            Outgoing {
                provider,
                tenant: tenant.to_owned(),
                channel,
                to: phone,
                text: format!(
                    "{code} is your code to sign request {pk}. It is valid for {} minutes.",
                    options.validity.whole_minutes()
                ),
                otp: Some(code),
                link: None,
            },
        );
        Ok(())
    }

    /// Checks the OTP for a signature and spends it; returns the request to sign. Under the
    /// lock, so two concurrent calls cannot both sign. An asynchronous signature is marked
    /// in progress.
    pub fn authorize_signature(
        &self,
        tenant: &str,
        pk: u64,
        secret: &str,
    ) -> Result<SignatureRequest, OneShotError> {
        let now = self.engine.now();
        self.update(tenant, pk, |request| {
            transition(request.status, Event::Sign)?;
            if request.async_signing == Some(AsyncSigning::InProgress) {
                return Err(OneShotError::WrongStatus {
                    status: request.status,
                    event: Event::Sign,
                });
            }
            consume_otp(request.otp.as_mut(), secret, now)?;
            if request.useasync {
                request.async_signing = Some(AsyncSigning::InProgress);
            }
            Ok(request.clone())
        })
    }

    /// Issues the certificate and signs what `authorize_signature` returned.
    pub fn complete_signature(
        &self,
        tenant: &str,
        request: &SignatureRequest,
        options: &SignOptions,
    ) -> Result<(), OneShotError> {
        let pk = request.pk;
        let now = self.engine.now();
        let signed = match self.sign_all(request, options, now) {
            Ok(signed) => signed,
            Err(error) => {
                self.update(tenant, pk, |stored| {
                    if stored.useasync {
                        stored.async_signing = Some(AsyncSigning::Failed(format!("{error:?}")));
                    }
                    // Nothing was signed: the code stays usable, so the signer can retry once
                    // the faulty document is replaced.
                    if let Some(otp) = stored.otp.as_mut() {
                        otp.spent = false;
                    }
                    Ok(())
                })?;
                return Err(error);
            }
        };
        self.update(tenant, pk, |stored| {
            let (certificate, contract, documents) = signed;
            for (uid, bytes) in documents {
                if let Some(document) = stored.documents.iter_mut().find(|d| d.uid == uid) {
                    document.signed = Some(bytes);
                }
            }
            let text = format!(
                "signed {} document(s) and the contract with certificate {}",
                stored
                    .documents
                    .iter()
                    .filter(|d| d.signed.is_some())
                    .count(),
                certificate.serial_hex
            );
            stored.signed_contract = Some(contract);
            stored.certificate = Some(certificate);
            if stored.useasync {
                stored.async_signing = Some(AsyncSigning::Done);
            }
            self.record(stored, tenant, "signed", text);
            self.apply(tenant, stored, Event::Sign)
        })
    }

    #[allow(clippy::type_complexity)]
    fn sign_all(
        &self,
        request: &SignatureRequest,
        options: &SignOptions,
        now: OffsetDateTime,
    ) -> Result<(IssuedCertificate, Bytes, Vec<(String, Bytes)>), OneShotError> {
        let pki = &self.engine.pki;
        let signing_error = |uid: &str| {
            let uid = uid.to_owned();
            move |e: crate::pki::PkiError| OneShotError::Signing {
                uid,
                reason: e.to_string(),
            }
        };
        let cert = pki
            .issue_signer(&signer_identity(&request.person), now)
            .map_err(signing_error("certificate"))?;
        let mut documents = Vec::with_capacity(request.documents.len());
        let email = &request.person.email;
        for document in &request.documents {
            let shown = options
                .visible
                .iter()
                .find(|(uid, _)| *uid == document.uid)
                .map(|(_, visible)| {
                    appearance::appearance(visible, options.text.as_ref(), &cert, email, now)
                });
            let signed = match &document.kind {
                DocumentKind::Pdf => pki.sign_pdf_with(
                    &document.original,
                    &cert,
                    now,
                    shown.as_ref(),
                    &options.attributes,
                ),
                DocumentKind::Hash {
                    digest,
                    signing_time,
                } => pki.sign_digest(digest, &cert, now, *signing_time),
            }
            .map_err(signing_error(&document.uid))?;
            documents.push((document.uid.clone(), Bytes::from(signed)));
        }
        let contract = pki
            .sign_pdf_with(&request.contract, &cert, now, None, &options.attributes)
            .map_err(signing_error("contract"))?;
        Ok((
            IssuedCertificate::from(&cert),
            Bytes::from(contract),
            documents,
        ))
    }
}

fn transition(from: Status, event: Event) -> Result<Status, OneShotError> {
    status::next(from, event).ok_or(OneShotError::WrongStatus {
        status: from,
        event,
    })
}

/// A right, fresh, unspent code is spent; a wrong one counts as a failure, and after
/// `OTP_MAX_FAILURES` failures the code is spent too.
fn consume_otp(
    otp: Option<&mut Otp>,
    secret: &str,
    now: OffsetDateTime,
) -> Result<(), OneShotError> {
    let otp = otp.ok_or(OneShotError::OtpInvalid)?;
    if otp.spent || now > otp.expires_at {
        return Err(OneShotError::OtpInvalid);
    }
    if otp.code != secret.trim() {
        otp.failures += 1;
        otp.spent = otp.failures >= OTP_MAX_FAILURES;
        return Err(OneShotError::OtpInvalid);
    }
    otp.spent = true;
    Ok(())
}

fn signer_identity(person: &Person) -> SignerIdentity {
    SignerIdentity {
        given_name: person.given_name.clone(),
        surname_1: person.surname_1.clone(),
        surname_2: person.surname_2.clone(),
        serial_number: person.subject_serial_number(),
        country: person.id_document_country.clone(),
        email: Some(person.email.clone()).filter(|e| !e.is_empty()),
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

/// The service contract the signer accepts together with the documents.
fn contract_pdf(pk: u64, new: &NewRequest, now: OffsetDateTime) -> Vec<u8> {
    let person = &new.person;
    let surnames = [Some(person.surname_1.as_str()), person.surname_2.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let lines = [
        ("Request", pk.to_string()),
        ("Certificate profile", new.profile.clone()),
        (
            "Registration Authority",
            new.registration_authority.to_string(),
        ),
        ("Given name", person.given_name.clone()),
        ("Surnames", surnames),
        (
            "Identity document",
            format!(
                "{} {} ({})",
                person.id_document_type, person.serial_number, person.id_document_country
            ),
        ),
        ("Email", person.email.clone()),
        ("Mobile phone", person.mobile_phone_number.clone()),
        ("Date", crate::engine::rfc3339(now)),
        (
            "Terms",
            "The subscriber requests a single-use qualified certificate, issued at the moment \
             of signing and used only to sign the documents of this request. The subscriber \
             declares the data above true and accepts the certification practice statement. \
             (Generated by signsim, a simulator: this contract has no legal value.)"
                .to_owned(),
        ),
    ];
    let lines: Vec<(String, String)> = lines
        .into_iter()
        .map(|(label, value)| (label.to_owned(), value))
        .collect();
    crate::pki::text_pdf("One-Shot Signature service contract", &lines)
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
            .map(|d| d.original.len() + d.signed.as_ref().map_or(0, |s| s.len()))
            .sum();
        documents
            + self.contract.len()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn otp_at(now: OffsetDateTime) -> Otp {
        Otp {
            code: "123456".into(),
            generated_at: now,
            expires_at: now + OTP_VALIDITY,
            failures: 0,
            spent: false,
        }
    }

    #[test]
    fn right_code_is_spent_once() {
        let now = OffsetDateTime::now_utc();
        let mut otp = otp_at(now);
        assert_eq!(consume_otp(Some(&mut otp), "123456", now), Ok(()));
        assert_eq!(
            consume_otp(Some(&mut otp), "123456", now),
            Err(OneShotError::OtpInvalid)
        );
    }

    #[test]
    fn wrong_codes_spend_the_otp_after_the_limit() {
        let now = OffsetDateTime::now_utc();
        let mut otp = otp_at(now);
        for _ in 0..OTP_MAX_FAILURES {
            assert!(consume_otp(Some(&mut otp), "000000", now).is_err());
        }
        assert_eq!(
            consume_otp(Some(&mut otp), "123456", now),
            Err(OneShotError::OtpInvalid)
        );
    }

    #[test]
    fn expired_code_is_refused() {
        let now = OffsetDateTime::now_utc();
        let mut otp = otp_at(now - OTP_VALIDITY - Duration::seconds(1));
        assert!(consume_otp(Some(&mut otp), "123456", now).is_err());
    }
}
