//! The binary in CI and shared sandboxes: `healthcheck`, `ca issue` with `serve
//! --tls-cert/--tls-key`, and the warning for an admin API open beyond loopback.

use crate::common::start;
use crate::tls::trusting;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_signsim");

/// A child process ended when the test ends, passing or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh directory under the system's temporary one.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("signsim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `signsim serve ARGS` on port 0; its first announced URL (from standard output).
fn serve(args: &[&str]) -> (Running, String, ChildStderr) {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .args(args)
        .env("RUST_LOG", "info")
        .env_remove("SIGNSIM_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("signsim ")
        .unwrap_or_else(|| panic!("no address announced: {line:?}"))
        .to_owned();
    (running, url, stderr)
}

fn healthcheck(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("healthcheck")
        .args(args)
        .env_remove("SIGNSIM_TLS")
        .env_remove("SIGNSIM_CA_DIR")
        .output()
        .unwrap()
}

// Two workers: the simulator answers while this test waits on the child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_zero_when_up_and_non_zero_with_a_message_when_not() {
    let sim = start().await;
    let up = healthcheck(&["--url", &sim.url("")]);
    let said = String::from_utf8_lossy(&up.stdout);
    assert!(
        up.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(said.contains("version"), "{said}");

    // A port nobody listens on (bound, then released).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = healthcheck(&["--url", &format!("http://{closed}"), "--timeout", "2"]);
    assert!(!down.status.success());
    let why = String::from_utf8_lossy(&down.stderr);
    assert!(
        why.contains("signsim:") && why.contains(&closed.to_string()),
        "{why}"
    );

    // Something that answers, but not 200: not healthy.
    let wrong = healthcheck(&["--url", &sim.url("/uanataca")]);
    assert!(!wrong.status.success());
}

fn write_ca(dir: &Path, seed: &str) -> PathBuf {
    let ca = dir.join("ca.pem");
    let exported = Command::new(BIN)
        .args(["ca", "export", "--seed", seed, "--out"])
        .arg(&ca)
        .output()
        .unwrap();
    assert!(exported.status.success());
    ca
}

#[tokio::test]
async fn ca_issue_makes_a_certificate_serve_and_healthcheck_accept() {
    let dir = scratch("issue");
    let issued = Command::new(BIN)
        .args([
            "ca",
            "issue",
            "receiver.test",
            "127.0.0.1",
            "--seed",
            "9",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        issued.status.success(),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let (cert, key) = (dir.join("receiver.test.pem"), dir.join("receiver.test.key"));
    assert!(std::fs::read_to_string(&cert)
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key is for its owner only: {mode:o}");
    }
    // Without a stable CA there is nothing to issue from.
    let unstable = Command::new(BIN)
        .args(["ca", "issue", "x.test", "--out"])
        .arg(&dir)
        .env_remove("SIGNSIM_SEED")
        .env_remove("SIGNSIM_CA_DIR")
        .output()
        .unwrap();
    assert!(!unstable.status.success());

    let ca = write_ca(&dir, "9");
    let (_server, url, _log) = serve(&[
        "--seed",
        "9",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let client = trusting(&std::fs::read_to_string(&ca).unwrap());
    let health = client
        .get(format!("{url}/_signsim/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let trusted = healthcheck(&["--url", &url, "--ca-file", ca.to_str().unwrap()]);
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    // A CA the certificate does not chain to: refused, even on loopback.
    let other_dir = scratch("issue-other");
    let other = write_ca(&other_dir, "10");
    let refused = healthcheck(&["--url", &url, "--ca-file", other.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("certificate"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other_dir);
}

/// The log up to the line announcing the main listener.
fn log_until_listening(stderr: ChildStderr) -> String {
    let mut log = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("signsim listening on") {
            break;
        }
    }
    log
}

#[test]
fn listening_beyond_loopback_without_a_token_warns() {
    let (_open, _, stderr) = serve(&["--host", "0.0.0.0"]);
    let log = log_until_listening(stderr);
    assert!(log.contains("without --admin-token"), "{log}");

    let (_guarded, _, stderr) = serve(&["--host", "0.0.0.0", "--admin-token", "t0ken"]);
    let log = log_until_listening(stderr);
    assert!(!log.contains("without --admin-token"), "{log}");
    assert!(!log.contains("t0ken"), "the token is not logged: {log}");

    let (_local, _, stderr) = serve(&["--host", "127.0.0.1"]);
    let log = log_until_listening(stderr);
    assert!(!log.contains("without --admin-token"), "{log}");
}

#[tokio::test]
async fn tls_by_env_covers_the_extra_listeners_too() {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--seed", "11"])
        .args(["--listen", "uanataca=127.0.0.1:0"])
        .env("SIGNSIM_TLS", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let main = lines.next().unwrap().unwrap();
    let dedicated = lines.next().unwrap().unwrap();
    let main = main.strip_prefix("signsim ").unwrap().to_owned();
    let dedicated = dedicated.strip_prefix("uanataca ").unwrap().to_owned();
    assert!(
        main.starts_with("https://") && dedicated.starts_with("https://"),
        "{main} {dedicated}"
    );

    let dir = scratch("listen-tls");
    let client = trusting(&std::fs::read_to_string(write_ca(&dir, "11")).unwrap());
    let hello = client
        .get(format!("{dedicated}/api/v1/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(hello.status(), 200);
    let health = client
        .get(format!("{main}/_signsim/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `healthcheck --wait`: started before the simulator, it keeps trying and succeeds once
/// the simulator answers (the Actions example's `signsim serve & signsim healthcheck`).
#[test]
fn healthcheck_waits_for_a_simulator_that_starts_late() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let checking = Command::new(BIN)
        .args(["healthcheck", "--url", &url, "--wait", "60"])
        .env_remove("SIGNSIM_TLS")
        .env_remove("SIGNSIM_CA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _server = Running(
        Command::new(BIN)
            .args(["serve", "--port", &port.to_string()])
            .env("RUST_LOG", "warn")
            .env_remove("SIGNSIM_ADMIN_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let checked = checking.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "{} {}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(String::from_utf8_lossy(&checked.stdout).contains("version"));

    // Nothing ever answers: it gives up when the wait is over, saying why.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = healthcheck(&["--url", &format!("http://{closed}"), "--wait", "0.3"]);
    assert!(!down.status.success());
    let why = String::from_utf8_lossy(&down.stderr);
    assert!(
        why.contains(&closed.to_string()) && why.contains("tried for"),
        "{why}"
    );
    let refused = healthcheck(&["--url", &url, "--wait", "3601"]);
    assert!(!refused.status.success());
}
