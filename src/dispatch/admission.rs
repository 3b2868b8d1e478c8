//! What the dispatch service asks of a provider before its routes see a call
//! ([`Admission`]): the call's tenant, for the journal and the storage caps, and whether
//! the call may go on. Every provider answers with a [`StorageGate`] over its own
//! credential reading ([`TenantOf`]) and its own "storage full" answer ([`StorageFull`]).
//!
//! A dispatch policy, not a body reader: it looks at the head only, before any handler
//! reads the body, so a refused call stores nothing and loses nothing.

use crate::engine::quota::{Full, Meter};
use crate::engine::Engine;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// How a provider reads a call's tenant from its credential, for the journal and the
/// storage caps: the same reading its credential extractor makes, `None` when the call
/// carries none it accepts.
pub type TenantOf<S> = fn(&S, &HeaderMap) -> Option<String>;

/// How a provider answers a call refused because a storage cap is reached, in its own
/// error shape. It sees the request's head (a provider may choose the format from it).
pub type StorageFull = fn(&Full, &Request) -> Response;

/// The status of a storage refusal: 413 for a body larger than a cap (nothing freed makes
/// it fit), 507 for a full tenant or simulator (freeing space makes the same call succeed).
pub fn storage_status(full: &Full) -> StatusCode {
    if full.too_large() {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::INSUFFICIENT_STORAGE
    }
}

/// What the dispatch service asks of a provider before its routes see a call: the call's
/// tenant (for the journal and the caps), or the provider's answer refusing it.
pub trait Admission: Send + Sync {
    /// The call's tenant, as the provider's credential extractor reads it.
    fn tenant(&self, request: &Request) -> Option<String>;
    /// The provider's answer to a call refused at a storage cap (`full`), e.g. a body
    /// that does not fit what is left of the memory cap (`super::inflight`).
    fn refuse_full(&self, full: &Full, request: &Request) -> Response;
    /// `Err`: the provider's answer refusing the call (past a storage cap).
    fn admit(
        &self,
        tenant: Option<&crate::engine::tenant::Tenant>,
        request: &Request,
    ) -> Result<(), Box<Response>>;
    /// The provider's answer refusing a call before admission (a host it does not serve,
    /// a tenant header that is not text), with `status` and `message`. By default the
    /// admin shape, `{"error": message}`: a provider whose error shape is cheap to make
    /// from a status and a message may answer in it instead.
    fn refuse(&self, status: StatusCode, message: &str, _request: &Request) -> Response {
        crate::wire::admin::AdminError::new(status, message).into_response()
    }
}

/// Every provider's admission: it names the call's tenant by the provider's `TenantOf`,
/// and refuses a call that may store more (POST, PUT, PATCH) once the tenant or the
/// process holds its cap.
pub struct StorageGate<S> {
    state: Arc<S>,
    tenant_of: TenantOf<S>,
    storage_full: StorageFull,
    meter: Arc<Meter>,
}

impl<S: Send + Sync + 'static> StorageGate<S> {
    pub fn new(
        state: Arc<S>,
        engine: &Engine,
        tenant_of: TenantOf<S>,
        storage_full: StorageFull,
    ) -> StorageGate<S> {
        StorageGate {
            state,
            tenant_of,
            storage_full,
            meter: engine.meter.clone(),
        }
    }
}

impl<S: Send + Sync + 'static> Admission for StorageGate<S> {
    fn tenant(&self, request: &Request) -> Option<String> {
        (self.tenant_of)(&self.state, request.headers())
    }

    fn refuse_full(&self, full: &Full, request: &Request) -> Response {
        (self.storage_full)(full, request)
    }

    fn admit(
        &self,
        tenant: Option<&crate::engine::tenant::Tenant>,
        request: &Request,
    ) -> Result<(), Box<Response>> {
        if matches!(
            *request.method(),
            Method::POST | Method::PUT | Method::PATCH
        ) {
            let incoming = request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            if let Err(full) = self.meter.check(tenant, incoming) {
                tracing::warn!("{full}");
                return Err(Box::new((self.storage_full)(&full, request)));
            }
        }
        Ok(())
    }
}
