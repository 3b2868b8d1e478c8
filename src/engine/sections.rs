//! The engine as its state file sees it: the engine's own parts and every store, each a
//! named section. [`Engine::snapshot`] copies them all (with the keys, section
//! `engine.keys`), [`Engine::restore`] puts back what a loaded file holds of them.
//!
//! The engine's own parts (clock, ids, secrets, outbox, events, journal, timers, webhooks,
//! scenarios, the PKI's generator) are named `engine.*`; provider stores and counters are
//! named by their provider when they are made (`Engine::new_store("qitech.envelopes")`).

use super::persist::{Persist, Snapshot};
use super::state::file::{Loaded, StateError};
use super::state::{Keys, KEYS};
use super::{Engine, Kept};
use rand::SeedableRng;

impl Engine {
    /// The engine's own parts, by section name.
    fn parts(&self) -> Vec<(&'static str, &dyn Persist)> {
        vec![
            ("engine.clock", &*self.clock),
            ("engine.ids", &self.ids),
            ("engine.secrets", &self.secrets),
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
        let stores: Vec<(String, std::sync::Arc<dyn Kept>)> =
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
        // A generator saved by a run that followed the seed is not kept when secrets no
        // longer do: its next keys would be computable from the seed.
        if let Some(seeded) = self.seeded_generator {
            if self.pki.generator().get_seed() == seeded {
                tracing::warn!(
                    "the state file's key generator came from --seed; a new one is used"
                );
                self.pki.set_generator(rand_chacha::ChaCha20Rng::from_seed(
                    super::ids::seed_bytes(None),
                ));
            }
        }
        for name in loaded.sections.keys() {
            if !known.contains(name) {
                tracing::warn!("the state file has a section '{name}' nothing here reads; ignored");
            }
        }
        Ok(())
    }
}
