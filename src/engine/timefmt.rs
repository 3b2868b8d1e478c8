//! Dates as people read them in signature texts: a small strftime and the time zones
//! signers are likely to name. No time-zone database ships with the binary, so zones are a
//! short table: fixed offsets, plus the EU summer-time rule for European zones.

use time::{Date, Month, OffsetDateTime, UtcOffset, Weekday};

/// How a named zone gets its offset.
enum Rule {
    Fixed(i8),
    /// Standard offset in hours; one hour more in EU summer time.
    EuSummer(i8),
}

const ZONES: &[(&str, Rule)] = &[
    ("UTC", Rule::Fixed(0)),
    ("Etc/UTC", Rule::Fixed(0)),
    ("GMT", Rule::Fixed(0)),
    ("Europe/London", Rule::EuSummer(0)),
    ("Europe/Lisbon", Rule::EuSummer(0)),
    ("Atlantic/Canary", Rule::EuSummer(0)),
    ("Europe/Madrid", Rule::EuSummer(1)),
    // Not an IANA name, but the one-shot docs use it.
    ("Europe/Barcelona", Rule::EuSummer(1)),
    ("Europe/Paris", Rule::EuSummer(1)),
    ("Europe/Berlin", Rule::EuSummer(1)),
    ("Europe/Rome", Rule::EuSummer(1)),
    ("Europe/Warsaw", Rule::EuSummer(1)),
    ("Europe/Amsterdam", Rule::EuSummer(1)),
    ("Europe/Brussels", Rule::EuSummer(1)),
    ("Europe/Athens", Rule::EuSummer(2)),
    ("America/Guayaquil", Rule::Fixed(-5)),
    ("America/Lima", Rule::Fixed(-5)),
    ("America/Bogota", Rule::Fixed(-5)),
    ("America/Mexico_City", Rule::Fixed(-6)),
    ("America/Sao_Paulo", Rule::Fixed(-3)),
    ("America/Argentina/Buenos_Aires", Rule::Fixed(-3)),
];

/// The names `offset_at` knows, for error messages.
pub fn known_zones() -> Vec<&'static str> {
    ZONES.iter().map(|(name, _)| *name).collect()
}

/// The UTC offset of zone `name` (a name from the table, or `+01:00`-style) at `at`.
pub fn offset_at(name: &str, at: OffsetDateTime) -> Option<UtcOffset> {
    let name = name.trim();
    if let Some(offset) = parse_fixed(name) {
        return Some(offset);
    }
    let (_, rule) = ZONES
        .iter()
        .find(|(zone, _)| zone.eq_ignore_ascii_case(name))?;
    let hours = match rule {
        Rule::Fixed(hours) => *hours,
        Rule::EuSummer(hours) if eu_summer_time(at) => hours + 1,
        Rule::EuSummer(hours) => *hours,
    };
    UtcOffset::from_hms(hours, 0, 0).ok()
}

fn parse_fixed(text: &str) -> Option<UtcOffset> {
    let (sign, rest): (i8, &str) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i8 = hours.parse().ok()?;
    let minutes: i8 = minutes.parse().ok()?;
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

/// EU summer time: from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
/// Sunday of October.
fn eu_summer_time(at: OffsetDateTime) -> bool {
    let utc = at.to_offset(UtcOffset::UTC);
    let starts = last_sunday(utc.year(), Month::March);
    let ends = last_sunday(utc.year(), Month::October);
    match (starts, ends) {
        (Some(starts), Some(ends)) => {
            let at_one = |date: Date| date.with_hms(1, 0, 0).map(|d| d.assume_utc()).ok();
            match (at_one(starts), at_one(ends)) {
                (Some(begin), Some(end)) => utc >= begin && utc < end,
                _ => false,
            }
        }
        _ => false,
    }
}

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let mut day = Date::from_calendar_date(year, month, 31).ok()?;
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day()?;
    }
    Some(day)
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
        let hours = |at| offset_at("Europe/Madrid", at).unwrap().whole_hours();
        assert_eq!((hours(winter), hours(summer)), (1, 2));
        // 2026's change is on 29 March at 01:00 UTC.
        assert_eq!(hours(datetime!(2026-03-29 00:59 UTC)), 1);
        assert_eq!(hours(datetime!(2026-03-29 01:00 UTC)), 2);
        assert_eq!(
            offset_at("America/Guayaquil", summer)
                .unwrap()
                .whole_hours(),
            -5
        );
        assert_eq!(offset_at("+05:30", summer).unwrap().as_hms(), (5, 30, 0));
        assert!(offset_at("Mars/Olympus", summer).is_none());
        assert!(offset_at("--128", summer).is_none());
        assert!(offset_at("+-128:-128", summer).is_none());
    }

    #[test]
    fn zones_at_the_end_of_time_do_not_panic() {
        let last = crate::engine::FAR_FUTURE;
        assert_eq!(in_zone(last, "Europe/Athens"), last);
        assert_eq!(in_zone(last, "America/Lima").offset().whole_hours(), -5);
    }
}
