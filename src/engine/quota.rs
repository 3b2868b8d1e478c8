//! What each tenant keeps in memory, against the caps that keep a long-running sandbox
//! bounded, and the retention that forgets finished resources.
//!
//! Every `TenantStore` weighs what it holds (`Stored::weight`) and reports the change to
//! one `Meter`. Providers ask the meter before a call that may store more (`check`) and
//! answer a full tenant or process in their own error shape; nothing already stored is
//! touched, so a refused call loses nothing. The meter counts what the stores hold, which
//! is nearly all of the memory that grows with use: the engine's logs (journal, outbox,
//! events, webhook attempts) are bounded on their own.

use super::tenant::Tenant;
use dashmap::DashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// A value kept in a `TenantStore`.
pub trait Stored {
    /// Bytes the value owns on the heap: documents, images, recordings. The store adds
    /// the value's fixed size and its key; strings and small vectors are not counted,
    /// since a few hundred bytes per resource matter only against the document bytes.
    fn heap_bytes(&self) -> usize {
        0
    }

    /// Whether the resource reached an end (signed, refused, expired, ...): the retention
    /// period, when set, forgets it that long after.
    fn is_finished(&self) -> bool {
        false
    }
}

impl Stored for u64 {}

impl Stored for String {
    fn heap_bytes(&self) -> usize {
        self.len()
    }
}

impl Stored for serde_json::Value {
    /// An estimate (the text's length, about what the value owns): a stored JSON value can
    /// be as large as a body (Uanataca's settings.ini), so it must weigh what it holds.
    fn heap_bytes(&self) -> usize {
        use serde_json::Value;
        match self {
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
            Value::String(s) => s.len(),
            Value::Array(items) => items
                .iter()
                .map(|item| std::mem::size_of::<Value>() + item.heap_bytes())
                .sum(),
            Value::Object(fields) => fields
                .iter()
                .map(|(key, item)| key.len() + std::mem::size_of::<Value>() + item.heap_bytes())
                .sum(),
        }
    }
}

/// The caps, in bytes; `u64::MAX` means no cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub tenant_bytes: u64,
    pub process_bytes: u64,
}

impl Default for Caps {
    /// 256 MiB a tenant and 1 GiB in all: room for thousands of signed documents in a test
    /// run, small enough that a forgotten sandbox cannot take a CI host's memory.
    fn default() -> Self {
        Caps {
            tenant_bytes: 256 * 1024 * 1024,
            process_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// Why a call that would store more is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Full {
    #[error(
        "storage full: tenant '{}' holds {used} bytes of its {cap}-byte cap \
         (--max-tenant-mb); free space with POST /_signsim/reset?provider={}&tenant=<that \
         tenant> or a retention period (--retention)", tenant.name, tenant.provider
    )]
    Tenant { tenant: Tenant, used: u64, cap: u64 },
    #[error(
        "storage full: the simulator holds {used} bytes of its {cap}-byte cap \
         (--max-memory-mb); free space with POST /_signsim/reset or a retention period \
         (--retention)"
    )]
    Process { used: u64, cap: u64 },
    /// Bodies being read count against the process cap too (`Meter::reserve`): this
    /// one's `incoming` bytes do not fit beside what is stored and what is being read.
    #[error(
        "storage full: the simulator holds {stored} bytes and is reading {reading} more of \
         its {cap}-byte cap (--max-memory-mb); a body of {incoming} bytes does not fit; \
         try again once the calls in flight end, or free space with POST /_signsim/reset"
    )]
    Reading {
        stored: u64,
        reading: u64,
        incoming: u64,
        cap: u64,
    },
    /// The body alone is larger than a cap: no freeing makes it fit, so it is a body over
    /// the limit (413), not a full simulator (507).
    #[error(
        "request body too large: {incoming} bytes is more than the {cap}-byte storage cap \
         ({flag})"
    )]
    TooLarge {
        incoming: u64,
        cap: u64,
        flag: &'static str,
    },
}

impl Full {
    /// Whether the body alone is over a cap (HTTP 413) rather than the space left (507:
    /// the same call succeeds once space is freed).
    pub fn too_large(&self) -> bool {
        matches!(self, Full::TooLarge { .. })
    }
}

#[derive(Default)]
pub struct Meter {
    caps: Caps,
    total: AtomicU64,
    /// Bytes of request bodies being read (reserved by `reserve`, given back by
    /// `release`): they are in memory as much as what is stored.
    reading: AtomicU64,
    tenants: DashMap<Tenant, u64>,
}

impl Meter {
    pub fn new(caps: Caps) -> Meter {
        Meter {
            caps,
            ..Meter::default()
        }
    }

    pub fn caps(&self) -> Caps {
        self.caps
    }

    /// Bytes held by every tenant together.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Bytes of request bodies being read now.
    pub fn reading(&self) -> u64 {
        self.reading.load(Ordering::Relaxed)
    }

    /// Reserves `incoming` bytes of a body about to be read, against the process cap
    /// beside what is stored and what other bodies are reading: one atomic add (and one
    /// subtraction when it does not fit). Give them back with `release`.
    pub fn reserve(&self, incoming: u64) -> Result<(), Full> {
        let cap = self.caps.process_bytes;
        if incoming > cap {
            return Err(Full::TooLarge {
                incoming,
                cap,
                flag: "--max-memory-mb",
            });
        }
        let before = self.reading.fetch_add(incoming, Ordering::Relaxed);
        let stored = self.total();
        if stored.saturating_add(before).saturating_add(incoming) > cap {
            self.release(incoming);
            return Err(Full::Reading {
                stored,
                reading: before,
                incoming,
                cap,
            });
        }
        Ok(())
    }

    /// Gives back `bytes` reserved with `reserve`.
    pub fn release(&self, bytes: u64) {
        if bytes > 0 {
            self.reading.fetch_sub(bytes, Ordering::Relaxed);
        }
    }

    /// Bytes held by `tenant`.
    pub fn tenant(&self, tenant: &Tenant) -> u64 {
        self.tenants.get(tenant).map_or(0, |used| *used)
    }

    /// Every tenant that holds something, with its bytes, largest first.
    pub fn tenants(&self) -> Vec<(Tenant, u64)> {
        let mut all: Vec<(Tenant, u64)> = self
            .tenants
            .iter()
            .filter(|entry| *entry.value() > 0)
            .map(|entry| (entry.key().clone(), *entry.value()))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all
    }

    /// Whether `tenant` may store `incoming` more bytes. A call is let through while the
    /// holdings are under the cap, so the caps are soft by at most one call's outputs (a
    /// signature adds a signed copy the request did not carry).
    pub fn check(&self, tenant: Option<&Tenant>, incoming: u64) -> Result<(), Full> {
        // A body larger than a cap fits no matter what is freed: a body over the limit.
        if let Some(tenant_cap) = tenant.map(|_| self.caps.tenant_bytes) {
            if incoming > tenant_cap {
                return Err(Full::TooLarge {
                    incoming,
                    cap: tenant_cap,
                    flag: "--max-tenant-mb",
                });
            }
        }
        if incoming > self.caps.process_bytes {
            return Err(Full::TooLarge {
                incoming,
                cap: self.caps.process_bytes,
                flag: "--max-memory-mb",
            });
        }
        let total = self.total();
        if total.saturating_add(incoming) > self.caps.process_bytes {
            return Err(Full::Process {
                used: total,
                cap: self.caps.process_bytes,
            });
        }
        if let Some(tenant) = tenant {
            let used = self.tenant(tenant);
            if used.saturating_add(incoming) > self.caps.tenant_bytes {
                return Err(Full::Tenant {
                    tenant: tenant.clone(),
                    used,
                    cap: self.caps.tenant_bytes,
                });
            }
        }
        Ok(())
    }

    /// Records that `tenant` now holds `added` more and `removed` fewer bytes.
    pub(crate) fn change(&self, tenant: &Tenant, added: u64, removed: u64) {
        if added == removed {
            return;
        }
        if added > removed {
            let delta = added - removed;
            self.total.fetch_add(delta, Ordering::Relaxed);
            *self.tenants.entry(tenant.clone()).or_insert(0) += delta;
        } else {
            let delta = removed - added;
            // Saturating on both counts: a reset that raced a write must not wrap them.
            let _ = self
                .total
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                    Some(t.saturating_sub(delta))
                });
            if let Some(mut used) = self.tenants.get_mut(tenant) {
                *used = used.saturating_sub(delta);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> Tenant {
        Tenant::new("demo", name)
    }

    #[test]
    fn caps_refuse_past_the_limit_and_free_on_removal() {
        let meter = Meter::new(Caps {
            tenant_bytes: 100,
            process_bytes: 150,
        });
        meter.change(&t("a"), 90, 0);
        assert!(meter.check(Some(&t("a")), 10).is_ok());
        assert!(matches!(
            meter.check(Some(&t("a")), 11),
            Err(Full::Tenant { used: 90, .. })
        ));
        meter.change(&t("b"), 55, 0);
        assert!(matches!(
            meter.check(Some(&t("b")), 10),
            Err(Full::Process { used: 145, .. })
        ));
        meter.change(&t("a"), 0, 90);
        assert_eq!(meter.tenant(&t("a")), 0);
        assert_eq!(meter.total(), 55);
        meter.change(&t("a"), 0, 1_000);
        assert_eq!(meter.total(), 0, "removal saturates instead of wrapping");
    }

    #[test]
    fn bodies_being_read_count_beside_what_is_stored() {
        let meter = Meter::new(Caps {
            tenant_bytes: 100,
            process_bytes: 150,
        });
        meter.change(&t("a"), 50, 0);
        assert!(meter.reserve(60).is_ok());
        assert!(matches!(
            meter.reserve(41),
            Err(Full::Reading {
                stored: 50,
                reading: 60,
                incoming: 41,
                ..
            })
        ));
        assert_eq!(meter.reading(), 60, "a refused reservation keeps nothing");
        assert!(meter.reserve(40).is_ok());
        meter.release(100);
        assert_eq!(meter.reading(), 0);
        // A body over a cap alone is too large, not a full simulator.
        assert!(meter.reserve(151).unwrap_err().too_large());
        assert!(meter.check(Some(&t("b")), 101).unwrap_err().too_large());
        assert!(!meter.check(Some(&t("a")), 51).unwrap_err().too_large());
    }

    #[test]
    fn one_name_in_two_providers_is_two_tenants() {
        let meter = Meter::new(Caps {
            tenant_bytes: 100,
            process_bytes: 1_000,
        });
        meter.change(&Tenant::new("uanataca", "corp.pe"), 100, 0);
        assert!(meter
            .check(Some(&Tenant::new("uanataca", "corp.pe")), 1)
            .is_err());
        assert!(meter
            .check(Some(&Tenant::new("identiasign", "corp.pe")), 1)
            .is_ok());
    }
}
