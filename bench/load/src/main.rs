//! signsim-load: a load generator for signsim (see bench/README.md).
//!
//!   signsim-load static URL [--connections 64] [--seconds 10] [--requests N]
//!   signsim-load uanataca BASE [--workers 8] [--seconds 10] [--flows N] [--pdf-kb 100] [--create-only]
//!   signsim-load qitech BASE [--workers 8] [--seconds 10] [--flows N] [--pdf-kb 100] [--create-only]
//!
//! Each task keeps one HTTP/1.1 connection alive; every request's latency is kept (in
//! microseconds) and percentiles come from sorting them. `--json` prints one JSON line.

mod client;
mod drive;
mod pdf;
mod qitech;
mod static_load;
mod stats;
mod uanataca;

use clap::{Args, Parser, Subcommand};
use client::Target;
use drive::{report, Budget};

#[derive(Parser)]
#[command(version, about = "Load generator for signsim")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// GET one URL on N keep-alive connections: requests/s, p50, p99, errors.
    Static {
        /// The full URL, e.g. http://127.0.0.1:8800/uanataca/api/v1/hello
        url: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[command(flatten)]
        common: Common,
        /// Stop after this many requests (or at --seconds, whichever comes first).
        #[arg(long)]
        requests: Option<usize>,
    },
    /// Complete Uanataca classic flows (create, upload, OTP, outbox, sign, download).
    Uanataca(FlowArgs),
    /// Complete QI Tech envelopes (create, document, submit, sign, report, dossier).
    Qitech(FlowArgs),
}

#[derive(Args)]
struct Common {
    /// How long the run lasts, at most.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Threads of the load generator's runtime. It shares the machine with the server:
    /// each thread it takes is one the server does not get.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print one JSON line instead of the text report.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct FlowArgs {
    /// The simulator's base URL, e.g. http://127.0.0.1:8800
    base: String,
    /// Concurrent flows, each in its own tenant on its own connection.
    #[arg(long, default_value_t = 8)]
    workers: usize,
    #[command(flatten)]
    common: Common,
    /// Stop after this many flows (or at --seconds, whichever comes first).
    #[arg(long)]
    flows: Option<usize>,
    /// Size of the PDF each flow uploads, in KB.
    #[arg(long, default_value_t = 100)]
    pdf_kb: usize,
    /// Only the creating call of each flow: to fill the simulator with resources that hold
    /// no document (for the memory cost of one resource).
    #[arg(long)]
    create_only: bool,
}

/// Bounds on what the command line may ask, so that a typo cannot spawn a million tasks
/// or allocate gigabytes for the PDF.
const MAX_TASKS: usize = 10_000;
const MAX_PDF_KB: usize = 100 * 1024;

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("signsim-load: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let common = match &cli.mode {
        Mode::Static { common, .. } => common,
        Mode::Uanataca(args) | Mode::Qitech(args) => &args.common,
    };
    let runtime = match common.threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n.min(64))
            .enable_all()
            .build(),
    }
    .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(run_mode(cli.mode))
}

async fn run_mode(mode: Mode) -> Result<(), String> {
    let done = match mode {
        Mode::Static {
            url,
            connections,
            common,
            requests,
        } => {
            let target = Target::parse(&url)?;
            let budget = Budget::new(common.seconds, requests);
            let (tally, elapsed) = static_load::run(target, bounded(connections)?, budget).await;
            report("static", "requests", &[], tally, elapsed, common.json)
        }
        Mode::Uanataca(args) => {
            let target = Target::parse(&args.base)?;
            let prefix = run_prefix();
            let pdf =
                pdf::padded_contract(&target, &format!("{prefix}-setup"), pdf_kb(&args)?).await?;
            let setup = uanataca::Setup::new(prefix, pdf, args.create_only);
            let budget = Budget::new(args.common.seconds, args.flows);
            let (tally, elapsed) =
                uanataca::run(target, bounded(args.workers)?, budget, setup).await;
            report(
                "uanataca",
                "flows",
                uanataca::STEPS,
                tally,
                elapsed,
                args.common.json,
            )
        }
        Mode::Qitech(args) => {
            let target = Target::parse(&args.base)?;
            let prefix = run_prefix();
            let pdf =
                pdf::padded_contract(&target, &format!("{prefix}-setup"), pdf_kb(&args)?).await?;
            let setup = qitech::Setup::new(prefix, &pdf, args.create_only);
            let budget = Budget::new(args.common.seconds, args.flows);
            let (tally, elapsed) = qitech::run(target, bounded(args.workers)?, budget, setup).await;
            report(
                "qitech",
                "envelopes",
                qitech::STEPS,
                tally,
                elapsed,
                args.common.json,
            )
        }
    };
    // A run where nothing succeeded measured nothing: scripts must not read it as a figure.
    if done == 0 {
        return Err("no request or flow succeeded".into());
    }
    Ok(())
}

fn bounded(tasks: usize) -> Result<usize, String> {
    if (1..=MAX_TASKS).contains(&tasks) {
        Ok(tasks)
    } else {
        Err(format!(
            "between 1 and {MAX_TASKS} connections or workers, not {tasks}"
        ))
    }
}

fn pdf_kb(args: &FlowArgs) -> Result<usize, String> {
    if args.pdf_kb <= MAX_PDF_KB {
        Ok(args.pdf_kb)
    } else {
        Err(format!("--pdf-kb is at most {MAX_PDF_KB}"))
    }
}

/// Tenants and envelope ids of this run, distinct from earlier runs against the same
/// simulator: `bench-` and the clock's nanoseconds in hex.
fn run_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    format!("bench-{nanos:x}")
}
