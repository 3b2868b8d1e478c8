//! The timeline of each resource in its provider's own terms ("OTP sent", "status
//! ENROLLREADY → ISSUED", "webhook attempt 3 answered 500"), so a test can assert what
//! happened without parsing the raw request journal.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// One resource as the dashboard lists it, derived from its events.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub provider: String,
    pub tenant: String,
    pub id: String,
    /// Its status as its latest `status` event says (`ISSUED`, `completed`), else the
    /// kind of its first event.
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When its latest event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Its latest event's text.
    pub last: String,
}

/// What a `status` event's text says the status now is: the part after the arrow of
/// "status A → B" or "A → B", the status of "created in status X", else the text.
pub fn status_of(text: &str) -> &str {
    if let Some((_, to)) = text.rsplit_once('→') {
        return to.trim();
    }
    if let Some((_, status)) = text.rsplit_once(" in status ") {
        return status.trim();
    }
    text.trim()
}

#[derive(Debug, Default, Clone, Deserialize)]
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

    /// Every resource with events matching `filter` (its `id` ignored), the most recently
    /// changed first. The webhook dispatcher's attempts do not count as changes.
    pub fn resources(&self, filter: &EventFilter) -> Vec<Resource> {
        let mut found: Vec<Resource> = Vec::new();
        let mut index: std::collections::HashMap<(String, String, String), usize> =
            std::collections::HashMap::new();
        let all = EventFilter {
            id: None,
            ..filter.clone()
        };
        for event in self.list(&all) {
            let key = (
                event.provider.clone(),
                event.tenant.clone(),
                event.id.clone(),
            );
            let position = *index.entry(key).or_insert_with(|| {
                found.push(Resource {
                    provider: event.provider.clone(),
                    tenant: event.tenant.clone(),
                    id: event.id.clone(),
                    status: event.kind.clone(),
                    created_at: event.at,
                    updated_at: event.at,
                    last: event.text.clone(),
                });
                found.len() - 1
            });
            let Some(resource) = found.get_mut(position) else {
                continue;
            };
            if event.kind == "status"
                || (event.kind == "created" && event.text.contains(" in status "))
            {
                resource.status = status_of(&event.text).to_owned();
            }
            if event.kind != "webhook" {
                resource.updated_at = event.at;
                resource.last = event.text.clone();
            }
        }
        // Stable: resources changed at the same instant keep newest-created first.
        found.reverse();
        found.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
        found
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

impl super::state::Persist for Events {
    fn snapshot(&self) -> Box<dyn super::state::file::Snapshot> {
        Box::new(self.lock().clone())
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        *self.lock() = super::state::parse(json)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_of_reads_the_texts_providers_record() {
        use super::status_of;
        assert_eq!(status_of("status ENROLLREADY → ISSUED"), "ISSUED");
        assert_eq!(status_of("submitted → expired"), "expired");
        assert_eq!(status_of("created in status VIDEOPENDING"), "VIDEOPENDING");
        assert_eq!(status_of("envelope created"), "envelope created");
    }
}
