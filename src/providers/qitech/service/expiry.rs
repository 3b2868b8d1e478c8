//! Where QI Tech envelopes expire. A submitted envelope expires when the clock passes its
//! `expires_at` (its `expiration_date`'s deadline, or a scenario's `expiry_seconds`; the
//! move itself is the model's `Envelope::expire_if_due`). Every read or change of an
//! envelope goes through `update`, which expires it first; and a timer at the deadline
//! reads it, so that the expiry shows in the timeline even if nobody asks.

use crate::engine::acts::StatusChange;
use crate::engine::tenant::Tenant;
use crate::engine::Engine;
use crate::providers::qitech::model::{Envelope, ModelError, Status};
use crate::providers::qitech::QiTech;
use std::sync::Weak;

/// An envelope's expiry, so that it shows in the timeline when the clock passes it even
/// if nobody reads the envelope: its id.
const EXPIRY_TIMER: &str = "qitech.expire";

/// Registers what the expiry timer does when due: read the envelope, which expires it
/// (on the clock of the tenant that set the timer).
pub fn on_expiry(engine: &Engine, model: Weak<QiTech>) {
    engine
        .timers
        .on_model(EXPIRY_TIMER, model, |model, tenant, id| {
            model.get(tenant, id).ok();
        });
}

impl QiTech {
    /// The envelope, after moving it to `expired` if its deadline passed.
    pub fn get(&self, tenant: &Tenant, id: &str) -> Result<Envelope, ModelError> {
        self.update(tenant, id, |envelope| Ok(envelope.clone()))
    }

    /// Runs `f` under the envelope's lock, after the expiry check.
    pub fn update<R>(
        &self,
        tenant: &Tenant,
        id: &str,
        f: impl FnOnce(&mut Envelope) -> Result<R, ModelError>,
    ) -> Result<R, ModelError> {
        let now = self.engine.now(tenant);
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
                .record_status(tenant, id, change, "submitted → expired");
        }
        result
    }

    /// Fires the expiry at the deadline on the tenant's clock, so that it shows in the
    /// timeline when the clock passes it even if nobody reads the envelope.
    pub(super) fn expire_later(&self, tenant: &Tenant, envelope: &Envelope) {
        let due = crate::engine::later(envelope.expires_at, time::Duration::seconds(1));
        self.engine
            .timers
            .at(due, tenant, EXPIRY_TIMER, envelope.id.clone());
    }
}
