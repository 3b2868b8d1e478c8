//! The binary itself: a dedicated provider listener, and a clean stop on SIGTERM.

use std::process::{Command, Stdio};
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
