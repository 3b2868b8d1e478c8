//! The built-in webhook receiver (`/_signsim/capture/{name}`, `/_signsim/captures/{name}`),
//! the waits (`?wait=` on captures and on `/_signsim/webhooks`), and the sample PDF.
//!
//! The waits are tested without timing: the reader is started first and seen still
//! waiting, then the capture (or the webhook) is made, and the reader must come back with
//! it. A bound far below the wait itself (30 of 60 seconds) catches a reader that is not
//! woken and sits out its whole wait.

use crate::common::{start, start_with, Sim, DEMO_TOKEN};
use crate::qitech::{signer, submitted, KEY};
use base64::Engine as _;
use serde_json::{json, Value};
use std::time::Duration;

/// Far less than the 60 seconds the readers below ask to wait.
const WOKEN_WITHIN: Duration = Duration::from_secs(30);

fn list(answer: &crate::common::Answer) -> Vec<Value> {
    answer.json().as_array().cloned().unwrap_or_else(|| {
        panic!("a JSON list, got {:?}", answer.json());
    })
}

/// A reader that was started and has not come back yet is waiting; any other round trip
/// to the same simulator first gives it the time to have been received.
async fn still_waiting<T>(sim: &Sim, reader: &tokio::task::JoinHandle<T>) {
    assert_eq!(sim.get(&sim.url("/_signsim/health")).await.status, 200);
    assert!(
        !reader.is_finished(),
        "the reader came back without waiting"
    );
}

/// The simulator's own capture URL for `name`, as a provider is told it.
fn capture_url(sim: &Sim, name: &str) -> String {
    sim.url(&format!("/_signsim/capture/{name}"))
}

/// Every signer of QI Tech envelope `id` signs (by the admin call): the envelope
/// completes and its `envelope_completed` webhook goes out.
async fn complete_envelope(sim: &Sim, id: &str) {
    submitted(sim, id, vec![signer("1", "one@example.com")]).await;
    let signed = sim
        .post_json(
            &sim.url(&format!("/_signsim/qitech/envelopes/{id}/signers/1/sign")),
            json!({ "api_key": KEY }),
        )
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
}

async fn set_qitech_hook(sim: &Sim, url: &str) {
    let set = sim
        .post_json(
            &sim.url("/_signsim/qitech/webhook"),
            json!({ "api_key": KEY, "url": url, "signature_key": "s3cr3t" }),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.json());
}

#[tokio::test]
async fn a_capture_records_method_path_query_headers_and_body() {
    let sim = start().await;
    let posted = sim
        .http
        .post(format!("{}?source=test&x=1", capture_url(&sim, "rec.1")))
        .header("X-Custom", "one")
        .json(&json!({ "event": "done" }))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    assert_eq!(
        posted.json::<Value>().await.unwrap(),
        json!({ "captured": true })
    );
    // Any method, any path below the name, a body that is not text.
    let binary = vec![0xff, 0x00, 0xfe, 0x01];
    let put = sim
        .http
        .put(sim.url("/_signsim/capture/rec.1/deeper/still"))
        .body(binary.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);

    let captured = sim.get(&sim.url("/_signsim/captures/rec.1")).await;
    assert_eq!(captured.status, 200);
    let captured = list(&captured);
    assert_eq!(captured.len(), 2, "{captured:?}");
    let first = &captured[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/_signsim/capture/rec.1");
    assert_eq!(first["query"], "source=test&x=1");
    assert_eq!(first["headers"]["x-custom"], "one");
    assert_eq!(first["headers"]["content-type"], "application/json");
    assert_eq!(first["body"], r#"{"event":"done"}"#);
    assert!(first.get("body_encoding").is_none(), "{first}");
    let at = first["at"].as_str().unwrap();
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{at} is not RFC 3339: {e}"));
    let second = &captured[1];
    assert_eq!(second["method"], "PUT");
    assert_eq!(second["path"], "/_signsim/capture/rec.1/deeper/still");
    assert_eq!(second["query"], Value::Null);
    assert_eq!(second["body_encoding"], "base64");
    let body = base64::engine::general_purpose::STANDARD
        .decode(second["body"].as_str().unwrap())
        .unwrap();
    assert_eq!(body, binary);

    // Names are apart; deleting forgets one name only.
    assert!(list(&sim.get(&sim.url("/_signsim/captures/other")).await).is_empty());
    sim.post_json(&capture_url(&sim, "other"), json!({})).await;
    let deleted = sim.delete(&sim.url("/_signsim/captures/rec.1")).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.bytes.is_empty());
    assert!(list(&sim.get(&sim.url("/_signsim/captures/rec.1")).await).is_empty());
    assert_eq!(
        list(&sim.get(&sim.url("/_signsim/captures/other")).await).len(),
        1
    );
    // A reset of every tenant forgets the captures too.
    sim.post_json(&sim.url("/_signsim/reset"), json!({})).await;
    assert!(list(&sim.get(&sim.url("/_signsim/captures/other")).await).is_empty());
}

#[tokio::test]
async fn a_wait_returns_once_the_first_capture_arrives() {
    let sim = start().await;
    let url = sim.url("/_signsim/captures/late?wait=60");
    let http = sim.http.clone();
    let reader = tokio::spawn(async move { http.get(url).send().await.unwrap() });
    still_waiting(&sim, &reader).await;
    sim.post_json(&capture_url(&sim, "late"), json!({ "n": 1 }))
        .await;
    let answer = tokio::time::timeout(WOKEN_WITHIN, reader)
        .await
        .expect("the reader was woken by the capture")
        .unwrap();
    assert_eq!(answer.status(), 200);
    let captured: Vec<Value> = answer.json().await.unwrap();
    assert_eq!(captured.len(), 1);
    assert_eq!(captured[0]["body"], r#"{"n":1}"#);

    // Something there already: no wait at all; nothing and a wait of 0: `[]` at once.
    assert_eq!(
        list(&sim.get(&sim.url("/_signsim/captures/late?wait=60")).await).len(),
        1
    );
    let empty = sim.get(&sim.url("/_signsim/captures/none?wait=0")).await;
    assert_eq!(empty.status, 200);
    assert!(list(&empty).is_empty());
}

#[tokio::test]
async fn status_and_fail_first_make_it_fail_and_a_provider_retries_into_it() {
    let sim = start().await;
    let answered = sim
        .post_json(
            &sim.url("/_signsim/capture/down?status=503"),
            json!({ "n": 1 }),
        )
        .await;
    assert_eq!(answered.status, 503);
    assert_eq!(answered.json(), json!({ "captured": true }));
    let no_body = sim
        .post_json(&sim.url("/_signsim/capture/down?status=204"), json!({}))
        .await;
    assert_eq!(no_body.status, 204);
    assert_eq!(
        list(&sim.get(&sim.url("/_signsim/captures/down")).await).len(),
        2,
        "a failing answer is still a capture"
    );

    // The first two requests of the name fail, the third is taken.
    set_qitech_hook(
        &sim,
        &format!("{}?fail_first=2", capture_url(&sim, "qi-retry")),
    )
    .await;
    complete_envelope(&sim, "env-retry").await;
    let first = sim
        .get(&sim.url("/_signsim/captures/qi-retry?wait=60"))
        .await;
    assert_eq!(list(&first).len(), 1, "the first attempt landed");
    // The retries come on the tenant's clock (1 s, then 2 s of backoff): play them.
    let advanced = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": 60, "tenant": KEY, "provider": "qitech" }),
        )
        .await;
    assert_eq!(advanced.status, 200, "{:?}", advanced.json());
    let captured = list(&sim.get(&sim.url("/_signsim/captures/qi-retry")).await);
    assert_eq!(captured.len(), 3, "two failures, then the delivery");
    assert!(captured.iter().all(|c| c["body"] == captured[0]["body"]));
    let attempts = list(
        &sim.get(&sim.url("/_signsim/webhooks?provider=qitech&resource=env-retry"))
            .await,
    );
    let statuses: Vec<&Value> = attempts.iter().map(|a| &a["response_status"]).collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(200)]);
    assert_eq!(attempts[2]["delivered"], true);

    // Deleting the name starts its count over: the next request fails again.
    sim.delete(&sim.url("/_signsim/captures/qi-retry")).await;
    let again = sim
        .post_json(
            &sim.url("/_signsim/capture/qi-retry?fail_first=1"),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 500);
}

#[tokio::test]
async fn a_provider_webhook_lands_in_a_capture_and_webhooks_wait_for_it() {
    let sim = start().await;
    set_qitech_hook(&sim, &capture_url(&sim, "qi")).await;
    // Waiting for the attempts of a resource that has sent nothing yet.
    let url = sim.url("/_signsim/webhooks?resource=env-hook&wait=60");
    let http = sim.http.clone();
    let reader = tokio::spawn(async move { http.get(url).send().await.unwrap() });
    still_waiting(&sim, &reader).await;
    // Another resource's webhook does not end that wait.
    complete_envelope(&sim, "env-other").await;
    let other = sim.get(&sim.url("/_signsim/captures/qi?wait=60")).await;
    assert_eq!(list(&other).len(), 1);
    let all = list(&sim.get(&sim.url("/_signsim/webhooks?wait=60")).await);
    assert!(!all.is_empty());
    still_waiting(&sim, &reader).await;

    complete_envelope(&sim, "env-hook").await;
    let answer = tokio::time::timeout(WOKEN_WITHIN, reader)
        .await
        .expect("the reader was woken by the attempt")
        .unwrap();
    assert_eq!(answer.status(), 200);
    let attempts: Vec<Value> = answer.json().await.unwrap();
    assert!(!attempts.is_empty());
    assert!(attempts.iter().all(|a| a["resource"] == "env-hook"));
    assert_eq!(attempts[0]["url"], capture_url(&sim, "qi"));

    // The capture is the provider's request as it was sent: its signature and body.
    let captured = list(&sim.get(&sim.url("/_signsim/captures/qi")).await);
    assert_eq!(captured.len(), 2);
    let hook = &captured[1];
    assert_eq!(hook["method"], "POST");
    assert_eq!(hook["headers"]["content-type"], "application/json");
    assert!(
        hook["headers"]["signature"]
            .as_str()
            .is_some_and(|s| s.len() == 40),
        "the HMAC-SHA1 signature: {hook}"
    );
    let body: Value = serde_json::from_str(hook["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, attempts[0]["body"], "the attempt log's body");
    // The resource filter alone, and with a page.
    let paged = sim
        .get(&sim.url("/_signsim/webhooks?resource=env-hook&limit=10&wait=1"))
        .await;
    assert_eq!(list(&paged).len(), attempts.len());
    assert!(list(&sim.get(&sim.url("/_signsim/webhooks?resource=nope")).await).is_empty());
}

#[tokio::test]
async fn bad_names_and_values_are_refused() {
    let sim = start().await;
    let long = "a".repeat(101);
    for path in [
        "/_signsim/capture/a%20b".to_owned(),
        "/_signsim/capture/a%2Fb".to_owned(),
        format!("/_signsim/capture/{long}"),
        "/_signsim/capture/ok?status=99".to_owned(),
        "/_signsim/capture/ok?status=600".to_owned(),
        "/_signsim/capture/ok?status=abc".to_owned(),
        "/_signsim/capture/ok?fail_first=-1".to_owned(),
    ] {
        let refused = sim.post_json(&sim.url(&path), json!({})).await;
        assert_eq!(refused.status, 400, "{path}");
        assert!(refused.json()["error"].is_string(), "{path}");
    }
    assert!(
        list(&sim.get(&sim.url("/_signsim/captures/ok")).await).is_empty(),
        "a refused request is not captured"
    );
    let ok = "a".repeat(100);
    let fits = sim.post_json(&capture_url(&sim, &ok), json!({})).await;
    assert_eq!(fits.status, 200);
    for path in [
        format!("/_signsim/captures/{long}"),
        "/_signsim/captures/a%20b".to_owned(),
        "/_signsim/captures/ok?wait=61".to_owned(),
        "/_signsim/captures/ok?wait=-1".to_owned(),
        "/_signsim/captures/ok?wait=soon".to_owned(),
        "/_signsim/webhooks?wait=61".to_owned(),
        "/_signsim/webhooks?resource=x&wait=NaN".to_owned(),
    ] {
        let refused = sim.get(&sim.url(&path)).await;
        assert_eq!(refused.status, 400, "{path}");
        assert!(refused.json()["error"].is_string(), "{path}");
    }
    let refused = sim.delete(&sim.url("/_signsim/captures/a%20b")).await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn the_admin_token_guards_reads_but_not_the_receiver() {
    let config = signsim::Config {
        admin_token: Some(DEMO_TOKEN.to_owned()),
        ..Default::default()
    };
    let sim = start_with(config).await;
    let posted = sim
        .post_json(&sim.url("/_signsim/capture/guarded/x"), json!({ "n": 1 }))
        .await;
    assert_eq!(posted.status, 200, "a sender does not hold the token");
    let get = sim.get(&sim.url("/_signsim/captures/guarded")).await;
    assert_eq!(get.status, 401);
    let delete = sim.delete(&sim.url("/_signsim/captures/guarded")).await;
    assert_eq!(delete.status, 401);
    let webhooks = sim.get(&sim.url("/_signsim/webhooks?wait=0")).await;
    assert_eq!(webhooks.status, 401);
    let read = sim
        .http
        .get(sim.url("/_signsim/captures/guarded"))
        .header("x-signsim-admin-token", DEMO_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let captured: Vec<Value> = read.json().await.unwrap();
    assert_eq!(captured.len(), 1);
    let sample = sim.get(&sim.url("/_signsim/samples/document.pdf")).await;
    assert_eq!(sample.status, 200, "the sample is open, as the CA is");
}

#[tokio::test]
async fn the_sample_pdf_has_the_pages_asked_for() {
    let sim = start().await;
    for (query, pages) in [("", 1), ("?pages=1", 1), ("?pages=7", 7), ("?pages=50", 50)] {
        let answer = sim
            .get(&sim.url(&format!("/_signsim/samples/document.pdf{query}")))
            .await;
        assert_eq!(answer.status, 200, "{query}");
        assert_eq!(answer.content_type, "application/pdf");
        let document = lopdf::Document::load_mem(&answer.bytes)
            .unwrap_or_else(|e| panic!("{query}: not a PDF: {e}"));
        assert_eq!(document.get_pages().len(), pages, "{query}");
    }
    let again = sim
        .get(&sim.url("/_signsim/samples/document.pdf?pages=7"))
        .await;
    let once = sim
        .get(&sim.url("/_signsim/samples/document.pdf?pages=7"))
        .await;
    assert_eq!(again.bytes, once.bytes, "the same bytes every time");
    for bad in ["0", "51", "-1", "two", ""] {
        let refused = sim
            .get(&sim.url(&format!("/_signsim/samples/document.pdf?pages={bad}")))
            .await;
        assert_eq!(refused.status, 400, "pages={bad}");
        assert!(refused.json()["error"].is_string());
    }
    // It is a document a provider takes: uploaded to a one-shot request.
    let pk = sim.create_request("Sample").await;
    let uploaded = sim.upload(pk, vec![("file", "doc.pdf", once.bytes)]).await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
}
