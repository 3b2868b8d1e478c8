//! The envelope operations with their engine effects: links and tokens to the outbox,
//! expiry on the virtual clock, dossiers on completion, the signed webhook.

use super::{
    CheckOverrides, Document, Envelope, Event, ModelError, PersonalDocument, Signer, Status,
};
use crate::engine::acts::StatusChange;
use crate::engine::outbox::{Channel, Outgoing};
use crate::engine::scenarios::Applied;
use crate::engine::{seconds, Engine};
use crate::providers::qitech::wire::webhook;
use crate::providers::qitech::{dossier, QiTech, SLUG};
use bytes::Bytes;
use std::sync::Arc;
use time::OffsetDateTime;

/// How long a dossier (or image) URL stays valid, as the manual says.
pub const URL_LIFETIME_SECONDS: u64 = 24 * 60 * 60;

/// Whose signature a link is for (its tenant is the one that owns the link).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinkTarget {
    pub envelope: String,
    pub signer: String,
}

/// What a file URL serves.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum FileKind {
    /// A document as it was added (the resource page's link; the API has none).
    Original(String),
    Dossier(String),
    Front(String),
    Back(String),
    Face(String),
}

/// What a file URL serves (its tenant is the one that owns the link).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileLink {
    pub envelope: String,
    pub kind: FileKind,
    pub expires_at: OffsetDateTime,
}

/// Values the signer's act may set; unset ones come from the scenario, then the defaults.
#[derive(Debug, Default, Clone)]
pub struct SignInput {
    pub cpf: Option<String>,
    pub token: Option<String>,
    /// What the identity checks found, where the caller says.
    pub checks: CheckOverrides,
}

/// What a signature did to the envelope.
pub struct Signed {
    pub signer: Signer,
    pub completed: bool,
}

impl QiTech {
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The envelope, after moving it to `expired` if its deadline passed.
    pub fn get(&self, tenant: &str, id: &str) -> Result<Envelope, ModelError> {
        self.update(tenant, id, |envelope| Ok(envelope.clone()))
    }

    /// Runs `f` under the envelope's lock, after the expiry check.
    pub fn update<R>(
        &self,
        tenant: &str,
        id: &str,
        f: impl FnOnce(&mut Envelope) -> Result<R, ModelError>,
    ) -> Result<R, ModelError> {
        let now = self.engine.now();
        let key = id.to_owned();
        let (expired, result) = self
            .envelopes
            .update(tenant, &key, |envelope| {
                let expired = envelope.expire_if_due(now);
                (expired, f(envelope))
            })
            .ok_or_else(|| ModelError::EnvelopeNotFound(id.to_owned()))?;
        if expired {
            let change = StatusChange::moved(Status::Submitted.as_str(), Status::Expired.as_str());
            self.engine
                .record_status(SLUG, tenant, id, change, "submitted → expired");
        }
        result
    }

    pub fn create(&self, tenant: &str, envelope: Envelope) -> Result<(), ModelError> {
        let id = envelope.id.clone();
        if !self.envelopes.insert_new(tenant, id.clone(), envelope) {
            return Err(ModelError::DuplicateEnvelope(id));
        }
        let change = StatusChange::created(Status::Created.as_str());
        self.engine
            .record_status(SLUG, tenant, &id, change, "envelope created");
        Ok(())
    }

    pub fn add_document(
        &self,
        tenant: &str,
        id: &str,
        document: Document,
    ) -> Result<Document, ModelError> {
        let added = self.update(tenant, id, |envelope| {
            if envelope.status != Status::Created {
                return Err(ModelError::NotEditable(envelope.status));
            }
            if envelope.documents.iter().any(|d| d.id == document.id) {
                return Err(ModelError::DuplicateDocument(document.id.clone()));
            }
            envelope.documents.push(document.clone());
            Ok(document)
        })?;
        self.engine.record(
            SLUG,
            tenant,
            id,
            "document",
            format!("document {} added", added.id),
        );
        Ok(added)
    }

    pub fn add_personal_document(
        &self,
        tenant: &str,
        id: &str,
        signer_id: &str,
        document: PersonalDocument,
    ) -> Result<PersonalDocument, ModelError> {
        self.update(tenant, id, |envelope| {
            if !matches!(envelope.status, Status::Created | Status::Submitted) {
                return Err(ModelError::NotEditable(envelope.status));
            }
            let signer = envelope.signer_mut(signer_id)?;
            if signer.signed_at.is_some() {
                return Err(ModelError::AlreadySigned);
            }
            // A new image of the same template replaces the old one.
            signer
                .personal_documents
                .retain(|d| d.template != document.template);
            signer.personal_documents.push(document.clone());
            Ok(document)
        })
    }

    /// Sends the envelope: each signer gets the signature link by their
    /// `document_submission_method` (unless the scenario holds messages back).
    pub fn submit(&self, tenant: &str, id: &str, applied: &Applied) -> Result<(), ModelError> {
        let now = self.engine.now();
        let envelope = self.update(tenant, id, |envelope| {
            if envelope.status == Status::Created && envelope.expires_at <= now {
                return Err(ModelError::DeadlinePassed);
            }
            if envelope.status == Status::Created && envelope.documents.is_empty() {
                return Err(ModelError::NoDocuments);
            }
            envelope.apply(Event::Submit)?;
            if let Some(after) = applied.expiry_seconds {
                envelope.expires_at = crate::engine::add_seconds(now, after);
            }
            for signer in &mut envelope.signers {
                signer.link_code = Some(self.engine.ids.hex(8));
            }
            Ok(envelope.clone())
        })?;
        let change = StatusChange::moved(Status::Created.as_str(), Status::Submitted.as_str());
        self.engine
            .record_status(SLUG, tenant, id, change, "created → submitted");
        for signer in &envelope.signers {
            let Some(code) = &signer.link_code else {
                continue;
            };
            self.links.insert_as(
                tenant,
                code.clone(),
                LinkTarget {
                    envelope: id.to_owned(),
                    signer: signer.id.clone(),
                },
            );
            if applied.deliver {
                let link = self.signature_url(code);
                self.message(
                    tenant,
                    id,
                    signer,
                    signer.document_submission_method,
                    format!("{}: you have documents to sign at {link}", envelope.subject),
                    None,
                    Some(link),
                );
            }
        }
        self.expire_later(tenant, &envelope);
        Ok(())
    }

    /// Fires the expiry at the deadline on the virtual clock, so that it shows in the
    /// timeline when the clock passes it even if nobody reads the envelope.
    fn expire_later(&self, tenant: &str, envelope: &Envelope) {
        let due = crate::engine::later(envelope.expires_at, time::Duration::seconds(1));
        self.engine
            .timers
            .at(due, tenant, super::super::EXPIRY_TIMER, envelope.id.clone());
    }

    pub fn cancel(&self, tenant: &str, id: &str) -> Result<(), ModelError> {
        let from = self.update(tenant, id, |envelope| {
            let from = envelope.status;
            envelope.apply(Event::Cancel)?;
            Ok(from)
        })?;
        let change = StatusChange::moved(from.as_str(), Status::Canceled.as_str());
        self.engine
            .record_status(SLUG, tenant, id, change, format!("{from} → canceled"));
        Ok(())
    }

    /// A scenario's scripted status; `completed` needs signatures and is not forced.
    pub fn force_status(&self, tenant: &str, id: &str, to: Status) {
        if to == Status::Completed {
            return;
        }
        let moved = self.update(tenant, id, |envelope| {
            let from = envelope.status;
            envelope.status = to;
            Ok(from)
        });
        if let Ok(from) = moved {
            let change = StatusChange::moved(from.as_str(), to.as_str());
            let text = format!("{from} → {to} (scenario)");
            self.engine.record_status(SLUG, tenant, id, change, text);
        }
    }

    pub fn signature_url(&self, code: &str) -> String {
        self.engine.link(&format!("/_signsim/{SLUG}/s/{code}"))
    }

    /// The tenant and signer a signature link leads to.
    pub fn link_target(&self, code: &str) -> Option<(String, LinkTarget)> {
        self.links.get(code)
    }

    /// The signer opened the link: a fresh authentication token goes out by their
    /// `authentication_submission_method`. Nothing is sent once they have signed or the
    /// envelope is no longer out for signature.
    pub fn open_link(
        &self,
        tenant: &str,
        target: &LinkTarget,
    ) -> Result<(Envelope, Signer), ModelError> {
        let token = self.engine.ids.otp(6);
        let (envelope, signer) = self.update(tenant, &target.envelope, |envelope| {
            let sendable = envelope.status == Status::Submitted;
            let signer = envelope.signer_mut(&target.signer)?;
            if sendable && signer.signed_at.is_none() {
                signer.token = Some(token.clone());
            }
            let signer = signer.clone();
            Ok((envelope.clone(), signer))
        })?;
        if envelope.status == Status::Submitted && signer.signed_at.is_none() {
            self.message(
                tenant,
                &target.envelope,
                &signer,
                signer.authentication_submission_method,
                format!("QI Tech Sign: your authentication token is {token}"),
                Some(token),
                None,
            );
        }
        Ok((envelope, signer))
    }

    #[allow(clippy::too_many_arguments)]
    fn message(
        &self,
        tenant: &str,
        envelope: &str,
        signer: &Signer,
        channel: Channel,
        text: String,
        otp: Option<String>,
        link: Option<String>,
    ) {
        let Some(to) = signer.address(channel) else {
            return;
        };
        self.engine.send_about(
            envelope,
            Outgoing {
                provider: SLUG,
                tenant: tenant.to_owned(),
                channel,
                to,
                text,
                otp,
                link,
            },
        );
    }

    /// The signer signs: checks CPF and token, records the identity checks, and completes
    /// the envelope (dossiers, webhook) when they were the last one.
    pub fn sign(
        &self,
        tenant: &str,
        id: &str,
        signer_id: &str,
        input: SignInput,
        applied: &Applied,
    ) -> Result<Signed, ModelError> {
        let now = self.engine.now();
        // What the signer act says wins; the scenario fills the rest, defaults the remainder.
        let checks = input
            .checks
            .clone()
            .or(scenario_checks(&applied.values))
            .checks();
        let (signer, all_signed, previous_token) = self.update(tenant, id, |envelope| {
            if envelope.status != Status::Submitted {
                return Err(ModelError::NotSignable(envelope.status));
            }
            let signer = envelope.signer_mut(signer_id)?;
            if signer.signed_at.is_some() {
                return Err(ModelError::AlreadySigned);
            }
            if let Some(cpf) = &input.cpf {
                if super::digits(cpf) != signer.cpf_digits() {
                    return Err(ModelError::CpfMismatch);
                }
            }
            if let Some(token) = &input.token {
                if signer.token.as_deref() != Some(token.trim()) {
                    return Err(ModelError::TokenInvalid);
                }
            }
            let previous_token = signer.token.take();
            signer.signed_at = Some(now);
            signer.checks = Some(checks.clone());
            let signer = signer.clone();
            Ok((signer, envelope.all_signed(), previous_token))
        })?;
        self.engine.record(
            SLUG,
            tenant,
            id,
            "signature",
            format!(
                "signer {signer_id} signed (liveness {}, face match {})",
                checks.liveness, checks.face_match_score
            ),
        );
        if all_signed {
            if let Err(error) = self.complete(tenant, id) {
                // The dossier could not be made: the signature did not happen, so the signer
                // can try again instead of leaving the envelope stuck.
                self.update(tenant, id, |envelope| {
                    let signer = envelope.signer_mut(signer_id)?;
                    signer.signed_at = None;
                    signer.checks = None;
                    signer.token = previous_token;
                    Ok(())
                })?;
                let text = format!("signer {signer_id}'s signature undone: the dossier failed");
                self.engine.record(SLUG, tenant, id, "signature", text);
                return Err(error);
            }
        }
        Ok(Signed {
            signer,
            completed: all_signed,
        })
    }

    /// Builds the dossiers, moves the envelope to `completed` and sends the webhook.
    fn complete(&self, tenant: &str, id: &str) -> Result<(), ModelError> {
        let snapshot = self.get(tenant, id)?;
        let dossiers = dossier::build(&self.engine, &snapshot).map_err(ModelError::Dossier)?;
        let now = self.engine.now();
        let envelope = self.update(tenant, id, |envelope| {
            envelope.apply(Event::Complete)?;
            envelope.dossiers = dossiers;
            envelope.completed_at = Some(now);
            Ok(envelope.clone())
        })?;
        let change = StatusChange::moved(Status::Submitted.as_str(), Status::Completed.as_str());
        self.engine
            .record_status(SLUG, tenant, id, change, "submitted → completed");
        let applied = self.engine.scenarios.on(SLUG, tenant, id, "webhook");
        if let Some(config) = self.hooks.get(tenant, &()) {
            let down = (!applied.deliver)
                .then(|| self.engine.link(&format!("/_signsim/{SLUG}/receiver-down")));
            webhook::send(&self.engine, tenant, &envelope, &config, down);
        } else {
            self.engine.record(
                SLUG,
                tenant,
                id,
                "webhook",
                "no webhook configured for this API key: nothing sent",
            );
        }
        Ok(())
    }

    pub fn set_webhook(&self, tenant: &str, config: webhook::HookConfig) {
        self.hooks.insert(tenant, (), config);
    }

    /// A URL for a file of an envelope, valid for 24 hours of the virtual clock.
    pub fn file_url(&self, tenant: &str, envelope: &str, kind: FileKind, ext: &str) -> String {
        let token = self.engine.ids.uuid();
        self.files.insert_as(
            tenant,
            token.clone(),
            FileLink {
                envelope: envelope.to_owned(),
                kind,
                expires_at: self.engine.after(seconds(URL_LIFETIME_SECONDS)),
            },
        );
        self.engine
            .link(&format!("/_signsim/{SLUG}/files/{token}.{ext}"))
    }

    /// A URL for a file of an envelope, as the resource page shows it: like `file_url`, but
    /// its token is derived from the tenant, envelope and file instead of drawn from the
    /// seeded ids, so looking at a page does not change the ids a seeded run hands out
    /// next. Opening the page again renews the same URL.
    pub fn page_file_url(&self, tenant: &str, envelope: &str, kind: FileKind, ext: &str) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("page-file\0{tenant}\0{envelope}\0{kind:?}"));
        let token = hex::encode(&digest[..16]);
        self.files.insert_as(
            tenant,
            token.clone(),
            FileLink {
                envelope: envelope.to_owned(),
                kind,
                expires_at: self.engine.after(seconds(URL_LIFETIME_SECONDS)),
            },
        );
        self.engine
            .link(&format!("/_signsim/{SLUG}/files/{token}.{ext}"))
    }

    /// The tenant and file a file URL's token leads to.
    pub fn file_link(&self, token: &str) -> Option<(String, FileLink)> {
        self.files.get(token)
    }

    /// The bytes and content type a file link serves, if they still exist.
    pub fn file(&self, tenant: &str, link: &FileLink) -> Option<(Bytes, String)> {
        let envelope = self.get(tenant, &link.envelope).ok()?;
        match &link.kind {
            FileKind::Original(document) => envelope
                .documents
                .iter()
                .find(|d| &d.id == document)
                .map(|d| (d.bytes.clone(), "application/pdf".to_owned())),
            FileKind::Dossier(document) => envelope
                .dossiers
                .iter()
                .find(|d| &d.document_id == document)
                .map(|d| (d.bytes.clone(), "application/pdf".to_owned())),
            FileKind::Front(signer) | FileKind::Back(signer) => {
                let front = matches!(link.kind, FileKind::Front(_));
                let signer = envelope.signer(signer).ok()?;
                signer
                    .personal_documents
                    .iter()
                    .find(|d| d.template.is_front() == front)
                    .map(|d| (d.bytes.clone(), content_type(&d.file_type).to_owned()))
            }
            FileKind::Face(signer) => envelope
                .signer(signer)
                .ok()
                .filter(|s| s.signed_at.is_some())
                .map(|_| (Bytes::from_static(FACE_JPEG), "image/jpeg".to_owned())),
        }
    }
}

/// The face "captured" at signing: a tiny grey JPEG.
pub const FACE_JPEG: &[u8] = include_bytes!("face.jpg");

pub fn content_type(file_type: &str) -> &'static str {
    match file_type {
        "png" => "image/png",
        "pdf" => "application/pdf",
        _ => "image/jpeg",
    }
}

/// What a scenario's `values` (free-form, from a scenario file) say the checks found.
fn scenario_checks(values: &serde_json::Map<String, serde_json::Value>) -> CheckOverrides {
    let text = |key: &str| values.get(key).and_then(|v| v.as_str().map(str::to_owned));
    CheckOverrides {
        face_validation_available: values.get("face_validation_available").and_then(value_bool),
        fraud_base_flag: values.get("fraud_base_flag").and_then(value_bool),
        face_validation_score: values.get("face_validation_score").and_then(value_i64),
        liveness: text("liveness"),
        face_match_score: values.get("face_match_score").and_then(value_i64),
        document_check: text("document_check"),
    }
}

fn value_i64(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn value_bool(value: &serde_json::Value) -> Option<bool> {
    match value {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => match s.trim() {
            "true" | "1" | "on" | "yes" => Some(true),
            "false" | "0" | "off" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

impl crate::engine::quota::Stored for LinkTarget {}
impl crate::engine::quota::Stored for FileLink {}
