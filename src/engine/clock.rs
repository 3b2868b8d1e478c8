//! The virtual clock: real time plus an offset that the admin API moves forward.
//!
//! Every expiry, link lifetime and timer in the simulator reads this clock, never the system
//! clock, so a test can skip thirty days with one call.

use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

#[derive(Debug, Default)]
pub struct Clock {
    /// Seconds added to the real time.
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.offset_seconds())
    }

    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }

    /// Moves simulated time forward (never backwards: expiries already fired stay fired).
    pub fn advance(&self, seconds: u64) {
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        self.offset_seconds
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| {
                Some(current.saturating_add(seconds))
            })
            .ok();
    }

    pub fn reset(&self) {
        self.offset_seconds.store(0, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(3600);
        assert_eq!(clock.offset_seconds(), 3600);
        assert!(clock.now() - before >= time::Duration::seconds(3600));
    }
}
