//! Things reached by an unguessable link alone (no token): kept per tenant, so that a
//! reset forgets them, with an index from link id to the tenant that made it.

use crate::engine::store::TenantStore;
use crate::engine::Engine;
use dashmap::DashMap;
use std::sync::Arc;

pub struct ByLink<V> {
    store: Arc<TenantStore<String, V>>,
    owners: DashMap<String, String>,
}

impl<V: Clone + Send + Sync + 'static> ByLink<V> {
    pub fn new(engine: &Engine) -> ByLink<V> {
        ByLink {
            store: engine.new_store(),
            owners: DashMap::new(),
        }
    }

    /// Stores `value` under a fresh id (32 random bytes, hex) and returns the id.
    pub fn insert(&self, engine: &Engine, tenant: &str, value: V) -> String {
        let id = engine.ids.hex(32);
        self.owners.insert(id.clone(), tenant.to_owned());
        self.store.insert(tenant, id.clone(), value);
        id
    }

    /// The tenant and value behind `id`, unless it is unknown or was reset away.
    pub fn get(&self, id: &str) -> Option<(String, V)> {
        let tenant = self.owners.get(id)?.value().clone();
        let value = self.store.get(&tenant, &id.to_owned())?;
        Some((tenant, value))
    }

    pub fn update<R>(&self, id: &str, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let tenant = self.owners.get(id)?.value().clone();
        self.store.update(&tenant, &id.to_owned(), f)
    }
}
