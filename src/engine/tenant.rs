//! Tenants: the boundary between users of one shared simulator.
//!
//! A tenant is a provider and a name its credential gives: a QI Tech API key, an
//! IdentiaSign entity, a Signal login, a Mensatek API user, a Uanataca `X-Signsim-Tenant`.
//! The same name under two providers is two tenants. Everything the engine keeps is kept
//! per tenant (resources, documents, storage, journal, events, outbox, webhooks, timers,
//! scenario counters and the clock), so no call of one tenant sees or changes another's.

use serde::{Deserialize, Serialize};

/// One tenant: `(provider, name)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tenant {
    /// The provider's slug (`qitech`).
    pub provider: String,
    /// What its credential names (an API key, a username, a header's value).
    pub name: String,
}

impl Tenant {
    pub fn new(provider: &str, name: impl Into<String>) -> Tenant {
        Tenant {
            provider: provider.to_owned(),
            name: name.into(),
        }
    }

    pub fn is(&self, provider: &str, name: &str) -> bool {
        self.provider == provider && self.name == name
    }
}

impl std::fmt::Display for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} tenant '{}'", self.provider, self.name)
    }
}

/// The tenants an admin call names with `?provider=&tenant=`: a name alone is that name
/// in every provider (a test worker that uses one name as its QI Tech key, IdentiaSign
/// entity and Uanataca header names all of them at once); neither is every tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tenants {
    pub provider: Option<String>,
    pub name: Option<String>,
}

impl Tenants {
    /// Every tenant.
    pub fn all() -> Tenants {
        Tenants::default()
    }

    /// Exactly `tenant`.
    pub fn only(tenant: &Tenant) -> Tenants {
        Tenants {
            provider: Some(tenant.provider.clone()),
            name: Some(tenant.name.clone()),
        }
    }

    pub fn is_all(&self) -> bool {
        self.provider.is_none() && self.name.is_none()
    }

    /// Whether the tenant `(provider, name)` is one of these.
    pub fn contains(&self, provider: &str, name: &str) -> bool {
        self.provider.as_deref().is_none_or(|p| p == provider)
            && self.name.as_deref().is_none_or(|n| n == name)
    }

    pub fn includes(&self, tenant: &Tenant) -> bool {
        self.contains(&tenant.provider, &tenant.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_alone_is_that_name_in_every_provider() {
        let worker = Tenants {
            provider: None,
            name: Some("w1".into()),
        };
        assert!(worker.contains("qitech", "w1"));
        assert!(worker.contains("identiasign", "w1"));
        assert!(!worker.contains("qitech", "w2"));
        let one = Tenants::only(&Tenant::new("qitech", "w1"));
        assert!(one.contains("qitech", "w1"));
        assert!(!one.contains("signal", "w1"));
        assert!(Tenants::all().contains("any", "thing"));
    }
}
