//! The request journal: one entry per HTTP call the simulator answered, newest last.
//! Bounded so that a long-running instance does not grow without limit.

use super::bounded::{newest_first, Page, Paging};
use super::tenant::Tenants;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Mutex;
use time::OffsetDateTime;

const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalEntry {
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The provider slug the path belongs to (`uanataca`, ...), or `_signsim`.
    pub provider: String,
    pub tenant: Option<String>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub duration_ms: f64,
}

/// Whom an admin call acted for, when the path alone does not say: an admin act or a page
/// act names its resource, and so its provider and tenant, only in its body or its link.
/// The handler puts this in its response's extensions; the dispatch service journals the
/// call under it.
#[derive(Debug, Clone)]
pub struct ActedFor(pub super::tenant::Tenant);

#[derive(Debug, Default, Deserialize)]
pub struct JournalFilter {
    pub provider: Option<String>,
    pub tenant: Option<String>,
}

impl JournalFilter {
    fn matches(&self, e: &JournalEntry) -> bool {
        self.provider.as_deref().is_none_or(|p| e.provider == p)
            && self
                .tenant
                .as_deref()
                .is_none_or(|t| e.tenant.as_deref() == Some(t))
    }
}

#[derive(Default)]
pub struct Journal {
    entries: Mutex<(u64, VecDeque<JournalEntry>)>,
}

impl Journal {
    /// Records an entry, numbering it; `seq` of the argument is ignored.
    pub fn record(&self, mut entry: JournalEntry) {
        let mut guard = self.lock();
        let (next_seq, entries) = &mut *guard;
        // Saturating: restored at most `MAX_RESTORED` (`restore`), so never reached.
        *next_seq = next_seq.saturating_add(1);
        entry.seq = *next_seq;
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn list(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        self.lock()
            .1
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect()
    }

    /// The newest `paging.limit` calls matching `filter` older than `paging.before` (a
    /// `seq`), newest first, walked from the newest end.
    pub fn page(&self, filter: &JournalFilter, paging: Paging) -> Page<JournalEntry> {
        let guard = self.lock();
        let entries = &guard.1;
        let end = paging
            .before
            .map_or(entries.len(), |b| entries.partition_point(|e| e.seq < b));
        newest_first(
            entries.range(..end),
            paging.limit,
            |e| e.seq,
            |e| filter.matches(e),
        )
    }

    /// Forgets `tenants`' calls (every call, those of no tenant too, when `tenants` is all).
    pub fn reset(&self, tenants: &Tenants) {
        let mut guard = self.lock();
        if tenants.is_all() {
            guard.1 = VecDeque::new();
            return;
        }
        guard.1.retain(|e| {
            !e.tenant
                .as_deref()
                .is_some_and(|name| tenants.contains(&e.provider, name))
        });
        guard.1.shrink_to_fit();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, VecDeque<JournalEntry>)> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The journal is saved too (at most `CAPACITY` short entries), numbering on from where it
/// was.
impl super::persist::Persist for Journal {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        Box::new(self.lock().clone())
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let (next_seq, entries): (u64, VecDeque<JournalEntry>) = super::persist::parse(json)?;
        let next_seq = super::state::checked_counter("seq", next_seq)?;
        *self.lock() = (next_seq, entries);
        Ok(())
    }
}
