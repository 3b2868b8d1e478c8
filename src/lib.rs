//! signsim: one process that stands in for several e-signature and identity-verification
//! providers. `build` assembles the app; `spawn` starts it on a port, as tests do.

pub mod admin;
pub mod engine;
pub mod pki;
pub mod providers;
pub mod ui;
pub mod wire;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use engine::journal::JournalEntry;
use engine::scenarios::{self, ProviderSpec, ScenarioError};
use engine::{Engine, EngineConfig};
use providers::{identiasign, mensatek, qitech, signal, uanataca, Context, Provider};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: EngineConfig::default(),
            body_limit: 25 * 1024 * 1024,
            scenarios_dir: None,
        }
    }
}

/// One provider as the app mounts it.
struct Mounted {
    slug: &'static str,
    routers: providers::Mounted,
}

/// The assembled simulator: the engine and the providers.
pub struct App {
    pub engine: Arc<Engine>,
    providers: Vec<Mounted>,
    /// What the dashboard and resource pages are built from.
    pages: Arc<ui::pages::Pages>,
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
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Builds the app; call it inside a Tokio runtime (it starts the engine's ticker).
pub fn build(config: &Config) -> Result<App, StartError> {
    let engine = Arc::new(Engine::new(&config.engine, provider_specs())?);
    load_scenarios(&engine, config.scenarios_dir.as_deref())?;
    if let Some(name) = &config.engine.default_scenario {
        if engine.scenarios.get(name).is_none() {
            return Err(StartError::Scenarios(format!(
                "the default scenario '{name}' is not defined"
            )));
        }
    }
    engine.start();
    let context = Context::new(engine.clone(), config.body_limit);
    let providers = PROVIDERS
        .iter()
        .map(|provider| {
            Ok(Mounted {
                slug: provider.slug,
                routers: (provider.mount)(&context)?,
            })
        })
        .collect::<Result<_, StartError>>()?;
    let pages = Arc::new(ui::pages::Pages {
        engine: engine.clone(),
        slugs: slugs(),
        links: context.registered_links(),
    });
    Ok(App {
        providers,
        engine,
        pages,
    })
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
    /// The main listener's routes: every provider under `/<slug>`, admin under `/_signsim`.
    pub fn router(&self) -> Router {
        let provider_admin = self
            .providers
            .iter()
            .map(|p| (p.slug, p.routers.admin.clone()))
            .collect();
        let mut router = Router::new()
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
                admin::router(self.engine.clone(), provider_admin, self.pages.clone()),
            );
        for provider in &self.providers {
            router = router.nest(&format!("/{}", provider.slug), provider.routers.api.clone());
        }
        router.layer(middleware::from_fn_with_state(
            (self.engine.clone(), None),
            journal_and_log,
        ))
    }

    /// One provider's routes at its exact real paths, for a dedicated listener.
    pub fn provider_router(&self, slug: &str) -> Result<Router, StartError> {
        let provider = self
            .providers
            .iter()
            .find(|p| p.slug == slug)
            .ok_or_else(|| StartError::UnknownProvider(slug.to_owned()))?;
        Ok(provider
            .routers
            .api
            .clone()
            .layer(middleware::from_fn_with_state(
                (self.engine.clone(), Some(provider.slug)),
                journal_and_log,
            )))
    }
}

/// Logs one line per request and records it in the journal.
async fn journal_and_log(
    State((engine, slug)): State<(Arc<Engine>, Option<&'static str>)>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let tenant = request
        .headers()
        .get(wire::TENANT_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    let tenant = response
        .extensions()
        .get::<wire::TenantTag>()
        .map(|tag| tag.0.clone())
        .or(tenant);
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let provider = slug.map(str::to_owned).unwrap_or_else(|| {
        path.trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_owned()
    });
    tracing::info!(
        "{method} {path} -> {} ({duration_ms:.2} ms)",
        response.status().as_u16()
    );
    // The journal does not record reads of itself, which would drown what a test looks for.
    if path != "/_signsim/requests" {
        engine.journal.record(JournalEntry {
            seq: 0,
            at: engine.now(),
            provider,
            tenant,
            method,
            path,
            query,
            status: response.status().as_u16(),
            duration_ms,
        });
    }
    response
}

/// A running simulator, as tests use it.
pub struct Running {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
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
    config.engine.public_url = format!("http://{addr}");
    let app = build(&config)?;
    let router = app.router();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!("server stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        engine: app.engine,
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
