//! Timers on the virtual clock: work that happens "later" (a status that changes by itself,
//! an envelope that expires). They fire on the engine's tick once the clock has passed
//! them, whether time passed for real or through `POST /_signsim/clock/advance`.

use std::sync::Mutex;
use time::OffsetDateTime;

type Task = Box<dyn FnOnce() + Send>;

struct Timer {
    due: OffsetDateTime,
    tenant: String,
    task: Task,
}

#[derive(Default)]
pub struct Timers {
    timers: Mutex<Vec<Timer>>,
}

impl Timers {
    pub fn at(&self, due: OffsetDateTime, tenant: &str, task: impl FnOnce() + Send + 'static) {
        self.lock().push(Timer {
            due,
            tenant: tenant.to_owned(),
            task: Box::new(task),
        });
    }

    /// Runs every timer due at `now`, earliest first, outside the lock (a task may set
    /// another timer). A task that panics is logged and dropped: the others, due now or
    /// later, still run. Without the guard one bad task would unwind through the engine's
    /// ticker and no timer or webhook would ever fire again.
    pub fn fire_due(&self, now: OffsetDateTime) {
        let mut due: Vec<Timer> = {
            let mut timers = self.lock();
            let (due, later) = std::mem::take(&mut *timers)
                .into_iter()
                .partition(|t| t.due <= now);
            *timers = later;
            due
        };
        due.sort_by_key(|t| t.due);
        for timer in due {
            let Timer { due, tenant, task } = timer;
            // The task is consumed either way, and the state it touches sits behind locks
            // that recover from poisoning, so nothing is observed half-done.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(task)).is_err() {
                tracing::error!(%tenant, %due, "a timer task panicked; the other timers go on");
            }
        }
    }

    pub fn reset(&self, tenant: Option<&str>) {
        let mut timers = self.lock();
        match tenant {
            Some(tenant) => timers.retain(|t| t.tenant != tenant),
            None => timers.clear(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Timer>> {
        self.timers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[test]
    fn only_due_timers_fire_in_order() {
        let timers = Timers::default();
        let now = OffsetDateTime::now_utc();
        let fired = Arc::new(Mutex::new(Vec::new()));
        for (offset, label) in [(20, "late"), (5, "second"), (1, "first")] {
            let fired = fired.clone();
            timers.at(now + time::Duration::seconds(offset), "t", move || {
                fired.lock().unwrap().push(label)
            });
        }
        timers.fire_due(now + time::Duration::seconds(10));
        assert_eq!(*fired.lock().unwrap(), vec!["first", "second"]);
        let count = Arc::new(AtomicU32::new(0));
        let c = count.clone();
        timers.at(now, "other", move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        timers.reset(Some("other"));
        timers.fire_due(now + time::Duration::seconds(30));
        assert_eq!(count.load(Ordering::SeqCst), 0);
        assert_eq!(fired.lock().unwrap().len(), 3);
    }

    #[test]
    fn a_panicking_task_does_not_stop_the_others() {
        let timers = Timers::default();
        let now = OffsetDateTime::now_utc();
        let count = Arc::new(AtomicU32::new(0));
        timers.at(now, "t", || panic!("a bad timer"));
        let c = count.clone();
        timers.at(now + time::Duration::seconds(1), "t", move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        timers.fire_due(now + time::Duration::seconds(5));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}
