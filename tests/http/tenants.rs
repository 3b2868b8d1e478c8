//! One instance shared by parallel test runs: every tenant its own clock, namespace and
//! logs. Eight workers, each with its own name as QI Tech key, IdentiaSign entity and
//! Uanataca tenant, run at once against one simulator; none sees or changes another's.

use crate::common::{answer, sample_pdf, start, Answer, Sim, DEMO_TOKEN};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use time::OffsetDateTime;

/// An always-failing webhook receiver: every call answers 500.
async fn failing_receiver() -> String {
    use axum::http::StatusCode;
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    url
}

async fn call(sim: &Sim, method: Method, url: &str, auth: Option<&str>, body: Value) -> Answer {
    let mut request = sim.http.request(method, url).json(&body);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    answer(request.send().await.expect("request sent")).await
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `expiration_date` `days` from today (real time).
fn in_days(days: i64) -> String {
    (OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

fn signer() -> Value {
    json!({
        "id": "1", "name": "Ana Worker", "email": "ana@example.com",
        "birthdate": "1992-09-15", "document_number": "111.111.111-11",
        "phone": {"international_dial_code": "55", "area_code": "11", "number": "988878722"},
        "document_submission_method": "email", "authentication_submission_method": "sms"
    })
}

/// A QI Tech envelope of `key`, with a document, submitted; expires `days` from today.
async fn envelope(sim: &Sim, key: &str, id: &str, days: i64) {
    let q = |path: &str| sim.url(&format!("/qitech/sign/envelope{path}"));
    let created = call(
        sim,
        Method::POST,
        &q(""),
        Some(key),
        json!({ "id": id, "subject": "Contrato", "expiration_date": in_days(days), "signers": [signer()] }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.json());
    let added = call(
        sim,
        Method::POST,
        &q(&format!("/{id}/document")),
        Some(key),
        json!({ "document_b64": b64(&sample_pdf("Contrato")), "name": "Contrato", "document_type": "pdf" }),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.json());
    let submitted = call(
        sim,
        Method::PATCH,
        &q(&format!("/{id}")),
        Some(key),
        json!({ "status": "submitted" }),
    )
    .await;
    assert_eq!(submitted.status, 200, "{}", submitted.json());
}

async fn envelope_status(sim: &Sim, key: &str, id: &str) -> String {
    let url = sim.url(&format!("/qitech/sign/envelope/{id}"));
    let got = call(sim, Method::GET, &url, Some(key), json!({})).await;
    got.json()["status"].as_str().unwrap_or_default().to_owned()
}

/// The worker signs its envelope as its signer would: it opens its signing link (which
/// sends the token to its phone) and signs with the token.
async fn sign(sim: &Sim, key: &str, id: &str) {
    let url = sim.url(&format!("/qitech/sign/envelope/{id}"));
    let envelope = call(sim, Method::GET, &url, Some(key), json!({}))
        .await
        .json();
    let link = envelope["signers"][0]["signature_url"]
        .as_str()
        .expect("a signature_url")
        .to_owned();
    assert_eq!(sim.get(&link).await.status, 200);
    let outbox = sim
        .get(&sim.url(&format!(
            "/_signsim/outbox?provider=qitech&tenant={key}&channel=sms"
        )))
        .await
        .json();
    let token = outbox.as_array().unwrap().last().unwrap()["otp"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = sim
        .post_json(
            &sim.url(&format!("/_signsim/qitech/envelopes/{id}/signers/1/sign")),
            json!({ "api_key": key, "cpf": "11111111111", "token": token }),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.json());
}

async fn identiasign_login(sim: &Sim, entity: &str) -> String {
    let answered = sim
        .post_json(
            &sim.url("/identiasign/api/auth/login"),
            json!({ "username": entity, "clientname": "api@x.pe", "password": "x" }),
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.json());
    answered.json()["access_token"].as_str().unwrap().to_owned()
}

/// An IdentiaSign process of the entity whose token is `token`; its links last a day.
async fn identiasign_process(sim: &Sim, token: &str) -> Answer {
    let signer = json!([{
        "nat": "PER", "doc_id": "12345678", "signatureType": "advanced",
        "signChallenges": ["facial"],
        "stampPositions": { "0": { "0": { "x": 1, "y": 1, "size": 8, "orientation": "horizontal" } } },
        "contactInfo": { "type": "email", "value": "a@example.com", "tz": "-05:00" }
    }]);
    let form = Form::new()
        .part(
            "pdfFiles",
            Part::bytes(sample_pdf("Contrato")).file_name("Contrato.pdf"),
        )
        .text("signers", signer.to_string())
        .text("link_expire", "86400");
    answer(
        sim.http
            .put(sim.url("/identiasign/api/signature_processes"))
            .header("authorization", format!("jwt-bearer {token}"))
            .multipart(form)
            .send()
            .await
            .expect("request sent"),
    )
    .await
}

async fn identiasign_list(sim: &Sim, token: &str) -> u16 {
    answer(
        sim.http
            .get(sim.url("/identiasign/api/signature_processes"))
            .header("authorization", format!("jwt-bearer {token}"))
            .send()
            .await
            .expect("request sent"),
    )
    .await
    .status
}

async fn advance(sim: &Sim, body: Value) -> Answer {
    sim.post_json(&sim.url("/_signsim/clock/advance"), body)
        .await
}

/// Every row of an admin view filtered to `name`, checked to be `name`'s own.
async fn own_rows(sim: &Sim, view: &str, name: &str) -> Vec<Value> {
    let rows = sim
        .get(&sim.url(&format!("/_signsim/{view}?tenant={name}")))
        .await
        .json();
    let rows = rows.as_array().cloned().unwrap_or_default();
    for row in &rows {
        assert_eq!(
            row["tenant"], name,
            "{view} showed {name} another's row: {row}"
        );
    }
    rows
}

/// One worker's whole run. `peers` are the other workers' names.
async fn worker(sim: Arc<Sim>, name: String, hook: String, barrier: Arc<tokio::sync::Barrier>) {
    let sim = &*sim;
    let name = name.as_str();
    // QI Tech: a webhook to a receiver that always fails, an envelope that completes
    // (so a webhook goes out), and one that expires in two days.
    let configured = sim
        .post_json(
            &sim.url("/_signsim/qitech/webhook"),
            json!({ "api_key": name, "url": hook, "signature_key": "k" }),
        )
        .await;
    assert_eq!(configured.status, 200, "{}", configured.json());
    envelope(sim, name, "signed", 30).await;
    envelope(sim, name, "expiring", 2).await;
    sign(sim, name, "signed").await;
    // IdentiaSign: a login token (an hour) and a process whose links last a day.
    let token = identiasign_login(sim, name).await;
    let process = identiasign_process(sim, &token).await;
    assert_eq!(process.status, 201, "{}", process.json());
    // Uanataca: a request under the tenant header.
    let created = sim
        .http
        .post(sim.url("/uanataca/api/v1/request"))
        .header("x-signsim-tenant", name)
        .json(&json!({
            "token": DEMO_TOKEN, "given_name": "Ana", "surname_1": name,
            "email": "a@example.com", "mobile_phone_number": "+34600123456"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Everyone has made their resources before anyone moves a clock.
    barrier.wait().await;
    assert_eq!(envelope_status(sim, name, "expiring").await, "submitted");

    // One advance of 100 s plays every retry of the failing webhook.
    let before = OffsetDateTime::now_utc();
    let moved = advance(sim, json!({ "seconds": 100, "tenant": name })).await;
    assert_eq!(moved.status, 200, "{}", moved.json());
    let attempts = own_rows(sim, "webhooks", name).await;
    assert_eq!(attempts.len(), 5, "{name}: {attempts:?}");
    let at: Vec<OffsetDateTime> = attempts
        .iter()
        .map(|a| {
            OffsetDateTime::parse(
                a["at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
        })
        .collect();
    let gaps: Vec<i64> = at.iter().map(|t| (*t - at[0]).whole_seconds()).collect();
    assert_eq!(gaps, [0, 1, 3, 7, 15], "{name}: attempts at {at:?}");
    assert!(at[0] < before + time::Duration::seconds(60));

    // Three days on this worker's clocks: its envelope expires, its login token and
    // document links with it; nobody else's.
    let moved = advance(sim, json!({ "seconds": 3 * 86_400, "tenant": name })).await;
    assert_eq!(moved.status, 200);
    let clock = sim
        .get(&sim.url(&format!("/_signsim/clock?tenant={name}&provider=qitech")))
        .await
        .json();
    assert!(clock["offset_seconds"].as_i64().unwrap() >= 3 * 86_400 + 100);
    assert_eq!(envelope_status(sim, name, "expiring").await, "expired");
    assert_eq!(
        identiasign_list(sim, &token).await,
        401,
        "{name}'s token expired"
    );

    // Every view filtered to this worker holds its rows alone.
    for view in ["requests", "events", "outbox", "webhooks"] {
        assert!(
            !own_rows(sim, view, name).await.is_empty(),
            "{name} has no {view}"
        );
    }

    // All have advanced; nobody's advance moved another's clock or resources (checked by
    // each above: its envelope was still submitted after the others' first advances).
    barrier.wait().await;
    let moved_by_others = sim
        .get(&sim.url(&format!("/_signsim/clock?tenant={name}&provider=qitech")))
        .await
        .json()["offset_seconds"]
        .as_i64()
        .unwrap();
    assert!(
        moved_by_others < 3 * 86_400 + 200,
        "{name}'s clock moved by another"
    );

    // Resetting itself forgets everything of its own.
    let reset = sim
        .post_json(
            &sim.url(&format!("/_signsim/reset?tenant={name}")),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200);
    for view in ["requests", "events", "outbox", "webhooks"] {
        let rows = own_rows(sim, view, name).await;
        assert!(
            rows.is_empty(),
            "{name} reset but {view} still has {rows:?}"
        );
    }
    let gone = call(
        sim,
        Method::GET,
        &sim.url("/qitech/sign/envelope/signed"),
        Some(name),
        json!({}),
    )
    .await;
    assert_eq!(gone.status, 404);
    // The others are still as they were once everyone has reset (each checked its own
    // resources before resetting; a peer's reset never reached them).
    barrier.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_workers_share_one_instance_without_meeting() {
    let sim = Arc::new(start().await);
    let hook = failing_receiver().await;
    let workers = 8;
    let barrier = Arc::new(tokio::sync::Barrier::new(workers));
    let runs: Vec<_> = (0..workers)
        .map(|i| {
            tokio::spawn(worker(
                sim.clone(),
                format!("worker-{i}"),
                hook.clone(),
                barrier.clone(),
            ))
        })
        .collect();
    for run in runs {
        run.await.expect("a worker's assertions failed");
    }
    // After every reset, nothing of any worker is left on the dashboard's list.
    let events = sim.get(&sim.url("/_signsim/events")).await.json();
    assert_eq!(events.as_array().map(Vec::len), Some(0), "{events}");
}

#[tokio::test]
async fn an_unknown_provider_in_a_filter_is_a_400_naming_the_known_ones() {
    let sim = start().await;
    for view in ["outbox", "requests", "events", "webhooks", "inbox"] {
        let answered = sim
            .get(&sim.url(&format!("/_signsim/{view}?provider=qi")))
            .await;
        assert_eq!(answered.status, 400, "{view}");
        let text = String::from_utf8_lossy(&answered.bytes).into_owned();
        assert!(text.contains("qitech"), "{view}: {text}");
    }
    let reset = sim
        .post_json(&sim.url("/_signsim/reset?provider=qi"), json!({}))
        .await;
    assert_eq!(reset.status, 400);
    let clock = advance(
        &sim,
        json!({ "seconds": 1, "tenant": "a", "provider": "qi" }),
    )
    .await;
    assert_eq!(clock.status, 400);
    let provider_alone = advance(&sim, json!({ "seconds": 1, "provider": "qitech" })).await;
    assert_eq!(provider_alone.status, 400);
}

#[tokio::test]
async fn a_tenant_clock_moves_alone_and_reset_puts_it_back() {
    let sim = start().await;
    let moved = advance(
        &sim,
        json!({ "seconds": 86_400, "tenant": "a", "provider": "qitech" }),
    )
    .await;
    assert_eq!(moved.status, 200);
    assert_eq!(moved.json()["offset_seconds"], 86_400);
    let clock = |q: &'static str| {
        let sim = &sim;
        async move {
            sim.get(&sim.url(&format!("/_signsim/clock{q}")))
                .await
                .json()["offset_seconds"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(clock("?tenant=a&provider=qitech").await, 86_400);
    assert_eq!(clock("?tenant=a&provider=identiasign").await, 0);
    assert_eq!(clock("?tenant=b&provider=qitech").await, 0);
    assert_eq!(clock("").await, 0);
    // By name alone: that name in every provider.
    advance(&sim, json!({ "seconds": 10, "tenant": "a" })).await;
    assert_eq!(clock("?tenant=a&provider=qitech").await, 86_410);
    assert_eq!(clock("?tenant=a&provider=identiasign").await, 10);
    // The 100-year bound holds per tenant.
    let too_far = advance(
        &sim,
        json!({ "seconds": 3_155_760_000u64, "tenant": "a", "provider": "qitech" }),
    )
    .await;
    assert_eq!(too_far.status, 400);
    sim.post_json(
        &sim.url("/_signsim/reset?tenant=a&provider=qitech"),
        json!({}),
    )
    .await;
    assert_eq!(clock("?tenant=a&provider=qitech").await, 0);
    assert_eq!(clock("?tenant=a&provider=identiasign").await, 10);
    // The dashboard shows the clocks of their own.
    let page = sim.get(&sim.url("/_signsim")).await;
    let html = String::from_utf8_lossy(&page.bytes).into_owned();
    assert!(html.contains("tenant-clocks"), "{html}");
}

#[tokio::test]
async fn a_times_1_failure_on_create_fails_once_then_the_retry_works() {
    let sim = start().await;
    let loaded = sim
        .post_raw(
            &sim.url("/_signsim/scenarios"),
            Some("application/toml"),
            b"[[scenario]]\nname = \"gateway-once\"\nprovider = \"qitech\"\n\
              [[scenario.effects]]\noperation = \"envelope.create\"\ntimes = 1\n\
              respond = { status = 503, body = { code = \"UNAVAILABLE\" } }\n"
                .to_vec(),
        )
        .await;
    assert_eq!(loaded.status, 200, "{}", loaded.json());
    let create = |id: &'static str, key: &'static str| {
        let sim = &sim;
        async move {
            let url = sim.url("/qitech/sign/envelope");
            answer(
                sim.http
                    .post(url)
                    .header("authorization", key)
                    .header("x-signsim-scenario", "gateway-once")
                    .json(&json!({ "id": id, "subject": "s", "expiration_date": in_days(5), "signers": [signer()] }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
            .status
        }
    };
    assert_eq!(create("e1", "k1").await, 503);
    assert_eq!(create("e2", "k1").await, 201, "the retry works");
    assert_eq!(
        create("e3", "k2").await,
        503,
        "another tenant counts on its own"
    );
}

/// A receiver that holds every call until `release` is notified, then answers 200.
async fn holding_receiver() -> (
    String,
    Arc<tokio::sync::Notify>,
    Arc<std::sync::atomic::AtomicU32>,
) {
    use std::sync::atomic::{AtomicU32, Ordering};
    let release = Arc::new(tokio::sync::Notify::new());
    let arrived = Arc::new(AtomicU32::new(0));
    let (r, a) = (release.clone(), arrived.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let (r, a) = (r.clone(), a.clone());
            async move {
                a.fetch_add(1, Ordering::SeqCst);
                r.notified().await;
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, release, arrived)
}

#[tokio::test]
async fn a_reset_during_a_delivery_leaves_no_ghost_row() {
    use std::sync::atomic::Ordering;
    let sim = start().await;
    let (hook, release, arrived) = holding_receiver().await;
    let tenant = "ghost";
    let post = |path: String, body: Value| {
        let sim = &sim;
        async move {
            answer(
                sim.http
                    .post(sim.api(&path))
                    .header("x-signsim-tenant", tenant)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let created = post(
        "request".into(),
        json!({
            "token": DEMO_TOKEN, "given_name": "Ghost", "surname_1": "Row",
            "email": "g@example.com", "mobile_phone_number": "+34600123001",
            "useasync": "true", "callback": hook,
        }),
    )
    .await;
    let pk = created.json()["details"].as_u64().unwrap();
    let upload = Form::new().part("file", Part::bytes(sample_pdf("Ghost")).file_name("a.pdf"));
    let uploaded = sim
        .http
        .post(sim.api(&format!("document/{pk}")))
        .header("x-signsim-tenant", tenant)
        .multipart(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200);
    post(format!("otp/{pk}"), json!({})).await;
    let outbox = sim
        .get(&sim.url(&format!("/_signsim/outbox?tenant={tenant}")))
        .await
        .json();
    let otp = outbox.as_array().unwrap().last().unwrap()["otp"]
        .as_str()
        .unwrap()
        .to_owned();
    post(format!("sign/{pk}"), json!({ "secret": otp })).await;
    crate::receiver::eventually("the delivery to arrive", async || {
        arrived.load(Ordering::SeqCst) >= 1
    })
    .await;
    // The tenant is reset while its delivery is in flight; then the receiver answers.
    sim.post_json(
        &sim.url(&format!("/_signsim/reset?tenant={tenant}")),
        json!({}),
    )
    .await;
    release.notify_waiters();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let attempts = sim
        .get(&sim.url(&format!("/_signsim/webhooks?tenant={tenant}")))
        .await
        .json();
    assert_eq!(attempts, json!([]));
    let events = sim
        .get(&sim.url(&format!("/_signsim/events?tenant={tenant}")))
        .await
        .json();
    assert_eq!(events, json!([]), "a ghost row after the reset");
}
