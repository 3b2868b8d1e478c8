//! Tenant-scoped in-memory state: [`TenantStore`], and [`Resettable`], what a reset asks
//! of every part that holds per-tenant state.
//!
//! Every provider keeps its resources in `TenantStore`s created through the engine, which
//! remembers them so that `POST /_signsim/reset` can forget everything, or one tenant, in
//! one sweep without knowing what the stores hold. Each store also weighs what it holds
//! for the memory caps (`quota::Meter`) and stamps when a resource finished, for the
//! retention period.

use super::clock::Clock;
use super::quota::{Meter, Stored};
use super::tenant::{Tenant, Tenants};
use dashmap::DashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::hash::Hash;
use std::sync::Arc;
use time::OffsetDateTime;

/// Something that holds per-tenant state and can forget it.
pub trait Resettable: Send + Sync {
    /// Forgets the state of `tenants`.
    fn reset(&self, tenants: &Tenants);

    /// Forgets the resources that finished `retention` or longer ago, each on its
    /// tenant's clock; returns how many.
    fn forget_finished(&self, retention: time::Duration) -> usize;
}

/// A stored value with what the store knows about it.
#[derive(Clone)]
struct Slot<V> {
    value: V,
    /// What the meter was told this slot weighs.
    weight: u64,
    /// When the value was first seen finished (on its tenant's clock).
    finished_at: Option<OffsetDateTime>,
}

pub struct TenantStore<K, V> {
    entries: DashMap<(Tenant, K), Slot<V>>,
    meter: Arc<Meter>,
    clock: Arc<Clock>,
}

impl<K: Eq + Hash + Clone, V: Clone + Stored> TenantStore<K, V> {
    pub fn new(meter: Arc<Meter>, clock: Arc<Clock>) -> Self {
        TenantStore {
            entries: DashMap::new(),
            meter,
            clock,
        }
    }

    /// A slot for `value`, weighed and, if finished, stamped now.
    fn slot(&self, tenant: &Tenant, value: V) -> Slot<V> {
        Slot {
            weight: weight::<K, V>(tenant, &value),
            finished_at: value.is_finished().then(|| self.now(tenant)),
            value,
        }
    }

    fn now(&self, tenant: &Tenant) -> OffsetDateTime {
        self.clock.now_of(&tenant.provider, &tenant.name)
    }

    pub fn insert(&self, tenant: &Tenant, key: K, value: V) {
        let slot = self.slot(tenant, value);
        let added = slot.weight;
        let removed = self
            .entries
            .insert((tenant.clone(), key), slot)
            .map_or(0, |old| old.weight);
        self.meter.change(tenant, added, removed);
    }

    /// Inserts unless the key exists, in one step; `false` when it existed (nothing changed).
    pub fn insert_new(&self, tenant: &Tenant, key: K, value: V) -> bool {
        match self.entries.entry((tenant.clone(), key)) {
            dashmap::Entry::Occupied(_) => false,
            dashmap::Entry::Vacant(vacant) => {
                let slot = self.slot(tenant, value);
                self.meter.change(tenant, slot.weight, 0);
                vacant.insert(slot);
                true
            }
        }
    }

    pub fn get(&self, tenant: &Tenant, key: &K) -> Option<V> {
        self.entries
            .get(&(tenant.clone(), key.clone()))
            .map(|entry| entry.value().value.clone())
    }

    pub fn contains(&self, tenant: &Tenant, key: &K) -> bool {
        self.entries.contains_key(&(tenant.clone(), key.clone()))
    }

    /// Runs `f` on the stored value under the entry's lock, so read-check-write sequences
    /// (an OTP attempt, a state transition) cannot interleave with another request.
    pub fn update<R>(&self, tenant: &Tenant, key: &K, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut entry = self.entries.get_mut(&(tenant.clone(), key.clone()))?;
        let slot = entry.value_mut();
        let result = f(&mut slot.value);
        let weight = weight::<K, V>(tenant, &slot.value);
        self.meter.change(tenant, weight, slot.weight);
        slot.weight = weight;
        if slot.finished_at.is_none() && slot.value.is_finished() {
            slot.finished_at = Some(self.now(tenant));
        }
        Some(result)
    }

    pub fn remove(&self, tenant: &Tenant, key: &K) -> Option<V> {
        let (_, slot) = self.entries.remove(&(tenant.clone(), key.clone()))?;
        self.meter.change(tenant, 0, slot.weight);
        Some(slot.value)
    }

    /// Every key and value of one tenant, in no particular order.
    pub fn entries(&self, tenant: &Tenant) -> Vec<(K, V)> {
        self.entries
            .iter()
            .filter(|entry| entry.key().0 == *tenant)
            .map(|entry| (entry.key().1.clone(), entry.value().value.clone()))
            .collect()
    }

    /// Removes the entries `forget` picks, telling the meter; returns how many went.
    fn forget_where(&self, forget: impl Fn(&Tenant, &Slot<V>) -> bool) -> usize {
        let mut forgotten = 0;
        self.entries.retain(|(tenant, _), slot| {
            if forget(tenant, slot) {
                self.meter.change(tenant, 0, slot.weight);
                forgotten += 1;
                false
            } else {
                true
            }
        });
        forgotten
    }
}

/// What a slot costs: the value's own size and heap bytes, the key, the tenant's name.
fn weight<K, V: Stored>(tenant: &Tenant, value: &V) -> u64 {
    let fixed = std::mem::size_of::<(Tenant, K)>() + std::mem::size_of::<Slot<V>>();
    (fixed + tenant.provider.len() + tenant.name.len() + value.heap_bytes()) as u64
}

impl<K, V> Resettable for TenantStore<K, V>
where
    K: Eq + Hash + Clone + Send + Sync,
    V: Clone + Stored + Send + Sync,
{
    /// Forgets `tenants`' resources, and the table's room for them (a map keeps its
    /// capacity otherwise: the memory of 50,000 resources stays after a reset).
    fn reset(&self, tenants: &Tenants) {
        self.forget_where(|owner, _| tenants.includes(owner));
        self.entries.shrink_to_fit();
    }

    fn forget_finished(&self, retention: time::Duration) -> usize {
        self.forget_where(|tenant, slot| {
            slot.finished_at
                .is_some_and(|at| super::arith::later(at, retention) <= self.now(tenant))
        })
    }
}

/// Saved as a list of `[tenant, key, value]`: JSON objects cannot have a tuple or a
/// number as key. Copying takes one shard's lock at a time; values share their documents
/// (`Bytes`), so a copy is cheap.
impl<K, V> super::persist::Persist for TenantStore<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: Clone + Stored + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        let copy: Vec<(Tenant, K, V)> = self
            .entries
            .iter()
            .map(|entry| {
                let (tenant, key) = entry.key().clone();
                (tenant, key, entry.value().value.clone())
            })
            .collect();
        Box::new(copy)
    }

    /// Restored values are weighed again (the meter starts from them) and a finished one
    /// counts as finished from the restart, for the retention period.
    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Vec<(Tenant, K, V)> = super::persist::parse(json)?;
        self.forget_where(|_, _| true);
        for (tenant, key, value) in saved {
            self.insert(&tenant, key, value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Stored for &'static str {
        fn is_finished(&self) -> bool {
            self.starts_with("done")
        }
    }

    fn t(name: &str) -> Tenant {
        Tenant::new("demo", name)
    }

    fn store() -> (TenantStore<u32, &'static str>, Arc<Meter>, Arc<Clock>) {
        let meter = Arc::new(Meter::default());
        let clock = Arc::new(Clock::default());
        (TenantStore::new(meter.clone(), clock.clone()), meter, clock)
    }

    #[test]
    fn tenants_do_not_see_each_other() {
        let (store, meter, _) = store();
        store.insert(&t("a"), 1, "one");
        store.insert(&t("b"), 1, "uno");
        assert_eq!(store.get(&t("a"), &1), Some("one"));
        assert_eq!(store.get(&t("b"), &1), Some("uno"));
        assert!(meter.tenant(&t("a")) > 0);
        store.reset(&Tenants::only(&t("a")));
        assert_eq!(store.get(&t("a"), &1), None);
        assert_eq!(store.get(&t("b"), &1), Some("uno"));
        assert_eq!(meter.tenant(&t("a")), 0);
        assert_eq!(meter.total(), meter.tenant(&t("b")));
    }

    #[test]
    fn forgets_only_what_finished_before_the_cutoff() {
        let (store, meter, clock) = store();
        store.insert(&t("a"), 1, "open");
        store.insert(&t("a"), 2, "open");
        store.update(&t("a"), &2, |v| *v = "done");
        assert_eq!(store.forget_finished(time::Duration::seconds(60)), 0);
        clock
            .advance(
                &super::super::clock::Scope::All,
                super::super::clock::nanos(61),
            )
            .unwrap();
        assert_eq!(store.forget_finished(time::Duration::seconds(60)), 1);
        assert_eq!(store.get(&t("a"), &2), None);
        assert_eq!(store.get(&t("a"), &1), Some("open"));
        store.reset(&Tenants::all());
        assert_eq!(meter.total(), 0);
    }
}
