//! The timeline of each resource in its provider's own terms ("OTP sent", "status
//! ENROLLREADY → ISSUED", "webhook attempt 3 answered 500"), so a test can assert what
//! happened without parsing the raw request journal.

use super::bounded::{Page, Paging};
use super::indexed::{IndexedLog, Keyed};
use super::tenant::Tenants;
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
    /// For people, in the provider's terms ("status ENROLLREADY → ISSUED").
    pub text: String,
    /// The status before, on a `status` event (`Engine::record_status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The status after, on a `status` event and on a `created` event that names the
    /// status the resource was created in (`Engine::record_created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Its place in the log, numbered as appended: the cursor of a page (`Events::page`,
    /// `Events::resources_page`). Not part of the JSON.
    #[serde(skip)]
    pub seq: u64,
}

/// One resource as the dashboard lists it, derived from its events.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub provider: String,
    pub tenant: String,
    pub id: String,
    /// Its status as its latest status change says (the event's typed `to`: `ISSUED`,
    /// `completed`), else the kind of its first event.
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When its latest event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Its latest event's text.
    pub last: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct EventFilter {
    pub provider: Option<String>,
    pub id: Option<String>,
    pub tenant: Option<String>,
}

impl EventFilter {
    fn matches(&self, e: &Event) -> bool {
        self.provider.as_deref().is_none_or(|p| e.provider == p)
            && self.id.as_deref().is_none_or(|id| e.id == id)
            && self.tenant.as_deref().is_none_or(|t| e.tenant == t)
    }
}

/// The events, indexed by resource id so that a resource's timeline (`?id=`) costs the
/// same with 100 events held as with 100,000.
#[derive(Default)]
pub struct Events {
    events: Mutex<IndexedLog<Event>>,
}

impl Keyed for Event {
    fn key(&self) -> &str {
        &self.id
    }

    fn tenant(&self) -> &str {
        &self.tenant
    }

    fn seq(&self) -> u64 {
        self.seq
    }

    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}

impl Events {
    /// Appends `event`, numbering it (its `seq` is ignored).
    pub fn push(&self, event: Event) {
        self.lock().push(event);
    }

    /// Events matching every given filter, oldest first. With an `id`, only that id's
    /// events (in the tenant, when named) are looked at.
    pub fn list(&self, filter: &EventFilter) -> Vec<Event> {
        let log = self.lock();
        let keep = |e: &&Event| filter.matches(e);
        match filter.id.as_deref() {
            Some(id) => log
                .with_key(id, filter.tenant.as_deref())
                .filter(keep)
                .cloned()
                .collect(),
            None => log.all().filter(keep).cloned().collect(),
        }
    }

    /// The newest `paging.limit` events matching `filter` older than `paging.before`,
    /// newest first, walked from the newest end (through the index, with an `id`).
    pub fn page(&self, filter: &EventFilter, paging: Paging) -> Page<Event> {
        let log = self.lock();
        let keep = |e: &Event| filter.matches(e);
        match filter.id.as_deref() {
            Some(id) => log.page_with_key(id, filter.tenant.as_deref(), paging, keep),
            None => log.page(paging, keep),
        }
    }

    /// A page of the resources with events matching `filter` (its `id` ignored), the most
    /// recently changed first (by the order their latest change was recorded in; the
    /// dispatcher's webhook attempts are not changes). The cursor is the `seq` of the
    /// latest change of the page's last resource.
    ///
    /// Walked from the newest event back until the page is full and each of its
    /// resources has its status, so the first page costs what its resources' recent
    /// events do, whatever the log holds. A later page walks past the newer pages' events
    /// too (it must know which resources they showed).
    pub fn resources_page(&self, filter: &EventFilter, paging: Paging) -> Page<Resource> {
        type Key<'a> = (&'a str, &'a str, &'a str);
        let log = self.lock();
        let before = paging.before.unwrap_or(u64::MAX);
        // Every resource met so far, by whether it is on this page (its index) or not.
        let mut met: std::collections::HashMap<Key, Option<usize>> =
            std::collections::HashMap::new();
        let mut found: Vec<(Resource, u64, bool)> = Vec::new();
        let mut unresolved = 0usize;
        let mut older = None;
        let all = EventFilter {
            id: None,
            ..filter.clone()
        };
        for event in log.all().rev() {
            let full = found.len() >= paging.limit;
            if full && unresolved == 0 && older.is_some() {
                break;
            }
            if !all.matches(event) {
                continue;
            }
            let key: Key = (&event.provider, &event.tenant, &event.id);
            match met.get(&key).copied() {
                Some(Some(index)) => {
                    let Some((resource, _, resolved)) = found.get_mut(index) else {
                        continue;
                    };
                    resource.created_at = event.at;
                    if !*resolved {
                        if let Some(to) = &event.to {
                            resource.status.clone_from(to);
                            *resolved = true;
                            unresolved = unresolved.saturating_sub(1);
                        } else {
                            // Without any typed status: the kind of its first event.
                            resource.status.clone_from(&event.kind);
                        }
                    }
                }
                Some(None) => {}
                None if event.kind == "webhook" => {}
                None => {
                    let on_page = event.seq < before && !full;
                    if event.seq < before && full && older.is_none() {
                        older = found.last().map(|(_, seq, _)| *seq);
                    }
                    met.insert(key, on_page.then_some(found.len()));
                    if on_page {
                        let resolved = event.to.is_some();
                        if !resolved {
                            unresolved = unresolved.saturating_add(1);
                        }
                        found.push((
                            Resource {
                                provider: event.provider.clone(),
                                tenant: event.tenant.clone(),
                                id: event.id.clone(),
                                status: event.to.clone().unwrap_or_else(|| event.kind.clone()),
                                created_at: event.at,
                                updated_at: event.at,
                                last: event.text.clone(),
                            },
                            event.seq,
                            resolved,
                        ));
                    }
                }
            }
        }
        Page {
            entries: found.into_iter().map(|(r, _, _)| r).collect(),
            older,
        }
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
            if let Some(to) = &event.to {
                resource.status.clone_from(to);
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

    /// Forgets `tenants`' events, giving back the room they took (`IndexedLog::retain`).
    pub fn reset(&self, tenants: &Tenants) {
        self.lock()
            .retain(|e| !tenants.contains(&e.provider, &e.tenant));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IndexedLog<Event>> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl super::persist::Persist for Events {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        let copy: Vec<Event> = self.lock().all().cloned().collect();
        Box::new(copy)
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        // Numbered afresh (`IndexedLog::of`): a cursor names an event of this run only.
        *self.lock() = IndexedLog::of(super::persist::parse(json)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, kind: &str, text: &str, to: Option<&str>) -> Event {
        Event {
            at: OffsetDateTime::now_utc(),
            provider: "demo".into(),
            tenant: "t".into(),
            id: id.into(),
            kind: kind.into(),
            text: text.into(),
            from: None,
            to: to.map(str::to_owned),
            seq: 0,
        }
    }

    #[test]
    fn a_resource_status_is_the_typed_to_never_the_text() {
        let events = Events::default();
        events.push(event("a", "status", "envelope created", Some("created")));
        events.push(event(
            "b",
            "created",
            "created in status VIDEOPENDING",
            None,
        ));
        events.push(event("a", "signed", "status X → Y, in the text only", None));
        let resources = events.resources(&EventFilter::default());
        let status = |id: &str| {
            resources
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.status.clone())
        };
        assert_eq!(status("a").as_deref(), Some("created"));
        // No typed status: the kind of its first event, whatever the text says.
        assert_eq!(status("b").as_deref(), Some("created"));
    }
}
