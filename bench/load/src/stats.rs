//! Latencies kept one per request (in microseconds) and read by sorting: exact percentiles
//! for the few million samples a run makes, without a histogram crate.

use std::time::Duration;

#[derive(Default, Clone)]
pub struct Samples {
    micros: Vec<u32>,
}

impl Samples {
    pub fn record(&mut self, elapsed: Duration) {
        // A latency beyond u32 microseconds (71 minutes) is recorded as that much.
        self.micros
            .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
    }

    pub fn extend(&mut self, other: Samples) {
        self.micros.extend(other.micros);
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    pub fn is_empty(&self) -> bool {
        self.micros.is_empty()
    }

    /// Sorts once so that `percentile` reads the answer directly.
    pub fn sorted(mut self) -> Sorted {
        self.micros.sort_unstable();
        Sorted {
            micros: self.micros,
        }
    }
}

pub struct Sorted {
    micros: Vec<u32>,
}

impl Sorted {
    /// The nearest-rank percentile `p` (0 < p ≤ 100) in milliseconds; 0 with no samples.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.micros.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.micros.len()) - 1;
        f64::from(self.micros[index]) / 1000.0
    }
}

/// `count` per second over `elapsed`.
pub fn rate(count: usize, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut samples = Samples::default();
        for micros in (1..=100).rev() {
            samples.record(Duration::from_micros(micros * 1000));
        }
        let sorted = samples.sorted();
        assert_eq!(sorted.percentile_ms(50.0), 50.0);
        assert_eq!(sorted.percentile_ms(99.0), 99.0);
        assert_eq!(sorted.percentile_ms(100.0), 100.0);
    }

    #[test]
    fn no_samples_read_as_zero() {
        assert_eq!(Samples::default().sorted().percentile_ms(99.0), 0.0);
        assert_eq!(rate(10, Duration::ZERO), 0.0);
    }
}
