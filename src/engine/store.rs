//! Tenant-scoped in-memory state.
//!
//! Every provider keeps its resources in `TenantStore`s created through the engine, which
//! remembers them so that `POST /_signsim/reset` can forget everything, or one tenant, in
//! one sweep without knowing what the stores hold.

use dashmap::DashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::hash::Hash;

/// The credential-derived namespace a resource lives in (an API key, a username, ...).
pub type Tenant = String;

/// Something that holds per-tenant state and can forget it.
pub trait Resettable: Send + Sync {
    /// Forgets the state of `tenant`, or of every tenant when `None`.
    fn reset(&self, tenant: Option<&str>);
}

pub struct TenantStore<K, V> {
    entries: DashMap<(Tenant, K), V>,
}

impl<K: Eq + Hash + Clone, V: Clone> TenantStore<K, V> {
    pub fn new() -> Self {
        TenantStore {
            entries: DashMap::new(),
        }
    }

    pub fn insert(&self, tenant: &str, key: K, value: V) {
        self.entries.insert((tenant.to_owned(), key), value);
    }

    /// Inserts unless the key exists, in one step; `false` when it existed (nothing changed).
    pub fn insert_new(&self, tenant: &str, key: K, value: V) -> bool {
        match self.entries.entry((tenant.to_owned(), key)) {
            dashmap::Entry::Occupied(_) => false,
            dashmap::Entry::Vacant(slot) => {
                slot.insert(value);
                true
            }
        }
    }

    pub fn get(&self, tenant: &str, key: &K) -> Option<V> {
        self.entries
            .get(&(tenant.to_owned(), key.clone()))
            .map(|entry| entry.value().clone())
    }

    pub fn contains(&self, tenant: &str, key: &K) -> bool {
        self.entries.contains_key(&(tenant.to_owned(), key.clone()))
    }

    /// Runs `f` on the stored value under the entry's lock, so read-check-write sequences
    /// (an OTP attempt, a state transition) cannot interleave with another request.
    pub fn update<R>(&self, tenant: &str, key: &K, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        self.entries
            .get_mut(&(tenant.to_owned(), key.clone()))
            .map(|mut entry| f(entry.value_mut()))
    }

    pub fn remove(&self, tenant: &str, key: &K) -> Option<V> {
        self.entries
            .remove(&(tenant.to_owned(), key.clone()))
            .map(|(_, value)| value)
    }

    /// Every key and value of one tenant, in no particular order.
    pub fn entries(&self, tenant: &str) -> Vec<(K, V)> {
        self.entries
            .iter()
            .filter(|entry| entry.key().0 == tenant)
            .map(|entry| (entry.key().1.clone(), entry.value().clone()))
            .collect()
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Default for TenantStore<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Eq + Hash + Send + Sync, V: Send + Sync> Resettable for TenantStore<K, V> {
    fn reset(&self, tenant: Option<&str>) {
        match tenant {
            Some(tenant) => self.entries.retain(|(owner, _), _| owner != tenant),
            None => self.entries.clear(),
        }
    }
}

/// Saved as a list of `[tenant, key, value]`: JSON objects cannot have a tuple or a
/// number as key. Copying takes one shard's lock at a time; values share their documents
/// (`Bytes`), so a copy is cheap.
impl<K, V> super::state::Persist for TenantStore<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    V: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    fn snapshot(&self) -> Box<dyn super::state::file::Snapshot> {
        let copy: Vec<(Tenant, K, V)> = self
            .entries
            .iter()
            .map(|entry| {
                let (tenant, key) = entry.key().clone();
                (tenant, key, entry.value().clone())
            })
            .collect();
        Box::new(copy)
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Vec<(Tenant, K, V)> = super::state::parse(json)?;
        self.entries.clear();
        for (tenant, key, value) in saved {
            self.entries.insert((tenant, key), value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_do_not_see_each_other() {
        let store = TenantStore::new();
        store.insert("a", 1, "one");
        store.insert("b", 1, "uno");
        assert_eq!(store.get("a", &1), Some("one"));
        assert_eq!(store.get("b", &1), Some("uno"));
        store.reset(Some("a"));
        assert_eq!(store.get("a", &1), None);
        assert_eq!(store.get("b", &1), Some("uno"));
    }
}
