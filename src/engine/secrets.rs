//! Everything the simulator hands out that works as a credential: link codes (a signing
//! page, a verification), file tokens, and the key of the file tokens a page derives
//! ([`Secrets::token`]). Kept apart from [`Ids`], which makes labels
//! (primary keys, uids, OTPs, fake data), so that `--seed` can keep making tests
//! repeatable without making secrets guessable:
//!
//! - while secrets follow the seed (no `--admin-token`: one developer, repeatable tests)
//!   they are drawn from the ids' own generator, in the same order as before there was a
//!   `Secrets`, so a seeded run hands out exactly the links it always did;
//! - under `--admin-token` they come from a generator of their own seeded by the operating
//!   system, whatever `--seed` says: the seed still fixes ids and OTPs, but no secret.
//!
//! The JWT secret and the PKI's generator follow the same rule (`Engine::new`,
//! `pki_setup`, both through [`EngineConfig::secret_seed`](super::EngineConfig::secret_seed)).

use super::ids::{hex_from, seed_bytes, uuid_from, Ids, RngState};
use hmac::{Hmac, Mac};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::{Arc, Mutex};

pub struct Secrets {
    rng: Arc<Mutex<ChaCha20Rng>>,
    /// Whether `rng` is the ids' generator (secrets follow the seed) or one of its own.
    shared: bool,
    /// The key of [`Secrets::token`].
    key: Mutex<[u8; 32]>,
}

/// Mixed into the seed for the token key, so that it differs from the JWT secret's.
const KEY_SALT: u64 = 0x6b65_7900_6b65_7900;

impl Secrets {
    /// Secrets for an engine whose ids are `ids`; `seed` is what secrets may follow
    /// (`EngineConfig::secret_seed`): `None` under `--admin-token`.
    pub fn new(ids: &Ids, seed: Option<u64>, follow_seed: bool) -> Secrets {
        let mut key = [0u8; 32];
        match seed {
            Some(seed) if follow_seed => {
                ChaCha20Rng::seed_from_u64(seed ^ KEY_SALT).fill_bytes(&mut key)
            }
            _ => rand::rng().fill_bytes(&mut key),
        }
        let (rng, shared) = if follow_seed {
            (ids.generator(), true)
        } else {
            let own = ChaCha20Rng::from_seed(seed_bytes(None));
            (Arc::new(Mutex::new(own)), false)
        };
        Secrets {
            rng,
            shared,
            key: Mutex::new(key),
        }
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut rng)
    }

    /// `bytes` random bytes as lowercase hex: a link code, a file token.
    pub fn hex(&self, bytes: usize) -> String {
        self.with_rng(|rng| hex_from(rng, bytes))
    }

    /// A random (version 4) UUID, for a provider whose file tokens look like one.
    pub fn uuid(&self) -> String {
        self.with_rng(uuid_from)
    }

    /// A token derived from `label` and `parts` under the engine's secret key (16 bytes
    /// of HMAC-SHA256, hex): the same for the same parts while the key lasts (it is saved
    /// with the state), so a page can show a stable link without drawing from any
    /// generator, yet nobody without the key can compute it from the public parts.
    pub fn token(&self, label: &str, parts: &[&str]) -> String {
        let key = *self.key.lock().unwrap_or_else(|p| p.into_inner());
        // A 32-byte key is always a valid HMAC key.
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&key) else {
            return String::new();
        };
        // Each part with its length first, so that no two lists of parts read the same.
        for part in std::iter::once(label).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        let digest = mac.finalize().into_bytes();
        hex::encode(&digest[..16])
    }
}

/// The token key and, when secrets have a generator of their own, where it is.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    /// Hex.
    key: String,
    /// `None` while secrets draw from the ids' generator (saved as `engine.ids`).
    rng: Option<RngState>,
}

impl super::persist::Persist for Secrets {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        Box::new(Saved {
            key: hex::encode(*self.key.lock().unwrap_or_else(|p| p.into_inner())),
            rng: (!self.shared).then(|| self.with_rng(|rng| RngState::of(rng))),
        })
    }

    /// Secrets saved by a run that followed the seed are not taken by one that does not:
    /// they were computable from the seed, and a token now protects this instance.
    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Saved = super::persist::parse(json)?;
        let key: [u8; 32] = hex::decode(&saved.key)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the token key is not 32 bytes of hex")?;
        match (self.shared, saved.rng) {
            // Following the seed: the ids' section carries the generator.
            (true, _) => {}
            (false, Some(rng)) => {
                let restored = rng.rng()?;
                self.with_rng(|own| *own = restored);
            }
            (false, None) => {
                tracing::warn!(
                    "the state file's secrets followed --seed; new ones are made (file links \
                     shown on pages before the restart change)"
                );
                return Ok(());
            }
        }
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = key;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn following_the_seed_repeats_and_a_token_does_not() {
        let (a, b) = (Ids::new(Some(3)), Ids::new(Some(3)));
        let (sa, sb) = (
            Secrets::new(&a, Some(3), true),
            Secrets::new(&b, Some(3), true),
        );
        assert_eq!(sa.hex(16), sb.hex(16));
        assert_eq!(sa.token("l", &["x"]), sb.token("l", &["x"]));
        let (oa, ob) = (Secrets::new(&a, None, false), Secrets::new(&b, None, false));
        assert_ne!(oa.hex(16), ob.hex(16));
        assert_ne!(oa.token("l", &["x"]), ob.token("l", &["x"]));
        // Drawing secrets of their own leaves the ids where they were.
        assert_eq!(a.uuid(), b.uuid());
    }

    #[test]
    fn tokens_tell_their_parts_apart() {
        let secrets = Secrets::new(&Ids::new(Some(1)), Some(1), true);
        assert_ne!(
            secrets.token("l", &["ab", "c"]),
            secrets.token("l", &["a", "bc"])
        );
        assert_ne!(secrets.token("l", &["a"]), secrets.token("m", &["a"]));
        assert_eq!(secrets.token("l", &["a"]).len(), 32);
    }
}
