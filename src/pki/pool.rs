//! RSA-2048 keys made ahead of need, so that a signature does not wait for one.
//!
//! An RSA key takes tens to hundreds of milliseconds of one core to generate, a P-256 key
//! microseconds; a signer certificate needs a fresh key each time. One background thread
//! fills a bounded queue and blocks while it is full, so it costs nothing once the queue
//! is ready, and works only to replace the keys signatures took. A signature that finds
//! the queue empty (drawn faster than it refills) generates its key inline: slower, never
//! wrong; that is logged once. Only `--key-type rsa2048` starts the thread, so a P-256
//! simulator starts exactly as before.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::error::PkiError;
use super::keys::SignerKey;

/// Keys kept ready: a burst of this many signatures never waits for key generation.
pub(crate) const POOL_SIZE: usize = 32;

pub(crate) struct RsaPool {
    /// `Receiver` is not `Sync`; the lock is held only for a `try_recv`.
    ready: Mutex<Receiver<SignerKey>>,
    /// Whether "drained, generating inline" was logged already.
    warned: AtomicBool,
    /// Keys made and not yet taken: counted before they are queued, so never below the
    /// queue's length, and one above it while the thread waits to queue a key.
    made: Arc<AtomicUsize>,
}

impl RsaPool {
    /// Starts the filling thread. It ends by itself when the pool is dropped: its next
    /// `send` finds the receiver gone.
    pub(crate) fn start() -> Result<RsaPool, PkiError> {
        let (sender, ready) = sync_channel(POOL_SIZE);
        let made = Arc::new(AtomicUsize::new(0));
        let counter = made.clone();
        std::thread::Builder::new()
            .name("signsim-rsa-pool".into())
            .spawn(move || fill(sender, &counter))
            .map_err(|e| PkiError::Cert(format!("cannot start the RSA key pool: {e}")))?;
        Ok(RsaPool {
            ready: Mutex::new(ready),
            warned: AtomicBool::new(false),
            made,
        })
    }

    /// About how many keys are ready (at most `POOL_SIZE`).
    pub(crate) fn ready(&self) -> usize {
        self.made.load(Ordering::Relaxed).min(POOL_SIZE)
    }

    /// A key from the queue, or a new one made here when the queue is empty.
    pub(crate) fn take(&self) -> Result<SignerKey, PkiError> {
        let ready = {
            // A poisoned lock only means a thread panicked in `try_recv`; the queue is fine.
            let receiver = self.ready.lock().unwrap_or_else(|p| p.into_inner());
            receiver.try_recv().ok()
        };
        if let Some(key) = ready {
            self.made.fetch_sub(1, Ordering::Relaxed);
            return Ok(key);
        }
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the RSA key pool is empty (signatures drew keys faster than one thread \
                 makes them, or just after start): generating keys inline, which slows \
                 those signatures; logged once"
            );
        }
        SignerKey::generate_rsa()
    }
}

fn fill(sender: SyncSender<SignerKey>, made: &AtomicUsize) {
    loop {
        let key = match SignerKey::generate_rsa() {
            Ok(key) => key,
            Err(e) => {
                // Not expected from aws-lc; signatures then generate inline (and report
                // the same error to their caller).
                tracing::error!("the RSA key pool stopped: {e}");
                return;
            }
        };
        made.fetch_add(1, Ordering::Relaxed);
        if sender.send(key).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_rsa_and_distinct_whether_pooled_or_inline() {
        let pool = RsaPool::start().unwrap();
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        let public = |k: &SignerKey| match k {
            SignerKey::Rsa2048(pair) => rcgen::PublicKeyData::der_bytes(pair).to_vec(),
            SignerKey::P256(_) => panic!("the pool made a P-256 key"),
        };
        assert_ne!(public(&a), public(&b));
    }
}
