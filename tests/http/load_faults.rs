//! Load with faults (issue 14): many complete flows at once over many tenants, a flood of
//! webhooks to a receiver that fails half the time and sometimes hangs, and clients that
//! drop the connection halfway through an upload. Each test stops by itself; the counts
//! scale with `SIGNSIM_LOAD_FLOWS` and `SIGNSIM_LOAD_WEBHOOKS` (defaults: the issue's
//! 1,000 flows and 2,000 webhooks).

use crate::common::{answer, sample_pdf, start, start_with, Answer, Sim, DEMO_TOKEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use signsim::engine::webhooks::WebhookRequest;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::AsyncWriteExt;

const TENANTS: usize = 20;

/// A provider's part in the load: one complete flow for a tenant (the `usize` makes its
/// phone numbers and ids its own), and whether what it made is there, finished, for a
/// tenant.
pub(crate) struct Flow {
    pub(crate) slug: &'static str,
    run: for<'a> fn(&'a Sim, &'a str, usize) -> Boxed<'a, Made>,
    visible: for<'a> fn(&'a Sim, &'a Made, &'a str) -> Boxed<'a, bool>,
}

/// What an `async fn` in a table answers (sent: the flows run in spawned tasks).
type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Every provider's flow, keyed by slug. The flows run over the registry
/// (`signsim::PROVIDERS`): a registered provider without an entry here fails the test by
/// name (and `registry.rs` names it without running the load).
pub(crate) const FLOWS: &[Flow] = &[
    Flow {
        slug: "uanataca",
        run: |sim, tenant, n| Box::pin(uanataca(sim, tenant, n)),
        visible: |sim, made, as_tenant| Box::pin(uanataca_visible(sim, made, as_tenant)),
    },
    Flow {
        slug: "signal",
        run: |sim, tenant, n| Box::pin(signal(sim, tenant, n)),
        visible: |sim, made, as_tenant| Box::pin(signal_visible(sim, made, as_tenant)),
    },
    Flow {
        slug: "qitech",
        run: |sim, tenant, n| Box::pin(qitech(sim, tenant, n)),
        visible: |sim, made, as_tenant| Box::pin(qitech_visible(sim, made, as_tenant)),
    },
    Flow {
        slug: "mensatek",
        run: |sim, tenant, n| Box::pin(mensatek(sim, tenant, n)),
        visible: |sim, made, as_tenant| Box::pin(mensatek_visible(sim, made, as_tenant)),
    },
    Flow {
        slug: "identiasign",
        run: |sim, tenant, n| Box::pin(identiasign(sim, tenant, n)),
        visible: |sim, made, as_tenant| Box::pin(identiasign_visible(sim, made, as_tenant)),
    },
];

/// The registered providers' flows, in registry order; a provider without one fails the
/// test, naming it.
fn flows() -> Vec<&'static Flow> {
    signsim::PROVIDERS
        .iter()
        .map(|provider| {
            FLOWS
                .iter()
                .find(|flow| flow.slug == provider.slug)
                .unwrap_or_else(|| {
                    panic!(
                        "tests/http/load_faults.rs: the registered provider '{}' has no entry \
                         in FLOWS",
                        provider.slug
                    )
                })
        })
        .collect()
}

fn count(variable: &str, default: usize) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn tenant_name(index: usize) -> String {
    format!("load-{index:02}")
}

/// What one flow made: which provider, whose, and the id the provider gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Made {
    provider: &'static str,
    tenant: String,
    id: String,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    answer(request.send().await.expect("request sent")).await
}

/// The one OTP sent to `to` (each flow has its own phone number).
async fn otp_sent_to(sim: &Sim, provider: &str, to: &str) -> String {
    let url = sim.url(&format!(
        "/_signsim/outbox?provider={provider}&to={}",
        escape(to)
    ));
    let messages = sim.get(&url).await.json();
    let otps: Vec<&str> = messages
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|m| m["otp"].as_str())
        .collect();
    if otps.len() != 1 {
        let all = sim.get(&sim.url("/_signsim/outbox")).await.json();
        panic!("one OTP for {to}: {messages}; the outbox: {all}");
    }
    otps[0].to_owned()
}

fn escape(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn basic(user: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:tok")))
}

/// Uanataca: create, upload, OTP, sign; the request is then ISSUED.
async fn uanataca(sim: &Sim, tenant: &str, n: usize) -> Made {
    // Away from the scenario files' magic numbers (+3460000000x).
    let phone = format!("+34611{n:06}");
    let api = |path: &str| sim.api(path);
    let created = send(
        sim.http
            .post(api("request"))
            .header("x-signsim-tenant", tenant)
            .json(&json!({
                "token": DEMO_TOKEN, "profile": "PFnubeQAFCiudadano", "given_name": "Load",
                "surname_1": "Flow", "serial_number": "12345678Z",
                "email": "load@example.com", "mobile_phone_number": phone,
            })),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let pk = created.json()["details"].as_u64().expect("pk");
    let form = Form::new().part(
        "file",
        Part::bytes(sample_pdf("Load")).file_name("load.pdf"),
    );
    let uploaded = send(
        sim.http
            .post(api(&format!("document/{pk}")))
            .header("x-signsim-tenant", tenant)
            .multipart(form),
    )
    .await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let otp = send(
        sim.http
            .post(api(&format!("otp/{pk}")))
            .header("x-signsim-tenant", tenant)
            .json(&json!({})),
    )
    .await;
    assert_eq!(otp.status, 200, "{:?}", otp.json());
    let secret = otp_sent_to(sim, "uanataca", &phone).await;
    let signed = send(
        sim.http
            .post(api(&format!("sign/{pk}")))
            .header("x-signsim-tenant", tenant)
            .json(&json!({ "secret": secret })),
    )
    .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    Made {
        provider: "uanataca",
        tenant: tenant.to_owned(),
        id: pk.to_string(),
    }
}

/// Signal: one-call create (the OTP goes by SMS), sign; the bearer token is the tenant.
async fn signal(sim: &Sim, tenant: &str, n: usize) -> Made {
    // Away from the scenario files' magic numbers (+59390000000x).
    let phone = format!("+593911{n:06}");
    let jpeg = STANDARD.encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F']);
    let png = STANDARD.encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let created = send(
        sim.http
            .post(sim.url("/signal/sign/request"))
            .bearer_auth(tenant)
            .json(&json!({
                "given_name": "Maria", "surname_1": "Garcia", "id_document_type": "IDC",
                "id_document_country": "EC", "serial_number": "1712345678",
                "email": "maria@example.com", "mobile_phone_number": phone,
                "residence_address": "Av. Amazonas 123", "residence_city": "QUITO",
                "residence": "EC", "document_front": jpeg, "document_rear": jpeg,
                "document_owner": png, "documents_to_sign": STANDARD.encode(sample_pdf("Load")),
            })),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    assert_eq!(created.json()["status"], true, "{:?}", created.json());
    let pk = created.json()["pk"].as_u64().expect("pk");
    let secret = otp_sent_to(sim, "signal", &phone).await;
    let signed = send(
        sim.http
            .post(sim.url("/signal/sign"))
            .bearer_auth(tenant)
            .json(&json!({ "secret": secret, "pk": pk.to_string() })),
    )
    .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    Made {
        provider: "signal",
        tenant: tenant.to_owned(),
        id: pk.to_string(),
    }
}

/// QI Tech: envelope, document, submitted, the signer signs; the API key is the tenant.
async fn qitech(sim: &Sim, tenant: &str, n: usize) -> Made {
    let id = format!("env-{n}");
    let q = |path: &str| sim.url(&format!("/qitech{path}"));
    let created = send(sim.http
            .post(q("/sign/envelope"))
            .header("authorization", tenant)
            .json(&json!({
                "id": id, "subject": "Load", "expiration_date": "2299-01-01",
                "signers": [{
                    "id": "1", "name": "John Sample", "email": "john@example.com",
                    "birthdate": "1992-09-15", "document_number": "111.111.111-11",
                    "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
                    "document_submission_method": "email",
                    "authentication_submission_method": "sms"
                }]
            })),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let document = send(
        sim.http
            .post(q(&format!("/sign/envelope/{id}/document")))
            .header("authorization", tenant)
            .json(&json!({
                "document_b64": STANDARD.encode(sample_pdf("Load")),
                "name": "Load", "document_type": "pdf"
            })),
    )
    .await;
    assert_eq!(document.status, 201, "{:?}", document.json());
    let submitted = send(
        sim.http
            .patch(q(&format!("/sign/envelope/{id}")))
            .header("authorization", tenant)
            .json(&json!({ "status": "submitted" })),
    )
    .await;
    assert_eq!(submitted.status, 200, "{:?}", submitted.json());
    let signed = sim
        .post_json(
            &sim.url(&format!("/_signsim/qitech/envelopes/{id}/signers/1/sign")),
            json!({ "api_key": tenant, "cpf": "11111111111" }),
        )
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    Made {
        provider: "qitech",
        tenant: tenant.to_owned(),
        id,
    }
}

/// Mensatek: a verification sent and completed; the API user is the tenant.
async fn mensatek(sim: &Sim, tenant: &str, n: usize) -> Made {
    let sent = send(
        sim.http
            .post(sim.url("/mensatek/VerificarIdentidad"))
            .header("authorization", basic(tenant))
            .json(&json!({
                "Telefono": format!("34611{n:06}"), "Mensaje": "Verifique: [LINK]",
                "Dni": "00000000T", "Resp": "JSON"
            })),
    )
    .await;
    assert_eq!(sent.json()[0]["Res"], "10", "{:?}", sent.json());
    let id = sent.json()[0]["ID"].as_str().expect("ID").to_owned();
    let done = sim
        .post_json(
            &sim.url(&format!("/_signsim/mensatek/verifications/{id}/complete")),
            json!({ "api_user": tenant, "outcome": "verified" }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    Made {
        provider: "mensatek",
        tenant: tenant.to_owned(),
        id,
    }
}

async fn identiasign_token(sim: &Sim, tenant: &str) -> String {
    let login = sim
        .post_json(
            &sim.url("/identiasign/api/auth/login"),
            json!({ "username": tenant, "clientname": "api@load.pe", "password": "s3cr3t" }),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.json());
    login.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// IdentiaSign: log in, create a process with one signer, who signs; the entity (the
/// login's username) is the tenant.
async fn identiasign(sim: &Sim, tenant: &str, n: usize) -> Made {
    let token = identiasign_token(sim, tenant).await;
    // Away from the scenario file's magic ids (4000000x).
    let doc_id = format!("1{n:07}");
    let signers = json!([{
        "nat": "PER", "doc_id": doc_id, "signatureType": "advanced",
        "signChallenges": ["facial"],
        "stampPositions": { "0": { "0": { "x": 1, "y": 1, "size": 8, "orientation": "horizontal" } } },
        "contactInfo": { "type": "email", "value": "a@example.com", "tz": "-05:00" }
    }]);
    let form = Form::new()
        .part(
            "pdfFiles",
            Part::bytes(sample_pdf("Load")).file_name("Load.pdf"),
        )
        .text("signers", signers.to_string());
    let created = send(
        sim.http
            .request(Method::PUT, sim.url("/identiasign/api/signature_processes"))
            .header("authorization", format!("jwt-bearer {token}"))
            .multipart(form),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let signed = sim
        .post_json(
            &sim.url(&format!(
                "/_signsim/identiasign/processes/{id}/signers/PER:{doc_id}/sign"
            )),
            json!({ "username": tenant }),
        )
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    Made {
        provider: "identiasign",
        tenant: tenant.to_owned(),
        id,
    }
}

/// Flow `n`: the providers take turns, and so do the tenants.
async fn flow(sim: &Sim, n: usize) -> Made {
    let flows = flows();
    let tenant = tenant_name((n / flows.len()) % TENANTS);
    (flows[n % flows.len()].run)(sim, &tenant, n).await
}

/// Whether `made` is there, finished, for its own tenant (`as_tenant` = its tenant), or
/// invisible to another (`as_tenant` = someone else's).
async fn visible(sim: &Sim, made: &Made, as_tenant: &str) -> bool {
    let flow = flows().into_iter().find(|f| f.slug == made.provider);
    let flow = flow.expect("made by a registered provider's flow");
    (flow.visible)(sim, made, as_tenant).await
}

/// Uanataca: the request is ISSUED.
async fn uanataca_visible(sim: &Sim, made: &Made, as_tenant: &str) -> bool {
    let id = &made.id;
    let got = send(
        sim.http
            .get(sim.api(&format!("request/{id}")))
            .header("x-signsim-tenant", as_tenant),
    )
    .await;
    got.status == 200 && got.json()["details"]["status"] == "ISSUED"
}

/// Signal: the request is ISSUED.
async fn signal_visible(sim: &Sim, made: &Made, as_tenant: &str) -> bool {
    let id = &made.id;
    let got = send(
        sim.http
            .get(sim.url(&format!("/signal/sign/{id}")))
            .bearer_auth(as_tenant),
    )
    .await;
    got.status == 200 && got.json()["details"]["status"] == "ISSUED"
}

/// QI Tech: the envelope is completed.
async fn qitech_visible(sim: &Sim, made: &Made, as_tenant: &str) -> bool {
    let id = &made.id;
    let got = send(
        sim.http
            .get(sim.url(&format!("/qitech/sign/envelope/{id}")))
            .header("authorization", as_tenant),
    )
    .await;
    got.status == 200 && got.json()["status"] == "completed"
}

/// Mensatek: the verification is verified (its certificate due or there).
async fn mensatek_visible(sim: &Sim, made: &Made, as_tenant: &str) -> bool {
    let id = &made.id;
    let got = send(
        sim.http
            .post(sim.url("/mensatek/GetCertificadoVerificacion"))
            .header("authorization", basic(as_tenant))
            .json(&json!({ "Id": id, "Resp": "JSON" })),
    )
    .await;
    // Verified, its certificate due a minute later (-5), or already there; an
    // unknown verification is -50.
    let res = got.json()[0]["Res"].as_str().map(str::to_owned);
    got.status == 200 && matches!(res.as_deref(), None | Some("10" | "-5"))
}

/// IdentiaSign: the process is signed.
async fn identiasign_visible(sim: &Sim, made: &Made, as_tenant: &str) -> bool {
    let id = &made.id;
    let token = identiasign_token(sim, as_tenant).await;
    let url = sim.url(&format!(
        "/identiasign/api/signature_processes?process_id={}",
        escape(id)
    ));
    let got = send(
        sim.http
            .get(url)
            .header("authorization", format!("jwt-bearer {token}")),
    )
    .await;
    got.status == 200 && got.json()["signatureProcesses"][0]["status"] == "signed"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_flows_over_twenty_tenants() {
    let flows = count("SIGNSIM_LOAD_FLOWS", 1000);
    // Before any flow runs: a registered provider without one fails here, by name.
    assert!(!self::flows().is_empty());
    // A thousand clients at once, each with its own kept-alive connection: above the
    // default connection limit (512), where the rest would wait for an idle timeout.
    let mut config = signsim::Config::default();
    config.engine.seed = Some(42);
    config.limits.max_connections = 2 * flows;
    let sim = Arc::new(start_with(config).await);
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for n in 0..flows {
        let sim = sim.clone();
        running.spawn(async move { flow(&sim, n).await });
    }
    let mut made = Vec::new();
    while let Some(done) = running.join_next().await {
        made.push(done.expect("every flow completes"));
    }
    let elapsed = started.elapsed();
    eprintln!("load: {flows} flows over {TENANTS} tenants in {elapsed:?}");

    // Nothing lost, nothing duplicated: one distinct resource per flow.
    assert_eq!(made.len(), flows);
    let distinct: BTreeSet<(&str, &str)> = made
        .iter()
        // Uanataca and Signal share the one-shot model, and so its pks.
        .map(|m| (m.provider, m.id.as_str()))
        .collect();
    assert_eq!(distinct.len(), flows, "two flows were handed the same id");

    // Each tenant sees its own resources, finished, and no one else's: the engine's
    // timelines list exactly the tenant's resources...
    let mut by_tenant: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::new();
    for m in &made {
        by_tenant
            .entry(m.tenant.as_str())
            .or_default()
            .insert((m.provider, m.id.as_str()));
    }
    for (tenant, mine) in &by_tenant {
        let events = sim
            .get(&sim.url(&format!("/_signsim/events?tenant={tenant}")))
            .await
            .json();
        let listed: BTreeSet<(String, String)> = events
            .as_array()
            .expect("events")
            .iter()
            // IdentiaSign notes each login on a timeline of its own.
            .filter(|e| !e["id"].as_str().unwrap_or("").starts_with("login:"))
            .map(|e| {
                (
                    e["provider"].as_str().unwrap_or("").to_owned(),
                    e["id"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let expected: BTreeSet<(String, String)> = mine
            .iter()
            .map(|(p, id)| (p.to_string(), id.to_string()))
            .collect();
        assert_eq!(listed, expected, "the timelines of tenant {tenant}");
    }
    // ...and every provider's own reads agree, for the owner and for a neighbour.
    let mut checks = tokio::task::JoinSet::new();
    for m in made.clone() {
        let sim = sim.clone();
        checks.spawn(async move {
            let neighbour = tenant_name(
                (m.tenant[5..].parse::<usize>().expect("a tenant number") + 1) % TENANTS,
            );
            assert!(visible(&sim, &m, &m.tenant).await, "{m:?} for its tenant");
            assert!(
                !visible(&sim, &m, &neighbour).await,
                "{m:?} is visible to {neighbour}"
            );
        });
    }
    while let Some(checked) = checks.join_next().await {
        checked.expect("every resource checked");
    }
    // IdentiaSign's list, per tenant, holds that tenant's processes alone.
    for (tenant, mine) in &by_tenant {
        let token = identiasign_token(&sim, tenant).await;
        let listed = send(
            sim.http
                .get(sim.url("/identiasign/api/signature_processes?limit=1000"))
                .header("authorization", format!("jwt-bearer {token}")),
        )
        .await;
        let ids: BTreeSet<String> = listed.json()["signatureProcesses"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|p| p["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let expected: BTreeSet<String> = mine
            .iter()
            .filter(|(p, _)| *p == "identiasign")
            .map(|(_, id)| id.to_string())
            .collect();
        assert_eq!(ids, expected, "IdentiaSign's list for {tenant}");
    }
    eprintln!("load: checked in {:?}", started.elapsed());
}

/// A receiver that fails about half of what it gets (500) and hangs past the engine's
/// timeout now and then, until a delivery has failed `MAX_FAILURES` times: from then on
/// it recovers for that delivery and answers 200.
struct Flaky {
    /// Per delivery (resource, seq): how often it was refused so far.
    failures: Mutex<HashMap<(String, u64), u32>>,
    /// What was accepted, in the order it was accepted.
    accepted: Mutex<Vec<(String, u64)>>,
    hits: AtomicUsize,
    hangs: AtomicUsize,
}

const MAX_FAILURES: u32 = 3;

/// A fixed pseudo-random choice from the delivery and its attempt, so a run's faults do
/// not depend on the order the deliveries arrive in.
fn roll(resource: &str, seq: u64, attempt: u32) -> u64 {
    let mut x = 0xcbf2_9ce4_8422_2325u64;
    for b in resource
        .bytes()
        .chain(seq.to_le_bytes())
        .chain(attempt.to_le_bytes())
    {
        x = (x ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    x % 100
}

async fn flaky_receive(
    axum::extract::State(flaky): axum::extract::State<Arc<Flaky>>,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    flaky.hits.fetch_add(1, Ordering::SeqCst);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let resource = body["resource"].as_str().unwrap_or("").to_owned();
    let seq = body["seq"].as_u64().unwrap_or(u64::MAX);
    let key = (resource.clone(), seq);
    let failed = *flaky.failures.lock().unwrap().get(&key).unwrap_or(&0);
    let dice = roll(&resource, seq, failed);
    if failed < MAX_FAILURES && dice < 50 {
        *flaky.failures.lock().unwrap().entry(key).or_default() += 1;
        if dice < 4 {
            // Hang past the engine's timeout: the attempt counts as failed.
            flaky.hangs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        }
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    flaky.accepted.lock().unwrap().push(key);
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_webhooks_to_a_flaky_receiver() {
    let total = count("SIGNSIM_LOAD_WEBHOOKS", 2000);
    const PER_RESOURCE: usize = 10;
    let resources = total.div_ceil(PER_RESOURCE);
    // Each resource is one registered provider's; the engine's queue does not care whose.
    let slugs = signsim::slugs();
    let mut config = signsim::Config::default();
    config.engine.seed = Some(14);
    config.engine.webhook_retry.max_attempts = MAX_FAILURES + 2;
    // Short, so a hung attempt is over soon; well above what an answer takes here.
    config.engine.webhook_retry.timeout = std::time::Duration::from_millis(1500);
    let sim = start_with(config).await;

    let flaky = Arc::new(Flaky {
        failures: Mutex::new(HashMap::new()),
        accepted: Mutex::new(Vec::new()),
        hits: AtomicUsize::new(0),
        hangs: AtomicUsize::new(0),
    });
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(flaky_receive))
        .with_state(flaky.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });

    let started = Instant::now();
    // Deliveries are queued by the engine's one mechanism, the call every provider makes;
    // each resource gets its deliveries in `seq` order.
    for seq in 0..PER_RESOURCE {
        for r in 0..resources {
            if r * PER_RESOURCE + seq >= total {
                continue;
            }
            let resource = format!("res-{r}");
            sim.running.engine.webhook(
                WebhookRequest {
                    provider: slugs[r % slugs.len()],
                    tenant: tenant_name(r % TENANTS),
                    resource: resource.clone(),
                    url: url.clone(),
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: json!({ "resource": resource, "seq": seq })
                        .to_string()
                        .into(),
                },
                time::Duration::ZERO,
            );
        }
    }
    // Retries are due on the virtual clock: move it on (past the longest backoff) until
    // every delivery is in, with a bound so a lost one fails the test instead of hanging.
    let mut rounds = 0;
    while flaky.accepted.lock().unwrap().len() < total {
        rounds += 1;
        assert!(
            rounds < 2000,
            "only {} of {total} delivered",
            flaky.accepted.lock().unwrap().len()
        );
        sim.post_json(&sim.url("/_signsim/clock/advance"), json!({ "seconds": 8 }))
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Let the attempts still on the wire (a hang's) finish and be logged.
    let mut log = Vec::new();
    for _ in 0..100 {
        log = sim
            .get(&sim.url("/_signsim/webhooks"))
            .await
            .json()
            .as_array()
            .cloned()
            .unwrap_or_default();
        if log.len() >= flaky.hits.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let accepted = flaky.accepted.lock().unwrap().clone();
    eprintln!(
        "webhooks: {total} delivered in {elapsed:?}: {} attempts, {} refused, {} hung, {rounds} clock moves",
        log.len(),
        flaky.failures.lock().unwrap().values().sum::<u32>(),
        flaky.hangs.load(Ordering::SeqCst),
    );

    // Every one delivered exactly once...
    assert_eq!(accepted.len(), total);
    let distinct: BTreeSet<&(String, u64)> = accepted.iter().collect();
    assert_eq!(distinct.len(), total, "a delivery was accepted twice");
    // ...in order for each resource...
    let mut last: HashMap<&str, u64> = HashMap::new();
    for (resource, seq) in &accepted {
        if let Some(before) = last.insert(resource, *seq) {
            assert!(before < *seq, "{resource}: {seq} arrived after {before}");
        }
    }
    // ...and every attempt the receiver saw is in the log, refusals and hangs included.
    assert_eq!(log.len(), flaky.hits.load(Ordering::SeqCst));
    let delivered: Vec<&Value> = log.iter().filter(|a| a["delivered"] == true).collect();
    assert_eq!(delivered.len(), total);
    let refused = log.iter().filter(|a| a["response_status"] == 500).count();
    let timed_out = log
        .iter()
        .filter(|a| a["error"].as_str().is_some_and(|e| e.contains("timed out")))
        .count();
    assert_eq!(
        refused + timed_out + total,
        log.len(),
        "each attempt is delivered, refused or timed out"
    );
    assert_eq!(timed_out, flaky.hangs.load(Ordering::SeqCst));
    // Attempts of one delivery are numbered 1, 2, ... and only the last one succeeded.
    let mut per_delivery: BTreeMap<&str, Vec<(u64, bool)>> = BTreeMap::new();
    for attempt in &log {
        per_delivery
            .entry(attempt["delivery"].as_str().expect("a delivery id"))
            .or_default()
            .push((
                attempt["attempt"].as_u64().expect("a number"),
                attempt["delivered"] == true,
            ));
    }
    assert_eq!(per_delivery.len(), total);
    for (delivery, attempts) in per_delivery {
        let numbers: Vec<u64> = attempts.iter().map(|(n, _)| *n).collect();
        let expected: Vec<u64> = (1..=attempts.len() as u64).collect();
        assert_eq!(numbers, expected, "attempts of {delivery}");
        let successes: Vec<bool> = attempts.iter().map(|(_, ok)| *ok).collect();
        assert_eq!(successes.iter().filter(|ok| **ok).count(), 1);
        assert_eq!(successes.last(), Some(&true), "{delivery} ends delivered");
    }
}

/// Sends a request's head with its full Content-Length and only the first half of its
/// body, then closes the connection.
async fn drop_mid_upload(
    sim: &Sim,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    let mut stream = tokio::net::TcpStream::connect(sim.running.addr)
        .await
        .expect("connected");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
        sim.running.addr,
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream
        .write_all(&body[..body.len() / 2])
        .await
        .expect("half the body sent");
    stream.flush().await.expect("flushed");
    drop(stream);
}

fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").bytes(),
        );
        if let Some(filename) = filename {
            body.extend(
                format!("; filename=\"{filename}\"\r\nContent-Type: application/pdf").bytes(),
            );
        }
        body.extend(b"\r\n\r\n");
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    body
}

#[tokio::test]
async fn a_client_that_drops_mid_upload_leaves_no_half_document() {
    let sim = start().await;
    let pdf = sample_pdf("Half");
    let boundary = "HalfUploadBoundary";
    let content_type = format!("multipart/form-data; boundary={boundary}");

    // Uanataca: the document upload to a request.
    let pk = sim.create_request("Half").await;
    let upload = multipart(boundary, &[("file", Some("half.pdf"), &pdf)]);
    for _ in 0..3 {
        drop_mid_upload(
            &sim,
            "POST",
            &format!("/uanataca/api/v1/document/{pk}"),
            &[("content-type", &content_type)],
            &upload,
        )
        .await;
    }
    // QI Tech: a document in JSON.
    let key = "half-key";
    let envelope = json!({
        "id": "half", "subject": "Half", "expiration_date": "2299-01-01",
        "signers": [{
            "id": "1", "name": "John Sample", "email": "john@example.com",
            "birthdate": "1992-09-15", "document_number": "111.111.111-11",
            "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
            "document_submission_method": "email", "authentication_submission_method": "sms"
        }]
    });
    let created = send(
        sim.http
            .post(sim.url("/qitech/sign/envelope"))
            .header("authorization", key)
            .json(&envelope),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let document =
        json!({ "document_b64": STANDARD.encode(&pdf), "name": "Half", "document_type": "pdf" })
            .to_string();
    drop_mid_upload(
        &sim,
        "POST",
        "/qitech/sign/envelope/half/document",
        &[("content-type", "application/json"), ("authorization", key)],
        document.as_bytes(),
    )
    .await;
    // IdentiaSign: a process is its upload.
    let token = identiasign_token(&sim, "half.pe").await;
    let signers = json!([{
        "nat": "PER", "doc_id": "12345678", "signatureType": "advanced",
        "signChallenges": ["facial"],
        "contactInfo": { "type": "email", "value": "a@example.com", "tz": "-05:00" }
    }])
    .to_string();
    let process = multipart(
        boundary,
        &[
            ("signers", None, signers.as_bytes()),
            ("pdfFiles", Some("half.pdf"), &pdf),
        ],
    );
    let auth = format!("jwt-bearer {token}");
    drop_mid_upload(
        &sim,
        "PUT",
        "/identiasign/api/signature_processes",
        &[("content-type", &content_type), ("authorization", &auth)],
        &process,
    )
    .await;

    // The server still answers, and what the halves named holds no document.
    let hello = sim.get(&sim.api("hello")).await;
    assert_eq!(hello.status, 200);
    let none = sim.get(&sim.api(&format!("documents/{pk}"))).await;
    assert_eq!(none.status, 404, "{:?}", none.json());
    let envelope = send(
        sim.http
            .get(sim.url("/qitech/sign/envelope/half"))
            .header("authorization", key),
    )
    .await;
    assert_eq!(envelope.status, 200);
    assert_eq!(
        envelope.json()["signers"][0]["documents"],
        json!([]),
        "{:?}",
        envelope.json()
    );
    let processes = send(
        sim.http
            .get(sim.url("/identiasign/api/signature_processes"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!(processes.status, 404, "no process: {:?}", processes.json());

    // A whole upload afterwards stores exactly one document, whole.
    let whole = send(
        sim.http
            .post(sim.api(&format!("document/{pk}")))
            .header("content-type", &content_type)
            .body(upload.clone()),
    )
    .await;
    assert_eq!(whole.status, 200, "{:?}", whole.json());
    let listed = sim.get(&sim.api(&format!("documents/{pk}"))).await.json();
    let entries = listed["details"].as_object().expect("documents");
    assert_eq!(entries.len(), 1, "{listed}");
    let entry = entries.values().next().expect("one");
    assert_eq!(entry["size"], pdf.len());
}
