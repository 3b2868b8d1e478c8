//! Time arithmetic that saturates: the only way the simulator adds to an instant. A time
//! built from a caller's or a scenario's number (`after_seconds = 18446744073709551615`)
//! must not panic the way `OffsetDateTime + Duration` does on overflow; past the last
//! instant the simulator computes with it stops there ([`FAR_FUTURE`]), and a timer due
//! then never fires, which is what such a number means.

use time::OffsetDateTime;

/// Whole seconds as a `Duration`, saturating instead of overflowing.
pub fn seconds(count: u64) -> time::Duration {
    time::Duration::seconds(i64::try_from(count).unwrap_or(i64::MAX))
}

/// The latest instant the simulator computes with, the last second of year 9999: what
/// `later` saturates at. Later years are not representable without `time`'s `large-dates`
/// and would not format as RFC 3339 anyway.
pub const FAR_FUTURE: OffsetDateTime = time::macros::datetime!(9999-12-31 23:59:59 UTC);

/// `at + by` without the panic `OffsetDateTime + Duration` has on overflow: a result past
/// `FAR_FUTURE` (a scenario's `after_seconds = 18446744073709551615`) is `FAR_FUTURE`, and
/// one before the first representable date is that date. A timer due at `FAR_FUTURE`
/// simply never fires, which is what such a number means.
pub fn later(at: OffsetDateTime, by: time::Duration) -> OffsetDateTime {
    match at.checked_add(by) {
        Some(sum) => sum.min(FAR_FUTURE),
        None if by.is_negative() => time::PrimitiveDateTime::MIN.assume_utc(),
        None => FAR_FUTURE,
    }
}

/// `at` plus whole `seconds`, saturating like `later`.
pub fn add_seconds(at: OffsetDateTime, count: u64) -> OffsetDateTime {
    later(at, seconds(count))
}

#[cfg(test)]
mod tests {
    use super::{add_seconds, later, FAR_FUTURE};

    #[test]
    fn later_saturates_instead_of_panicking() {
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(add_seconds(now, u64::MAX), FAR_FUTURE);
        assert_eq!(later(FAR_FUTURE, time::Duration::seconds(1)), FAR_FUTURE);
        assert_eq!(later(now, time::Duration::MAX), FAR_FUTURE);
        assert!(later(now, time::Duration::MIN) < now);
        assert_eq!(add_seconds(now, 60) - now, time::Duration::minutes(1));
    }
}
