//! signsim: one process that stands in for several e-signature and identity-verification
//! providers. This file holds the registry ([`PROVIDERS`]), the configuration
//! ([`Config`]), [`build`], which assembles the [`App`] (engine, providers, pages, admin
//! token, saver), and [`spawn`], which starts it on a port, as tests do.
//!
//! The modules by layer, top to bottom; a file imports only from its own layer or lower
//! ones, and no two files import each other:
//!
//! 1. The app: this file, `main.rs` (the command line), [`serve`] (serves a listener, http
//!    or https, under the connection limit and timeouts), [`tls`] (the https settings), [`healthcheck`] (the client of `signsim healthcheck`), [`saver`] (when
//!    the state is saved, `--state-file`).
//! 2. [`dispatch`]: the service every listener serves. It picks the provider by the path's
//!    first segment ([`dispatch::Route`]), asks its admission, calls the provider's router
//!    with the prefix taken off, and journals the call. [`admin`]: the admin API under
//!    `/_signsim`, guarded by [`admin::token`], with the OpenAPI documents
//!    ([`admin::openapi`]) and the pages of [`ui::pages`] (dashboard, resource pages) and
//!    [`ui::inbox`].
//! 3. [`providers`]: one folder per provider, each a [`providers::Provider`] of the
//!    registry.
//! 4. What the providers share: [`wire`] (the body reader, the tenant and scenario
//!    headers, a scenario's effects on the answer), the page helpers of [`ui`],
//!    [`dispatch::admission`] (what a provider hands the dispatch service: the call's
//!    tenant, the storage caps), [`access_log`] (one line per call).
//! 5. [`engine`]: the provider-agnostic parts (clock, stores, timers, events, outbox,
//!    journal, webhooks, scenarios, the state file).
//! 6. [`pki`]: certificates and signatures, bytes in, bytes out.
//! 7. [`files`]: reading a file given at start, a regular file under a size limit.
//!
//! # The flow of one call
//!
//! 1. [`dispatch::Dispatch`] picks the provider by the path's first segment and asks its
//!    [`dispatch::admission::Admission`] for the call's tenant (the provider's reading of
//!    its credential) and whether a call that may store more is refused at a storage cap
//!    ([`engine::quota::Meter`]), answered in the provider's own error shape before the
//!    body is read.
//! 2. The provider's `wire` layer (`providers/<slug>/wire/`): extractors take the
//!    credential, the path and the body ([`wire::Fields`]), each rejection in the
//!    provider's error shape; request parsing checks the fields.
//! 3. The provider's `handlers/` (one file per resource) drive its `service` (the
//!    operations) over its `model` (data and one transitions table, read with
//!    [`engine::transitions::next`]).
//! 4. Scenario: a creating call picks the resource's scenario
//!    ([`engine::scenarios::Scenarios::choose`]) and gives it to the resource with
//!    [`engine::Engine::assign_scenario`]; every operation asks
//!    [`engine::Engine::scripted`] for its effects, which sets a scripted transition as a
//!    timer ([`engine::Engine::script_transition`], saturating time arithmetic from
//!    [`engine::arith`]: an overflowing delay never fires), and acts out latency, a cut
//!    connection or a scripted answer with [`wire::act_out`].
//! 5. Engine effects: a status change recorded with its typed `from` and `to`
//!    ([`engine::Engine::record_status`], which the dashboard reads), an outbox message
//!    ([`engine::Engine::send_about`]), a webhook ([`engine::Engine::webhook`], delivered and
//!    retried by [`engine::webhooks::Webhooks`]), a timer ([`engine::timers::Timers`], fired
//!    by [`engine::Engine::tick`] or a clock advance, [`engine::Engine::advance`]), a
//!    signature from [`pki`].
//! 6. The answer in the provider's wire shape; the dispatch service logs it
//!    ([`access_log`]) and journals it ([`engine::journal::Journal`]).
//!
//! Admin calls (`/_signsim`) take the same path through [`wire::admin`]'s extractors; those
//! that people reach from a page take a [`ui::Caller`] and answer a page or JSON by the
//! request's `Accept`.
//!
//! # Where to look
//!
//! - A provider's resource expiring: `providers/<slug>/service/` (QI Tech:
//!   `providers/qitech/service/expiry.rs`).
//! - The clock advance firing timers: [`engine::Engine::advance`] and
//!   [`engine::timers::Timers::fire_due`].
//! - IdentiaSign's 206 paging with `last_item`: `providers/identiasign/wire/paging.rs`.
//! - A scenario assigned to a resource: [`engine::Engine::assign_scenario`], called by each
//!   provider's creating handler.
//! - What a provider must bring: `docs/architecture.md` ("Adding a provider"), checked by
//!   `tests/http/registry.rs`.

pub mod access_log;
pub mod admin;
pub mod dispatch;
pub mod engine;
pub mod files;
pub mod healthcheck;
pub mod pki;
pub mod providers;
pub mod saver;
pub mod serve;
pub mod tls;
pub mod ui;
pub mod wire;

use axum::middleware;
use axum::Router;
use engine::scenarios::{self, ProviderSpec, ScenarioError};
use engine::{Engine, EngineConfig};
use providers::{identiasign, mensatek, qitech, signal, uanataca, Context, Provider};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The registry: every provider, in the order the README lists them. Adding a provider is
/// one folder under `providers/` and one line here.
pub const PROVIDERS: &[Provider] = &[
    uanataca::PROVIDER,
    signal::PROVIDER,
    mensatek::PROVIDER,
    identiasign::PROVIDER,
    qitech::PROVIDER,
];

/// Every provider's slug.
pub fn slugs() -> Vec<&'static str> {
    PROVIDERS.iter().map(|p| p.slug).collect()
}

/// What each provider exposes to scenario files.
pub fn provider_specs() -> Vec<ProviderSpec> {
    PROVIDERS.iter().map(|p| p.spec).collect()
}

/// Scenarios compiled into the binary: each provider's documented file in `scenarios/`.
pub fn builtin_scenarios() -> impl Iterator<Item = (&'static str, &'static str)> {
    PROVIDERS.iter().map(|p| p.scenarios)
}

#[derive(Debug, Clone)]
pub struct Config {
    pub engine: EngineConfig,
    /// Largest request body a provider accepts, in bytes.
    pub body_limit: usize,
    /// Scenario files loaded at start, over the built-in ones.
    pub scenarios_dir: Option<PathBuf>,
    /// `--admin-token`: what every `/_signsim` call must carry (see `admin::token`).
    pub admin_token: Option<String>,
    /// `--allow-host`: `Host` names served besides `localhost`, IP addresses, the public
    /// URL's host and the TLS names (`*`: any); see `dispatch::shield::Hosts`.
    pub allow_hosts: Vec<String>,
    /// How long a client that guessed the admin token wrong too often is refused (429),
    /// counted from its first failure (`admin::token`; 10 seconds).
    pub admin_guess_window: std::time::Duration,
    /// `--tls`: serve https (`spawn` does; `main` serves each listener with it).
    pub tls: Option<tls::Tls>,
    /// Where the state survives a restart (`--state-file`); none: it lives in memory only.
    pub state: Option<saver::StateFile>,
    /// The connection level's bounds (`--header-timeout`, `--idle-timeout`,
    /// `--max-connections`).
    pub limits: serve::Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: EngineConfig::default(),
            body_limit: 25 * 1024 * 1024,
            scenarios_dir: None,
            admin_token: None,
            allow_hosts: Vec::new(),
            admin_guess_window: admin::token::GUESS_WINDOW,
            tls: None,
            state: None,
            limits: serve::Limits::default(),
        }
    }
}

/// The assembled simulator: the engine and the providers.
pub struct App {
    pub engine: Arc<Engine>,
    /// Each provider's API as the dispatch service calls it, in registry order.
    routes: Vec<dispatch::Route>,
    /// Each provider's admin calls and pages, by slug (under `/_signsim/<slug>`).
    provider_admin: Vec<(&'static str, Router)>,
    /// What the dashboard and resource pages are built from.
    pages: Arc<ui::pages::Pages>,
    /// The admin token's check, when there is a token.
    guard: Option<Arc<admin::token::AdminGuard>>,
    /// What every listener checks first (hosts, cross-site calls) and adds to answers.
    shield: Arc<dispatch::shield::Shield>,
    /// Saves the state, with `--state-file`.
    saver: Option<Arc<saver::Saver>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot set up the PKI: {0}")]
    Pki(#[from] pki::PkiError),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    #[error("unknown provider '{0}' (known: {known})", known = slugs().join(", "))]
    UnknownProvider(String),
    #[error("invalid scenarios:\n{0}")]
    Scenarios(String),
    #[error("https: {0}")]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    State(#[from] engine::state::file::StateError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Builds the app; call it inside a Tokio runtime (it starts the engine's ticker).
pub fn build(config: &Config) -> Result<App, StartError> {
    // A saved state is read first: its CA and JWT secret are what the engine is made with.
    let loaded = config
        .state
        .as_ref()
        .map(|state| saver::load(state, config.engine.caps.process_bytes))
        .transpose()?
        .flatten();
    let mut engine_config = config.engine.clone();
    // A token means a shared instance: no secret may follow the seed there.
    engine_config.secrets_follow_seed &= config.admin_token.is_none();
    if let Some(loaded) = &loaded {
        engine_config.keys = engine::state::Keys::of(loaded)?;
    }
    let engine = Arc::new(Engine::new(&engine_config, provider_specs())?);
    load_scenarios(&engine, config.scenarios_dir.as_deref())?;
    if let Some(name) = &config.engine.default_scenario {
        if engine.scenarios.get(name).is_none() {
            return Err(StartError::Scenarios(format!(
                "the default scenario '{name}' is not defined"
            )));
        }
    }
    let context = Context::new(engine.clone(), config.body_limit);
    let mut routes = Vec::new();
    let mut provider_admin = Vec::new();
    for provider in PROVIDERS {
        let mounted = (provider.mount)(&context)?;
        routes.push(dispatch::Route {
            slug: provider.slug,
            admission: mounted.admission,
            router: mounted.api,
        });
        provider_admin.push((provider.slug, mounted.admin));
    }
    // Restored once every provider has made its stores and named its timer kinds, and
    // before the ticker starts, so nothing fires against a half-restored state.
    if let Some(loaded) = &loaded {
        engine.restore(loaded)?;
        tracing::info!("state restored from {}", loaded.path.display());
    }
    engine.start();
    let saver = config.state.as_ref().map(|state| {
        let saver = saver::Saver::new(engine.clone(), state.path.clone());
        engine.saves.kept_in(state.path.clone());
        if let Some(every) = state.every {
            saver.every(every);
        }
        saver
    });
    let pages = Arc::new(ui::pages::Pages {
        engine: engine.clone(),
        slugs: slugs(),
        links: context.registered_links(),
    });
    let open = ui::open::OpenPaths::new(&context.registered_open_paths());
    let guard = config.admin_token.as_deref().map(|token| {
        Arc::new(admin::token::AdminGuard::new(
            token,
            open.clone(),
            config.tls.is_some(),
            config.admin_guess_window,
        ))
    });
    let shield = Arc::new(dispatch::shield::Shield::new(
        &config.engine.public_url,
        open,
        served_hosts(config),
    ));
    Ok(App {
        routes,
        provider_admin,
        engine,
        pages,
        guard,
        shield,
        saver,
    })
}

/// The `Host` names served by name: the public URL's host, each name the issued https
/// certificate covers, and each `--allow-host` (`localhost` and IP addresses always).
fn served_hosts(config: &Config) -> dispatch::shield::Hosts {
    let public = url::Url::parse(&config.engine.public_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned));
    let tls_names: &[String] = match &config.tls {
        Some(tls::Tls::Issued { names }) => names,
        _ => &[],
    };
    dispatch::shield::Hosts::new(
        public
            .iter()
            .chain(tls_names)
            .chain(&config.allow_hosts)
            .map(String::as_str),
    )
}

fn load_scenarios(engine: &Engine, dir: Option<&Path>) -> Result<(), StartError> {
    let specs = engine.scenarios.specs().to_vec();
    let report = |errors: Vec<ScenarioError>| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        StartError::Scenarios(lines.join("\n"))
    };
    for (source, text) in builtin_scenarios() {
        engine
            .scenarios
            .load(scenarios::parse(source, text, &specs).map_err(report)?);
    }
    if let Some(dir) = dir {
        engine
            .scenarios
            .load(scenarios::parse_dir(dir, &specs).map_err(report)?);
    }
    Ok(())
}

impl App {
    /// Saves the state now, with `--state-file` (at shutdown: what changed since the last
    /// periodic save is not lost).
    pub async fn save_state(&self) -> Result<(), StartError> {
        if let Some(saver) = &self.saver {
            saver.save().await?;
            tracing::info!("state saved");
        }
        Ok(())
    }

    /// The main listener's service: every provider under `/<slug>`, admin under `/_signsim`.
    pub fn router(&self) -> dispatch::Dispatch {
        let mut rest = Router::new()
            // People who open the bare address land on the start page.
            .route(
                "/",
                axum::routing::get(|| async { axum::response::Redirect::to("/_signsim") }),
            )
            // A nested router's "/" answers only the bare prefix, so the start page needs
            // its own route with the trailing slash people type.
            .route(
                "/_signsim/",
                axum::routing::get(ui::pages::dashboard).with_state(self.pages.clone()),
            )
            .nest(
                "/_signsim",
                admin::router(
                    self.engine.clone(),
                    self.provider_admin.clone(),
                    self.pages.clone(),
                    admin::openapi::Documents::new(PROVIDERS.iter().map(|p| (p.slug, p.openapi))),
                ),
            );
        // The admin token guards everything that is not a provider's API.
        if let Some(guard) = &self.guard {
            rest = rest.layer(middleware::from_fn_with_state(
                guard.clone(),
                admin::token::guard,
            ));
        }
        dispatch::Dispatch::new(
            self.engine.clone(),
            self.routes.clone(),
            rest,
            self.shield.clone(),
        )
    }

    /// One provider's routes at its exact real paths, for a dedicated listener.
    pub fn provider_router(&self, slug: &str) -> Result<dispatch::Dispatch, StartError> {
        let route = self
            .routes
            .iter()
            .find(|route| route.slug == slug)
            .ok_or_else(|| StartError::UnknownProvider(slug.to_owned()))?;
        Ok(dispatch::Dispatch::single(
            self.engine.clone(),
            route.clone(),
            self.shield.clone(),
        ))
    }
}

/// A running simulator, as tests use it.
pub struct Running {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    /// `https` when the config asked for TLS.
    pub scheme: &'static str,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }
}

/// Builds the app and serves it on 127.0.0.1 at an ephemeral port, in the background.
/// Links the simulator hands out point at that port.
pub async fn spawn(mut config: Config) -> Result<Running, StartError> {
    let listener = bind("127.0.0.1:0").await?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: "127.0.0.1:0".into(),
        source,
    })?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    config.engine.public_url = format!("{scheme}://{addr}");
    let app = build(&config)?;
    let tls = match &config.tls {
        Some(tls) => Some(tls.server_config(&app.engine.pki)?),
        None => None,
    };
    let router = app.router();
    let connections = serve::Connections::new(config.limits, config.body_limit);
    tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        if let Err(e) = serve::serve(listener, router, tls, connections, forever).await {
            tracing::error!("server stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        engine: app.engine,
        scheme,
    })
}

pub async fn bind(addr: &str) -> Result<tokio::net::TcpListener, StartError> {
    let listen_error = |source| StartError::Listen {
        addr: addr.to_owned(),
        source,
    };
    let mut last_error = None;
    for resolved in tokio::net::lookup_host(addr).await.map_err(listen_error)? {
        match listen(resolved) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(listen_error(last_error.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to listen on")
    })))
}

/// Connections the kernel holds for us while every worker is busy (signing is CPU work).
/// Tokio's default of 1024 overflows when a thousand clients connect at once, and the
/// kernel then resets some of them (tests/http/load_faults.rs); the kernel caps it at
/// `net.core.somaxconn` anyway.
const LISTEN_BACKLOG: u32 = 8192;

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As TcpListener::bind does: a restarted simulator gets its port back at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

#[cfg(test)]
mod tests {
    /// Every provider mounted, no two parts of the state share a section name: two would
    /// save one over the other (`Engine::keep` logs it, this makes it fail).
    #[tokio::test]
    async fn no_two_state_sections_share_a_name() {
        let app = super::build(&super::Config::default()).unwrap();
        let names: Vec<String> = app
            .engine
            .snapshot()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "two sections are named {name}");
        }
        // Every provider keeps something of its own, so each was counted.
        for slug in super::slugs() {
            let prefix = format!("{slug}.");
            assert!(
                names.iter().any(|name| name.starts_with(&prefix)),
                "no section of {slug} in {names:?}"
            );
        }
    }
}
