//! Things reached by an unguessable link alone, with no credential: a file URL, a signing
//! page, a biometric check. Each is kept under the tenant that made it, so that resetting
//! that tenant forgets its links, with an index from link id to tenant. Expiry is the
//! caller's business: an expired link still resolves, so the page can say it expired
//! instead of pretending it never existed.

use super::store::{Resettable, TenantStore};
use super::tenant::{Tenant, Tenants};
use super::Engine;
use dashmap::DashMap;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

pub struct Links<V> {
    store: Arc<TenantStore<String, V>>,
    owners: Arc<Owners>,
}

/// Link id → the tenant that made it. Bookkeeping, not a tenant's data: it is no store
/// (no tenant of its own, nothing against the storage caps), forgets a tenant's ids when
/// the tenant is reset, and is saved with the links.
#[derive(Default)]
struct Owners(DashMap<String, Tenant>);

impl<V: Clone + super::quota::Stored + Send + Sync + Serialize + DeserializeOwned + 'static>
    Links<V>
{
    /// Links saved with the state as the section `name` (and `name.owners`).
    pub fn new(engine: &Engine, name: &str) -> Links<V> {
        let owners = Arc::new(Owners::default());
        engine.keep(&format!("{name}.owners"), owners.clone());
        Links {
            store: engine.new_store(name),
            owners,
        }
    }

    /// Stores `value` under a fresh id (32 random bytes, hex) and returns the id.
    pub fn insert(&self, engine: &Engine, tenant: &Tenant, value: V) -> String {
        let id = engine.secrets.hex(32);
        self.insert_as(tenant, id.clone(), value);
        id
    }

    /// Stores `value` under an id the caller made (one it already showed, say).
    pub fn insert_as(&self, tenant: &Tenant, id: String, value: V) {
        self.owners.0.insert(id.clone(), tenant.clone());
        self.store.insert(tenant, id, value);
    }

    /// The tenant and value behind `id`, unless it is unknown or was reset away.
    pub fn get(&self, id: &str) -> Option<(Tenant, V)> {
        let tenant = self.owner(id)?;
        let value = self.store.get(&tenant, &id.to_owned())?;
        Some((tenant, value))
    }

    pub fn update<R>(&self, id: &str, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let tenant = self.owner(id)?;
        self.store.update(&tenant, &id.to_owned(), f)
    }

    fn owner(&self, id: &str) -> Option<Tenant> {
        self.owners.0.get(id).map(|owner| owner.value().clone())
    }
}

impl Resettable for Owners {
    fn reset(&self, tenants: &Tenants) {
        self.0.retain(|_, owner| !tenants.includes(owner));
        self.0.shrink_to_fit();
    }

    /// The store beside it forgets finished links; an id left here leads to nothing.
    fn forget_finished(&self, _: time::Duration) -> usize {
        0
    }
}

impl super::persist::Persist for Owners {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        let copy: Vec<(String, Tenant)> = self
            .0
            .iter()
            .map(|entry| (entry.key().clone(), entry.value().clone()))
            .collect();
        Box::new(copy)
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Vec<(String, Tenant)> = super::persist::parse(json)?;
        self.0.clear();
        for (id, tenant) in saved {
            self.0.insert(id, tenant);
        }
        Ok(())
    }
}
