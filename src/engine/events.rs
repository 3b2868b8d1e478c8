//! The timeline of each resource in its provider's own terms ("OTP sent", "status
//! ENROLLREADY → ISSUED", "webhook attempt 3 answered 500"), so a test can assert what
//! happened without parsing the raw request journal.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub provider: String,
    pub tenant: String,
    /// The resource's id as the provider shows it (a request pk, an envelope id, ...).
    pub id: String,
    /// A short machine-friendly kind: `created`, `otp_sent`, `status`, `signed`, `webhook`.
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct EventFilter {
    pub provider: Option<String>,
    pub id: Option<String>,
    pub tenant: Option<String>,
}

#[derive(Default)]
pub struct Events {
    events: Mutex<Vec<Event>>,
}

impl Events {
    pub fn push(&self, event: Event) {
        super::push_bounded(&mut self.lock(), event);
    }

    pub fn list(&self, filter: &EventFilter) -> Vec<Event> {
        self.lock()
            .iter()
            .filter(|e| filter.provider.as_deref().is_none_or(|p| e.provider == p))
            .filter(|e| filter.id.as_deref().is_none_or(|id| e.id == id))
            .filter(|e| filter.tenant.as_deref().is_none_or(|t| e.tenant == t))
            .cloned()
            .collect()
    }

    pub fn reset(&self, tenant: Option<&str>) {
        let mut events = self.lock();
        match tenant {
            Some(tenant) => events.retain(|e| e.tenant != tenant),
            None => events.clear(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Event>> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
