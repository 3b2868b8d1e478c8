//! State that survives a restart (`--state-file`): every part of the engine and every
//! provider store is a named section of one file, saved atomically now and then and read
//! back at start.
//!
//! One mechanism for all: a part implements `Persist` (copy itself under its lock;
//! replace itself from JSON). The engine's own parts (clock, ids, outbox, events,
//! journal, timers, webhooks, scenarios, PKI) are named `engine.*`; provider stores are
//! named by their provider when they are made (`Engine::new_store("qitech.envelopes")`),
//! so a provider needs no code of its own to be saved beyond serde derives on its model
//! and timer kinds instead of closures (see `timers`).

pub mod blob;
pub mod file;

use super::Engine;
use file::{Loaded, Snapshot, StateError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A part of the state that can be saved and restored.
pub trait Persist: Send + Sync {
    /// A copy of the contents, taken under short locks; encoded later, off the request path.
    fn snapshot(&self) -> Box<dyn Snapshot>;
    /// Replaces the contents with a snapshot's JSON.
    fn restore(&self, json: &str) -> Result<(), String>;
}

/// Parses a section's JSON, the error as text for `StateError::Section`.
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// A number a provider hands out in sequence (a process number, a video id): saved so that
/// a restart does not hand out the same numbers again. Not cleared by a reset, as the
/// engine's own primary keys are not.
pub struct Counter(AtomicU64);

impl Counter {
    pub fn new(first: u64) -> Counter {
        Counter(AtomicU64::new(first))
    }

    /// The next number.
    pub fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

impl Persist for Counter {
    fn snapshot(&self) -> Box<dyn Snapshot> {
        Box::new(self.0.load(Ordering::SeqCst))
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        self.0.store(parse(json)?, Ordering::SeqCst);
        Ok(())
    }
}

impl super::store::Resettable for Counter {
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

impl Engine {
    /// The engine's own parts, by section name.
    fn parts(&self) -> Vec<(&'static str, &dyn Persist)> {
        vec![
            ("engine.clock", &*self.clock),
            ("engine.ids", &self.ids),
            ("engine.pki", &self.pki),
            ("engine.outbox", &self.outbox),
            ("engine.events", &*self.events),
            ("engine.journal", &self.journal),
            ("engine.scenarios", &self.scenarios),
            ("engine.timers", &self.timers),
            ("engine.webhooks", &*self.webhooks),
        ]
    }

    /// Every section, copied now under short locks (a store's shard at a time, so no
    /// request waits for more than one copy); `file::encode` makes the file of them.
    pub fn snapshot(&self) -> Vec<(String, Box<dyn Snapshot>)> {
        let mut sections: Vec<(String, Box<dyn Snapshot>)> = vec![(
            KEYS.to_owned(),
            Box::new(Keys {
                ca_cert_pem: self.pki.ca_pem().to_owned(),
                ca_key_pem: self.pki.ca_key_pem(),
                jwt_secret: hex::encode(self.jwt_secret),
            }),
        )];
        for (name, part) in self.parts() {
            sections.push((name.to_owned(), part.snapshot()));
        }
        for (name, store) in self.lock_stores().iter() {
            sections.push((name.clone(), store.snapshot()));
        }
        sections
    }

    /// Replaces every part and store with what `loaded` holds of it. Call before the
    /// ticker starts and before the first request, once every provider is mounted (so its
    /// stores and timer kinds exist). A part the file lacks stays as it is.
    pub fn restore(&self, loaded: &Loaded) -> Result<(), StateError> {
        let mut known = vec![KEYS.to_owned()];
        let stores: Vec<(String, std::sync::Arc<dyn super::Kept>)> =
            self.lock_stores().iter().cloned().collect();
        let parts = self
            .parts()
            .into_iter()
            .map(|(name, part)| (name.to_owned(), part))
            .chain(
                stores
                    .iter()
                    .map(|(name, store)| (name.clone(), &**store as &dyn Persist)),
            );
        for (name, part) in parts {
            if let Some(json) = loaded.section(&name) {
                part.restore(json)
                    .map_err(|reason| loaded.bad_section(&name, reason))?;
            }
            known.push(name);
        }
        for name in loaded.sections.keys() {
            if !known.contains(name) {
                tracing::warn!("the state file has a section '{name}' nothing here reads; ignored");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::file;
    use super::Persist;
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
                "t",
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
        let loaded = file::read(&path).unwrap().unwrap();
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
        assert_eq!(restored.entries("t").len(), 1000);
        std::fs::remove_file(&path).ok();
    }
}
