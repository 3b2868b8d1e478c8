//! Things reached by an unguessable link alone, with no credential: a file URL, a signing
//! page, a biometric check. Each is kept under the tenant that made it, so that resetting
//! that tenant forgets its links, with an index from link id to tenant. Expiry is the
//! caller's business: an expired link still resolves, so the page can say it expired
//! instead of pretending it never existed.

use super::store::TenantStore;
use super::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

pub struct Links<V> {
    store: Arc<TenantStore<String, V>>,
    /// Link id → its tenant, all under one pseudo-tenant (`OWNERS`) so that it is a store
    /// too and survives a restart with the links. A reset of one tenant leaves its ids
    /// here; harmless, since `get` finds no value behind them.
    owners: Arc<TenantStore<String, String>>,
}

/// The tenant under which `owners` keeps every link's owner: no credential names it.
const OWNERS: &str = "\0owners";

impl<V: Clone + super::quota::Stored + Send + Sync + Serialize + DeserializeOwned + 'static>
    Links<V>
{
    /// Links saved with the state as the section `name` (and `name.owners`).
    pub fn new(engine: &Engine, name: &str) -> Links<V> {
        Links {
            store: engine.new_store(name),
            owners: engine.new_store(&format!("{name}.owners")),
        }
    }

    /// Stores `value` under a fresh id (32 random bytes, hex) and returns the id.
    pub fn insert(&self, engine: &Engine, tenant: &str, value: V) -> String {
        let id = engine.ids.hex(32);
        self.insert_as(tenant, id.clone(), value);
        id
    }

    /// Stores `value` under an id the caller made (one it already showed, say).
    pub fn insert_as(&self, tenant: &str, id: String, value: V) {
        self.owners.insert(OWNERS, id.clone(), tenant.to_owned());
        self.store.insert(tenant, id, value);
    }

    /// The tenant and value behind `id`, unless it is unknown or was reset away.
    pub fn get(&self, id: &str) -> Option<(String, V)> {
        let tenant = self.owners.get(OWNERS, &id.to_owned())?;
        let value = self.store.get(&tenant, &id.to_owned())?;
        Some((tenant, value))
    }

    pub fn update<R>(&self, id: &str, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let tenant = self.owners.get(OWNERS, &id.to_owned())?;
        self.store.update(&tenant, &id.to_owned(), f)
    }
}
