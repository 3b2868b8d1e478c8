//! State that survives a restart (`--state-file`): every part of the engine and every
//! provider store is a named section of one file, saved atomically now and then and read
//! back at start.
//!
//! One mechanism for all: a part implements [`Persist`] (`engine::persist`), and
//! `engine::sections` names the engine's parts and stores. Here: the file on disk
//! ([`file`](mod@file)), the serde forms models use for bytes and slugs ([`blob`]), the keys a
//! restart must find again ([`Keys`]), a provider's saved sequence ([`Counter`]) and when
//! the state was last saved ([`Saves`]). A provider needs no code of its own to be saved
//! beyond serde derives on its model and timer kinds instead of closures (see `timers`).

pub mod blob;
pub mod file;

use super::persist::{parse, Persist, Snapshot};
use super::store::Resettable;
use file::{Loaded, StateError};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A number a provider hands out in sequence (a process number, a video id): saved so that
/// a restart does not hand out the same numbers again. Not cleared by a reset, as the
/// engine's own primary keys are not.
pub struct Counter(AtomicU64);

impl Counter {
    pub fn new(first: u64) -> Counter {
        Counter(AtomicU64::new(first))
    }

    /// The next number. Never wraps (see [`next_of`]).
    pub fn next(&self) -> u64 {
        next_of(&self.0)
    }
}

/// The largest number a counter may be restored at: 2^53 - 1, the largest integer every
/// JSON reader keeps exact (JavaScript's `Number.MAX_SAFE_INTEGER`). The numbers are ids
/// that clients read back, and a state file edited to `u64::MAX` would otherwise wrap to 0.
pub const MAX_RESTORED: u64 = (1 << 53) - 1;

/// `value`, a counter named `name` in a state file, if it may be restored.
pub fn checked_counter(name: &str, value: u64) -> Result<u64, String> {
    if value > MAX_RESTORED {
        return Err(format!(
            "the counter {name} is {value}, past {MAX_RESTORED} (2^53 - 1, the largest id a \
             JSON reader keeps exact); the file was edited or damaged"
        ));
    }
    Ok(value)
}

/// The counter's value, moved one up. Saturating, never wrapping: a restored counter is at
/// most [`MAX_RESTORED`], and counting from there to `u64::MAX` takes longer than any run,
/// so the top is only a guard (were it reached, the same number would come again rather
/// than 0 and every number after it).
pub fn next_of(counter: &AtomicU64) -> u64 {
    match counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_add(1)) {
        Ok(previous) | Err(previous) => previous,
    }
}

impl Persist for Counter {
    fn snapshot(&self) -> Box<dyn Snapshot> {
        Box::new(self.0.load(Ordering::SeqCst))
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let value = checked_counter("value", parse(json)?)?;
        self.0.store(value, Ordering::SeqCst);
        Ok(())
    }
}

impl Resettable for Counter {
    fn reset(&self, _: &super::tenant::Tenants) {}

    fn forget_finished(&self, _: time::Duration) -> usize {
        0
    }
}

/// The keys that must be the same after a restart for what was handed out before it to
/// still check: the CA (signatures chain to it, receivers trust it) and the JWT secret
/// (tokens already given out). Read before the engine is built, since both are made there.
#[derive(Clone, Serialize, Deserialize)]
pub struct Keys {
    pub ca_cert_pem: String,
    pub ca_key_pem: String,
    /// Hex.
    pub jwt_secret: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key or the secret, even in a debug print of the config.
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

/// The section holding the keys.
pub const KEYS: &str = "engine.keys";

impl Keys {
    /// The keys of a loaded state file, if it has them.
    pub fn of(loaded: &Loaded) -> Result<Option<Keys>, StateError> {
        loaded
            .section(KEYS)
            .map(|json| parse(json).map_err(|e| loaded.bad_section(KEYS, e)))
            .transpose()
    }

    pub fn jwt_secret(&self) -> Option<[u8; 32]> {
        hex::decode(&self.jwt_secret).ok()?.try_into().ok()
    }
}

/// When the state was last saved, for `/_signsim/health`.
#[derive(Default)]
pub struct Saves {
    file: std::sync::OnceLock<std::path::PathBuf>,
    last: Mutex<Option<(time::OffsetDateTime, u64)>>,
}

impl Saves {
    /// The state is kept in `path` (`--state-file`).
    pub fn kept_in(&self, path: std::path::PathBuf) {
        self.file.set(path).ok();
    }

    /// The state file, if there is one.
    pub fn file(&self) -> Option<&std::path::Path> {
        self.file.get().map(|path| path.as_path())
    }

    pub fn saved(&self) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let count = last.map_or(0, |(_, count)| count) + 1;
        *last = Some((time::OffsetDateTime::now_utc(), count));
    }

    /// The real time of the last save and how many saves there were.
    pub fn last(&self) -> Option<(time::OffsetDateTime, u64)> {
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::file;
    use super::Persist;

    #[test]
    fn counters_are_restored_within_bounds_and_never_wrap() {
        let counter = super::Counter::new(1);
        assert!(counter.restore(&u64::MAX.to_string()).is_err());
        assert!(counter
            .restore(&(super::MAX_RESTORED + 1).to_string())
            .is_err());
        counter.restore(&super::MAX_RESTORED.to_string()).unwrap();
        assert_eq!(counter.next(), super::MAX_RESTORED);
        let top = std::sync::atomic::AtomicU64::new(u64::MAX);
        assert_eq!(super::next_of(&top), u64::MAX);
        assert_eq!(super::next_of(&top), u64::MAX, "saturates, never 0");
    }
    use crate::engine::store::TenantStore;

    #[derive(Clone, serde::Serialize, serde::Deserialize)]
    struct Doc {
        name: String,
        #[serde(with = "super::blob")]
        bytes: bytes::Bytes,
    }

    impl crate::engine::quota::Stored for Doc {}

    fn new_store() -> TenantStore<String, Doc> {
        TenantStore::new(std::sync::Arc::default(), std::sync::Arc::default())
    }

    /// What a save of 1,000 resources with a 100 KB document each costs. Prints the
    /// figures (`cargo test --release --lib save_time -- --ignored --nocapture`); asserts
    /// only that the state reads back.
    #[test]
    #[ignore]
    fn save_time_for_a_thousand_documents() {
        let store = new_store();
        for i in 0..1000u32 {
            let bytes: Vec<u8> = (0..100 * 1024).map(|j| (j as u32 ^ i) as u8).collect();
            store.insert(
                &crate::engine::tenant::Tenant::new("demo", "t"),
                format!("id-{i}"),
                Doc {
                    name: format!("doc {i}"),
                    bytes: bytes.into(),
                },
            );
        }
        let path = std::env::temp_dir().join(format!("signsim-bench-{}", std::process::id()));
        let started = std::time::Instant::now();
        let sections = vec![("docs".to_owned(), store.snapshot())];
        let copied = started.elapsed();
        let bytes = file::encode(&sections).unwrap();
        let encoded = started.elapsed();
        file::write_atomic(&path, &bytes).unwrap();
        let written = started.elapsed();
        let loaded = file::read(&path, u64::MAX).unwrap().unwrap();
        let read = started.elapsed() - written;
        let restored = new_store();
        restored.restore(loaded.section("docs").unwrap()).unwrap();
        let restored_in = started.elapsed() - written;
        println!(
            "1000 x 100 KB: file {} MB; copy {copied:?}, encode {:?}, write+fsync {:?}; read+check {read:?}, restore {restored_in:?}",
            bytes.len() / 1_000_000,
            encoded - copied,
            written - encoded,
        );
        let t = crate::engine::tenant::Tenant::new("demo", "t");
        assert_eq!(restored.entries(&t).len(), 1000);
        std::fs::remove_file(&path).ok();
    }
}
