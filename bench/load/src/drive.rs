//! What every mode shares: when to stop (a duration or a number of units), the workers'
//! results merged, and the report printed for people or as one JSON line for scripts.

use crate::stats::{rate, Samples};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How much work a run does: units are handed out until the deadline passes or the count
/// runs out, whichever comes first. A unit started before the deadline is finished.
pub struct Budget {
    deadline: Instant,
    limit: Option<usize>,
    handed: AtomicUsize,
}

impl Budget {
    pub fn new(seconds: u64, limit: Option<usize>) -> Budget {
        Budget {
            deadline: Instant::now() + Duration::from_secs(seconds),
            limit,
            handed: AtomicUsize::new(0),
        }
    }

    /// The number of the next unit (0, 1, ...), unique across workers, or `None` once the
    /// run is over.
    pub fn next(&self) -> Option<usize> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let n = self.handed.fetch_add(1, Ordering::Relaxed);
        match self.limit {
            Some(limit) if n >= limit => None,
            _ => Some(n),
        }
    }
}

/// One worker's tally: the latency of each unit that succeeded, each step's latencies,
/// how many failed and the first few reasons.
pub struct Tally {
    pub units: Samples,
    pub steps: Vec<Samples>,
    pub failures: usize,
    pub reasons: Vec<String>,
}

/// Reasons kept per worker: enough to see what broke without flooding the terminal.
const REASONS_KEPT: usize = 3;

impl Tally {
    pub fn new(steps: usize) -> Tally {
        Tally {
            units: Samples::default(),
            steps: vec![Samples::default(); steps],
            failures: 0,
            reasons: Vec::new(),
        }
    }

    pub fn fail(&mut self, reason: String) {
        self.failures += 1;
        if self.reasons.len() < REASONS_KEPT {
            self.reasons.push(reason);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.units.extend(other.units);
        for (mine, theirs) in self.steps.iter_mut().zip(other.steps) {
            mine.extend(theirs);
        }
        self.failures += other.failures;
        for reason in other.reasons {
            if self.reasons.len() < REASONS_KEPT && !self.reasons.contains(&reason) {
                self.reasons.push(reason);
            }
        }
    }
}

/// Runs `workers` copies of `worker` (given its index) to the end and merges their tallies.
pub async fn drive<F, Fut>(workers: usize, steps: usize, worker: F) -> (Tally, Duration)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Tally> + Send + 'static,
{
    let started = Instant::now();
    let handles: Vec<_> = (0..workers).map(|w| tokio::spawn(worker(w))).collect();
    let mut total = Tally::new(steps);
    for handle in handles {
        match handle.await {
            Ok(tally) => total.merge(tally),
            Err(e) => total.fail(format!("a worker stopped: {e}")),
        }
    }
    (total, started.elapsed())
}

/// Prints the run's figures: `unit` names what was counted ("requests", "flows"). Returns
/// how many units succeeded.
pub fn report(
    mode: &str,
    unit: &str,
    step_names: &[&str],
    tally: Tally,
    elapsed: Duration,
    as_json: bool,
) -> usize {
    let done = tally.units.len();
    let per_second = rate(done, elapsed);
    let units = tally.units.sorted();
    let (p50, p99) = (units.percentile_ms(50.0), units.percentile_ms(99.0));
    // Steps in the flow's order; a step no unit reached (with --create-only) is left out.
    let steps: Vec<(&str, f64, f64)> = step_names
        .iter()
        .zip(tally.steps)
        .filter(|(_, samples)| !samples.is_empty())
        .map(|(name, samples)| {
            let sorted = samples.sorted();
            (
                *name,
                sorted.percentile_ms(50.0),
                sorted.percentile_ms(99.0),
            )
        })
        .collect();
    if as_json {
        let steps: Map<String, Value> = steps
            .iter()
            .map(|(name, p50, p99)| ((*name).to_owned(), json!({ "p50_ms": p50, "p99_ms": p99 })))
            .collect();
        let line = json!({
            "mode": mode, "unit": unit, "done": done, "failures": tally.failures,
            "seconds": elapsed.as_secs_f64(), "per_second": per_second,
            "p50_ms": p50, "p99_ms": p99, "steps": steps, "reasons": tally.reasons,
        });
        println!("{line}");
        return done;
    }
    println!(
        "{mode}: {done} {unit} in {:.2} s = {per_second:.0} {unit}/s; p50 {p50:.3} ms, p99 {p99:.3} ms; {} failed",
        elapsed.as_secs_f64(),
        tally.failures
    );
    for (name, p50, p99) in &steps {
        println!("  {name:10} p50 {p50:8.3} ms   p99 {p99:8.3} ms");
    }
    for reason in &tally.reasons {
        println!("  failure: {reason}");
    }
    done
}
