//! `signsim healthcheck`: asks a running simulator whether it is up, for a container's
//! HEALTHCHECK (distroless images have no curl) and for scripts waiting on a start.

use std::path::PathBuf;
use std::time::Duration;

/// Which https certificates the check accepts.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Those chaining to this PEM file (one or more certificates).
    CaFile(PathBuf),
    /// Any: `--insecure`.
    Anything,
    /// On a loopback address any (the probe asks whether our own process is alive; a
    /// forger on this machine's loopback is beyond what it could detect anyway);
    /// elsewhere those chaining to this file (the server's `--ca-dir`/ca.pem), if given.
    Default(Option<PathBuf>),
}

/// GETs `/_signsim/health` of `base` (a base URL, or the health URL itself); `Ok` with a
/// line saying what answered when it is 200, `Err` with what went wrong otherwise.
pub async fn check(base: &str, trust: Trust, timeout: Duration) -> Result<String, String> {
    let (client, url) = prepare(base, trust, timeout)?;
    probe(&client, &url).await
}

/// How long `--wait` sleeps between tries: short beside a start (milliseconds), long
/// enough not to flood a machine that is busy starting it.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// [`check`], tried again until it succeeds or `wait` has passed (`--wait`): for a script
/// that started the simulator in the background and must not race it. A wrong URL or
/// certificate file fails at once; what the server answers, or that nothing does, is
/// tried again, and the last failure is the one reported.
pub async fn check_waiting(
    base: &str,
    trust: Trust,
    timeout: Duration,
    wait: Duration,
) -> Result<String, String> {
    let (client, url) = prepare(base, trust, timeout)?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let failed = match tokio::time::timeout_at(deadline, probe(&client, &url)).await {
            Ok(Ok(said)) => return Ok(said),
            Ok(Err(failed)) => failed,
            Err(_) => format!("{url}: no answer within {} s", wait.as_secs_f64()),
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(format!("{failed} (tried for {} s)", wait.as_secs_f64()));
        }
        tokio::time::sleep_until(deadline.min(now + RETRY_EVERY)).await;
    }
}

/// The health URL of `base` and a client that trusts what `trust` says.
fn prepare(
    base: &str,
    trust: Trust,
    timeout: Duration,
) -> Result<(reqwest::Client, url::Url), String> {
    let mut url = url::Url::parse(base).map_err(|e| format!("{base:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{base}: only http and https URLs are checked"));
    }
    if !url.path().ends_with("/_signsim/health") {
        let path = format!("{}/_signsim/health", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let mut client = reqwest::Client::builder()
        .timeout(timeout)
        .use_rustls_tls()
        .tls_built_in_root_certs(false);
    let ca_file = match trust {
        Trust::CaFile(file) => Some(file),
        Trust::Anything => None,
        Trust::Default(_) if loopback => None,
        Trust::Default(file) => Some(file.ok_or_else(|| {
            format!(
                "{url}: to check https beyond this machine pass --ca-file, --ca-dir (the \
                 server's) or --insecure"
            )
        })?),
    };
    client = match ca_file {
        Some(file) => {
            let pem =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let roots = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{}: not PEM certificates: {e}", file.display()))?;
            roots
                .into_iter()
                .fold(client, |client, root| client.add_root_certificate(root))
        }
        None => client.danger_accept_invalid_certs(true),
    };
    let client = client
        .build()
        .map_err(|e| format!("cannot make the HTTP client: {e}"))?;
    Ok((client, url))
}

/// One GET of the health URL.
async fn probe(client: &reqwest::Client, url: &url::Url) -> Result<String, String> {
    let response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("{url}: {}", with_causes(&e)))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if status != reqwest::StatusCode::OK {
        return Err(format!("{url} answered {status}"));
    }
    Ok(format!(
        "{url}: {} (version {}, up {} s)",
        body["status"].as_str().unwrap_or("ok"),
        body["version"].as_str().unwrap_or("?"),
        body["uptime_seconds"].as_u64().unwrap_or(0)
    ))
}

/// reqwest's own message ("error sending request") hides why: add its causes.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
