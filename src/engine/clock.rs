//! The virtual clock: real time plus an offset that the admin API moves forward.
//!
//! Every expiry, link lifetime and timer in the simulator reads this clock, never the system
//! clock, so a test can skip thirty days with one call.
//!
//! The offset is bounded (`MAX_OFFSET_SECONDS`): an unbounded one would let a single call
//! push `now()` past the last date `time` can represent, and every later `now + duration`
//! would panic. The engine hands the bound to the PKI (`MAX_OFFSET`), which issues
//! certificates that stay valid whatever the clock says.

use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

/// How far ahead of real time the clock may be moved, in total: 100 years of 365.25 days
/// (3,155,760,000 s). Far more than any expiry a test waits for, and far less than what
/// would overflow a date.
pub const MAX_OFFSET_SECONDS: u64 = 36_525 * 86_400;

/// `MAX_OFFSET_SECONDS` as a duration: how far ahead of real time `now()` can be, which the
/// PKI is told so that its certificates outlast it.
// The cast is exact: 3,155,760,000 is far below `i64::MAX`.
pub const MAX_OFFSET: time::Duration = time::Duration::seconds(MAX_OFFSET_SECONDS as i64);

/// A refused move: the clock would end up more than `MAX_OFFSET_SECONDS` ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooFar {
    /// How far ahead the clock already is.
    pub offset_seconds: i64,
}

#[derive(Debug, Default)]
pub struct Clock {
    /// Seconds added to the real time, between 0 and `MAX_OFFSET_SECONDS`.
    offset_seconds: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        // Saturating: the offset is bounded, but the system clock is not ours to trust.
        super::arith::later(
            OffsetDateTime::now_utc(),
            time::Duration::seconds(self.offset_seconds()),
        )
    }

    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }

    /// Moves simulated time forward (never backwards: expiries already fired stay fired),
    /// unless that would put it more than `MAX_OFFSET_SECONDS` ahead of real time; then
    /// nothing moves.
    pub fn advance(&self, seconds: u64) -> Result<(), TooFar> {
        let limit = i64::try_from(MAX_OFFSET_SECONDS).unwrap_or(i64::MAX);
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        self.offset_seconds
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| {
                current
                    .checked_add(seconds)
                    .filter(|offset| *offset <= limit)
            })
            .map(|_| ())
            .map_err(|offset_seconds| TooFar { offset_seconds })
    }

    pub fn reset(&self) {
        self.offset_seconds.store(0, Ordering::SeqCst);
    }
}

/// The offset is saved, not the time: after a restart the virtual clock is as far ahead of
/// real time as it was (the time the simulator was down passes for it too).
impl super::persist::Persist for Clock {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        Box::new(self.offset_seconds())
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let offset: i64 = super::persist::parse(json)?;
        let limit = i64::try_from(MAX_OFFSET_SECONDS).unwrap_or(i64::MAX);
        if !(0..=limit).contains(&offset) {
            return Err(format!("offset {offset} s is outside 0..={limit}"));
        }
        self.offset_seconds.store(offset, Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(3600).unwrap();
        assert_eq!(clock.offset_seconds(), 3600);
        assert!(clock.now() - before >= time::Duration::seconds(3600));
    }

    #[test]
    fn advance_is_bounded_in_total() {
        assert_eq!(MAX_OFFSET_SECONDS, 3_155_760_000);
        let clock = Clock::default();
        assert_eq!(clock.advance(u64::MAX), Err(TooFar { offset_seconds: 0 }));
        clock.advance(MAX_OFFSET_SECONDS - 10).unwrap();
        assert!(clock.advance(11).is_err());
        clock.advance(10).unwrap();
        assert_eq!(
            clock.advance(1),
            Err(TooFar {
                offset_seconds: 3_155_760_000
            })
        );
        // Far ahead, `now` still works.
        assert!(clock.now().year() > 2100);
    }
}
