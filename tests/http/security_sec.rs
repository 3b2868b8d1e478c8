//! Issue 21, engine side: under `--admin-token` no secret follows `--seed` (link codes,
//! file tokens, the JWT secret, the CA); file tokens a page derives are keyed; webhooks
//! follow no redirect and honour `--webhook-allow`; the state file is private and its
//! temp file is never a symlink's target; restored counters never wrap.

use crate::common::{answer, sample_pdf, start, start_with, Answer, Sim, DEMO_TOKEN};
use crate::qitech::{signer, submitted, KEY};
use crate::receiver::{self, eventually};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use signsim::Config;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

const ADMIN: &str = "sec-admin-token";

fn config(seed: u64, admin: bool) -> Config {
    let mut config = Config::default();
    config.engine.seed = Some(seed);
    if admin {
        config.admin_token = Some(ADMIN.to_owned());
    }
    config
}

/// A GET carrying the admin token (harmless when there is none).
async fn admin_get(sim: &Sim, path: &str) -> Answer {
    let request = sim
        .http
        .get(sim.url(path))
        .header("authorization", format!("Bearer {ADMIN}"));
    answer(request.send().await.expect("request sent")).await
}

async fn signal(
    sim: &Sim,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let mut request = sim
        .http
        .request(method, sim.url(&format!("/signal{path}")))
        .header("authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.expect("request sent")).await
}

async fn signal_login(sim: &Sim) -> String {
    let login = sim
        .post_json(
            &sim.url("/signal/auth/login"),
            json!({ "username": "integrator", "password": "secret" }),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.json());
    login.json()["token"].as_str().unwrap().to_owned()
}

/// What one simulator hands out that a seed could fix: a Signal JWT, a request made with
/// it, a Signal file link, a QI Tech signing link, the CA and a resource page's file URL.
struct Handed {
    jwt: String,
    pk: u64,
    file_link: String,
    signing_link: String,
    ca: Vec<u8>,
    page_file: String,
}

async fn hand_out(sim: &Sim) -> Handed {
    let jwt = signal_login(sim).await;
    let created = signal(
        sim,
        &jwt,
        reqwest::Method::POST,
        "/sign/request",
        Some(crate::signal::create_body(
            "+593991234567",
            &sample_pdf("S"),
        )),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    let pk = created.json()["pk"].as_u64().unwrap();
    let uid = created.json()["uid"].as_str().unwrap().to_owned();
    let retrieved = signal(
        sim,
        &jwt,
        reqwest::Method::POST,
        "/sign/retrieve",
        Some(json!({ "pk": pk.to_string(), "type": "original", "uid": uid })),
    )
    .await;
    let file_link = retrieved.json()["url"].as_str().unwrap().to_owned();
    submitted(sim, "env-sec", vec![signer("1", "a@example.com")]).await;
    let envelope = crate::qitech::get(sim, "/sign/envelope/env-sec")
        .await
        .json();
    let signing_link = envelope["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let ca = admin_get(sim, "/_signsim/ca.pem").await.bytes;
    let page = admin_get(sim, &format!("/_signsim/resources/qitech/{KEY}/env-sec")).await;
    assert_eq!(page.status, 200);
    let page_file = page_file_links(&page)
        .pop()
        .expect("a file link on the page");
    Handed {
        jwt,
        pk,
        file_link: path_of(&file_link),
        signing_link: path_of(&signing_link),
        ca,
        page_file: path_of(&page_file),
    }
}

/// The QI Tech file links of a resource page.
fn page_file_links(page: &Answer) -> Vec<String> {
    String::from_utf8_lossy(&page.bytes)
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap_or("").to_owned())
        .filter(|href| href.contains("/_signsim/qitech/files/"))
        .collect()
}

/// A link without its host and port (each simulator has its own port).
fn path_of(link: &str) -> String {
    match link.find("/_signsim/") {
        Some(at) => link[at..].to_owned(),
        None => link.to_owned(),
    }
}

/// Whether `sim` takes `jwt` as the token of "integrator" (who made request `pk` there).
async fn accepts(sim: &Sim, jwt: &str, pk: u64) -> bool {
    let seen = signal(sim, jwt, reqwest::Method::GET, &format!("/sign/{pk}"), None).await;
    seen.status == 200
}

#[tokio::test]
async fn under_an_admin_token_the_seed_fixes_no_secret() {
    let a = start_with(config(42, true)).await;
    let b = start_with(config(42, true)).await;
    let (ha, hb) = (hand_out(&a).await, hand_out(&b).await);
    assert_ne!(ha.file_link, hb.file_link, "file links");
    assert_ne!(ha.signing_link, hb.signing_link, "signing links");
    assert_ne!(ha.page_file, hb.page_file, "a page's file links");
    assert_ne!(ha.ca, hb.ca, "the CA (and its key)");
    assert!(accepts(&b, &hb.jwt, hb.pk).await, "b's own token");
    assert!(
        !accepts(&b, &ha.jwt, hb.pk).await,
        "a token another instance with the same seed minted is not b's"
    );
}

#[tokio::test]
async fn without_a_token_the_seed_still_repeats_everything() {
    let a = start_with(config(42, false)).await;
    let b = start_with(config(42, false)).await;
    let (ha, hb) = (hand_out(&a).await, hand_out(&b).await);
    assert_eq!(ha.file_link, hb.file_link);
    assert_eq!(ha.signing_link, hb.signing_link);
    assert_eq!(ha.page_file, hb.page_file);
    assert_eq!(ha.ca, hb.ca);
    assert!(accepts(&b, &ha.jwt, hb.pk).await);
}

#[tokio::test]
async fn a_pages_file_token_is_not_a_plain_digest_of_what_anyone_knows() {
    let sim = start().await;
    let document = submitted(&sim, "env-digest", vec![signer("1", "a@example.com")]).await;
    let page = sim
        .get(&sim.url(&format!("/_signsim/resources/qitech/{KEY}/env-digest")))
        .await;
    let links = page_file_links(&page);
    assert!(
        !links.is_empty(),
        "{}",
        String::from_utf8_lossy(&page.bytes)
    );
    let public = format!("page-file\0{KEY}\0env-digest\0Original({document:?})");
    let guessed = hex::encode(&Sha256::digest(public.as_bytes())[..16]);
    for link in &links {
        assert!(!link.contains(&guessed), "{link} is computable offline");
    }
    // Still the same link each time the page is opened, and it opens the file.
    let again = sim
        .get(&sim.url(&format!("/_signsim/resources/qitech/{KEY}/env-digest")))
        .await;
    assert_eq!(page_file_links(&again), links);
    assert_eq!(sim.get(&sim.url(&path_of(&links[0]))).await.status, 200);
}

// --- webhooks

/// Makes request with `callback`, signs it: one webhook delivery to `callback`.
async fn one_webhook(sim: &Sim, callback: &str) {
    let body = json!({
        "token": DEMO_TOKEN,
        "given_name": "Hook",
        "surname_1": "Sec",
        "email": "h@example.com",
        "mobile_phone_number": "+34600123999",
        "useasync": "true",
        "callback": callback,
    });
    let pk = sim.post_json(&sim.api("request"), body).await.json()["details"]
        .as_u64()
        .unwrap();
    sim.upload(pk, vec![("file", "a.pdf", sample_pdf("Hook"))])
        .await;
    let signed = sim.sign_with_otp(&pk).await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
}

async fn attempts(sim: &Sim) -> Vec<Value> {
    sim.get(&sim.url("/_signsim/webhooks"))
        .await
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// A receiver answering every call, whatever its method, with `answer`; counts them.
async fn counting(
    answer: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static,
) -> (String, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let counted = hits.clone();
    let app = Router::new().fallback(move || {
        let answer = answer.clone();
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            answer()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, hits)
}

#[tokio::test]
async fn a_redirecting_receiver_is_not_followed_and_its_3xx_is_the_answer() {
    let sim = start().await;
    let (second, second_hits) = counting(|| StatusCode::OK.into_response()).await;
    let target = second.clone();
    let (first, first_hits) =
        counting(move || (StatusCode::FOUND, [("location", target.clone())]).into_response()).await;
    one_webhook(&sim, &first).await;
    eventually("the first attempt", async || {
        !attempts(&sim).await.is_empty()
    })
    .await;
    let log = attempts(&sim).await;
    assert_eq!(log[0]["response_status"], 302, "{log:?}");
    assert_eq!(log[0]["delivered"], false, "a 3xx is not a delivery");
    assert_eq!(first_hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        second_hits.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    // Retried as any other answer that is not 2xx, and never followed.
    sim.post_json(&sim.url("/_signsim/clock/advance"), json!({ "seconds": 1 }))
        .await;
    eventually("the retry", async || attempts(&sim).await.len() == 2).await;
    assert_eq!(attempts(&sim).await[1]["response_status"], 302);
    assert_eq!(second_hits.load(Ordering::SeqCst), 0);
}

fn allowing(list: &[&str]) -> Config {
    let mut config = config(42, false);
    config.engine.webhook_allow = list
        .iter()
        .map(|entry| entry.parse().expect("a host or CIDR"))
        .collect();
    config
}

#[tokio::test]
async fn outside_the_allow_list_a_delivery_is_refused_unattempted() {
    let sim = start_with(allowing(&["10.0.0.0/8"])).await;
    let hook = receiver::start(0).await;
    one_webhook(&sim, &hook.url).await;
    eventually("the refusal", async || !attempts(&sim).await.is_empty()).await;
    let log = attempts(&sim).await;
    assert_eq!(log[0]["delivered"], false);
    assert_eq!(log[0]["response_status"], Value::Null);
    let error = log[0]["error"].as_str().unwrap();
    assert!(error.contains("--webhook-allow"), "{error}");
    assert!(error.contains("127.0.0.1"), "{error}");
    // Not retried: waiting does not change the list.
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 60 }),
    )
    .await;
    assert_eq!(attempts(&sim).await.len(), 1);
    // A name is judged on what it resolves to.
    one_webhook(&sim, &hook.url.replace("127.0.0.1", "localhost")).await;
    eventually("the second refusal", async || {
        attempts(&sim).await.len() == 2
    })
    .await;
    let error = attempts(&sim).await[1]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("localhost resolves to"), "{error}");
    assert!(hook.bodies().is_empty(), "the receiver was called");
}

#[tokio::test]
async fn inside_the_allow_list_a_delivery_goes_by_cidr_or_by_name() {
    for allowed in [["10.0.0.0/8", "127.0.0.0/8"], ["10.0.0.0/8", "localhost"]] {
        let sim = start_with(allowing(&allowed)).await;
        let hook = receiver::start(0).await;
        let url = hook.url.replace("127.0.0.1", "localhost");
        one_webhook(&sim, &url).await;
        eventually("the delivery", async || hook.bodies().len() == 1).await;
        eventually("its record", async || !attempts(&sim).await.is_empty()).await;
        assert_eq!(attempts(&sim).await[0]["delivered"], true, "{allowed:?}");
    }
}

// --- the state file

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("signsim-sec-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn keeping(path: &std::path::Path) -> Config {
    let mut config = config(42, false);
    config.state = Some(signsim::saver::StateFile {
        path: path.to_owned(),
        every: Some(std::time::Duration::from_millis(50)),
    });
    config
}

#[cfg(unix)]
#[tokio::test]
async fn the_state_file_is_private_and_a_planted_temp_symlink_is_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("mode");
    let path = dir.join("state");
    let victim = dir.join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("state.tmp")).unwrap();
    let sim = start_with(keeping(&path)).await;
    sim.create_request("Saved").await;
    eventually("a save", async || {
        std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
    })
    .await;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the state file is {mode:o}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(dir.join("state.tmp"))
        .unwrap()
        .file_type()
        .is_symlink());
    drop(sim);
    std::fs::remove_dir_all(&dir).ok();
}

/// `bytes` (a state file) with `section`'s `field` set to `value`, header fixed.
fn edited(bytes: &[u8], section: &str, field: &str, value: u64) -> Vec<u8> {
    let newline = bytes.iter().position(|b| *b == b'\n').unwrap();
    let header = std::str::from_utf8(&bytes[..newline]).unwrap();
    let mut payload: serde_json::Map<String, Value> =
        serde_json::from_slice(&bytes[newline + 1..]).unwrap();
    payload[section][field] = json!(value);
    let payload = serde_json::to_vec(&payload).unwrap();
    let fields: Vec<&str> = header.split(' ').collect();
    let mut file = format!(
        "{} {} {} {} {}\n",
        fields[0],
        fields[1],
        fields[2],
        payload.len(),
        hex::encode(Sha256::digest(&payload))
    )
    .into_bytes();
    file.extend_from_slice(&payload);
    file
}

#[tokio::test]
async fn a_restored_counter_at_the_top_of_its_range_does_not_wrap() {
    let dir = temp_dir("counter");
    let saved = dir.join("saved");
    let sim = start_with(keeping(&saved)).await;
    sim.create_request("First").await;
    eventually("a save", async || saved.exists()).await;
    drop(sim);
    let bytes = std::fs::read(&saved).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("\"engine.ids\""),
        "the section is named engine.ids"
    );
    let path = dir.join("edited");
    std::fs::write(&path, edited(&bytes, "engine.ids", "next_pk", u64::MAX)).unwrap();
    let mut config = keeping(&path);
    config.state.as_mut().unwrap().every = None;
    match signsim::spawn(config).await {
        Err(refused) => {
            let message = refused.to_string();
            assert!(message.contains("next_pk"), "{message}");
            assert!(message.contains(&path.display().to_string()), "{message}");
        }
        Ok(running) => {
            let sim = Sim {
                running,
                http: reqwest::Client::new(),
            };
            for name in ["A", "B"] {
                let made = sim
                    .post_form(&sim.api("request"), crate::common::signer_form(name))
                    .await;
                if made.status == 201 {
                    let pk = made.json()["details"].as_u64().unwrap();
                    assert!(pk != 0 && pk != u64::MAX, "handed out pk {pk}");
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

// --- the command line

/// `signsim serve` with `args` and `env`, stopped once it announced its address: whether
/// it started, and its standard error.
fn serve_briefly(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--port", "0"])
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .env(
            "SIGNSIM_SCENARIOS",
            env!("CARGO_MANIFEST_DIR").to_owned() + "/scenarios",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .ok();
    let started = line.starts_with("signsim ");
    child.kill().ok();
    child.wait().ok();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .ok();
    (started, stderr)
}

#[test]
fn the_command_line_takes_the_allow_list_and_warns_when_a_seed_meets_a_token() {
    let (started, stderr) = serve_briefly(
        &["--seed", "1", "--admin-token", "t0ken"],
        &[("SIGNSIM_WEBHOOK_ALLOW", "10.0.0.0/8,hooks.example.com")],
    );
    assert!(started, "{stderr}");
    assert!(
        stderr.contains("the seed still fixes ids and OTPs, but no secret"),
        "{stderr}"
    );
    let (started, stderr) = serve_briefly(&["--seed", "1"], &[]);
    assert!(started, "{stderr}");
    assert!(!stderr.contains("no secret"), "{stderr}");
    let (started, stderr) = serve_briefly(&["--webhook-allow", "10.0.0.0/40"], &[]);
    assert!(!started);
    assert!(stderr.contains("10.0.0.0/40"), "{stderr}");
}

#[tokio::test]
async fn keys_a_seeded_run_saved_are_not_kept_once_a_token_guards_the_instance() {
    let dir = temp_dir("seeded-keys");
    let path = dir.join("state");
    let before = start_with(keeping(&path)).await;
    let jwt = signal_login(&before).await;
    let ca = admin_get(&before, "/_signsim/ca.pem").await.bytes;
    eventually("a save with the login", async || {
        std::fs::read_to_string(&path)
            .is_ok_and(|saved| saved.contains("token issued to integrator"))
    })
    .await;
    let mut guarded = keeping(&path);
    guarded.admin_token = Some(ADMIN.to_owned());
    guarded.state.as_mut().unwrap().every = None;
    let after = start_with(guarded).await;
    let mine = signal_login(&after).await;
    let created = signal(
        &after,
        &mine,
        reqwest::Method::POST,
        "/sign/request",
        Some(crate::signal::create_body(
            "+593991234567",
            &sample_pdf("S"),
        )),
    )
    .await;
    let pk = created.json()["pk"].as_u64().unwrap();
    assert!(accepts(&after, &mine, pk).await);
    assert!(
        !accepts(&after, &jwt, pk).await,
        "the seeded JWT secret was kept"
    );
    assert_ne!(
        admin_get(&after, "/_signsim/ca.pem").await.bytes,
        ca,
        "the seeded CA was kept"
    );
    std::fs::remove_dir_all(&dir).ok();
}
