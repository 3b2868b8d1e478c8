//! The one-shot signature model: requests for a single-use certificate, their documents,
//! OTPs and the signature that issues the certificate.
//!
//! Each request belongs to a `Tenant` of the surface it came through; every operation
//! takes that tenant, reads the tenant's clock and records under it.
//!
//! It speaks in domain terms only. The Uanataca surface (and the Signal facade over it) turn
//! these values and errors into their own wire shapes. This file holds the handle
//! (`OneShot`) and its construction; the parts:
//!
//! - `model`: the request as data, its errors; `status`: the statuses and their one
//!   transitions table; `otp`: the one-time code's rules; `contract`: the contract PDF;
//! - `service`: the operations (create, scenario effects, status changes, documents, OTPs);
//!   `signing`: the signature, now or later; `video`: video identification;
//! - `appearance` and `certificate_json`: how a signature looks on the page, and the
//!   certificate JSON both surfaces show.

pub mod appearance;
pub mod certificate_json;
mod contract;
pub mod model;
pub mod otp;
mod service;
mod signing;
pub mod status;
mod video;

use crate::engine::store::TenantStore;
use crate::engine::Engine;
pub use appearance::{SignatureText, VisibleSignature};
pub use model::{
    AsyncSigning, Document, DocumentKind, IdImages, IssuedCertificate, NewDocument, NewRequest,
    NewVideo, OneShotError, Person, PersonPatch, SignOptions, SignatureRequest, StatusNotice,
    VideoId, VideoOutcome, ID_DOCUMENT_TYPES, MATCH_FIELDS, MAX_DOCUMENTS,
};
pub use otp::{Otp, OtpOptions};
pub use status::{Event, Status};
use std::sync::Arc;

type StatusListener = Arc<dyn Fn(StatusNotice) + Send + Sync>;

/// A scenario's scripted status, later: `[pk, status]` as strings (`on_scripted_status`).
const STATUS_TIMER: &str = "oneshot.status";
/// An asynchronous signature completing: `SignLater`.
const SIGN_TIMER: &str = "oneshot.sign";

pub struct OneShot {
    engine: Arc<Engine>,
    /// Video identifications have their own numbering.
    next_videoid: Arc<crate::engine::state::Counter>,
    /// Every surface's requests, each under its tenant: a `Tenant` carries its surface
    /// (`uanataca`, `signal`), so one surface's calls never name another's requests, even
    /// under the same name.
    requests: Arc<TenantStore<u64, SignatureRequest>>,
    /// Per surface (provider slug), who hears about status changes.
    listeners: dashmap::DashMap<&'static str, StatusListener>,
    /// Status changes made under a request's lock, told to the listeners (the one of the
    /// tenant's surface) once `update` has let go of it: a listener that reads the store
    /// would otherwise deadlock.
    changes: std::sync::Mutex<Vec<StatusNotice>>,
}

impl OneShot {
    pub fn new(engine: Arc<Engine>) -> Arc<OneShot> {
        let requests = engine.new_store("oneshot.requests");
        Arc::new_cyclic(|me: &std::sync::Weak<OneShot>| {
            // What its timers do, registered before any can be set or restored.
            engine.on_scripted_status(STATUS_TIMER, me.clone(), |model, tenant, id, to| {
                if let (Ok(pk), Some(to)) = (id.parse(), Status::parse(to)) {
                    model.force_status(tenant, pk, to).ok();
                }
            });
            engine
                .timers
                .on_model(SIGN_TIMER, me.clone(), |model, tenant, payload| {
                    model.signature_due(tenant, payload)
                });
            OneShot {
                next_videoid: engine.new_counter("oneshot.next_videoid", 137),
                engine,
                requests,
                listeners: dashmap::DashMap::new(),
                changes: std::sync::Mutex::new(Vec::new()),
            }
        })
    }

    /// `listener` hears every status change of the requests of `provider`'s tenants.
    pub fn on_status_change(
        &self,
        provider: &'static str,
        listener: impl Fn(StatusNotice) + Send + Sync + 'static,
    ) {
        self.listeners.insert(provider, Arc::new(listener));
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}
