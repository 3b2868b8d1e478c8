//! The process operations with their engine effects: links to the outbox, expiry on the
//! entity's virtual clock, short-lived document URLs, stable paging and labels. Every
//! operation takes the entity (`Tenant`) whose process it is; its time is that tenant's
//! (`Engine::now(tenant)`). The signer's act is in `signing.rs`.

mod signing;

use super::model::{
    Act, EntityConfig, Event, FileLink, Label, Link, LinkTarget, ModelError, Process, SignerChange,
    Status,
};
use super::{IdentiaSign, EXPIRY_TIMER, SLUG};
use crate::engine::acts::StatusChange;
use crate::engine::outbox::Outgoing;
use crate::engine::scenarios::Applied;
use crate::engine::tenant::Tenant;
use crate::engine::{add_seconds, seconds, Engine};
use bytes::Bytes;
use std::sync::Arc;
use time::OffsetDateTime;

/// How long a document URL works, as the docs say (120 seconds).
pub const FILE_URL_SECONDS: u64 = 120;

/// The links a create or notify call hands out: the process's, and one per signer.
pub struct Handed {
    pub link: String,
    pub per_signer: Vec<(String, String)>,
}

/// Which processes a listing wants.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
    pub status: Option<Status>,
    /// Resume after this process (the `last_item` of a partial page).
    pub after: Option<u64>,
}

/// A page of a listing; `more` when matching processes remain after it.
pub struct Page {
    pub processes: Vec<Process>,
    pub more: bool,
}

impl IdentiaSign {
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn config(&self, tenant: &Tenant) -> EntityConfig {
        self.configs.get(tenant, &()).unwrap_or_default()
    }

    pub fn set_config(&self, tenant: &Tenant, config: EntityConfig) {
        self.configs.insert(tenant, (), config);
    }

    /// The next creation number, for stable paging.
    pub fn next_seq(&self) -> u64 {
        self.seq.next()
    }

    /// The process, after moving it to `expired` if its time is up.
    pub fn get(&self, tenant: &Tenant, id: &str) -> Result<Process, ModelError> {
        self.update(tenant, id, |process| Ok(process.clone()))
    }

    /// Runs `f` under the process's lock, after the expiry check.
    pub fn update<R>(
        &self,
        tenant: &Tenant,
        id: &str,
        f: impl FnOnce(&mut Process) -> Result<R, ModelError>,
    ) -> Result<R, ModelError> {
        let now = self.engine.now(tenant);
        let (expired, result) = self
            .processes
            .update(tenant, &id.to_owned(), |process| {
                let expired = process.expire_if_due(now);
                (expired, f(process))
            })
            .ok_or_else(|| ModelError::ProcessNotFound(id.to_owned()))?;
        if expired {
            let change = StatusChange::moved(Status::Pending.as_str(), Status::Expired.as_str());
            self.engine
                .record_status(tenant, id, change, "pending → expired");
        }
        result
    }

    /// Stores a new process and hands out its links (to the outbox too, unless the scenario
    /// holds messages back). `link_expire` is in seconds from now.
    pub fn create(
        &self,
        tenant: &Tenant,
        mut process: Process,
        link_expire: u64,
        applied: &Applied,
    ) -> Result<Handed, ModelError> {
        let now = self.engine.now(tenant);
        if let Some(after) = applied.expiry_seconds {
            process.expires_at = add_seconds(now, after);
        }
        let id = process.id.clone();
        let expires_at = process.expires_at;
        self.processes.insert(tenant, id.clone(), process);
        // Kind `status` (not `created`), as the timeline has always shown it.
        self.engine.record_status(
            tenant,
            &id,
            StatusChange::created(Status::Pending.as_str()),
            "process created in status pending",
        );
        self.set_expiry_timer(tenant, &id, expires_at);
        self.hand_out(tenant, &id, link_expire, applied.deliver)
    }

    /// New links for the process, valid `link_expire` seconds, sent to every signer with
    /// contact information who has not acted yet.
    pub fn hand_out(
        &self,
        tenant: &Tenant,
        id: &str,
        link_expire: u64,
        deliver: bool,
    ) -> Result<Handed, ModelError> {
        let now = self.engine.now(tenant);
        let expires_at = add_seconds(now, link_expire);
        let shared = self.engine.secrets.hex(8);
        let process = self.update(tenant, id, |process| {
            process.apply(Event::Notify)?;
            process.links.push(Link {
                code: shared.clone(),
                expires_at,
            });
            for signer in &mut process.signers {
                let code = self.engine.secrets.hex(8);
                process.links.push(Link {
                    code: code.clone(),
                    expires_at,
                });
                signer.link = Some(code);
            }
            Ok(process.clone())
        })?;
        let target = |signer: Option<String>| LinkTarget {
            process: id.to_owned(),
            signer,
        };
        self.links.insert_as(tenant, shared.clone(), target(None));
        let msg_list = self.config(tenant).msg_list;
        let mut per_signer = Vec::new();
        let mut notified = Vec::new();
        for signer in &process.signers {
            let Some(code) = &signer.link else { continue };
            self.links
                .insert_as(tenant, code.clone(), target(Some(signer.key())));
            let own = self.signing_url(id, code);
            per_signer.push((signer.key(), own.clone()));
            let Some(contact) = &signer.contact else {
                continue;
            };
            if !deliver || signer.act.is_some() {
                continue;
            }
            let link = if msg_list {
                own
            } else {
                self.signing_url(id, &shared)
            };
            self.engine.send_about(
                id,
                Outgoing {
                    tenant: tenant.clone(),
                    channel: contact.channel,
                    to: contact.value.clone(),
                    text: format!(
                        "IdentiaSign: tiene documentos por firmar ({}): {link}",
                        process.description
                    ),
                    otp: None,
                    link: Some(link),
                },
            );
            notified.push(signer.key());
        }
        self.update(tenant, id, |process| {
            for signer in &mut process.signers {
                let key = signer.key();
                if let Some(contact) = signer.contact.as_mut() {
                    if notified.contains(&key) {
                        contact.notified = true;
                    }
                }
            }
            Ok(())
        })?;
        Ok(Handed {
            link: self.signing_url(id, &shared),
            per_signer,
        })
    }

    /// Fires the expiry when the clock passes it, so that it shows in the timeline even if
    /// nobody reads the process.
    fn set_expiry_timer(&self, tenant: &Tenant, id: &str, at: OffsetDateTime) {
        self.engine.timers.at(at, tenant, EXPIRY_TIMER, id);
    }

    /// A scenario's scripted status; `signed` needs signatures and is not forced.
    pub fn force_status(&self, tenant: &Tenant, id: &str, to: Status) {
        if to == Status::Signed {
            return;
        }
        let moved = self.update(tenant, id, |process| {
            let from = process.status;
            process.status = to;
            Ok(from)
        });
        if let Ok(from) = moved {
            let change = StatusChange::moved(from.as_str(), to.as_str());
            let text = format!("by the scenario: {from} → {to}");
            self.engine.record_status(tenant, id, change, text);
        }
    }

    pub fn signing_url(&self, id: &str, code: &str) -> String {
        self.engine.link(&format!(
            "/_signsim/{SLUG}/ui/signature_processes/{}.{}",
            crate::ui::path_segment(id),
            crate::ui::path_segment(code)
        ))
    }

    /// The tenant and target of a signing link code.
    pub fn link_target(&self, code: &str) -> Option<(Tenant, LinkTarget)> {
        self.links.get(code)
    }

    /// One page of the tenant's processes in creation order, at most `limit` long.
    pub fn list(&self, tenant: &Tenant, filter: &Filter, limit: usize) -> Page {
        let mut all: Vec<Process> = self
            .processes
            .entries(tenant)
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        all.sort_by_key(|p| p.seq);
        let mut matching = all.into_iter().filter(|p| {
            filter.after.is_none_or(|after| p.seq > after)
                && filter.start.is_none_or(|start| p.created_at >= start)
                && filter.end.is_none_or(|end| p.created_at <= end)
        });
        let mut processes = Vec::new();
        let mut more = false;
        for process in matching.by_ref() {
            // Reading expires what is due, as a GET of one process would.
            let Ok(process) = self.get(tenant, &process.id) else {
                continue;
            };
            if filter.status.is_some_and(|s| s != process.status) {
                continue;
            }
            if processes.len() == limit {
                more = true;
                break;
            }
            processes.push(process);
        }
        Page { processes, more }
    }

    /// The description or signers change; only while pending.
    pub fn modify(
        &self,
        tenant: &Tenant,
        id: &str,
        description: Option<String>,
        changes: Vec<SignerChange>,
    ) -> Result<bool, ModelError> {
        let completed = self.update(tenant, id, |process| {
            process.apply(Event::Modify)?;
            let mut next = process.clone();
            if let Some(description) = description {
                next.description = description;
            }
            for change in changes {
                match change {
                    SignerChange::Update {
                        key,
                        alias,
                        stamp_positions,
                        contact,
                    } => {
                        let signer = next.signer_mut(&key)?;
                        if let Some(alias) = alias {
                            signer.alias = Some(alias);
                        }
                        if let Some(positions) = stamp_positions {
                            signer.stamp_positions = positions;
                        }
                        if let Some(contact) = contact {
                            signer.contact = Some(contact);
                        }
                    }
                    SignerChange::Remove { key } => {
                        if next.signer(&key)?.signed() {
                            return Err(ModelError::SignedSignerRemoved(key));
                        }
                        next.signers.retain(|s| s.key() != key);
                        if next.signers.is_empty() {
                            return Err(ModelError::NoSignersLeft);
                        }
                    }
                }
            }
            *process = next;
            Ok(process.all_signed())
        })?;
        self.engine
            .record(tenant, id, "modified", "process modified");
        // Removing the only signer still to sign completes the process.
        if completed {
            self.complete(tenant, id)?;
        }
        Ok(completed)
    }

    /// `DELETE /api/signature_processes`, or a signer's rejection.
    pub fn reject(&self, tenant: &Tenant, id: &str, by: Option<&str>) -> Result<(), ModelError> {
        let now = self.engine.now(tenant);
        let process = self.update(tenant, id, |process| {
            if let Some(key) = by {
                if process.signer(key)?.act.is_some() {
                    return Err(ModelError::AlreadyActed(key.to_owned()));
                }
            }
            process.apply(Event::Reject)?;
            if let Some(key) = by {
                process.signer_mut(key)?.act = Some((Act::Reject, now));
            }
            Ok(process.clone())
        })?;
        let who = by.map_or("the client".to_owned(), |key| format!("signer {key}"));
        self.engine.record_status(
            tenant,
            id,
            StatusChange::moved(Status::Pending.as_str(), Status::Rejected.as_str()),
            format!("by {who}: pending → rejected"),
        );
        // The signers conclude the process: the callback reports it.
        if by.is_some() {
            self.callback(tenant, &process);
        }
        Ok(())
    }

    /// A URL for a document of a process, valid 120 s of the virtual clock; none once the
    /// process has expired ("only while the folio is still available").
    pub fn file_url(&self, tenant: &Tenant, process: &Process, index: usize) -> Option<String> {
        if process.status == Status::Expired {
            return None;
        }
        let token = self.engine.secrets.hex(16);
        Some(self.grant_file(tenant, process, index, token))
    }

    /// Keeps `token` as a link to document `index` of `process` for `FILE_URL_SECONDS` of
    /// the tenant's clock; its URL.
    fn grant_file(
        &self,
        tenant: &Tenant,
        process: &Process,
        index: usize,
        token: String,
    ) -> String {
        let link = FileLink {
            process: process.id.clone(),
            index,
            expires_at: self.engine.after(tenant, seconds(FILE_URL_SECONDS)),
        };
        let url = self.engine.link(&format!(
            "/_signsim/{SLUG}/files/{}",
            crate::ui::path_segment(&token)
        ));
        self.files.insert_as(tenant, token, link);
        url
    }

    /// `file_url` for the resource page: the same URL for the same document while it is
    /// valid (its token is derived under the engine's secret key, not drawn, so that
    /// looking at a page does not change what a seeded run hands out next).
    pub fn page_file_url(
        &self,
        tenant: &Tenant,
        process: &Process,
        index: usize,
    ) -> Option<String> {
        if process.status == Status::Expired || index >= process.documents.len() {
            return None;
        }
        let token = self.engine.secret_token(
            "identiasign page file",
            &[&tenant.name, &process.id, &index.to_string()],
        );
        Some(self.grant_file(tenant, process, index, token))
    }

    /// The tenant and document a document URL's token leads to.
    pub fn file_link(&self, token: &str) -> Option<(Tenant, FileLink)> {
        self.files.get(token)
    }

    /// The current bytes and name of a document.
    pub fn file(&self, tenant: &Tenant, link: &FileLink) -> Option<(Bytes, String)> {
        let process = self.get(tenant, &link.process).ok()?;
        let document = process.documents.get(link.index)?;
        Some((document.bytes.clone(), document.name.clone()))
    }

    pub fn labels(&self, tenant: &Tenant) -> Vec<Label> {
        let mut labels: Vec<Label> = self
            .labels
            .entries(tenant)
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        // Descending alphabetical order, as the docs say.
        labels.sort_by(|a, b| b.label.cmp(&a.label));
        labels
    }

    pub fn label_exists(&self, tenant: &Tenant, label: &str) -> bool {
        self.labels.contains(tenant, &label.to_owned())
    }

    /// Creates the label, or changes it when it exists; true when it was created.
    pub fn put_label(&self, tenant: &Tenant, label: Label) -> bool {
        let created = !self.label_exists(tenant, &label.label);
        self.labels.insert(tenant, label.label.clone(), label);
        created
    }

    pub fn delete_label(&self, tenant: &Tenant, label: &str) -> bool {
        self.labels.remove(tenant, &label.to_owned()).is_some()
    }
}
