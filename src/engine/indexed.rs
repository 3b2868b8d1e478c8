//! A bounded log (`LOG_CAPACITY`, the oldest tenth dropped past it) with an index by one
//! key of its entries, so that the lookups a call makes (the outbox by recipient, the
//! events by resource) cost the same with 100 entries held as with 100,000. The index is
//! kept twice: by key, and by key within a tenant, because many tenants use the same keys
//! (every run's OTP goes to the guide's test phone; every tenant has a request 1), and a
//! tenant's lookup must not walk what all the others sent. It also numbers its entries as
//! they come (`seq`, the cursor of a paged list), and pages them newest first.

use super::bounded::{newest_first, Page, Paging, LOG_CAPACITY};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};

/// What an entry is indexed by, and where its number is kept.
pub trait Keyed {
    fn key(&self) -> &str;
    /// The name of the tenant it belongs to.
    fn tenant(&self) -> &str;
    /// Its number in the log (1, 2, ...): the cursor of a paged list.
    fn seq(&self) -> u64;
    fn set_seq(&mut self, seq: u64);
}

/// The entries, oldest first (a ring: evicting the oldest moves nothing else), and where
/// each key's are. An entry's position is `first` +
/// its index in `entries`; `first` grows as the oldest are evicted, so the positions the
/// index holds stay valid without renumbering.
pub struct IndexedLog<T> {
    entries: VecDeque<T>,
    first: u64,
    ///
    /// Both indexes hold a hash of the key rather than the key: no string kept (or
    /// allocated) twice per entry. Two keys may share a hash, so a lookup checks each
    /// entry's own key; the hash is keyed at random per log, so no client can aim its keys
    /// at another's.
    by_key: HashMap<u64, VecDeque<u64>>,
    /// The same positions by the hash of (tenant, key).
    by_tenant_key: HashMap<u64, VecDeque<u64>>,
    hasher: RandomState,
    /// The number of the last entry appended (kept across a reset, so that cursors held
    /// by clients stay in order).
    last_seq: u64,
}

impl<T> Default for IndexedLog<T> {
    fn default() -> Self {
        IndexedLog {
            entries: VecDeque::new(),
            first: 0,
            by_key: HashMap::new(),
            by_tenant_key: HashMap::new(),
            hasher: RandomState::new(),
            last_seq: 0,
        }
    }
}

/// The index hashes of `entry`: of its key, and of its tenant and key.
fn hashes(hasher: &RandomState, entry: &impl Keyed) -> (u64, u64) {
    (
        hasher.hash_one(entry.key()),
        hasher.hash_one((entry.tenant(), entry.key())),
    )
}

/// Drops the oldest position of `hash` (positions are appended in order), and the hash
/// once it has none.
fn forget_oldest(index: &mut HashMap<u64, VecDeque<u64>>, hash: u64) {
    if let Some(positions) = index.get_mut(&hash) {
        positions.pop_front();
        if positions.is_empty() {
            index.remove(&hash);
        }
    }
}

impl<T: Keyed> IndexedLog<T> {
    /// A log holding `entries` (the newest `LOG_CAPACITY` at most), numbered and indexed
    /// afresh: after a restore (a cursor names an entry of this run only).
    pub fn of(entries: Vec<T>) -> Self {
        let mut log = IndexedLog {
            entries: VecDeque::with_capacity(entries.len().min(LOG_CAPACITY)),
            ..IndexedLog::default()
        };
        for entry in entries {
            log.push(entry);
        }
        log
    }

    /// Appends `entry`, numbering it (its own `seq` is ignored).
    pub fn push(&mut self, mut entry: T) {
        self.last_seq = self.last_seq.saturating_add(1);
        entry.set_seq(self.last_seq);
        self.insert(entry);
    }

    /// Appends `entry` as it is numbered, evicting the oldest tenth past the cap.
    fn insert(&mut self, entry: T) {
        if self.entries.len() >= LOG_CAPACITY {
            self.evict(LOG_CAPACITY / 10);
        }
        let position = self.first.saturating_add(self.entries.len() as u64);
        let (key, scoped) = hashes(&self.hasher, &entry);
        self.by_key.entry(key).or_default().push_back(position);
        self.by_tenant_key
            .entry(scoped)
            .or_default()
            .push_back(position);
        self.entries.push_back(entry);
    }

    /// Drops the `count` oldest entries and their index entries (each key's oldest, since
    /// positions are appended in order).
    fn evict(&mut self, count: usize) {
        let count = count.min(self.entries.len());
        for entry in self.entries.drain(..count) {
            let (key, scoped) = hashes(&self.hasher, &entry);
            forget_oldest(&mut self.by_key, key);
            forget_oldest(&mut self.by_tenant_key, scoped);
        }
        self.first = self.first.saturating_add(count as u64);
    }

    /// The entries of `key`, of `tenant` only when named, oldest first, through the index.
    pub fn with_key<'a>(
        &'a self,
        key: &'a str,
        tenant: Option<&'a str>,
    ) -> impl DoubleEndedIterator<Item = &'a T> + 'a {
        let positions = match tenant {
            Some(tenant) => self.by_tenant_key.get(&self.hasher.hash_one((tenant, key))),
            None => self.by_key.get(&self.hasher.hash_one(key)),
        };
        positions
            .into_iter()
            .flatten()
            .filter_map(|position| {
                let index = usize::try_from(position.checked_sub(self.first)?).ok()?;
                self.entries.get(index)
            })
            .filter(move |e| e.key() == key && tenant.is_none_or(|t| e.tenant() == t))
    }

    /// A page of `key`'s entries (of `tenant` only when named) that `keep` accepts, walked
    /// through the index from the newest: a page costs what that key holds past the cursor,
    /// never the whole log.
    pub fn page_with_key(
        &self,
        key: &str,
        tenant: Option<&str>,
        paging: Paging,
        keep: impl Fn(&T) -> bool,
    ) -> Page<T>
    where
        T: Clone,
    {
        let before = paging.before.unwrap_or(u64::MAX);
        let older = self.with_key(key, tenant).filter(|e| e.seq() < before);
        newest_first(older, paging.limit, T::seq, keep)
    }

    /// Every entry, oldest first.
    pub fn all(&self) -> std::collections::vec_deque::Iter<'_, T> {
        self.entries.iter()
    }

    /// Keeps the entries `keep` picks, with their numbers, indexed afresh; the room of
    /// what went is given back (a new log, not a cleared one that keeps its capacity).
    pub fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        let last_seq = self.last_seq;
        let kept: Vec<T> = std::mem::take(&mut self.entries)
            .into_iter()
            .filter(|entry| keep(entry))
            .collect();
        *self = IndexedLog {
            entries: VecDeque::with_capacity(kept.len()),
            last_seq,
            ..IndexedLog::default()
        };
        for entry in kept {
            self.insert(entry);
        }
    }

    /// The newest `paging.limit` entries `keep` accepts older than `paging.before`,
    /// newest first: a binary search for the cursor, then a walk from there, so a page
    /// costs what it holds.
    pub fn page(&self, paging: Paging, keep: impl Fn(&T) -> bool) -> Page<T>
    where
        T: Clone,
    {
        let end = paging.before.map_or(self.entries.len(), |before| {
            self.entries.partition_point(|e| e.seq() < before)
        });
        let older_first = self.entries.range(..end.min(self.entries.len()));
        newest_first(older_first, paging.limit, T::seq, keep)
    }

    /// How many keys each index holds: by key, and by key within a tenant.
    #[cfg(test)]
    pub fn keys(&self) -> (usize, usize) {
        (self.by_key.len(), self.by_tenant_key.len())
    }
}
