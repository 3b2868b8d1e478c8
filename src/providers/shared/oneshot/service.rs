//! The one-shot operations that change requests and tell the world: create one (under its
//! scenario), apply a scenario's effects, move it through its statuses (recording each
//! change and telling the surface's listener), approve, cancel, add and delete documents,
//! generate and send an OTP. The signature is `signing.rs`; video identification
//! `video.rs`.

use super::contract::contract_pdf;
use super::model::{
    transition, Document, NewDocument, NewRequest, OneShotError, SignatureRequest, StatusNotice,
    VideoId, MAX_DOCUMENTS,
};
use super::otp::{self, Otp, OtpOptions};
use super::status::{Event, Status};
use super::{OneShot, STATUS_TIMER};
use crate::engine::acts::StatusChange;
use crate::engine::documents;
use crate::engine::outbox::Outgoing;
use crate::engine::scenarios::Applied;
use crate::engine::tenant::Tenant;
use sha2::{Digest, Sha256};
use std::sync::Arc;

impl OneShot {
    /// Creates a request of `tenant`, dated by the tenant's clock.
    pub fn create(&self, tenant: &Tenant, new: NewRequest) -> SignatureRequest {
        let pk = self.engine.ids.next_pk();
        let now = self.engine.now(tenant);
        let status = match (&new.video, &new.approved_by) {
            (Some(_), _) => Status::VideoPending,
            (None, Some(_)) => Status::EnrollReady,
            (None, None) => Status::Created,
        };
        let video = new.video.as_ref().map(|video| VideoId {
            videoid_pk: self.next_videoid.next(),
            webhook_url: video.webhook_url.clone(),
            recording: None,
            refusal_reason: None,
        });
        let contract = documents::keep_vec(contract_pdf(pk, &new, now));
        let request = SignatureRequest {
            pk,
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
        tenant: &Tenant,
        new: NewRequest,
        requested: Option<&str>,
    ) -> Result<SignatureRequest, String> {
        let scenario = self
            .engine
            .scenarios
            .choose(&tenant.provider, requested, |field| new.person.field(field))?;
        let created = self.create(tenant, new);
        self.engine
            .assign_scenario(tenant, &created.pk.to_string(), scenario);
        Ok(created)
    }

    pub(super) fn record(
        &self,
        request: &SignatureRequest,
        tenant: &Tenant,
        kind: &str,
        text: String,
    ) {
        self.engine
            .record(tenant, &request.pk.to_string(), kind, text);
    }

    /// Moves `request` by `event` as the transition table allows, recording the change.
    pub(super) fn apply(
        &self,
        tenant: &Tenant,
        request: &mut SignatureRequest,
        event: Event,
    ) -> Result<(), OneShotError> {
        let to = transition(request.status, event)?;
        self.set_status(tenant, request, to);
        Ok(())
    }

    /// Sets the status, records it and queues the change for the surface's listener
    /// (called under the request's lock; `update` tells the listener after it).
    fn set_status(&self, tenant: &Tenant, request: &mut SignatureRequest, to: Status) {
        let from = request.status;
        if to == from {
            return;
        }
        request.status = to;
        self.engine.record_status(
            tenant,
            &request.pk.to_string(),
            StatusChange::moved(from.as_str(), to.as_str()),
            format!("status {from} → {to}"),
        );
        let change = StatusNotice {
            tenant: tenant.clone(),
            pk: request.pk,
            registration_authority: request.registration_authority,
            from,
            to,
            at: self.engine.now(tenant),
            callback: request
                .video
                .as_ref()
                .and_then(|v| v.webhook_url.clone())
                .or_else(|| request.callback.clone()),
        };
        self.lock_changes().push(change);
    }

    /// Tells the listeners the changes queued so far; never called under a store lock.
    fn notify_changes(&self) {
        let changes = std::mem::take(&mut *self.lock_changes());
        for change in changes {
            let provider = change.tenant.provider.as_str();
            let listener = self.listeners.get(provider).map(|l| l.value().clone());
            if let Some(listener) = listener {
                listener(change);
            }
        }
    }

    fn lock_changes(&self) -> std::sync::MutexGuard<'_, Vec<StatusNotice>> {
        self.changes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The scenario effects for `operation` on request `pk` of `tenant`. A
    /// scripted transition is scheduled here on the virtual clock (`Engine::script_transition`:
    /// one past the year 9999 never fires) and applied by the `STATUS_TIMER` handler `new`
    /// registers; the HTTP side (latency, scripted answers) is the surface's to act out. A
    /// transition to ISSUED is not forced: it is when an asynchronous signature completes,
    /// which `sign_later` schedules, so no timer is set for it.
    pub fn scripted(self: &Arc<Self>, tenant: &Tenant, pk: u64, operation: &str) -> Applied {
        let engine = &self.engine;
        let id = pk.to_string();
        let applied = engine.scenarios.on(tenant, &id, operation);
        let forced = applied
            .transition
            .as_ref()
            .filter(|t| t.to != Status::Issued.as_str());
        if let Some(transition) = forced {
            engine.script_transition(tenant, &id, transition, STATUS_TIMER);
        }
        applied
    }

    /// Moves a request to `to` whatever its status, as a scenario scripts it.
    pub fn force_status(&self, tenant: &Tenant, pk: u64, to: Status) -> Result<(), OneShotError> {
        self.update(tenant, pk, |request| {
            self.set_status(tenant, request, to);
            Ok(())
        })
    }

    pub fn get(&self, tenant: &Tenant, pk: u64) -> Result<SignatureRequest, OneShotError> {
        self.requests
            .get(tenant, &pk)
            .ok_or(OneShotError::RequestNotFound(pk))
    }

    /// Applies `f` to the stored request under its lock.
    pub(super) fn update<R>(
        &self,
        tenant: &Tenant,
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

    pub fn approve(&self, tenant: &Tenant, pk: u64, rao: &str) -> Result<(), OneShotError> {
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
    pub fn cancel(&self, tenant: &Tenant, pk: u64) -> Result<(), OneShotError> {
        self.requests
            .remove(tenant, &pk)
            .map(|_| ())
            .ok_or(OneShotError::RequestNotFound(pk))
    }

    pub fn add_documents(
        &self,
        tenant: &Tenant,
        pk: u64,
        uploads: Vec<NewDocument>,
    ) -> Result<Vec<Document>, OneShotError> {
        let now = self.engine.now(tenant);
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
        tenant: &Tenant,
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

    pub fn delete_documents(&self, tenant: &Tenant, pk: u64) -> Result<(), OneShotError> {
        self.update(tenant, pk, |request| {
            request.documents.clear();
            Ok(())
        })
    }

    /// Generates a six-digit OTP and "sends" it to the signer's phone.
    pub fn generate_otp(
        &self,
        tenant: &Tenant,
        pk: u64,
        options: OtpOptions,
    ) -> Result<(), OneShotError> {
        let now = self.engine.now(tenant);
        let channel = options.channel;
        let code = self.engine.ids.otp(6);
        let phone = self.update(tenant, pk, |request| {
            self.apply(tenant, request, Event::GenerateOtp)?;
            if otp::too_soon(request.otp.as_ref(), now) {
                return Err(OneShotError::OtpTooSoon);
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
            Ok(request.person.mobile_phone_number.clone())
        })?;
        if !options.deliver {
            self.engine.record(
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
                tenant: tenant.clone(),
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
}
