//! The virtual clocks: real time plus offsets that the admin API moves forward.
//!
//! Every expiry, link lifetime and timer in the simulator reads a clock, never the system
//! clock, so a test can skip thirty days with one call. There is one clock per tenant (a
//! provider and a credential name): its time is real time plus the offset every clock
//! shares (moved by an advance that names no tenant) plus the tenant's own (moved by an
//! advance that names it). A tenant that was never moved on its own reads the shared time.
//!
//! Offsets are kept in nanoseconds, so that an advance can stop a clock exactly at a
//! timer's due time (`Engine::advance` plays time forward timer by timer), and are bounded
//! (`MAX_OFFSET_SECONDS`, for each tenant's total): an unbounded one would let a single
//! call push `now()` past the last date `time` can represent, and every later
//! `now + duration` would panic. The bound is also what the PKI relies on to issue
//! certificates that stay valid whatever the clock says.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use time::OffsetDateTime;

/// How far ahead of real time a clock may be moved, in total: 100 years of 365.25 days
/// (3,155,760,000 s). Far more than any expiry a test waits for, and far less than what
/// would overflow a date.
pub const MAX_OFFSET_SECONDS: u64 = 36_525 * 86_400;

/// `MAX_OFFSET_SECONDS` as a duration: how far ahead of real time a clock can be, which the
/// PKI is told so that its certificates outlast it.
// The cast is exact: 3,155,760,000 is far below `i64::MAX`.
pub const MAX_OFFSET: time::Duration = time::Duration::seconds(MAX_OFFSET_SECONDS as i64);

const NANOS: i64 = 1_000_000_000;
/// `MAX_OFFSET_SECONDS` in nanoseconds (about 3.2e18, well inside an `i64`).
const MAX_OFFSET_NANOS: i64 = 36_525 * 86_400 * NANOS;

/// A refused move: a clock would end up more than `MAX_OFFSET_SECONDS` ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooFar {
    /// How far ahead the furthest clock of the move already is, in whole seconds.
    pub offset_seconds: i64,
}

/// Which clocks a move or a reset touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every clock: the shared offset.
    All,
    /// These tenants' own clocks, each `(provider, name)`.
    Tenants(Vec<(String, String)>),
}

#[derive(Debug, Default)]
pub struct Clock {
    /// Nanoseconds every clock is ahead of real time.
    shared: AtomicI64,
    /// Each moved tenant's nanoseconds ahead of the shared offset, by provider, then name
    /// (two levels so that a lookup by `&str` allocates nothing).
    own: RwLock<HashMap<String, HashMap<String, i64>>>,
}

impl Clock {
    /// The shared time: what a clock that was never moved on its own reads.
    pub fn now(&self) -> OffsetDateTime {
        at_offset(self.shared_nanos())
    }

    /// Tenant `(provider, name)`'s time.
    pub fn now_of(&self, provider: &str, name: &str) -> OffsetDateTime {
        at_offset(self.offset_nanos_of(provider, name))
    }

    /// Whole seconds the shared time is ahead of real time.
    pub fn offset_seconds(&self) -> i64 {
        self.shared_nanos() / NANOS
    }

    /// Whole seconds tenant `(provider, name)`'s clock is ahead of real time.
    pub fn offset_seconds_of(&self, provider: &str, name: &str) -> i64 {
        self.offset_nanos_of(provider, name) / NANOS
    }

    /// Nanoseconds tenant `(provider, name)`'s clock is ahead of real time.
    pub fn offset_nanos_of(&self, provider: &str, name: &str) -> i64 {
        let own = self
            .read()
            .get(provider)
            .and_then(|names| names.get(name).copied())
            .unwrap_or(0);
        self.shared_nanos().saturating_add(own)
    }

    /// Nanoseconds the shared time is ahead of real time.
    pub fn offset_nanos(&self) -> i64 {
        self.shared_nanos()
    }

    fn shared_nanos(&self) -> i64 {
        self.shared.load(Ordering::SeqCst)
    }

    /// Moves the clocks of `scope` forward by `nanos` (never backwards: expiries already
    /// fired stay fired), unless that would put one of them more than
    /// `MAX_OFFSET_SECONDS` ahead of real time; then nothing moves.
    pub fn advance(&self, scope: &Scope, nanos: i64) -> Result<(), TooFar> {
        let nanos = nanos.max(0);
        let mut own = self.write();
        let shared = self.shared_nanos();
        let too_far = |offset: i64| TooFar {
            offset_seconds: offset / NANOS,
        };
        match scope {
            Scope::All => {
                let furthest = own
                    .values()
                    .flat_map(|names| names.values())
                    .copied()
                    .fold(0, i64::max);
                let ahead = shared.saturating_add(furthest);
                if ahead
                    .checked_add(nanos)
                    .is_none_or(|o| o > MAX_OFFSET_NANOS)
                {
                    return Err(too_far(ahead));
                }
                // Under the write lock, so no tenant move interleaves with the check.
                self.shared.fetch_add(nanos, Ordering::SeqCst);
            }
            Scope::Tenants(tenants) => {
                let current =
                    |p: &str, n: &str| own.get(p).and_then(|m| m.get(n).copied()).unwrap_or(0);
                for (provider, name) in tenants {
                    let ahead = shared.saturating_add(current(provider, name));
                    if ahead
                        .checked_add(nanos)
                        .is_none_or(|o| o > MAX_OFFSET_NANOS)
                    {
                        return Err(too_far(ahead));
                    }
                }
                for (provider, name) in tenants {
                    let entry = own
                        .entry(provider.clone())
                        .or_default()
                        .entry(name.clone())
                        .or_insert(0);
                    *entry = entry.saturating_add(nanos);
                }
            }
        }
        Ok(())
    }

    /// Whether `advance(scope, nanos)` would be allowed now.
    pub fn check(&self, scope: &Scope, nanos: i64) -> Result<(), TooFar> {
        let own = self.read();
        let shared = self.shared_nanos();
        let current = |p: &str, n: &str| own.get(p).and_then(|m| m.get(n).copied()).unwrap_or(0);
        let furthest = match scope {
            Scope::All => own
                .values()
                .flat_map(|m| m.values())
                .copied()
                .fold(0, i64::max),
            Scope::Tenants(tenants) => tenants.iter().map(|(p, n)| current(p, n)).fold(0, i64::max),
        };
        let ahead = shared.saturating_add(furthest);
        if ahead
            .checked_add(nanos.max(0))
            .is_none_or(|o| o > MAX_OFFSET_NANOS)
        {
            return Err(TooFar {
                offset_seconds: ahead / NANOS,
            });
        }
        Ok(())
    }

    /// Puts every tenant of `provider` back to the shared time.
    pub fn reset_provider(&self, provider: &str) {
        self.write().remove(provider);
    }

    /// Puts the clocks of `scope` back to the shared time (`Scope::All`: every clock back
    /// to real time).
    pub fn reset(&self, scope: &Scope) {
        let mut own = self.write();
        match scope {
            Scope::All => {
                own.clear();
                self.shared.store(0, Ordering::SeqCst);
            }
            Scope::Tenants(tenants) => {
                for (provider, name) in tenants {
                    if let Some(names) = own.get_mut(provider) {
                        names.remove(name);
                    }
                }
            }
        }
    }

    /// Every tenant with a clock of its own: `(provider, name, whole seconds ahead of real
    /// time)`, sorted.
    pub fn tenants(&self) -> Vec<(String, String, i64)> {
        let shared = self.shared_nanos();
        let mut all: Vec<(String, String, i64)> = self
            .read()
            .iter()
            .flat_map(|(provider, names)| {
                names.iter().map(move |(name, own)| {
                    (
                        provider.clone(),
                        name.clone(),
                        shared.saturating_add(*own) / NANOS,
                    )
                })
            })
            .collect();
        all.sort();
        all
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, HashMap<String, i64>>> {
        self.own
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, HashMap<String, i64>>> {
        self.own
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Real time plus `nanos`, saturating: the offset is bounded, but the system clock is not
/// ours to trust.
fn at_offset(nanos: i64) -> OffsetDateTime {
    super::arith::later(
        OffsetDateTime::now_utc(),
        time::Duration::nanoseconds(nanos),
    )
}

/// The offsets are saved, not the times: after a restart every clock is as far ahead of
/// real time as it was (the time the simulator was down passes for them too).
#[derive(Serialize, Deserialize)]
struct Saved {
    shared_nanos: i64,
    /// `(provider, name, nanoseconds ahead of the shared offset)`.
    own: Vec<(String, String, i64)>,
}

impl super::persist::Persist for Clock {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        let own = self
            .read()
            .iter()
            .flat_map(|(provider, names)| {
                names
                    .iter()
                    .map(move |(name, nanos)| (provider.clone(), name.clone(), *nanos))
            })
            .collect();
        Box::new(Saved {
            shared_nanos: self.shared_nanos(),
            own,
        })
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Saved = super::persist::parse(json)?;
        let in_bounds = |nanos: i64| (0..=MAX_OFFSET_NANOS).contains(&nanos);
        if !in_bounds(saved.shared_nanos)
            || saved
                .own
                .iter()
                .any(|(_, _, own)| !in_bounds(saved.shared_nanos.saturating_add(*own)))
        {
            return Err(format!(
                "a clock offset is outside 0..={MAX_OFFSET_SECONDS} seconds"
            ));
        }
        let mut own = self.write();
        own.clear();
        for (provider, name, nanos) in saved.own {
            own.entry(provider).or_default().insert(name, nanos);
        }
        self.shared.store(saved.shared_nanos, Ordering::SeqCst);
        Ok(())
    }
}

/// Whole seconds as nanoseconds, saturating.
pub fn nanos(seconds: u64) -> i64 {
    i64::try_from(seconds)
        .unwrap_or(i64::MAX)
        .saturating_mul(NANOS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(p: &str, n: &str) -> Scope {
        Scope::Tenants(vec![(p.into(), n.into())])
    }

    #[test]
    fn advance_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(&Scope::All, nanos(3600)).unwrap();
        assert_eq!(clock.offset_seconds(), 3600);
        assert!(clock.now() - before >= time::Duration::seconds(3600));
    }

    #[test]
    fn a_tenant_clock_moves_alone() {
        let clock = Clock::default();
        clock
            .advance(&tenant("qitech", "a"), nanos(86_400))
            .unwrap();
        assert_eq!(clock.offset_seconds_of("qitech", "a"), 86_400);
        assert_eq!(clock.offset_seconds_of("qitech", "b"), 0);
        assert_eq!(clock.offset_seconds_of("identiasign", "a"), 0);
        assert_eq!(clock.offset_seconds(), 0);
        clock.advance(&Scope::All, nanos(10)).unwrap();
        assert_eq!(clock.offset_seconds_of("qitech", "a"), 86_410);
        assert_eq!(clock.offset_seconds_of("qitech", "b"), 10);
        clock.reset(&tenant("qitech", "a"));
        assert_eq!(clock.offset_seconds_of("qitech", "a"), 10);
    }

    #[test]
    fn advance_is_bounded_for_every_clock() {
        assert_eq!(MAX_OFFSET_SECONDS, 3_155_760_000);
        let clock = Clock::default();
        assert_eq!(
            clock.advance(&Scope::All, i64::MAX),
            Err(TooFar { offset_seconds: 0 })
        );
        clock
            .advance(&tenant("p", "t"), nanos(MAX_OFFSET_SECONDS - 10))
            .unwrap();
        // The shared move would put tenant t past the bound.
        assert!(clock.advance(&Scope::All, nanos(11)).is_err());
        clock.advance(&Scope::All, nanos(10)).unwrap();
        assert_eq!(
            clock.advance(&tenant("p", "t"), nanos(1)),
            Err(TooFar {
                offset_seconds: 3_155_760_000
            })
        );
        // Far ahead, `now` still works.
        assert!(clock.now_of("p", "t").year() > 2100);
    }
}
