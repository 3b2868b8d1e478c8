//! `--state-file`: the real binary killed with SIGKILL and started again finds what it
//! had saved (documents, links, a pending webhook, a pending expiry, the clock); a damaged
//! file is refused with an error naming it, and the temp file of a save is never read.

use crate::common::{sample_pdf, signer_form};
use base64::Engine as _;
use reqwest::Client;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "qi-key-state";

/// The simulator as a child process, killed when dropped (a failing test leaves no
/// process behind).
struct Server {
    child: Child,
    base: String,
    http: Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn serve(state: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_signsim"));
    command
        .args(["serve", "--port", "0", "--seed", "11", "--state-file"])
        .arg(state)
        .args(extra)
        .env("RUST_LOG", "warn")
        // No ./scenarios of the working directory: the built-in ones only.
        .env(
            "SIGNSIM_SCENARIOS",
            env!("CARGO_MANIFEST_DIR").to_owned() + "/scenarios",
        );
    command
}

/// Starts the binary; its first line of standard output names the address.
fn start(state: &Path, extra: &[&str]) -> Server {
    let mut child = serve(state, extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the announced address");
    let base = line
        .strip_prefix("signsim ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim()
        .to_owned();
    Server {
        child,
        base,
        http: Client::new(),
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("authorization", KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {answer}"
        );
        answer
    }

    async fn bytes(&self, url: &str) -> Vec<u8> {
        let response = self.http.get(url).send().await.expect("request sent");
        assert_eq!(response.status(), 200, "GET {url}");
        response.bytes().await.expect("body").to_vec()
    }

    /// How many saves the server has finished.
    async fn saves(&self) -> u64 {
        self.get("/_signsim/health").await["state"]["saves"]
            .as_u64()
            .expect("health names the saves")
    }

    /// Waits for a save that started after this call: two more than now.
    async fn saved(&self) {
        let before = self.saves().await;
        until("a save", async || self.saves().await >= before + 2).await;
    }
}

/// Polls `check` until it holds; the bound is only there so a broken build ends.
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("signsim-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A receiver on `port` that counts what it gets and answers 200.
async fn receiver(port: u16) -> std::sync::Arc<std::sync::Mutex<Vec<Value>>> {
    use axum::routing::post;
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| async move {
            log.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    got
}

fn signer(id: &str) -> Value {
    json!({
        "id": id,
        "name": format!("Ana Restart {id}"),
        "email": format!("ana{id}@example.com"),
        "birthdate": "1992-09-15",
        "document_number": "111.111.111-11",
        "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
        "document_submission_method": "email",
        "authentication_submission_method": "sms"
    })
}

/// A QI Tech envelope with one document, submitted; expires in 10 days.
async fn envelope(server: &Server, id: &str) -> String {
    let date = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date();
    let expiration = format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    server
        .post(
            "/qitech/sign/envelope",
            json!({ "id": id, "subject": "Restart", "expiration_date": expiration, "signers": [signer("1")] }),
        )
        .await;
    let pdf = base64::engine::general_purpose::STANDARD.encode(sample_pdf(id));
    let document = server
        .post(
            &format!("/qitech/sign/envelope/{id}/document"),
            json!({ "document_b64": pdf, "name": "Contrato", "document_type": "pdf" }),
        )
        .await;
    let (status, _) = server
        .call(
            reqwest::Method::PATCH,
            &format!("/qitech/sign/envelope/{id}"),
            Some(json!({ "status": "submitted" })),
        )
        .await;
    assert_eq!(status, 200);
    document["id"].as_str().expect("document id").to_owned()
}

#[tokio::test]
async fn state_survives_a_kill() {
    let dir = temp_dir("state-kill");
    let state = dir.join("signsim.state");
    let down = free_port();
    let flags = [
        "--save-every",
        "1",
        "--webhook-attempts",
        "10",
        // An hour of the virtual clock between attempts: the failed delivery is still
        // pending when the server is killed, and fires after the restart's clock advance.
        "--webhook-backoff",
        "3600",
    ];
    let first = start(&state, &flags);

    // QI Tech: a webhook receiver that is down, an envelope signed (its webhook pending,
    // its dossier a document with a link) and one left to expire (a pending timer).
    first
        .post(
            "/_signsim/qitech/webhook",
            json!({ "api_key": KEY, "url": format!("http://127.0.0.1:{down}/hook"), "signature_key": "k" }),
        )
        .await;
    let signed_doc = envelope(&first, "signed").await;
    first
        .post(
            "/_signsim/qitech/envelopes/signed/signers/1/sign",
            json!({ "api_key": KEY }),
        )
        .await;
    envelope(&first, "waiting").await;
    let signature_url = first.get("/qitech/sign/envelope/waiting").await["signers"][0]
        ["signature_url"]
        .as_str()
        .expect("a signing link")
        .to_owned();
    let report = first
        .get(&format!(
            "/qitech/sign/envelope/signed/document/{signed_doc}/report"
        ))
        .await;
    assert_eq!(report["status"], "available", "{report}");
    let dossier_url = report["document_report_url"].as_str().unwrap().to_owned();
    let dossier = first.bytes(&dossier_url).await;

    // Uanataca: a request with a document.
    let created = first
        .http
        .post(first.url("/uanataca/api/v1/request"))
        .multipart(signer_form("Restarted"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let pk = created.json::<Value>().await.unwrap()["details"]
        .as_u64()
        .expect("pk");
    let pdf = sample_pdf("Uanataca document");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf.clone()).file_name("doc.pdf"),
    );
    let uploaded = first
        .http
        .post(first.url(&format!("/uanataca/api/v1/document/{pk}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(uploaded.status().is_success());
    let uid = uploaded.json::<Value>().await.unwrap()["details"]
        .as_str()
        .expect("uid")
        .to_owned();
    let original = first.url(&format!("/uanataca/api/v1/document/{pk}/original/{uid}"));
    assert_eq!(first.bytes(&original).await, pdf);

    // A minute on the virtual clock (less than the webhook's backoff).
    first
        .post("/_signsim/clock/advance", json!({ "seconds": 60 }))
        .await;
    let clock_before = first.get("/_signsim/clock").await["offset_seconds"].clone();
    // A tenant's own clock is kept too.
    first
        .post(
            "/_signsim/clock/advance",
            json!({ "seconds": 3600, "tenant": "own-clock", "provider": "qitech" }),
        )
        .await;
    let own_clock = "/_signsim/clock?tenant=own-clock&provider=qitech";
    let own_before = first.get(own_clock).await["offset_seconds"].clone();
    assert_eq!(own_before, clock_before.as_i64().unwrap() + 3600);

    // The first attempt has failed (the receiver is down); the next is an hour away.
    until("the failed first attempt", async || {
        first
            .get("/_signsim/webhooks")
            .await
            .as_array()
            .unwrap()
            .len()
            == 1
    })
    .await;
    let outbox_before = first.get("/_signsim/outbox").await;
    let first_base = first.base.clone();
    first.saved().await;
    drop(first); // SIGKILL: nothing is saved on the way out

    let got = receiver(down).await;
    let second = start(&state, &flags);
    assert_eq!(
        second.get("/_signsim/clock").await["offset_seconds"],
        clock_before
    );
    assert_eq!(second.get(own_clock).await["offset_seconds"], own_before);
    assert_eq!(second.get("/_signsim/outbox").await, outbox_before);
    let request = second.get(&format!("/uanataca/api/v1/request/{pk}")).await;
    assert!(request.to_string().contains("Restarted"), "{request}");
    // Documents byte-equal, links still open. A link names the address it was handed out
    // at; this second server has another port (`--port 0`), so the test moves it there.
    let moved = |url: &str| url.replace(&first_base, &second.base);
    assert_eq!(second.bytes(&moved(&dossier_url)).await, dossier);
    assert_eq!(second.bytes(&moved(&original)).await, pdf);
    let report_after = second
        .get(&format!(
            "/qitech/sign/envelope/signed/document/{signed_doc}/report"
        ))
        .await;
    assert_eq!(report_after["document_report"], report["document_report"]);
    assert_eq!(
        second
            .http
            .get(moved(&signature_url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(got.lock().unwrap().is_empty(), "not before it is due");

    // Eleven days on: the pending webhook goes out (once) and the expiry fires.
    second
        .post("/_signsim/clock/advance", json!({ "seconds": 11 * 86400 }))
        .await;
    until("the webhook delivered", async || {
        !got.lock().unwrap().is_empty()
    })
    .await;
    let events = second
        .get("/_signsim/events?provider=qitech&id=waiting")
        .await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"] == "submitted → expired"),
        "{events}"
    );
    until("the delivery recorded", async || {
        second
            .get("/_signsim/webhooks")
            .await
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["delivered"] == true)
    })
    .await;
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert_eq!(bodies[0]["webhook_type"], "envelope_completed");
    // Numbers go on: a new request does not reuse the restored one's pk.
    let next = second
        .http
        .post(second.url("/uanataca/api/v1/request"))
        .multipart(signer_form("After"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_ne!(next["details"].as_u64(), Some(pk));
    drop(second);
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs the binary to its start error (it must not start) and returns its standard error.
fn refused(state: &Path) -> String {
    let output = serve(state, &[])
        .stdout(Stdio::null())
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "started on a damaged file");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn damaged_files_are_refused_and_temp_files_ignored() {
    let dir = temp_dir("state-damage");
    let state = dir.join("signsim.state");
    // A state saved on SIGTERM (no periodic saves).
    let server = start(&state, &["--save-every", "0"]);
    server
        .post("/_signsim/clock/advance", json!({ "seconds": 600 }))
        .await;
    let stopped = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    until("the saved file", async || state.exists()).await;
    drop(server);
    let good = std::fs::read(&state).unwrap();

    // An interrupted save leaves a temp file; it is never read.
    let temp = dir.join("signsim.state.tmp");
    std::fs::write(&temp, &good[..good.len() / 2]).unwrap();
    let again = start(&state, &[]);
    assert_eq!(again.get("/_signsim/clock").await["offset_seconds"], 600);
    drop(again);

    let named = state.display().to_string();
    std::fs::write(&state, &good[..good.len() - 10]).unwrap();
    let error = refused(&state);
    assert!(
        error.contains(&named) && error.contains("truncated"),
        "{error}"
    );

    let mut flipped = good.clone();
    let at = flipped.len() - 5;
    flipped[at] ^= 0x20;
    std::fs::write(&state, &flipped).unwrap();
    let error = refused(&state);
    assert!(
        error.contains(&named) && error.contains("checksum"),
        "{error}"
    );

    let other = String::from_utf8(good.clone()).unwrap().replacen(
        env!("CARGO_PKG_VERSION"),
        "0.0.0-older",
        1,
    );
    std::fs::write(&state, other).unwrap();
    let error = refused(&state);
    assert!(
        error.contains(&named) && error.contains("written by signsim 0.0.0-older"),
        "{error}"
    );

    std::fs::write(&state, b"{}").unwrap();
    let error = refused(&state);
    assert!(error.contains("not a signsim state file"), "{error}");
    std::fs::remove_dir_all(&dir).ok();
}
