//! A QI Tech API key is a tenant, `(qitech, key)`, on a shared simulator: its own
//! envelopes apart from the same name in another provider, its own clock (expiry, file
//! URLs, the dates it accepts), its own reset, and its admin acts journaled under it.

use crate::common::{answer, sample_pdf, start, Answer, Sim};
use crate::qitech::{b64, signer};
use crate::receiver::{self, eventually};
use reqwest::Method;
use serde_json::{json, Value};

async fn call(sim: &Sim, method: Method, path: &str, key: &str, body: Option<Value>) -> Answer {
    let mut request = sim
        .http
        .request(method, sim.url(&format!("/qitech{path}")))
        .header("authorization", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.expect("request sent")).await
}

/// A date `days` from today (real time), as `expiration_date` takes it.
fn in_days(days: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(days))
        .date()
        .to_string()
}

fn envelope(id: &str, days: i64, signers: Vec<Value>) -> Value {
    json!({ "id": id, "subject": "Contrato", "expiration_date": in_days(days), "signers": signers })
}

/// Envelope `id` of `key`, with a document, submitted; it expires 10 days from today.
async fn submitted(sim: &Sim, key: &str, id: &str, signers: Vec<Value>) {
    let created = call(
        sim,
        Method::POST,
        "/sign/envelope",
        key,
        Some(envelope(id, 10, signers)),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let document = json!({ "document_b64": b64(&sample_pdf("Contrato")), "name": "Contrato", "document_type": "pdf" });
    let path = format!("/sign/envelope/{id}/document");
    let added = call(sim, Method::POST, &path, key, Some(document)).await;
    assert_eq!(added.status, 201, "{:?}", added.json());
    let path = format!("/sign/envelope/{id}");
    let sent = call(
        sim,
        Method::PATCH,
        &path,
        key,
        Some(json!({ "status": "submitted" })),
    )
    .await;
    assert_eq!(sent.status, 200, "{:?}", sent.json());
}

async fn status(sim: &Sim, key: &str, id: &str) -> Value {
    let path = format!("/sign/envelope/{id}");
    call(sim, Method::GET, &path, key, None).await.json()["status"].clone()
}

async fn sign(sim: &Sim, key: &str, id: &str, signer: &str) -> Answer {
    let url = sim.url(&format!(
        "/_signsim/qitech/envelopes/{id}/signers/{signer}/sign"
    ));
    sim.post_json(&url, json!({ "api_key": key })).await
}

async fn advance(sim: &Sim, body: Value) {
    let moved = sim
        .post_json(&sim.url("/_signsim/clock/advance"), body)
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
}

/// The rows of an admin view (`requests`, `events`, `outbox`, `webhooks`) for QI Tech
/// tenant `key`, each checked to be that tenant's.
async fn rows(sim: &Sim, view: &str, key: &str) -> Vec<Value> {
    let listed = sim
        .get(&sim.url(&format!("/_signsim/{view}?provider=qitech&tenant={key}")))
        .await;
    assert_eq!(listed.status, 200, "{view}");
    let rows = listed.json().as_array().cloned().unwrap_or_default();
    for row in &rows {
        assert_eq!(row["tenant"], key, "{view} of {key} lists {row}");
        assert_eq!(row["provider"], "qitech", "{view} of {key} lists {row}");
    }
    rows
}

/// A tiny JPEG, as identification images are sent.
fn jpeg() -> Vec<u8> {
    vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 0xFF, 0xD9,
    ]
}

/// The URL of signer 1's identification image of envelope `id`: valid 24 hours of the
/// key's clock.
async fn image_url(sim: &Sim, key: &str, id: &str) -> String {
    let path = format!("/sign/envelope/{id}/signer/1/personal_document");
    let image = json!({ "document_b64": b64(&jpeg()), "template": "cnh_front" });
    let added = call(sim, Method::POST, &path, key, Some(image)).await;
    assert_eq!(added.status, 201, "{:?}", added.json());
    let urls = call(sim, Method::GET, &path, key, None).await.json();
    urls["document_front_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no front URL: {urls}"))
        .to_owned()
}

#[tokio::test]
async fn a_qitech_key_and_an_identiasign_entity_of_one_name_are_two_tenants() {
    let sim = start().await;
    submitted(&sim, "corp", "deal", vec![signer("1", "a@example.com")]).await;
    let login = sim
        .post_json(
            &sim.url("/identiasign/api/auth/login"),
            json!({ "username": "corp", "clientname": "api@corp.pe", "password": "x" }),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.json());
    let token = login.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let identiasign_list = || {
        let (sim, token) = (&sim, &token);
        async move {
            let listed = sim
                .http
                .get(sim.url("/identiasign/api/signature_processes"))
                .header("authorization", format!("jwt-bearer {token}"))
                .send()
                .await
                .expect("request sent");
            listed.status().as_u16()
        }
    };
    // The token works: the entity has no process yet (404, not 401).
    assert_eq!(identiasign_list().await, 404);

    // Eleven days on IdentiaSign corp's clock: its login token expires, QI Tech corp's
    // envelope (due in ten days) does not, and QI Tech corp's clock has not moved.
    advance(
        &sim,
        json!({ "seconds": 11 * 86_400, "tenant": "corp", "provider": "identiasign" }),
    )
    .await;
    assert_eq!(identiasign_list().await, 401, "the entity's token expired");
    assert_eq!(status(&sim, "corp", "deal").await, "submitted");
    let clock = sim
        .get(&sim.url("/_signsim/clock?tenant=corp&provider=qitech"))
        .await
        .json();
    assert_eq!(clock["offset_seconds"], 0, "{clock}");

    // Resetting IdentiaSign corp leaves QI Tech corp's envelope and timeline.
    let reset = sim
        .post_json(
            &sim.url("/_signsim/reset?tenant=corp&provider=identiasign"),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200);
    assert_eq!(status(&sim, "corp", "deal").await, "submitted");
    assert!(!rows(&sim, "events", "corp").await.is_empty());

    // And resetting QI Tech corp forgets it.
    let reset = sim
        .post_json(
            &sim.url("/_signsim/reset?tenant=corp&provider=qitech"),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200);
    let gone = call(&sim, Method::GET, "/sign/envelope/deal", "corp", None).await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn advancing_one_keys_clock_expires_its_envelopes_and_file_urls_only() {
    let sim = start().await;
    let (mine, theirs) = ("qi-clock-mine", "qi-clock-theirs");
    let mut urls = Vec::new();
    for key in [mine, theirs] {
        let created = call(
            &sim,
            Method::POST,
            "/sign/envelope",
            key,
            Some(envelope("draft", 10, vec![signer("1", "a@example.com")])),
        )
        .await;
        assert_eq!(created.status, 201, "{:?}", created.json());
        urls.push(image_url(&sim, key, "draft").await);
        submitted(&sim, key, "out", vec![signer("1", "a@example.com")]).await;
    }
    for url in &urls {
        assert_eq!(sim.get(url).await.status, 200);
    }

    // Eleven days on `mine`'s QI Tech clock alone.
    advance(
        &sim,
        json!({ "seconds": 11 * 86_400, "tenant": mine, "provider": "qitech" }),
    )
    .await;
    // Its envelope's expiry timer fired on its clock: the timeline has it before anyone
    // reads the envelope.
    let events = rows(&sim, "events", mine).await;
    assert!(
        events
            .iter()
            .any(|e| e["id"] == "out" && e["to"] == "expired"),
        "{events:?}"
    );
    assert!(
        !rows(&sim, "events", theirs)
            .await
            .iter()
            .any(|e| e["to"] == "expired"),
        "another key's envelope expired"
    );
    assert_eq!(status(&sim, mine, "out").await, "expired");
    assert_eq!(status(&sim, theirs, "out").await, "submitted");
    // Its file URL lived 24 hours of its clock; the other key's still works.
    assert_eq!(sim.get(&urls[0]).await.status, 403);
    assert_eq!(sim.get(&urls[1]).await.status, 200);
    // A date five days from today has passed on its clock, not on the other's.
    let soon = |id: &str| Some(envelope(id, 5, vec![signer("1", "a@example.com")]));
    let refused = call(&sim, Method::POST, "/sign/envelope", mine, soon("soon")).await;
    assert_eq!(refused.status, 400, "{:?}", refused.json());
    let accepted = call(&sim, Method::POST, "/sign/envelope", theirs, soon("soon")).await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.json());
    for (key, offset) in [(mine, 11 * 86_400), (theirs, 0)] {
        let url = sim.url(&format!("/_signsim/clock?tenant={key}&provider=qitech"));
        assert_eq!(
            sim.get(&url).await.json()["offset_seconds"],
            offset,
            "{key}"
        );
    }
}

#[tokio::test]
async fn resetting_a_key_forgets_its_envelopes_rows_messages_and_webhooks_only() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    let (gone, kept) = ("qi-reset-gone", "qi-reset-kept");
    for key in [gone, kept] {
        let configured = sim
            .post_json(
                &sim.url("/_signsim/qitech/webhook"),
                json!({ "api_key": key, "url": hook.url, "signature_key": "k" }),
            )
            .await;
        assert_eq!(configured.status, 200, "{:?}", configured.json());
        submitted(&sim, key, "env", vec![signer("1", "a@example.com")]).await;
        assert_eq!(sign(&sim, key, "env", "1").await.status, 200);
    }
    eventually("both webhooks delivered", async || hook.bodies().len() == 2).await;
    for key in [gone, kept] {
        for view in ["requests", "events", "outbox", "webhooks"] {
            eventually(&format!("{key}'s {view}"), async || {
                !rows(&sim, view, key).await.is_empty()
            })
            .await;
        }
    }

    let reset = sim
        .post_json(
            &sim.url(&format!("/_signsim/reset?tenant={gone}&provider=qitech")),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200);
    for view in ["requests", "events", "outbox", "webhooks"] {
        let left = rows(&sim, view, gone).await;
        assert!(left.is_empty(), "{view} still lists {left:?}");
        assert!(
            !rows(&sim, view, kept).await.is_empty(),
            "{view} lost another key's rows"
        );
    }
    let path = "/sign/envelope/env";
    assert_eq!(call(&sim, Method::GET, path, gone, None).await.status, 404);
    assert_eq!(status(&sim, kept, "env").await, "completed");
}

#[tokio::test]
async fn admin_acts_are_journaled_under_qitech_and_their_key() {
    let sim = start().await;
    let (key, other) = ("qi-journal", "qi-journal-other");
    let hook = receiver::start(0).await;
    let configured = sim
        .post_json(
            &sim.url("/_signsim/qitech/webhook"),
            json!({ "api_key": key, "url": hook.url, "signature_key": "k" }),
        )
        .await;
    assert_eq!(configured.status, 200);
    submitted(
        &sim,
        key,
        "acts",
        vec![signer("1", "a@example.com"), signer("2", "b@example.com")],
    )
    .await;
    // Signer 1 by the page and its form (the link names the key)...
    let path = "/sign/envelope/acts";
    let envelope = call(&sim, Method::GET, path, key, None).await.json();
    let link = envelope["signers"][0]["signature_url"]
        .as_str()
        .expect("a signature_url")
        .to_owned();
    let code = link.rsplit('/').next().expect("a code").to_owned();
    let page = sim.browse(&link).await;
    assert_eq!(page.status, 200);
    let signed = sim.submit_form(&link, &page, &[]).await;
    assert_eq!(
        signed.status,
        200,
        "{}",
        String::from_utf8_lossy(&signed.bytes)
    );
    // ...signer 2 by the test's call, which completes the envelope; then refusals.
    assert_eq!(sign(&sim, key, "acts", "2").await.status, 200);
    assert_eq!(sign(&sim, key, "acts", "2").await.status, 409);
    assert_eq!(sign(&sim, key, "missing", "1").await.status, 404);
    // The dossier's file URL.
    let report = call(&sim, Method::GET, "/sign/envelope/acts/report", key, None)
        .await
        .json();
    let dossier = report["documents_reports"][0]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no dossier: {report}"))
        .to_owned();
    assert_eq!(sim.get(&dossier).await.status, 200);

    let journal: Vec<(String, String, u64)> = rows(&sim, "requests", key)
        .await
        .iter()
        .map(|row| {
            let method = row["method"].as_str().unwrap_or_default().to_owned();
            let path = row["path"].as_str().unwrap_or_default().to_owned();
            (method, path, row["status"].as_u64().unwrap_or_default())
        })
        .collect();
    let file = dossier
        .split_once("/_signsim/")
        .map(|(_, rest)| format!("/_signsim/{rest}"))
        .expect("a simulator path");
    let sign_1 = "/_signsim/qitech/envelopes/acts/signers/1/sign";
    let sign_2 = "/_signsim/qitech/envelopes/acts/signers/2/sign";
    for expected in [
        ("POST", "/_signsim/qitech/webhook".to_owned(), 200),
        ("GET", format!("/_signsim/qitech/s/{code}"), 200),
        ("POST", sign_1.to_owned(), 200),
        ("POST", sign_2.to_owned(), 200),
        ("POST", sign_2.to_owned(), 409),
        (
            "POST",
            "/_signsim/qitech/envelopes/missing/signers/1/sign".to_owned(),
            404,
        ),
        ("GET", file, 200),
    ] {
        let (method, path, status) = expected;
        assert!(
            journal.contains(&(method.to_owned(), path.clone(), status)),
            "{method} {path} {status} is not journaled under {key}: {journal:?}"
        );
    }
    // Another key's journal lists none of it.
    let others = rows(&sim, "requests", other).await;
    assert!(others.is_empty(), "{others:?}");
}
