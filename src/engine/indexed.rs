//! A bounded log (`LOG_CAPACITY`, the oldest tenth dropped past it) with an index by one
//! key of its entries, so that the lookups a call makes (the outbox by recipient, the
//! events by resource) cost the same with 100 entries held as with 100,000. It also
//! numbers its entries as they come (`seq`, the cursor of a paged list), and pages them
//! newest first.

use super::bounded::{newest_first, Page, Paging, LOG_CAPACITY};
use std::collections::{HashMap, VecDeque};

/// What an entry is indexed by, and where its number is kept.
pub trait Keyed {
    fn key(&self) -> &str;
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
    by_key: HashMap<String, VecDeque<u64>>,
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
            last_seq: 0,
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
        self.by_key
            .entry(entry.key().to_owned())
            .or_default()
            .push_back(position);
        self.entries.push_back(entry);
    }

    /// Drops the `count` oldest entries and their index entries (each key's oldest, since
    /// positions are appended in order).
    fn evict(&mut self, count: usize) {
        let count = count.min(self.entries.len());
        for entry in self.entries.drain(..count) {
            if let Some(positions) = self.by_key.get_mut(entry.key()) {
                positions.pop_front();
                if positions.is_empty() {
                    self.by_key.remove(entry.key());
                }
            }
        }
        self.first = self.first.saturating_add(count as u64);
    }

    /// The entries of `key`, oldest first, through the index.
    pub fn with_key<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a T> + 'a {
        self.by_key
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|position| {
                let index = usize::try_from(position.checked_sub(self.first)?).ok()?;
                self.entries.get(index)
            })
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

    /// How many keys the index holds.
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.by_key.len()
    }
}
