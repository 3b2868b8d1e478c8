//! The binary itself: a dedicated provider listener, a clean stop on SIGTERM, and the
//! addresses it announces when the system picks the ports.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for(url: &str) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(response) = reqwest::get(url).await {
            return response;
        }
        assert!(Instant::now() < deadline, "no answer from {url}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn dedicated_listener_and_graceful_stop() {
    let (main, dedicated) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--port", &main.to_string(), "--seed", "3"])
        .args(["--listen", &format!("uanataca=127.0.0.1:{dedicated}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let health = wait_for(&format!("http://127.0.0.1:{main}/_signsim/health")).await;
    assert_eq!(health.status(), 200);
    // The provider at its exact real path, without the /uanataca prefix.
    let hello = wait_for(&format!("http://127.0.0.1:{dedicated}/api/v1/hello")).await;
    assert_eq!(
        hello.json::<serde_json::Value>().await.unwrap()["details"],
        "Hello"
    );

    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running 5 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn help_names_every_command() {
    let help = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["serve", "ca", "scenarios"] {
        assert!(text.contains(command), "{text}");
    }
    let unknown = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--listen", "nope=127.0.0.1:1", "--port", "0"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown provider 'nope'"));
}

/// Sends each line of `from` to the returned channel, from a thread that reads to the end
/// (so the child never blocks on a full pipe).
fn lines_of(from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// The next line of `lines`, waiting at most until `deadline`.
fn next_line(lines: &mpsc::Receiver<String>, deadline: Instant) -> String {
    let left = deadline.saturating_duration_since(Instant::now());
    lines.recv_timeout(left).expect("the line in time")
}

/// `http://ADDR` after `marker` in `line`, up to the next space.
fn url_after(line: &str, marker: &str) -> Option<String> {
    let rest = &line[line.find(marker)? + marker.len()..];
    Some(rest.split_whitespace().next()?.to_owned())
}

#[tokio::test]
async fn port_zero_announces_the_bound_addresses() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--port", "0", "--seed", "3"])
        .args(["--listen", "uanataca=127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());

    // The log, as a person reads it (one line per listener, in no promised order).
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut logged, mut logged_uanataca) = (None, None);
    while logged.is_none() || logged_uanataca.is_none() {
        let line = next_line(&stderr, deadline);
        logged = logged.or_else(|| url_after(&line, "signsim listening on "));
        logged_uanataca = logged_uanataca.or_else(|| url_after(&line, "uanataca listening on "));
    }
    let (logged, logged_uanataca) = (logged.unwrap(), logged_uanataca.unwrap());
    // Standard output, as a script reads it: `NAME URL`, the main listener first.
    let announced: Vec<String> = (0..2).map(|_| next_line(&stdout, deadline)).collect();
    assert_eq!(
        announced,
        [
            format!("signsim {logged}"),
            format!("uanataca {logged_uanataca}")
        ]
    );
    let port: u16 = logged.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0, "{logged}");
    assert!(logged.starts_with("http://127.0.0.1:"), "{logged}");

    let health = reqwest::get(format!("{logged}/_signsim/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let hello = reqwest::get(format!("{logged_uanataca}/api/v1/hello"))
        .await
        .unwrap();
    assert_eq!(hello.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn unreadable_webhook_ca_file_stops_the_start() {
    let failed = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--port", "0"])
        .args(["--webhook-ca", "/nonexistent/signsim-ca.pem"])
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("cannot read the webhook CA file /nonexistent/signsim-ca.pem"),
        "{stderr}"
    );
}

/// The README's "Security model" is the operator's contract: every flag it names exists
/// (`serve --help` lists it, with its environment variable), every bound it gives for a
/// flag is that flag's default, and every `tests/http/security_*.rs` it points to exists.
#[test]
fn the_readme_security_model_matches_the_flags() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("\n## Security model")
        .expect("a Security model section");
    let rest = &readme[start + 1..];
    let section = &rest[..rest[3..].find("\n## ").map_or(rest.len(), |end| end + 3)];
    let help = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--help"])
        .output()
        .expect("signsim runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--admin-token",
        "--allow-host",
        "--webhook-allow",
        "--max-body-mb",
        "--max-tenant-mb",
        "--max-memory-mb",
        "--header-timeout",
        "--idle-timeout",
        "--max-connections",
        "--seed",
        "--state-file",
        "--retention",
    ] {
        assert!(
            section.contains(&format!("`{flag}")),
            "the Security model never names {flag}"
        );
        assert!(
            help.contains(&format!("{flag} ")),
            "serve --help has no {flag}"
        );
    }
    // Each bound the resources table states is the flag's default in `serve --help`.
    for (flag, default) in [
        ("--max-body-mb", "25"),
        ("--max-tenant-mb", "256"),
        ("--max-memory-mb", "1024"),
        ("--header-timeout", "10"),
        ("--idle-timeout", "60"),
        ("--max-connections", "512"),
    ] {
        let line = section
            .lines()
            .find(|line| line.starts_with('|') && line.contains(&format!("`{flag}`")))
            .unwrap_or_else(|| panic!("no row of the resources table for {flag}"));
        assert!(
            line.contains(default),
            "README says {line:?}, default is {default}"
        );
        let said = help
            .split(&format!("{flag} "))
            .nth(1)
            .and_then(|after| after.split("[default: ").nth(1))
            .and_then(|after| after.split(']').next())
            .unwrap_or_else(|| panic!("serve --help gives no default for {flag}"));
        assert_eq!(said, default, "{flag}: --help and the README disagree");
    }
    for env in [
        "SIGNSIM_ALLOW_HOSTS",
        "SIGNSIM_WEBHOOK_ALLOW",
        "SIGNSIM_HEADER_TIMEOUT",
        "SIGNSIM_IDLE_TIMEOUT",
        "SIGNSIM_MAX_CONNECTIONS",
    ] {
        assert!(help.contains(env), "serve --help does not name {env}");
    }
    assert!(section.contains("tests/http/security_*.rs"));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/http");
    let files = std::fs::read_dir(dir)
        .expect("tests/http")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("security_"))
        .count();
    assert!(
        files >= 4,
        "the security tests the README points to are gone"
    );
}
