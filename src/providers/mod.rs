//! The providers, each in a folder of the same parts under the same names:
//!
//! - `mod.rs`: the descriptor (`PROVIDER`: slug, scenario spec, shipped scenarios, how to
//!   mount it), the provider's state handle and its routes at the real paths;
//! - `model`: its state and the one transitions table, no HTTP types;
//! - `wire`: the bodies, extractors and error type of its answers;
//! - `handlers`: the API calls, reading the wire and driving the model;
//! - `admin`: its admin calls and the pages its links open, under `/_signsim/<slug>`.
//!
//! A part that outgrows one file becomes a folder of the same name; a provider adds a file
//! beside them only for what is its own (QI Tech's dossier). `shared/` holds models that
//! several surfaces use and that are not providers themselves.

pub mod identiasign;
pub mod mensatek;
pub mod qitech;
pub mod shared;
pub mod signal;
pub mod uanataca;

use crate::engine::scenarios::ProviderSpec;
use crate::engine::Engine;
use crate::pki::PkiError;
use crate::ui::LinksFn;
use axum::Router;
use shared::oneshot::OneShot;
use std::sync::{Arc, Mutex, OnceLock};

/// One provider, as the registry in `lib.rs` lists it.
pub struct Provider {
    pub slug: &'static str,
    /// What scenario files may script for it.
    pub spec: ProviderSpec,
    /// Its shipped scenario file: where it lives in the repository, and its text.
    pub scenarios: (&'static str, &'static str),
    /// Its OpenAPI 3.1 document (`openapi/<slug>.json`), served at
    /// `/_signsim/openapi/<slug>.json` and kept true by `tests/http/openapi/`.
    pub openapi: &'static str,
    /// Builds its state and routers over the engine.
    pub mount: fn(&Context) -> Result<Mounted, PkiError>,
}

/// A provider's routers.
pub struct Mounted {
    /// What every call to `api` passes first: its tenant and the storage caps.
    pub admission: std::sync::Arc<dyn crate::dispatch::admission::Admission>,
    /// The real API at the provider's own paths; served under `/<slug>`.
    pub api: Router,
    /// Its admin calls and pages; served under `/_signsim/<slug>`.
    pub admin: Router,
}

/// What providers are built from: the engine, the body limit, and the shared models, made
/// once on first use so that every surface over one model sees the same state.
pub struct Context {
    pub engine: Arc<Engine>,
    /// Largest request body a provider accepts, in bytes.
    pub body_limit: usize,
    oneshot: OnceLock<Arc<OneShot>>,
    resource_links: Mutex<Vec<(&'static str, LinksFn)>>,
    open_paths: Mutex<Vec<(&'static str, &'static [&'static str])>>,
}

impl Context {
    pub fn new(engine: Arc<Engine>, body_limit: usize) -> Context {
        Context {
            engine,
            body_limit,
            oneshot: OnceLock::new(),
            resource_links: Mutex::new(Vec::new()),
            open_paths: Mutex::new(Vec::new()),
        }
    }

    /// Registers what the resource page links for `slug`'s resources (optional).
    pub fn resource_links(&self, slug: &'static str, links: LinksFn) {
        self.resource_links
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((slug, links));
    }

    /// Every provider's registered `LinksFn`, by slug.
    pub fn registered_links(&self) -> Vec<(&'static str, LinksFn)> {
        self.resource_links
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Registers the paths under `/_signsim/<slug>` that the links `slug` hands out open
    /// (signer pages, the calls their forms post to, downloads, its always-down
    /// receiver), `{name}` standing for one segment: with `--admin-token` they stay open,
    /// because the unguessable link is the credential of the person holding it.
    pub fn open_paths(&self, slug: &'static str, paths: &'static [&'static str]) {
        self.open_paths
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((slug, paths));
    }

    /// Every registered open path, as a full pattern (`/_signsim/<slug>/...`).
    pub fn registered_open_paths(&self) -> Vec<String> {
        self.open_paths
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .flat_map(|(slug, paths)| paths.iter().map(move |p| format!("/_signsim/{slug}{p}")))
            .collect()
    }

    /// The one-shot model that Uanataca and Signal both serve.
    pub fn oneshot(&self) -> Arc<OneShot> {
        self.oneshot
            .get_or_init(|| OneShot::new(self.engine.clone()))
            .clone()
    }
}
