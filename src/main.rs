//! The `signsim` command line: `serve` runs the simulator, `ca export` writes its root CA.

use clap::{Args, Parser, Subcommand};
use signsim::engine::scenarios;
use signsim::engine::EngineConfig;
use signsim::{build, Config, StartError};
use std::path::PathBuf;
use std::process::ExitCode;

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
    Serve(ServeArgs),
    /// Work with the throwaway certificate authority.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Check scenario files, or print their JSON Schema.
    #[command(subcommand)]
    Scenarios(ScenariosCommand),
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
}

#[derive(Args)]
struct PkiArgs {
    /// Make every id, OTP, key and certificate repeat from run to run.
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
        Command::Serve(args) => serve(args),
        Command::Ca(CaCommand::Export(args)) => export_ca(args),
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        // The log goes to standard error, as the README says, so that standard output
        // carries only the listeners' addresses for scripts; colours only for a terminal,
        // so that a log file greps cleanly.
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
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
        .unwrap_or_else(|| format!("http://{link_host}:{}", main_bound.port()));
    let default_dir = PathBuf::from("scenarios");
    let scenarios_dir = args
        .scenarios
        .or_else(|| default_dir.is_dir().then_some(default_dir));
    let config = Config {
        scenarios_dir,
        engine,
        body_limit: args.max_body_mb.saturating_mul(1024 * 1024),
    };
    let app = build(&config)?;
    let mut servers = tokio::task::JoinSet::new();
    // What the listeners are, in the order they are announced on standard output.
    let mut announced = vec![("signsim", main_bound)];

    for spec in &args.listen {
        let (slug, addr) = spec
            .split_once('=')
            .ok_or_else(|| StartError::UnknownProvider(format!("{spec} (expected SLUG=ADDR)")))?;
        let router = app.provider_router(slug)?;
        let listener = signsim::bind(addr).await?;
        let local = bound(&listener, addr)?;
        tracing::info!("{slug} listening on http://{local} (at its real paths)");
        announced.push((slug, local));
        servers.spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown())
                .await
        });
    }
    tracing::info!("signsim listening on http://{main_bound} (admin API at /_signsim)");
    let router = app.router();
    servers.spawn(async move {
        axum::serve(main_listener, router)
            .with_graceful_shutdown(shutdown())
            .await
    });
    // Scripts that start us on port 0 learn the ports here, whatever RUST_LOG filters out
    // of the log: one `NAME http://ADDR` line per listener, the main one (`signsim`) first,
    // written once every listener is bound.
    for (name, addr) in &announced {
        println!("{name} http://{addr}");
    }

    while let Some(finished) = servers.join_next().await {
        if let Ok(Err(e)) = finished {
            tracing::error!("listener stopped: {e}");
        }
    }
    tracing::info!("signsim stopped");
    Ok(())
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

fn export_ca(args: ExportArgs) -> Result<(), String> {
    if args.pki.ca_dir.is_none() && args.pki.seed.is_none() {
        return Err(
            "without --ca-dir or --seed every start makes a new CA, so there is nothing stable to export; \
             pass the same --ca-dir (or --seed) you give `signsim serve`, or fetch /_signsim/ca.pem from a running server"
                .into(),
        );
    }
    let pki = signsim::pki::Pki::new(args.pki.seed, args.pki.ca_dir.as_deref())
        .map_err(|e| e.to_string())?;
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
