//! The built-in webhook receiver's memory: what was sent to `/_signsim/capture/{name}`,
//! by name, for a test to read back (`GET /_signsim/captures/{name}?wait=`). Any
//! provider's webhook, callback or status report can be aimed at it, so a test whose
//! simulator runs in a container needs no receiver of its own that the container could
//! reach. Nothing here knows a provider: a capture is a request, as it came.
//!
//! Bounded three ways, the oldest going first: [`MAX_PER_NAME`] captures a name,
//! [`MAX_NAMES`] names, [`MAX_BYTES`] in all. The lock is a plain mutex held for a few
//! map operations, never across an await; a reader that waits for the first capture of
//! a name watches a counter ([`tokio::sync::watch`]) that every capture bumps, so it
//! wakes as soon as one lands and never polls.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use time::OffsetDateTime;
use tokio::sync::watch;

/// Captures kept per name; past it, that name's oldest is dropped.
pub const MAX_PER_NAME: usize = 1_000;
/// Names kept; past it, the name first written to longest ago is dropped whole.
pub const MAX_NAMES: usize = 10_000;
/// Bytes kept in all (bodies, headers, paths); past it, the oldest captures go.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// What a capture costs besides its bytes (the allocations and the record itself).
const OVERHEAD: usize = 128;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Capture {
    pub method: String,
    /// The path as requested (`/_signsim/capture/{name}/...`).
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Lower-case names; a repeated header's values joined with `, `.
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
    /// Real time: a receiver knows nothing of the tenants' clocks.
    pub at: OffsetDateTime,
}

impl Capture {
    fn cost(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.len().saturating_add(value.len()))
            .fold(0, usize::saturating_add);
        self.body
            .len()
            .saturating_add(self.path.len())
            .saturating_add(self.method.len())
            .saturating_add(self.query.as_ref().map_or(0, String::len))
            .saturating_add(headers)
            .saturating_add(OVERHEAD)
    }
}

/// A name's captures, and how many requests it has had (for `?fail_first=`).
#[derive(Default)]
struct Named {
    /// `(seq, capture)`, oldest first.
    list: VecDeque<(u64, Capture)>,
    requests: u64,
    /// The `seq` of the name's first write since it was made: which name is oldest.
    born: u64,
}

#[derive(Default)]
struct Inner {
    names: HashMap<String, Named>,
    /// Every kept capture by `seq` (the order they came in): the oldest is the first.
    order: BTreeMap<u64, String>,
    /// Every name by `born`: the oldest name is the first.
    born: BTreeMap<u64, String>,
    bytes: usize,
    seq: u64,
}

impl Inner {
    fn next_seq(&mut self) -> u64 {
        self.seq = self.seq.saturating_add(1);
        self.seq
    }

    /// Drops `name`'s oldest capture.
    fn drop_oldest_of(&mut self, name: &str) {
        let Some(named) = self.names.get_mut(name) else {
            return;
        };
        if let Some((seq, capture)) = named.list.pop_front() {
            self.bytes = self.bytes.saturating_sub(capture.cost());
            self.order.remove(&seq);
        }
    }

    /// Forgets `name` and everything it holds.
    fn forget(&mut self, name: &str) {
        let Some(named) = self.names.remove(name) else {
            return;
        };
        for (seq, capture) in named.list {
            self.bytes = self.bytes.saturating_sub(capture.cost());
            self.order.remove(&seq);
        }
        self.born.remove(&named.born);
    }

    /// The entry of `name`, made (and the oldest name dropped, past [`MAX_NAMES`]) when new.
    fn named(&mut self, name: &str) -> &mut Named {
        if !self.names.contains_key(name) {
            while self.names.len() >= MAX_NAMES {
                let Some((_, oldest)) = self.born.pop_first() else {
                    break;
                };
                self.forget(&oldest);
            }
            let born = self.next_seq();
            self.born.insert(born, name.to_owned());
            self.names.insert(
                name.to_owned(),
                Named {
                    born,
                    ..Named::default()
                },
            );
        }
        self.names.entry(name.to_owned()).or_default()
    }
}

/// The receiver's store. See the module's comment.
pub struct Captures {
    inner: Mutex<Inner>,
    /// Bumped by every capture: what a waiting reader watches.
    landed: watch::Sender<u64>,
}

impl Default for Captures {
    fn default() -> Self {
        Captures {
            inner: Mutex::new(Inner::default()),
            landed: watch::Sender::new(0),
        }
    }
}

impl Captures {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a request to `name` and says which it is (1 for the first since the name
    /// was made or deleted): `?fail_first=N` fails while it is at most N.
    pub fn count_request(&self, name: &str) -> u64 {
        let mut inner = self.lock();
        let named = inner.named(name);
        named.requests = named.requests.saturating_add(1);
        named.requests
    }

    /// Keeps `capture` under `name`, dropping the oldest past the bounds, and wakes every
    /// reader waiting for one.
    pub fn record(&self, name: &str, capture: Capture) {
        let cost = capture.cost();
        {
            let mut inner = self.lock();
            let seq = inner.next_seq();
            let named = inner.named(name);
            named.list.push_back((seq, capture));
            let over = named.list.len() > MAX_PER_NAME;
            inner.order.insert(seq, name.to_owned());
            inner.bytes = inner.bytes.saturating_add(cost);
            if over {
                inner.drop_oldest_of(name);
            }
            // Oldest first across every name; the one just kept goes last, so a capture
            // larger than the whole budget is still kept alone.
            while inner.bytes > MAX_BYTES && inner.order.len() > 1 {
                let Some(oldest) = inner.order.first_key_value().map(|(_, n)| n.clone()) else {
                    break;
                };
                inner.drop_oldest_of(&oldest);
            }
        }
        self.landed
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// `name`'s captures, oldest first.
    pub fn list(&self, name: &str) -> Vec<Capture> {
        self.lock()
            .names
            .get(name)
            .map(|named| named.list.iter().map(|(_, c)| c.clone()).collect())
            .unwrap_or_default()
    }

    /// `name`'s captures, oldest first; when there are none, waits up to `wait` for the
    /// first (then answers what there is, maybe still none).
    pub async fn wait_list(&self, name: &str, wait: std::time::Duration) -> Vec<Capture> {
        // Subscribed before the first look: a capture that lands between the look and the
        // wait has bumped the counter, so `changed` returns at once.
        let mut landed = self.landed.subscribe();
        landed.borrow_and_update();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let list = self.list(name);
            if !list.is_empty() {
                return list;
            }
            match tokio::time::timeout_at(deadline, landed.changed()).await {
                Ok(Ok(())) => {}
                // Timed out (or the sender is gone, which the store outlives): as it is.
                _ => return self.list(name),
            }
        }
    }

    /// Forgets `name`'s captures and its count of requests.
    pub fn delete(&self, name: &str) {
        self.lock().forget(name);
    }

    /// Forgets every name.
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(body: usize) -> Capture {
        Capture {
            method: "POST".into(),
            path: "/_signsim/capture/x".into(),
            query: None,
            headers: vec![("content-type".into(), "application/json".into())],
            body: bytes::Bytes::from(vec![b'a'; body]),
            at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn each_bound_drops_the_oldest() {
        let store = Captures::default();
        for _ in 0..MAX_PER_NAME + 5 {
            store.record("one", capture(1));
        }
        assert_eq!(store.list("one").len(), MAX_PER_NAME);
        for i in 0..MAX_NAMES + 3 {
            store.record(&format!("n{i}"), capture(0));
        }
        let inner = store.lock();
        assert_eq!(inner.names.len(), MAX_NAMES);
        assert!(
            !inner.names.contains_key("one"),
            "the oldest name went first"
        );
        assert_eq!(inner.born.len(), MAX_NAMES);
        assert_eq!(
            inner.order.len(),
            inner.names.values().map(|n| n.list.len()).sum::<usize>()
        );
        drop(inner);
        let big = MAX_BYTES / 4;
        for _ in 0..6 {
            store.record("big", capture(big));
        }
        let inner = store.lock();
        assert!(inner.bytes <= MAX_BYTES, "{}", inner.bytes);
        assert!(inner.names["big"].list.len() >= 3);
    }

    #[test]
    fn delete_forgets_the_count_too() {
        let store = Captures::default();
        assert_eq!(store.count_request("a"), 1);
        assert_eq!(store.count_request("a"), 2);
        store.delete("a");
        assert_eq!(store.count_request("a"), 1);
        store.clear();
        assert!(store.list("a").is_empty());
    }
}
