//! The engine's logs (outbox, events, webhook attempts) keep at most `LOG_CAPACITY`
//! entries, so that a simulator left running for days does not grow without limit.

/// Most entries kept by each of the engine's logs.
pub const LOG_CAPACITY: usize = 100_000;

/// Appends to a log, dropping its oldest tenth once it holds `LOG_CAPACITY` entries (in one
/// sweep, so appending stays cheap on average).
pub fn push_bounded<T>(log: &mut Vec<T>, entry: T) {
    if log.len() >= LOG_CAPACITY {
        log.drain(..LOG_CAPACITY / 10);
    }
    log.push(entry);
}

#[cfg(test)]
mod tests {
    use super::{push_bounded, LOG_CAPACITY};

    #[test]
    fn logs_stay_bounded() {
        let mut log: Vec<usize> = (0..LOG_CAPACITY).collect();
        push_bounded(&mut log, LOG_CAPACITY);
        assert_eq!(log.len(), LOG_CAPACITY - LOG_CAPACITY / 10 + 1);
        assert_eq!(log.first(), Some(&(LOG_CAPACITY / 10)));
        assert_eq!(log.last(), Some(&LOG_CAPACITY));
    }
}
