//! Bounded resources at the connection and start-up level (issue 21, items 6, 7, 14 and
//! the 413 of 15): bodies in flight count toward the memory cap, Uanataca's settings are
//! metered, a body over the tenant cap is a 413, the header-read and idle timeouts, the
//! connection limit, and start-time files that are not regular files or are too large.
//!
//! These speak raw HTTP over a `TcpStream` where a client library would hide what is
//! tested (a body held open, a head sent by halves). No test is timed: a timeout is
//! configured short and the close is awaited with a generous bound.

use crate::common::{start_with, Sim};
use serde_json::{json, Value};
use signsim::engine::quota::Caps;
use signsim::serve::Limits;
use signsim::Config;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What "eventually" means here: far longer than anything should take.
const GENEROUS: Duration = Duration::from_secs(30);

const MB: u64 = 1024 * 1024;

fn config() -> Config {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config
}

fn capped(process_bytes: u64, tenant_bytes: u64) -> Config {
    let mut config = config();
    config.engine.caps = Caps {
        tenant_bytes,
        process_bytes,
    };
    config
}

async fn connect(sim: &Sim) -> TcpStream {
    TcpStream::connect(sim.running.addr)
        .await
        .expect("connects")
}

/// Reads an answer's head (up to the blank line); `None` when the server closed first.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// Reads a whole answer with a `Content-Length`: its head and its body as JSON.
async fn read_answer(stream: &mut TcpStream) -> (String, Value) {
    let head = tokio::time::timeout(GENEROUS, read_head(stream))
        .await
        .expect("an answer")
        .expect("an answer before the close");
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.expect("the body");
    (head, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Whether the server closes `stream` (EOF or reset) within the generous bound, reading
/// and dropping whatever comes first.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let drained = async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(GENEROUS, drained).await.is_ok()
}

/// The head of a Uanataca upload of `length` bytes that asks to be told to go on.
fn upload_head(length: u64) -> String {
    format!(
        "POST /uanataca/api/v1/request HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: {length}\r\n\
         Expect: 100-continue\r\n\r\n"
    )
}

/// Opens a connection that sends an upload's head and, once told to go on, all of its
/// `length` bytes but the last: a body held in flight.
async fn hold_body(sim: &Sim, length: u64) -> TcpStream {
    let mut stream = connect(sim).await;
    stream
        .write_all(upload_head(length).as_bytes())
        .await
        .unwrap();
    let head = tokio::time::timeout(GENEROUS, read_head(&mut stream))
        .await
        .expect("an interim answer")
        .expect("an interim answer before the close");
    assert!(head.starts_with("HTTP/1.1 100"), "{head}");
    let almost = vec![b'x'; usize::try_from(length - 1).unwrap()];
    stream.write_all(&almost).await.unwrap();
    stream
}

#[tokio::test]
async fn bodies_in_flight_count_toward_the_memory_cap() {
    // 8 MB in all: two 3 MB bodies and one of 1.5 MB being read fit, a third 3 MB one
    // does not.
    let sim = start_with(capped(8 * MB, 256 * MB)).await;
    let first = hold_body(&sim, 3 * MB).await;
    let _second = hold_body(&sim, 3 * MB).await;
    let _small = hold_body(&sim, 3 * MB / 2).await;

    let mut third = connect(&sim).await;
    third
        .write_all(upload_head(3 * MB).as_bytes())
        .await
        .unwrap();
    // Refused before its body is read (no `100 Continue`), in Uanataca's envelope.
    let (head, body) = read_answer(&mut third).await;
    assert!(head.starts_with("HTTP/1.1 507"), "{head}");
    assert_eq!(body["status"], "507 Insufficient Storage", "{body}");
    let why = body["details"].as_str().unwrap_or_default();
    assert!(why.contains("--max-memory-mb"), "{why}");

    // The admin API (not a provider) counts too, and answers in its own shape: 768 KB
    // (under its 1 MiB body limit) does not fit the half megabyte left.
    let mut admin = connect(&sim).await;
    admin
        .write_all(
            format!(
                "POST /_signsim/scenarios HTTP/1.1\r\nHost: localhost\r\n\
                 Content-Type: application/toml\r\nContent-Length: {}\r\n\
                 Expect: 100-continue\r\n\r\n",
                768 * 1024
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let (head, body) = read_answer(&mut admin).await;
    assert!(head.starts_with("HTTP/1.1 507"), "{head}");
    let why = body["error"].as_str().unwrap_or_default();
    assert!(why.contains("--max-memory-mb"), "{body}");

    // A held body given up gives its bytes back: another one fits again.
    drop(first);
    let fourth = tokio::time::timeout(GENEROUS, async {
        loop {
            let mut stream = connect(&sim).await;
            stream
                .write_all(upload_head(3 * MB).as_bytes())
                .await
                .unwrap();
            let head = read_head(&mut stream).await.unwrap_or_default();
            if head.starts_with("HTTP/1.1 100") {
                return stream;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(fourth.is_ok(), "the given-up body's bytes never came back");
}

#[tokio::test]
async fn a_chunked_body_is_cut_off_at_the_memory_cap() {
    let sim = start_with(capped(4 * MB, 256 * MB)).await;
    let mut stream = connect(&sim).await;
    stream
        .write_all(
            b"POST /uanataca/api/v1/request HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: multipart/form-data; boundary=XYZ\r\n\
              Transfer-Encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
    // 8 MB in 64 KB chunks: the server may answer and stop reading before the end.
    let chunk = vec![b'x'; 64 * 1024];
    let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
    framed.extend(&chunk);
    framed.extend(b"\r\n");
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        for _ in 0..128 {
            if writer.write_all(&framed).await.is_err() {
                return;
            }
        }
        let _ = writer.write_all(b"0\r\n\r\n").await;
        // Keep the write half open until the answer is read.
        tokio::time::sleep(GENEROUS).await;
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(GENEROUS, async {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    answer.extend(&buf[..n]);
                    if let Some(at) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                        if answer[at..].contains(&b'}') {
                            return;
                        }
                    }
                }
            }
        }
    })
    .await;
    sender.abort();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 507"), "{text}");
    assert!(
        text.contains("507 Insufficient Storage") && text.contains("--max-memory-mb"),
        "{text}"
    );
}

#[tokio::test]
async fn uanataca_settings_count_in_storage_and_a_huge_one_is_refused() {
    let sim = start_with(config()).await;
    let used = |health: Value| health["storage"]["used_bytes"].as_u64().unwrap();
    let before = used(sim.get(&sim.url("/_signsim/health")).await.json());
    let saved = sim
        .post_json(
            &sim.api("settings"),
            json!({ "general": { "note": "n".repeat(40 * 1024) } }),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.json());
    let after = used(sim.get(&sim.url("/_signsim/health")).await.json());
    assert!(
        after >= before + 40 * 1024,
        "settings of 40 KB are not counted: {before} then {after}"
    );

    let huge = sim
        .post_json(
            &sim.api("settings"),
            json!({ "general": { "note": "n".repeat(2 * 1024 * 1024) } }),
        )
        .await;
    assert_eq!(huge.status, 413, "{:?}", huge.json());
    assert_eq!(huge.json()["status"], "413 Payload Too Large");
    // Nothing of it was kept.
    let last = used(sim.get(&sim.url("/_signsim/health")).await.json());
    assert_eq!(last, after);
}

#[tokio::test]
async fn a_body_over_the_tenant_cap_is_a_413() {
    let sim = start_with(capped(256 * MB, 64 * 1024)).await;
    let pk = sim.create_request("Maria").await;
    let refused = sim
        .upload(pk, vec![("file", "big.pdf", vec![b'%'; 100 * 1024])])
        .await;
    assert_eq!(refused.status, 413, "{:?}", refused.json());
    assert_eq!(refused.json()["status"], "413 Payload Too Large");
    let why = refused.json()["details"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(why.contains("--max-tenant-mb"), "{why}");
}

fn limits(header: u64, idle: u64, connections: usize) -> Config {
    let mut config = config();
    config.limits = Limits {
        header_timeout: Duration::from_secs(header),
        idle_timeout: Duration::from_secs(idle),
        max_connections: connections,
    };
    config
}

#[tokio::test]
async fn a_dripping_head_is_cut_by_the_header_timeout() {
    let sim = start_with(limits(1, 600, 512)).await;
    let stream = connect(&sim).await;
    let (mut reader, mut writer) = stream.into_split();
    let dripper = tokio::spawn(async move {
        let _ = writer
            .write_all(b"GET /uanataca/api/v1/hello HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await;
        // One byte at a time, for longer than the bound below.
        for _ in 0..600 {
            if writer.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(GENEROUS, async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    dripper.abort();
    assert!(closed.is_ok(), "a dripping head kept its connection open");
}

#[tokio::test]
async fn a_connection_that_never_sends_a_head_is_cut_by_the_header_timeout() {
    let sim = start_with(limits(1, 600, 512)).await;
    let mut stream = connect(&sim).await;
    assert!(
        closed_by_server(&mut stream).await,
        "a silent connection stayed open"
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let sim = start_with(limits(600, 1, 512)).await;
    let mut stream = connect(&sim).await;
    stream
        .write_all(b"GET /uanataca/api/v1/hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let (head, _) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Kept alive, then silent: closed by the server.
    assert!(
        closed_by_server(&mut stream).await,
        "an idle connection stayed open"
    );
}

#[tokio::test]
async fn a_body_that_stops_coming_is_cut_by_the_idle_timeout() {
    let sim = start_with(limits(600, 1, 512)).await;
    let mut held = hold_body(&sim, MB).await;
    assert!(
        closed_by_server(&mut held).await,
        "a stalled upload kept its connection"
    );
    // Its reservation is given back (as the connection's task ends, maybe just after the
    // socket closed).
    let released = tokio::time::timeout(GENEROUS, async {
        while sim.running.engine.meter.reading() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(released.is_ok(), "the stalled body's bytes stay reserved");
}

#[tokio::test]
async fn a_request_in_flight_is_not_idle() {
    // A scripted latency longer than the idle timeout: the connection is silent while the
    // answer is being made, and must not be cut.
    let sim = start_with(limits(600, 1, 512)).await;
    sim.load_scenarios(
        "[[scenario]]\nname = \"slow-create\"\nprovider = \"uanataca\"\n\n\
         [[scenario.effects]]\noperation = \"request.create\"\nlatency_ms = 2500\n",
    )
    .await;
    let created = sim
        .http
        .post(sim.api("request"))
        .header("x-signsim-scenario", "slow-create")
        .multipart(crate::common::signer_form("Maria"))
        .send()
        .await
        .expect("answered, not cut");
    assert_eq!(created.status(), 201);
}

#[tokio::test]
async fn past_the_connection_limit_a_connection_waits_for_a_place() {
    let sim = start_with(limits(600, 600, 4)).await;
    let hello = b"GET /uanataca/api/v1/hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
    // Four connections served and kept alive.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&sim).await;
        stream.write_all(hello).await.unwrap();
        let (head, _) = read_answer(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        held.push(stream);
    }
    // A fifth is not served while they are open...
    let mut fifth = connect(&sim).await;
    fifth.write_all(hello).await.unwrap();
    let early = tokio::time::timeout(Duration::from_secs(2), read_head(&mut fifth)).await;
    assert!(early.is_err(), "a fifth connection was served: {early:?}");
    // ...and is once one of them closes.
    drop(held.pop());
    let (head, _) = read_answer(&mut fifth).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

fn scenarios_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("signsim-net-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the simulator in a thread of its own, so that a start that hangs fails the test
/// after the generous bound instead of hanging the suite; the start's error, if any.
fn start_error(config: Config) -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let started = runtime.block_on(signsim::spawn(config));
        let _ = sender.send(started.err().map(|e| e.to_string()));
    });
    match receiver.recv_timeout(Duration::from_secs(60)) {
        Ok(Some(error)) => error,
        Ok(None) => panic!("the simulator started"),
        Err(_) => panic!("the start hung"),
    }
}

#[tokio::test]
async fn a_fifo_in_the_scenarios_dir_fails_the_start_by_name() {
    let dir = scenarios_dir("fifo");
    let fifo = dir.join("pipe.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let mut config = config();
    config.scenarios_dir = Some(dir.clone());
    let error = tokio::task::spawn_blocking(move || start_error(config))
        .await
        .unwrap();
    assert!(error.contains("pipe.toml"), "{error}");
    assert!(error.contains("not a regular file"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_oversized_scenario_file_fails_the_start_by_name() {
    let dir = scenarios_dir("big");
    // A valid scenario file (the main branch loads it), padded with a comment to one
    // byte over the limit.
    let mut text = b"[[scenario]]\nname = \"padded\"\nprovider = \"uanataca\"\n\n\
        [[scenario.effects]]\noperation = \"document.upload\"\n\
        respond = { status = 400, body = { status = \"400 Bad Request\" } }\n#"
        .to_vec();
    text.resize(1024 * 1024, b'x');
    text.push(b'\n');
    std::fs::write(dir.join("big.toml"), &text).unwrap();
    let mut config = config();
    config.scenarios_dir = Some(dir.clone());
    let error = tokio::task::spawn_blocking(move || start_error(config))
        .await
        .unwrap();
    assert!(error.contains("big.toml"), "{error}");
    assert!(error.contains("1048576"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}
