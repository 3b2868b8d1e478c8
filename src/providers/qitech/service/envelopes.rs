//! The changes of an envelope outside signing, with their timeline events: creation,
//! documents and identification documents added, cancellation, a scenario's scripted
//! status.

use crate::engine::acts::StatusChange;
use crate::engine::tenant::Tenant;
use crate::providers::qitech::model::{
    Document, Envelope, Event, ModelError, PersonalDocument, Status,
};
use crate::providers::qitech::QiTech;

impl QiTech {
    pub fn create(&self, tenant: &Tenant, envelope: Envelope) -> Result<(), ModelError> {
        let id = envelope.id.clone();
        if !self.envelopes.insert_new(tenant, id.clone(), envelope) {
            return Err(ModelError::DuplicateEnvelope(id));
        }
        let change = StatusChange::created(Status::Created.as_str());
        self.engine
            .record_status(tenant, &id, change, "envelope created");
        Ok(())
    }

    pub fn add_document(
        &self,
        tenant: &Tenant,
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
            tenant,
            id,
            "document",
            format!("document {} added", added.id),
        );
        Ok(added)
    }

    /// Adds (or replaces) a signer's identification document of one template.
    pub fn add_personal_document(
        &self,
        tenant: &Tenant,
        id: &str,
        signer_id: &str,
        document: PersonalDocument,
    ) -> Result<PersonalDocument, ModelError> {
        let added = self.update(tenant, id, |envelope| {
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
        })?;
        self.engine.record(
            tenant,
            id,
            "document",
            format!("{} added for signer {signer_id}", added.template.as_str()),
        );
        Ok(added)
    }

    pub fn cancel(&self, tenant: &Tenant, id: &str) -> Result<(), ModelError> {
        let from = self.update(tenant, id, |envelope| {
            let from = envelope.status;
            envelope.apply(Event::Cancel)?;
            Ok(from)
        })?;
        let change = StatusChange::moved(from.as_str(), Status::Canceled.as_str());
        self.engine
            .record_status(tenant, id, change, format!("{from} → canceled"));
        Ok(())
    }

    /// A scenario's scripted status; `completed` needs signatures and is not forced.
    pub fn force_status(&self, tenant: &Tenant, id: &str, to: Status) {
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
            self.engine.record_status(tenant, id, change, text);
        }
    }
}
