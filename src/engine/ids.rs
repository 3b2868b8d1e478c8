//! Seeded generation of everything random the providers hand out: ids, OTPs, fake data;
//! the seed the PKI's generator starts from (`seed_bytes`), and how a generator's position
//! is saved (`RngState`: the ids' and the PKI's, section `engine.pki`).
//!
//! With `--seed N` the sequence repeats from run to run; without it the generator is seeded
//! from the operating system. What works as a credential (a link code, a file token) is
//! not drawn here but from `secrets`, which shares this generator only while secrets
//! follow the seed (no `--admin-token`). Numeric primary keys come from a counter so that
//! they stay small and readable like the real services' ones.

use crate::pki::Pki;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct Ids {
    /// Shared with `Secrets` while secrets follow the seed (`Ids::generator`).
    rng: Arc<Mutex<ChaCha20Rng>>,
    next_pk: AtomicU64,
}

/// First numeric primary key handed out; real one-shot request pks look like this.
const FIRST_PK: u64 = 1464;

/// The 32 seed bytes of a generator for `--seed`: from the number when there is one
/// (ChaCha20's `seed_from_u64`, so the same bytes every run and in every tool: `signsim ca
/// export --seed N` makes the CA `serve --seed N` does), from the operating system when
/// there is none. The ids' generator and the PKI's both start from these.
pub fn seed_bytes(seed: Option<u64>) -> [u8; 32] {
    match seed {
        Some(seed) => ChaCha20Rng::seed_from_u64(seed).get_seed(),
        None => rand::random(),
    }
}

impl Ids {
    pub fn new(seed: Option<u64>) -> Ids {
        Ids {
            rng: Arc::new(Mutex::new(ChaCha20Rng::from_seed(seed_bytes(seed)))),
            next_pk: AtomicU64::new(FIRST_PK),
        }
    }

    /// Runs `f` with the shared generator. A poisoned lock only means another thread
    /// panicked while drawing numbers; the generator itself is still usable.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut rng)
    }

    /// The generator itself, for `Secrets` to draw from while secrets follow the seed.
    pub(crate) fn generator(&self) -> Arc<Mutex<ChaCha20Rng>> {
        self.rng.clone()
    }

    /// The next primary key. Never wraps: a restored one is at most `MAX_RESTORED`
    /// (`restore`), and counting up from there to `u64::MAX` takes longer than any run.
    pub fn next_pk(&self) -> u64 {
        super::state::next_of(&self.next_pk)
    }

    /// A random (version 4) UUID in its usual hyphenated form.
    pub fn uuid(&self) -> String {
        self.with_rng(uuid_from)
    }

    /// `n` random bytes as lowercase hex (tokens, uids without hyphens).
    pub fn hex(&self, bytes: usize) -> String {
        self.with_rng(|rng| hex_from(rng, bytes))
    }

    /// A one-time password of `digits` decimal digits (leading zeros kept).
    pub fn otp(&self, digits: u32) -> String {
        let max = 10u64.pow(digits);
        let value = self.with_rng(|rng| rng.random_range(0..max));
        format!("{value:0width$}", width = digits as usize)
    }

    /// A decimal number in `low..high`.
    pub fn number(&self, low: u64, high: u64) -> u64 {
        self.with_rng(|rng| rng.random_range(low..high))
    }
}

/// `bytes` bytes of `rng` as lowercase hex (what [`Ids::hex`] and the secrets' `hex` draw).
pub(super) fn hex_from(rng: &mut ChaCha20Rng, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

/// A version 4 UUID from `rng`, hyphenated (what [`Ids::uuid`] and the secrets' `uuid`
/// draw).
pub(super) fn uuid_from(rng: &mut ChaCha20Rng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Where a generator is: its seed, stream and position, so that a restart goes on with
/// the numbers a run without the restart would have drawn (and never repeats any).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct RngState {
    /// Hex.
    seed: String,
    stream: u64,
    /// Decimal: a `u128`, which not every JSON reader takes as a number.
    word_pos: String,
}

impl RngState {
    pub fn of(rng: &ChaCha20Rng) -> RngState {
        RngState {
            seed: hex::encode(rng.get_seed()),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    pub fn rng(&self) -> Result<ChaCha20Rng, String> {
        let seed: [u8; 32] = hex::decode(&self.seed)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the generator's seed is not 32 bytes of hex")?;
        let word_pos: u128 = self
            .word_pos
            .parse()
            .map_err(|_| "the generator's position is not a number")?;
        let mut rng = ChaCha20Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(word_pos);
        Ok(rng)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedIds {
    rng: RngState,
    next_pk: u64,
}

impl super::persist::Persist for Ids {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        Box::new(SavedIds {
            rng: self.with_rng(|rng| RngState::of(rng)),
            next_pk: self.next_pk.load(Ordering::SeqCst),
        })
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: SavedIds = super::persist::parse(json)?;
        let restored = saved.rng.rng()?;
        self.with_rng(|rng| *rng = restored);
        let next_pk = super::state::checked_counter("next_pk", saved.next_pk)?;
        self.next_pk.store(next_pk, Ordering::SeqCst);
        Ok(())
    }
}

/// The PKI's generator of keys and serials is saved as the ids' is, so that a seeded run
/// restarted goes on with new serials instead of repeating those it already issued. The
/// PKI hands it out as a value ([`Pki::generator`]); the engine keeps it.
impl super::persist::Persist for Pki {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        Box::new(RngState::of(&self.generator()))
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: RngState = super::persist::parse(json)?;
        self.set_generator(saved.rng()?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_generators_repeat() {
        let (a, b) = (Ids::new(Some(7)), Ids::new(Some(7)));
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.otp(6), b.otp(6));
        assert_eq!(a.hex(16), b.hex(16));
    }

    #[test]
    fn a_restored_generator_goes_on_where_it_was() {
        use crate::engine::persist::Persist;
        let ids = Ids::new(None);
        ids.uuid();
        ids.next_pk();
        let mut json = Vec::new();
        ids.snapshot().encode(&mut json).unwrap();
        let restored = Ids::new(Some(1));
        restored
            .restore(std::str::from_utf8(&json).unwrap())
            .unwrap();
        assert_eq!(ids.uuid(), restored.uuid());
        assert_eq!(ids.next_pk(), restored.next_pk());
    }

    #[test]
    fn otp_has_fixed_width() {
        let ids = Ids::new(Some(1));
        for _ in 0..200 {
            let otp = ids.otp(6);
            assert_eq!(otp.len(), 6);
            assert!(otp.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
