//! A bounded log (`LOG_CAPACITY`, the oldest tenth dropped past it) with an index by one
//! key of its entries, so that the lookups a call makes (the outbox by recipient, the
//! events by resource) cost the same with 100 entries held as with 100,000.

use super::bounded::LOG_CAPACITY;
use std::collections::{HashMap, VecDeque};

/// What an entry is indexed by.
pub trait Keyed {
    fn key(&self) -> &str;
}

/// The entries, oldest first, and where each key's are. An entry's position is `first` +
/// its index in `entries`; `first` grows as the oldest are evicted, so the positions the
/// index holds stay valid without renumbering.
pub struct IndexedLog<T> {
    entries: Vec<T>,
    first: u64,
    by_key: HashMap<String, VecDeque<u64>>,
}

impl<T> Default for IndexedLog<T> {
    fn default() -> Self {
        IndexedLog {
            entries: Vec::new(),
            first: 0,
            by_key: HashMap::new(),
        }
    }
}

impl<T: Keyed> IndexedLog<T> {
    /// A log holding `entries` (the newest `LOG_CAPACITY` at most), indexed afresh: after
    /// a reset or a restore.
    pub fn of(entries: Vec<T>) -> Self {
        let mut log = IndexedLog {
            entries: Vec::with_capacity(entries.len().min(LOG_CAPACITY)),
            ..IndexedLog::default()
        };
        for entry in entries {
            log.push(entry);
        }
        log
    }

    pub fn push(&mut self, entry: T) {
        if self.entries.len() >= LOG_CAPACITY {
            self.evict(LOG_CAPACITY / 10);
        }
        let position = self.first.saturating_add(self.entries.len() as u64);
        self.by_key
            .entry(entry.key().to_owned())
            .or_default()
            .push_back(position);
        self.entries.push(entry);
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

    /// Every entry, oldest first, as a slice (for a binary search by a cursor).
    pub fn as_slice(&self) -> &[T] {
        &self.entries
    }

    /// Every entry, oldest first.
    pub fn all(&self) -> std::slice::Iter<'_, T> {
        self.entries.iter()
    }

    /// Keeps the entries `keep` picks, indexed afresh; the room of what went is given
    /// back (a new log, not a cleared one that keeps its capacity).
    pub fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        let kept: Vec<T> = std::mem::take(&mut self.entries)
            .into_iter()
            .filter(|entry| keep(entry))
            .collect();
        *self = IndexedLog::of(kept);
    }

    /// How many keys the index holds.
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.by_key.len()
    }
}
