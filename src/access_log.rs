//! The one log line per request, made cheap.
//!
//! Through `tracing::info!` the line cost about 7,000 instructions (callgrind, release build:
//! the formatter visits and escapes each field and formats the time from scratch), plus one
//! `write` to standard error per request on the request's own thread. Here the line is written
//! by hand into one buffer, with the date and time to the second formatted once a second per
//! thread, and handed to the log's writer thread (`tracing_appender`), which batches lines into
//! few writes. The line looks like every other log line (`2026-11-29T16:40:00.123456Z  INFO
//! GET /path -> 200 (0.12 ms)`) and obeys `RUST_LOG` like them (`RUST_LOG=warn` hides it).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing_appender::non_blocking::NonBlocking;

/// Where request lines go: the same writer as the rest of the log, so lines stay in order.
/// Unset (tests, the library used on its own): request lines are not written.
static WRITER: OnceLock<NonBlocking> = OnceLock::new();

/// Sends request lines to `writer`; the first call wins.
pub fn init(writer: NonBlocking) {
    let _ = WRITER.set(writer);
}

thread_local! {
    /// The second last formatted on this thread and its text (`2026-11-29T16:40:00`).
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// Logs `METHOD PATH -> STATUS (D ms)` at INFO.
pub fn request(method: &str, path: &str, status: u16, elapsed: Duration) {
    let Some(writer) = WRITER.get() else {
        return;
    };
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = String::with_capacity(64 + path.len());
    SECOND.with(|cached| {
        let mut cached = cached.borrow_mut();
        if cached.0 != now.as_secs() {
            *cached = (now.as_secs(), second_text(now.as_secs()));
        }
        line.push_str(&cached.1);
    });
    let micros = elapsed.as_micros();
    let _ = writeln!(
        line,
        ".{:06}Z  INFO {method} {path} -> {status} ({}.{:02} ms)",
        now.subsec_micros(),
        micros / 1000,
        (micros % 1000) / 10,
    );
    // One message per line: the writer thread never interleaves two lines.
    let _ = writer.clone().write_all(line.as_bytes());
}

/// `2026-11-29T16:40:00` for a Unix time in whole seconds.
fn second_text(unix_seconds: u64) -> String {
    let at = i64::try_from(unix_seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn second_text_is_rfc3339_to_the_second() {
        assert_eq!(super::second_text(0), "1970-01-01T00:00:00");
        assert_eq!(super::second_text(1_795_970_400), "2026-11-29T16:40:00");
    }
}
