//! The `signsim` command line: `serve` runs the simulator, `ca export` writes its root CA,
//! `ca issue` a server certificate from it (both the CA `serve` makes with the same
//! `--seed`/`--ca-dir`), `scenarios check`/`schema` check scenario files or print their
//! JSON Schema, `healthcheck` asks a running one if it is up.

use clap::{Args, Parser, Subcommand};
use signsim::engine::quota::Caps;
use signsim::engine::scenarios;
use signsim::engine::EngineConfig;
use signsim::tls::Tls;
use signsim::{build, Config, StartError};
use std::path::PathBuf;
use std::process::ExitCode;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Local stand-in for e-signature and identity-verification provider APIs
/// (Uanataca One-Shot, ...), with real signatures from a throwaway CA.
#[derive(Parser)]
#[command(name = "signsim", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every provider under /<slug> and the admin API under /_signsim.
    Serve(Box<ServeArgs>),
    /// Work with the throwaway certificate authority.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Check scenario files, or print their JSON Schema.
    #[command(subcommand)]
    Scenarios(ScenariosCommand),
    /// Exit 0 when a running simulator answers GET /_signsim/health with 200, non-zero
    /// otherwise (for container health checks).
    Healthcheck(HealthcheckArgs),
}

#[derive(Subcommand)]
enum ScenariosCommand {
    /// Validate every *.toml file of DIR; errors name file, line and column.
    Check {
        /// Directory of scenario files.
        #[arg(default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Print the JSON Schema of scenario files (for editors).
    Schema,
}

#[derive(Subcommand)]
enum CaCommand {
    /// Write the root certificate (PEM) that every signature chains to.
    Export(ExportArgs),
    /// Issue a TLS server certificate from the CA, for your own https webhook receiver:
    /// writes DIR/NAME.pem (the certificate) and DIR/NAME.key (its PKCS#8 key), NAME being
    /// the first name given.
    Issue(IssueArgs),
}

#[derive(Args)]
struct PkiArgs {
    /// Make every id, OTP, key and certificate repeat from run to run. Under
    /// --admin-token only ids and OTPs do: link codes, file tokens, the JWT secret and
    /// certificate keys are random then, so that nobody can compute them from the seed.
    #[arg(long, env = "SIGNSIM_SEED", value_name = "N")]
    seed: Option<u64>,
    /// Keep the root CA in this directory (made on first start, reused after), so that it
    /// needs to be trusted only once. Without it, each start makes a new CA.
    #[arg(long, env = "SIGNSIM_CA_DIR", value_name = "DIR")]
    ca_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// Port of the main listener.
    #[arg(long, env = "SIGNSIM_PORT", default_value_t = 8800)]
    port: u16,
    /// Address of the main listener (0.0.0.0 inside a container).
    #[arg(long, env = "SIGNSIM_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Extra listener serving one provider at its exact real paths, e.g.
    /// `--listen uanataca=127.0.0.1:8801`. Repeatable; comma-separated in the env var.
    #[arg(
        long,
        env = "SIGNSIM_LISTEN",
        value_name = "SLUG=ADDR",
        value_delimiter = ','
    )]
    listen: Vec<String>,
    /// Base of the links the simulator hands out (signing pages, downloads), when people
    /// reach it at another address than --host:--port (a container, a proxy).
    #[arg(long, env = "SIGNSIM_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Attempts per webhook delivery before it is given up.
    #[arg(
        long,
        env = "SIGNSIM_WEBHOOK_ATTEMPTS",
        value_name = "N",
        default_value_t = 5
    )]
    webhook_attempts: u32,
    /// Wait before the second webhook attempt, doubled before each later one (seconds of
    /// the virtual clock).
    #[arg(
        long,
        env = "SIGNSIM_WEBHOOK_BACKOFF",
        value_name = "SECONDS",
        default_value_t = 1
    )]
    webhook_backoff: u32,
    /// PEM file of certificates (one or more) that https webhook receivers may chain to,
    /// besides the system's roots and the simulator's own CA.
    #[arg(long, env = "SIGNSIM_WEBHOOK_CA", value_name = "FILE")]
    webhook_ca: Option<PathBuf>,
    /// Where webhooks may be delivered: a host name or an address/CIDR (10.0.0.0/8).
    /// Repeatable; comma-separated in the env var. Default: anywhere, as one developer
    /// wants; on a shared sandbox list the receivers' hosts and networks, since a tenant
    /// picks the URLs (another delivery is recorded as refused, never attempted). Names
    /// are judged on the addresses they resolve to, the ones then connected to.
    #[arg(
        long,
        env = "SIGNSIM_WEBHOOK_ALLOW",
        value_name = "HOST|CIDR",
        value_delimiter = ','
    )]
    webhook_allow: Vec<signsim::engine::webhook_allow::Allowed>,
    /// Directory of scenario files loaded at start, over the built-in ones
    /// (default: ./scenarios when it exists).
    #[arg(long, env = "SIGNSIM_SCENARIOS", value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// Scenario for resources that no header or `match` chooses one for (default: none,
    /// the happy path).
    #[arg(long, env = "SIGNSIM_DEFAULT_SCENARIO", value_name = "NAME")]
    default_scenario: Option<String>,
    /// Largest request body accepted, in megabytes.
    #[arg(
        long,
        env = "SIGNSIM_MAX_BODY_MB",
        value_name = "MB",
        default_value_t = 25
    )]
    max_body_mb: usize,
    /// Most a tenant may store (documents, resources), in megabytes; calls that would store
    /// more are refused in the provider's error shape until something is freed.
    #[arg(
        long,
        env = "SIGNSIM_MAX_TENANT_MB",
        value_name = "MB",
        default_value_t = 256
    )]
    max_tenant_mb: u64,
    /// Most the whole simulator may store, in megabytes.
    #[arg(
        long,
        env = "SIGNSIM_MAX_MEMORY_MB",
        value_name = "MB",
        default_value_t = 1024
    )]
    max_memory_mb: u64,
    /// Seconds a client has to send a whole request head once it started one (a new
    /// connection: once connected); a client dripping its headers is cut off after that.
    #[arg(
        long,
        env = "SIGNSIM_HEADER_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    header_timeout: u64,
    /// Seconds a connection with no request in flight may stay silent before it is
    /// closed, so idle connections do not hold descriptors for ever.
    #[arg(
        long,
        env = "SIGNSIM_IDLE_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 60
    )]
    idle_timeout: u64,
    /// Most connections served at once (every listener together), never more than the
    /// descriptor limit (ulimit -n) leaves room for; more wait in the listen backlog.
    #[arg(
        long,
        env = "SIGNSIM_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 512
    )]
    max_connections: usize,
    /// Forget finished resources (signed, refused, expired...) and their documents this
    /// many seconds (virtual clock) after they finished. Off by default; for shared
    /// sandboxes that run for days.
    #[arg(long, env = "SIGNSIM_RETENTION", value_name = "SECONDS")]
    retention: Option<u64>,
    /// Serve https on every listener, with a certificate the simulator's CA issues for
    /// localhost, 127.0.0.1, ::1 and each --tls-name (trust ca.pem once; see --ca-dir).
    #[arg(long, env = "SIGNSIM_TLS")]
    tls: bool,
    /// Another name (host name or IP address) the https certificate covers, e.g. the
    /// service's name in docker compose. Repeatable; comma-separated in the env var.
    #[arg(
        long = "tls-name",
        env = "SIGNSIM_TLS_NAMES",
        value_name = "NAME",
        value_delimiter = ','
    )]
    tls_names: Vec<String>,
    /// Serve https with your own certificate (PEM, leaf first) instead of an issued one.
    #[arg(
        long,
        env = "SIGNSIM_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(
        long,
        env = "SIGNSIM_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Make every /_signsim call and page ask for this token (Authorization: Bearer, or
    /// X-Signsim-Admin-Token; pages show a login form). The provider APIs, the pages the
    /// simulator's links open and /_signsim/health (status, version and uptime only) stay
    /// open. A token also means the instance is shared: --seed then fixes no secret.
    #[arg(
        long,
        env = "SIGNSIM_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
    /// Another `Host` name to serve (a proxy's or a container's name) besides localhost,
    /// any IP address, the host of --public-url, each --tls-name, --host and the hosts of
    /// --listen: any other is refused with 421, so that a web page cannot rebind a DNS
    /// name of its own to the simulator and read it. `*.example.test` serves the names
    /// under example.test, `*` any name. Repeatable; comma-separated in the env var.
    #[arg(
        long = "allow-host",
        env = "SIGNSIM_ALLOW_HOSTS",
        value_name = "NAME",
        value_delimiter = ','
    )]
    allow_hosts: Vec<String>,
    /// Keep the whole state in this file: read at start, saved every --save-every seconds
    /// and at shutdown (SIGTERM, Ctrl-C), so a restart loses at most that many seconds.
    #[arg(long, env = "SIGNSIM_STATE_FILE", value_name = "PATH")]
    state_file: Option<PathBuf>,
    /// Seconds between saves of --state-file (0: only at shutdown; at most a year).
    #[arg(
        long,
        env = "SIGNSIM_SAVE_EVERY",
        value_name = "SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(0..=31_536_000)
    )]
    save_every: u64,
    /// Key of signer certificates: p256 (ECDSA) or rsa2048 (RSA, for verifiers that expect
    /// it; keys come from a background pool). The CA and TSA stay P-256. RSA keys cannot
    /// be seeded: under --seed they differ run to run, while everything else repeats.
    #[arg(
        long,
        env = "SIGNSIM_KEY_TYPE",
        value_name = "TYPE",
        value_enum,
        default_value_t = signsim::pki::KeyType::P256
    )]
    key_type: signsim::pki::KeyType,
    #[command(flatten)]
    pki: PkiArgs,
}

#[derive(Args)]
struct HealthcheckArgs {
    /// The simulator's address; default http://127.0.0.1:$SIGNSIM_PORT (8800), https when
    /// SIGNSIM_TLS or SIGNSIM_TLS_CERT is set, as in the container it runs in.
    #[arg(long, env = "SIGNSIM_HEALTHCHECK_URL", value_name = "URL")]
    url: Option<String>,
    #[arg(long, env = "SIGNSIM_PORT", default_value_t = 8800, hide = true)]
    port: u16,
    #[arg(long, env = "SIGNSIM_TLS", hide = true)]
    tls: bool,
    #[arg(long, env = "SIGNSIM_TLS_CERT", hide = true)]
    tls_cert: Option<PathBuf>,
    /// Trust the https certificate when it chains to this PEM file.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Trust the https certificate when it chains to DIR/ca.pem (the server's --ca-dir).
    #[arg(long, env = "SIGNSIM_CA_DIR", value_name = "DIR")]
    ca_dir: Option<PathBuf>,
    /// Do not check the https certificate at all. Without --ca-file it is not checked on
    /// a loopback address either: that probe asks whether our own process is alive.
    #[arg(long)]
    insecure: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
    /// Try again until the simulator answers or this many seconds have passed (0 to 3600,
    /// decimals allowed): for a script that has just started it in the background.
    #[arg(long, value_name = "SECONDS", value_parser = wait_seconds)]
    wait: Option<std::time::Duration>,
}

/// `--wait`'s seconds: 0 to an hour, decimals allowed.
fn wait_seconds(text: &str) -> Result<std::time::Duration, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=3600.0).contains(s))
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("'{text}' is not a number of seconds from 0 to 3600"))
}

#[derive(Args)]
struct IssueArgs {
    /// Host names or IP addresses the certificate covers; the first also names the files.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    /// Directory to write NAME.pem and NAME.key into (made if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    pki: PkiArgs,
    // --- state across restarts
    /// Keep the whole state in this file: read at start, saved every --save-every seconds
    /// and at shutdown (SIGTERM, Ctrl-C), so a restart loses at most that many seconds.
    #[arg(long, env = "SIGNSIM_STATE_FILE", value_name = "PATH")]
    state_file: Option<PathBuf>,
    /// Seconds between saves of --state-file (0: only at shutdown; at most a year).
    #[arg(
        long,
        env = "SIGNSIM_SAVE_EVERY",
        value_name = "SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(0..=31_536_000)
    )]
    save_every: u64,
}

#[derive(Args)]
struct ExportArgs {
    /// Write the PEM here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    pki: PkiArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Ca(CaCommand::Export(args)) => export_ca(args),
        Command::Ca(CaCommand::Issue(args)) => issue_server_cert(args),
        Command::Healthcheck(args) => healthcheck(args),
        Command::Scenarios(ScenariosCommand::Check { dir }) => check_scenarios(&dir),
        Command::Scenarios(ScenariosCommand::Schema) => {
            let schema = scenarios::json_schema(&signsim::provider_specs());
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).unwrap_or_default()
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("signsim: {message}");
            ExitCode::FAILURE
        }
    }
}

fn engine_config(pki: PkiArgs) -> EngineConfig {
    EngineConfig {
        seed: pki.seed,
        ca_dir: pki.ca_dir,
        ..EngineConfig::default()
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    // The log goes to standard error, as the README says, so that standard output carries
    // only the listeners' addresses for scripts. A writer thread does the writing, batching
    // lines, so that a request never waits on the terminal or the pipe; `never lossy`: under
    // a flood, requests wait rather than lose lines. The guard flushes what is left at exit.
    // The queue holds 8,192 lines, not the default 128,000: its slots are allocated once and
    // the writer cycles through all of them, so the default keeps 4 MB resident for good
    // (a quarter of the idle process), while 8,192 lines are seconds of a flood.
    let (writer, _flush_at_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(8_192)
        .thread_name("signsim-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        // Colours only for a terminal, so that a log file greps cleanly.
        .with_writer(writer.clone())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    signsim::access_log::init(writer);
    // Blocking threads (signatures, the state file) are CPU work: more of them than cores
    // only adds context switches, and each one left idle keeps its stack and its
    // allocator cache (megabytes after a reset) until it times out.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cores.max(2))
        .on_thread_park(signsim::engine::memory::after_park)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(run(args)).map_err(|e| e.to_string())
}

async fn run(args: ServeArgs) -> Result<(), StartError> {
    let mut engine = engine_config(args.pki);
    engine.webhook_retry.max_attempts = args.webhook_attempts.max(1);
    engine.webhook_retry.first_backoff = time::Duration::seconds(args.webhook_backoff.into());
    engine.default_scenario = args.default_scenario;
    engine.webhook_ca = args.webhook_ca;
    engine.webhook_allow = args.webhook_allow;
    engine.caps = Caps {
        tenant_bytes: args.max_tenant_mb.saturating_mul(1024 * 1024),
        process_bytes: args.max_memory_mb.saturating_mul(1024 * 1024),
    };
    engine.retention = args.retention.map(signsim::engine::seconds);
    let tls = tls_setting(
        &args.host,
        args.tls,
        args.tls_names,
        args.tls_cert,
        args.tls_key,
    );
    let scheme = if tls.is_some() { "https" } else { "http" };
    // An empty SIGNSIM_ADMIN_TOKEN (a compose file's `${TOKEN:-}`) means no token.
    let admin_token = args.admin_token.filter(|token| !token.trim().is_empty());
    // A token means a shared instance: `--seed` must not make its secrets computable.
    engine.secrets_follow_seed = admin_token.is_none();
    // The names we listen on are ones people dial (an address is served anyway).
    let mut allow_hosts = args.allow_hosts;
    allow_hosts.push(args.host.clone());
    allow_hosts.extend(
        args.listen
            .iter()
            .filter_map(|spec| spec.split_once('=')?.1.rsplit_once(':'))
            .map(|(host, _port)| host.to_owned()),
    );
    warn_if_exposed(&args.host, admin_token.is_some());
    engine.key_type = args.key_type;
    // Bind first: with --port 0 the system picks the port, and the links the simulator
    // hands out must name the port it actually got.
    let main_addr = format!("{}:{}", args.host, args.port);
    let main_listener = signsim::bind(&main_addr).await?;
    let main_bound = bound(&main_listener, &main_addr)?;
    // 0.0.0.0 is where to listen, not where to go: links use the loopback address then.
    let link_host = if args.host == "0.0.0.0" {
        "127.0.0.1"
    } else {
        &args.host
    };
    engine.public_url = args
        .public_url
        .unwrap_or_else(|| format!("{scheme}://{link_host}:{}", main_bound.port()));
    let default_dir = PathBuf::from("scenarios");
    let scenarios_dir = args
        .scenarios
        .or_else(|| default_dir.is_dir().then_some(default_dir));
    let config = Config {
        scenarios_dir,
        engine,
        body_limit: args.max_body_mb.saturating_mul(1024 * 1024),
        admin_token,
        allow_hosts,
        admin_guess_window: signsim::admin::token::GUESS_WINDOW,
        tls,
        state: args.state_file.map(|path| signsim::saver::StateFile {
            path,
            every: (args.save_every > 0).then(|| std::time::Duration::from_secs(args.save_every)),
        }),
        limits: signsim::serve::Limits {
            header_timeout: std::time::Duration::from_secs(args.header_timeout.max(1)),
            idle_timeout: std::time::Duration::from_secs(args.idle_timeout.max(1)),
            max_connections: args.max_connections.max(1),
        },
    };
    let app = build(&config)?;
    // One certificate for every listener: each serves names the same CA vouches for.
    let tls = match &config.tls {
        Some(tls) => Some(tls.server_config(&app.engine.pki)?),
        None => None,
    };
    let mut servers = tokio::task::JoinSet::new();
    // One connection limit for every listener: the descriptors are the process's.
    let connections = signsim::serve::Connections::new(config.limits, config.body_limit);
    // What the listeners are, in the order they are announced on standard output.
    let mut announced = vec![("signsim", main_bound)];

    for spec in &args.listen {
        let (slug, addr) = spec
            .split_once('=')
            .ok_or_else(|| StartError::UnknownProvider(format!("{spec} (expected SLUG=ADDR)")))?;
        let router = app.provider_router(slug)?;
        let listener = signsim::bind(addr).await?;
        let local = bound(&listener, addr)?;
        tracing::info!("{slug} listening on {scheme}://{local} (at its real paths)");
        announced.push((slug, local));
        let tls = tls.clone();
        servers.spawn(signsim::serve::serve(
            listener,
            router,
            tls,
            connections.clone(),
            shutdown(),
        ));
    }
    tracing::info!("signsim listening on {scheme}://{main_bound} (admin API at /_signsim)");
    servers.spawn(signsim::serve::serve(
        main_listener,
        app.router(),
        tls,
        connections,
        shutdown(),
    ));
    // Scripts that start us on port 0 learn the ports here, whatever RUST_LOG filters out
    // of the log: one `NAME URL` line per listener, the main one (`signsim`) first,
    // written once every listener is bound.
    for (name, addr) in &announced {
        println!("{name} {scheme}://{addr}");
    }

    while let Some(finished) = servers.join_next().await {
        if let Ok(Err(e)) = finished {
            tracing::error!("listener stopped: {e}");
        }
    }
    app.save_state().await?;
    tracing::info!("signsim stopped");
    Ok(())
}

/// What `--tls`, `--tls-name`, `--tls-cert` and `--tls-key` ask for (clap makes sure
/// the last two come together).
fn tls_setting(
    host: &str,
    on: bool,
    mut names: Vec<String>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> Option<Tls> {
    if let (Some(cert), Some(key)) = (cert, key) {
        if !names.is_empty() {
            tracing::warn!(
                "--tls-name is ignored with --tls-cert: your certificate names its hosts"
            );
        }
        return Some(Tls::Files { cert, key });
    }
    if !on {
        return None;
    }
    // A host we listen on by name or by one address is one people dial: cover it too.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let wildcard = host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    if !wildcard {
        names.push(host.to_owned());
    }
    Some(Tls::Issued { names })
}

/// In a shared network, an open admin API lets anyone reset the simulator, read every
/// message it "sent" (OTPs, links) and act for every end user: say so when we listen
/// beyond this machine without a token.
fn warn_if_exposed(host: &str, has_token: bool) {
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback && !has_token {
        tracing::warn!(
            "listening on {host} without --admin-token: anyone who can reach this address \
             can use the admin API (/_signsim), read every OTP and link in the outbox, reset \
             the simulator and act for its end users; set SIGNSIM_ADMIN_TOKEN in shared sandboxes"
        );
    }
}

/// The address a listener actually got (the port the system chose for port 0).
fn bound(
    listener: &tokio::net::TcpListener,
    asked: &str,
) -> Result<std::net::SocketAddr, StartError> {
    listener.local_addr().map_err(|source| StartError::Listen {
        addr: asked.to_owned(),
        source,
    })
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` sends).
async fn shutdown() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// The PKI of `signsim ca`: the one `serve` makes with the same `--seed` and `--ca-dir`.
fn tool_pki(args: &PkiArgs) -> Result<signsim::pki::Pki, String> {
    let config = EngineConfig {
        seed: args.seed,
        ca_dir: args.ca_dir.clone(),
        ..EngineConfig::default()
    };
    signsim::pki::Pki::setup(signsim::engine::pki_setup(&config)).map_err(|e| e.to_string())
}

fn export_ca(args: ExportArgs) -> Result<(), String> {
    if args.pki.ca_dir.is_none() && args.pki.seed.is_none() {
        return Err(
            "without --ca-dir or --seed every start makes a new CA, so there is nothing stable to export; \
             pass the same --ca-dir (or --seed) you give `signsim serve`, or fetch /_signsim/ca.pem from a running server"
                .into(),
        );
    }
    let pki = tool_pki(&args.pki)?;
    match args.out {
        Some(path) => std::fs::write(&path, pki.ca_pem())
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            print!("{}", pki.ca_pem());
            Ok(())
        }
    }
}

fn check_scenarios(dir: &std::path::Path) -> Result<(), String> {
    match scenarios::parse_dir(dir, &signsim::provider_specs()) {
        Ok(found) => {
            let names: Vec<&str> = found.iter().map(|s| s.name.as_str()).collect();
            println!("{} scenario(s) OK: {}", names.len(), names.join(", "));
            Ok(())
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("{error}");
            }
            Err(format!("{} error(s) in {}", errors.len(), dir.display()))
        }
    }
}

/// `signsim ca issue NAME... --out DIR`: a server certificate for the user's own https
/// receiver, trusted by the simulator's webhook client as every certificate of its CA.
fn issue_server_cert(args: IssueArgs) -> Result<(), String> {
    if args.pki.ca_dir.is_none() && args.pki.seed.is_none() {
        return Err(
            "without --ca-dir or --seed the certificate would come from a CA that no running \
             simulator uses; pass the same --ca-dir (or --seed) you give `signsim serve`"
                .into(),
        );
    }
    let first = args.names.first().map(String::as_str).unwrap_or_default();
    // The first name becomes a file name: only what host names and addresses are made of.
    let fits = |name: &str| {
        !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '*'))
    };
    if let Some(bad) = args.names.iter().find(|name| !fits(name)) {
        return Err(format!("{bad:?} is not a host name or IP address"));
    }
    let pki = tool_pki(&args.pki)?;
    let issued = pki.issue_server(&args.names).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot make {}: {e}", args.out.display()))?;
    let stem = first.replace([':', '*'], "_");
    let cert = args.out.join(format!("{stem}.pem"));
    let key = args.out.join(format!("{stem}.key"));
    std::fs::write(&cert, &issued.cert_pem)
        .map_err(|e| format!("cannot write {}: {e}", cert.display()))?;
    write_private(&key, issued.key_pem.as_bytes())?;
    println!("{}\n{}", cert.display(), key.display());
    Ok(())
}

/// Writes a private key readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn healthcheck(args: HealthcheckArgs) -> Result<(), String> {
    use signsim::healthcheck::{check, check_waiting, Trust};
    let https = args.tls || args.tls_cert.is_some();
    let url = args.url.unwrap_or_else(|| {
        let scheme = if https { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", args.port)
    });
    let trust = match (args.ca_file, args.insecure) {
        (Some(file), _) => Trust::CaFile(file),
        (None, true) => Trust::Anything,
        (None, false) => Trust::Default(args.ca_dir.map(|dir| dir.join("ca.pem"))),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let timeout = std::time::Duration::from_secs(args.timeout);
    let said = runtime.block_on(async {
        match args.wait {
            // `--wait 0` is one try, as without it.
            Some(wait) if !wait.is_zero() => check_waiting(&url, trust, timeout, wait).await,
            _ => check(&url, trust, timeout).await,
        }
    })?;
    println!("{said}");
    Ok(())
}
