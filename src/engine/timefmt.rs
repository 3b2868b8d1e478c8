//! Dates as text: RFC 3339 as the admin API writes it (`rfc3339`), and dates as people read
//! them in signature texts: a small strftime, and the offsets of the time zones signers
//! name, from the IANA database compiled into the binary (jiff's bundled copy, so the
//! answer does not depend on the machine's /usr/share/zoneinfo).

use jiff::tz::TimeZoneDatabase;
use std::sync::OnceLock;
use time::{OffsetDateTime, UtcOffset};

/// RFC 3339 with second precision, the form the admin API uses for times.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Names the one-shot docs use that are not IANA names, and the zone they mean.
const ALIASES: &[(&str, &str)] = &[("Europe/Barcelona", "Europe/Madrid")];

/// The bundled IANA time-zone database.
fn database() -> &'static TimeZoneDatabase {
    static DATABASE: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DATABASE.get_or_init(TimeZoneDatabase::bundled)
}

/// Whether `name` is a zone `offset_at` knows: an IANA name (any case), an alias the docs
/// use, or a `+01:00`-style offset.
pub fn is_known_zone(name: &str) -> bool {
    offset_at(name, OffsetDateTime::UNIX_EPOCH).is_some()
}

/// The UTC offset of zone `name` at `at`: an IANA name (`Europe/Madrid`,
/// `America/Santiago`, case-insensitive), an alias from the docs (`Europe/Barcelona`), or a
/// fixed offset such as `+01:00`, `-0530` or `+5`.
pub fn offset_at(name: &str, at: OffsetDateTime) -> Option<UtcOffset> {
    let name = name.trim();
    if let Some(offset) = parse_fixed(name) {
        return Some(offset);
    }
    let name = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map_or(name, |(_, zone)| zone);
    if name.is_empty() {
        return None;
    }
    let zone = database().get(name).ok()?;
    // jiff's range ends a little before `time`'s: past it, the zone's last rule applies.
    let second = at.unix_timestamp().clamp(
        jiff::Timestamp::MIN.as_second(),
        jiff::Timestamp::MAX.as_second(),
    );
    let instant = jiff::Timestamp::from_second(second).ok()?;
    UtcOffset::from_whole_seconds(zone.to_offset(instant).seconds()).ok()
}

fn parse_fixed(text: &str) -> Option<UtcOffset> {
    let (sign, rest): (i8, &str) = match text.as_bytes().first()? {
        b'+' => (1, text.get(1..)?),
        b'-' => (-1, text.get(1..)?),
        _ => return None,
    };
    let (hours, minutes) = match rest.split_once(':') {
        Some(parts) => parts,
        None if rest.len() == 4 => (rest.get(..2)?, rest.get(2..)?),
        None => (rest, "0"),
    };
    if !(hours.bytes().all(|b| b.is_ascii_digit()) && minutes.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let hours: i8 = hours.parse().ok()?;
    let minutes: i8 = minutes.parse().ok()?;
    if minutes >= 60 {
        return None;
    }
    // Checked: `--128` parses as -1 × -128, which does not fit an i8.
    UtcOffset::from_hms(sign.checked_mul(hours)?, sign.checked_mul(minutes)?, 0).ok()
}

/// `at` as read in zone `name` (UTC when the zone is unknown). Unlike
/// `at.to_offset(...)`, it cannot panic: an instant whose local date would leave the
/// representable range (the last hours of year 9999 east of UTC) stays in UTC.
pub fn in_zone(at: OffsetDateTime, name: &str) -> OffsetDateTime {
    offset_at(name, at)
        .and_then(|offset| at.checked_to_offset(offset))
        .unwrap_or(at)
}

/// Python-style strftime for the directives signature formats use: `%d %m %Y %y %H %M
/// %S %b %B %Z %z %%`. Other directives are kept as written.
pub fn strftime(at: OffsetDateTime, format: &str, zone_name: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month_name = MONTHS[usize::from(u8::from(at.month())) - 1];
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str(&format!("{:02}", at.day())),
            Some('m') => out.push_str(&format!("{:02}", u8::from(at.month()))),
            Some('Y') => out.push_str(&format!("{:04}", at.year())),
            Some('y') => out.push_str(&format!("{:02}", at.year().rem_euclid(100))),
            Some('H') => out.push_str(&format!("{:02}", at.hour())),
            Some('M') => out.push_str(&format!("{:02}", at.minute())),
            Some('S') => out.push_str(&format!("{:02}", at.second())),
            Some('b') => out.push_str(&month_name[..3]),
            Some('B') => out.push_str(month_name),
            Some('Z') => out.push_str(zone_name),
            Some('z') => {
                let (h, m, _) = at.offset().as_hms();
                let sign = if h < 0 || m < 0 { '-' } else { '+' };
                out.push_str(&format!("{sign}{:02}{:02}", h.abs(), m.abs()));
            }
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rfc3339_has_second_precision() {
        assert_eq!(
            rfc3339(datetime!(9999-12-31 23:59:59.75 UTC)),
            "9999-12-31T23:59:59Z"
        );
    }

    #[test]
    fn formats_like_python() {
        let at = datetime!(2026-03-05 07:08:09 UTC);
        assert_eq!(
            strftime(at, "%d/%m/%Y %H:%M:%S %Z", "UTC"),
            "05/03/2026 07:08:09 UTC"
        );
        assert_eq!(strftime(at, "%y %b %B %% %q", "UTC"), "26 Mar March % %q");
    }

    #[test]
    fn european_zones_follow_summer_time() {
        let winter = datetime!(2026-01-15 12:00 UTC);
        let summer = datetime!(2026-07-15 12:00 UTC);
        let hours = |zone, at| offset_at(zone, at).unwrap().whole_hours();
        assert_eq!(
            (
                hours("Europe/Madrid", winter),
                hours("Europe/Madrid", summer)
            ),
            (1, 2)
        );
        // 2026's change is on 29 March at 01:00 UTC.
        assert_eq!(hours("Europe/Madrid", datetime!(2026-03-29 00:59 UTC)), 1);
        assert_eq!(hours("Europe/Madrid", datetime!(2026-03-29 01:00 UTC)), 2);
        assert_eq!(hours("europe/barcelona", summer), 2);
        assert_eq!(hours("America/Guayaquil", summer), -5);
        assert_eq!(offset_at("+05:30", summer).unwrap().as_hms(), (5, 30, 0));
        assert_eq!(offset_at("-0330", summer).unwrap().as_hms(), (-3, -30, 0));
        assert!(offset_at("Mars/Olympus", summer).is_none());
        assert!(offset_at("", summer).is_none());
        assert!(offset_at("+1:99", summer).is_none());
    }

    #[test]
    fn any_iana_zone_with_its_own_rules() {
        let january = datetime!(2026-01-15 12:00 UTC);
        let july = datetime!(2026-07-15 12:00 UTC);
        let hours = |zone, at| offset_at(zone, at).unwrap().whole_hours();
        // Southern-hemisphere summer time.
        assert_eq!(
            (
                hours("America/Santiago", january),
                hours("America/Santiago", july)
            ),
            (-3, -4)
        );
        // US rules: second Sunday of March (8 March 2026, 07:00 UTC).
        assert_eq!(hours("America/New_York", january), -5);
        assert_eq!(hours("America/New_York", july), -4);
        assert_eq!(
            hours("America/New_York", datetime!(2026-03-08 06:59 UTC)),
            -5
        );
        assert_eq!(
            hours("America/New_York", datetime!(2026-03-08 07:00 UTC)),
            -4
        );
        assert_eq!(
            offset_at("Asia/Kolkata", july).unwrap().as_hms(),
            (5, 30, 0)
        );
        assert_eq!(hours("UTC", july), 0);
        assert!(is_known_zone("Etc/GMT+5"));
        assert!(!is_known_zone("Europe/Atlantis"));
        assert_eq!(offset_at("+05:30", july).unwrap().as_hms(), (5, 30, 0));
        assert!(offset_at("Mars/Olympus", july).is_none());
        assert!(offset_at("--128", july).is_none());
        assert!(offset_at("+-128:-128", july).is_none());
    }

    #[test]
    fn zones_at_the_end_of_time_do_not_panic() {
        let last = crate::engine::arith::FAR_FUTURE;
        assert_eq!(in_zone(last, "Europe/Athens"), last);
        assert_eq!(in_zone(last, "America/Lima").offset().whole_hours(), -5);
    }
}
