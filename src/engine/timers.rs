//! Timers on the virtual clock: work that happens "later" (a status that changes by itself,
//! an envelope that expires). They fire on the engine's tick once the clock has passed
//! them, whether time passed for real or through `POST /_signsim/clock/advance`.
//!
//! A timer is data, not a closure: a `kind` its provider registered a handler for at mount
//! (`on("qitech.expire", ..)`) and a `payload` string (an id, or JSON of several values)
//! the handler reads. That is what lets the state file save pending timers and a restart
//! re-arm them: a closure could not be written down.
//!
//! Each tenant's timers wait in a heap, earliest first, because the engine's ticker looks
//! for due timers every 50 ms: it compares each tenant's earliest with that tenant's clock,
//! so a tick costs the tenants that have timers, not the timers. (A flat list rebuilt on
//! each tick, with a clock lookup per timer, made every call of a simulator holding 50,000
//! flows slower, under the timers' lock.)

use super::clock::Clock;
use super::tenant::{Tenant, Tenants};
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use time::OffsetDateTime;

/// What a kind of timer does when it fires: `(tenant, payload)`. Holds its provider by a
/// `Weak` reference, since the engine (which holds the handler) outlives no provider.
pub type Handler = Arc<dyn Fn(&Tenant, &str) + Send + Sync>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timer {
    /// When it fires, on its tenant's clock.
    pub due: OffsetDateTime,
    pub tenant: Tenant,
    pub kind: String,
    pub payload: String,
}

/// A timer waiting, with the order it was set in: timers due at the same instant fire in
/// that order.
struct Queued {
    order: u64,
    timer: Timer,
}

impl Queued {
    fn key(&self) -> (OffsetDateTime, u64) {
        (self.timer.due, self.order)
    }
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Every pending timer: each tenant's in a min-heap (earliest on top).
#[derive(Default)]
struct Pending {
    by_tenant: HashMap<Tenant, BinaryHeap<Reverse<Queued>>>,
    /// The order the next timer is set in.
    next: u64,
}

impl Pending {
    fn push(&mut self, timer: Timer) {
        let order = self.next;
        self.next = self.next.saturating_add(1);
        self.by_tenant
            .entry(timer.tenant.clone())
            .or_default()
            .push(Reverse(Queued { order, timer }));
    }

    /// Every timer, in the order they were set (what the state file keeps).
    fn in_order(&self) -> Vec<Timer> {
        let mut all: Vec<&Queued> = self
            .by_tenant
            .values()
            .flat_map(|heap| heap.iter().map(|Reverse(queued)| queued))
            .collect();
        all.sort_by_key(|queued| queued.order);
        all.into_iter().map(|queued| queued.timer.clone()).collect()
    }
}

#[derive(Default)]
pub struct Timers {
    pending: Mutex<Pending>,
    handlers: RwLock<HashMap<String, Handler>>,
}

impl Timers {
    /// Registers what timers of `kind` do (`"<slug>.<what>"`). A later call replaces it.
    pub fn on(&self, kind: &str, handler: impl Fn(&Tenant, &str) + Send + Sync + 'static) {
        self.handlers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(kind.to_owned(), Arc::new(handler));
    }

    /// `on` for a handler that works on a provider's model, held weakly (the model holds the
    /// engine, which holds the handler): a timer that fires once the model is gone does
    /// nothing.
    pub fn on_model<M: Send + Sync + 'static>(
        &self,
        kind: &str,
        model: std::sync::Weak<M>,
        handler: impl Fn(&M, &Tenant, &str) + Send + Sync + 'static,
    ) {
        self.on(kind, move |tenant, payload| {
            if let Some(model) = model.upgrade() {
                handler(&model, tenant, payload);
            }
        });
    }

    /// `at` with a payload of several values, as JSON (`read_payload` reads it back).
    pub fn at_json(
        &self,
        due: OffsetDateTime,
        tenant: &Tenant,
        kind: &str,
        payload: &impl Serialize,
    ) {
        match serde_json::to_string(payload) {
            Ok(text) => self.at(due, tenant, kind, text),
            Err(e) => tracing::error!(%kind, "a timer's payload does not encode ({e}); not set"),
        }
    }

    /// Fires the handler of `kind` with `payload` when `tenant`'s clock reaches `due`,
    /// unless the tenant is reset first.
    pub fn at(&self, due: OffsetDateTime, tenant: &Tenant, kind: &str, payload: impl Into<String>) {
        self.lock().push(Timer {
            due,
            tenant: tenant.clone(),
            kind: kind.to_owned(),
            payload: payload.into(),
        });
    }

    /// Runs every timer due on its tenant's clock, earliest first, outside the lock (a
    /// handler may set another timer). A handler that panics is logged and its timer
    /// dropped: the others, due now or later, still run. Without the guard one bad handler
    /// would unwind through the engine's ticker and no timer or webhook would ever fire
    /// again.
    pub fn fire_due(&self, clock: &Clock) {
        let mut due: Vec<Queued> = Vec::new();
        self.lock().by_tenant.retain(|tenant, heap| {
            let now = clock.now_of(&tenant.provider, &tenant.name);
            while heap
                .peek()
                .is_some_and(|Reverse(queued)| queued.timer.due <= now)
            {
                if let Some(Reverse(queued)) = heap.pop() {
                    due.push(queued);
                }
            }
            !heap.is_empty()
        });
        due.sort();
        for Queued { timer, .. } in due {
            let handler = self
                .handlers
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get(&timer.kind)
                .cloned();
            let Some(handler) = handler else {
                tracing::error!(kind = %timer.kind, tenant = %timer.tenant, "a timer of a kind nothing handles; dropped");
                continue;
            };
            // The state a handler touches sits behind locks that recover from poisoning,
            // so nothing is observed half-done.
            let fired = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handler(&timer.tenant, &timer.payload)
            }));
            if fired.is_err() {
                tracing::error!(tenant = %timer.tenant, due = %timer.due, kind = %timer.kind, "a timer panicked; the other timers go on");
            }
        }
    }

    /// How long until the next timer of the tenants `within` picks is due, each on its
    /// tenant's clock (zero when one is due already); `None` when they have none.
    pub fn next_due_where(
        &self,
        clock: &Clock,
        within: &dyn Fn(&str, &str) -> bool,
    ) -> Option<time::Duration> {
        self.lock()
            .by_tenant
            .iter()
            .filter(|(tenant, _)| within(&tenant.provider, &tenant.name))
            .filter_map(|(tenant, heap)| {
                let Reverse(earliest) = heap.peek()?;
                Some(earliest.timer.due - clock.now_of(&tenant.provider, &tenant.name))
            })
            .min()
            .map(|wait| wait.max(time::Duration::ZERO))
    }

    pub fn reset(&self, tenants: &Tenants) {
        let mut pending = self.lock();
        pending
            .by_tenant
            .retain(|tenant, _| !tenants.includes(tenant));
        pending.by_tenant.shrink_to_fit();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A JSON payload as `at_json` wrote it; `None` (logged) if it does not read, which only a
/// hand-edited state file can cause.
pub fn read_payload<P: serde::de::DeserializeOwned>(kind: &str, text: &str) -> Option<P> {
    serde_json::from_str(text)
        .map_err(|e| tracing::error!(%kind, "a timer's payload does not read: {e}"))
        .ok()
}

impl super::persist::Persist for Timers {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        Box::new(self.lock().in_order())
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Vec<Timer> = super::persist::parse(json)?;
        let mut pending = Pending::default();
        for timer in saved {
            pending.push(timer);
        }
        *self.lock() = pending;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::clock::{nanos, Scope};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn t(name: &str) -> Tenant {
        Tenant::new("demo", name)
    }

    #[test]
    fn only_due_timers_fire_in_order() {
        let timers = Timers::default();
        let clock = Clock::default();
        let now = clock.now();
        let fired = Arc::new(Mutex::new(Vec::new()));
        let log = fired.clone();
        timers.on("test.log", move |_, payload| {
            log.lock().unwrap().push(payload.to_owned())
        });
        for (offset, label) in [(20, "late"), (5, "second"), (1, "first")] {
            timers.at(
                now + time::Duration::seconds(offset),
                &t("t"),
                "test.log",
                label,
            );
        }
        let advance = |s| clock.advance(&Scope::All, nanos(s)).unwrap();
        advance(10);
        timers.fire_due(&clock);
        assert_eq!(*fired.lock().unwrap(), vec!["first", "second"]);
        timers.at(now, &t("other"), "test.log", "reset away");
        timers.reset(&Tenants::only(&t("other")));
        advance(20);
        timers.fire_due(&clock);
        assert_eq!(*fired.lock().unwrap(), vec!["first", "second", "late"]);
    }

    #[test]
    fn a_panicking_handler_or_unknown_kind_does_not_stop_the_others() {
        let timers = Timers::default();
        let clock = Clock::default();
        let now = clock.now();
        let count = Arc::new(AtomicU32::new(0));
        timers.on("test.panic", |_, _| panic!("a bad timer"));
        let c = count.clone();
        timers.on("test.count", move |_, _| {
            c.fetch_add(1, Ordering::SeqCst);
        });
        timers.at(now, &t("t"), "test.panic", "");
        timers.at(now, &t("t"), "test.unknown", "");
        timers.at(now + time::Duration::seconds(1), &t("t"), "test.count", "");
        clock.advance(&Scope::All, nanos(5)).unwrap();
        timers.fire_due(&clock);
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn saved_timers_fire_after_a_restore() {
        use crate::engine::persist::Persist;
        let clock = Clock::default();
        let before = Timers::default();
        before.at(clock.now(), &t("t"), "test.count", "payload");
        let mut json = Vec::new();
        before.snapshot().encode(&mut json).unwrap();
        let after = Timers::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        after.on("test.count", move |tenant, payload| {
            s.lock().unwrap().push(format!("{}/{payload}", tenant.name))
        });
        after.restore(std::str::from_utf8(&json).unwrap()).unwrap();
        after.fire_due(&clock);
        assert_eq!(*seen.lock().unwrap(), vec!["t/payload"]);
    }

    #[test]
    fn timers_due_together_fire_in_the_order_they_were_set_also_after_a_restore() {
        use crate::engine::persist::Persist;
        let clock = Clock::default();
        let due = clock.now();
        let before = Timers::default();
        for (tenant, label) in [("b", "1"), ("a", "2"), ("b", "3"), ("c", "4"), ("a", "5")] {
            before.at(due, &t(tenant), "test.log", label);
        }
        before.at(due - time::Duration::seconds(1), &t("c"), "test.log", "0");
        let mut json = Vec::new();
        before.snapshot().encode(&mut json).unwrap();
        let after = Timers::default();
        after.restore(std::str::from_utf8(&json).unwrap()).unwrap();
        for timers in [before, after] {
            let fired = Arc::new(Mutex::new(Vec::new()));
            let log = fired.clone();
            timers.on("test.log", move |_, payload| {
                log.lock().unwrap().push(payload.to_owned())
            });
            timers.fire_due(&clock);
            assert_eq!(*fired.lock().unwrap(), vec!["0", "1", "2", "3", "4", "5"]);
            assert!(timers.next_due_where(&clock, &|_, _| true).is_none());
        }
    }

    #[test]
    fn a_timer_follows_its_own_tenant_clock() {
        let timers = Timers::default();
        let clock = Clock::default();
        let fired = Arc::new(Mutex::new(Vec::new()));
        let log = fired.clone();
        timers.on("test.log", move |tenant, _| {
            log.lock().unwrap().push(tenant.name.clone())
        });
        let due = clock.now() + time::Duration::days(3);
        timers.at(due, &t("a"), "test.log", "");
        timers.at(due, &t("b"), "test.log", "");
        let a = Scope::Tenants(vec![("demo".into(), "a".into())]);
        clock.advance(&a, nanos(4 * 86_400)).unwrap();
        timers.fire_due(&clock);
        assert_eq!(*fired.lock().unwrap(), vec!["a"]);
        let wait = timers
            .next_due_where(&clock, &|_, name| name == "b")
            .unwrap();
        assert!(wait > time::Duration::days(2));
    }
}
