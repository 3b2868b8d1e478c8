//! The webhook dispatcher: retries on the virtual clock, the attempt log, redelivery.

use crate::common::{sample_pdf, start, DEMO_TOKEN};
use crate::receiver::{self, eventually};
use insta::assert_json_snapshot;
use serde_json::json;

#[tokio::test]
async fn receiver_down_twice_then_delivered() {
    let sim = start().await;
    let hook = receiver::start(2).await;
    let body = json!({
        "token": DEMO_TOKEN,
        "given_name": "Hook",
        "surname_1": "Down",
        "email": "h@example.com",
        "mobile_phone_number": "+34600123999",
        "useasync": "true",
        "callback": hook.url,
    });
    let pk = sim.post_json(&sim.api("request"), body).await.json()["details"]
        .as_u64()
        .unwrap();
    sim.upload(pk, vec![("file", "a.pdf", sample_pdf("Hook"))])
        .await;
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    sim.post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;

    let attempts = || async { sim.get(&sim.url("/_signsim/webhooks")).await.json() };
    eventually("the first attempt", async || {
        attempts().await.as_array().unwrap().len() == 1
    })
    .await;
    // Backoff runs on the virtual clock: 1 s, then 2 s.
    sim.post_json(&sim.url("/_signsim/clock/advance"), json!({ "seconds": 1 }))
        .await;
    eventually("the second attempt", async || {
        attempts().await.as_array().unwrap().len() == 2
    })
    .await;
    sim.post_json(&sim.url("/_signsim/clock/advance"), json!({ "seconds": 2 }))
        .await;
    eventually("the third attempt", async || {
        attempts().await.as_array().unwrap().len() == 3
    })
    .await;

    let log = attempts().await;
    let statuses: Vec<u64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["response_status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert_json_snapshot!("webhook_attempt", log[2], {
        ".delivery" => "[id]", ".at" => "[time]", ".url" => "[url]",
        ".resource" => "[pk]", ".body.date" => "[date]", ".body.request" => "[pk]"
    });
    assert_eq!(hook.bodies().len(), 3);
    assert_eq!(hook.bodies()[2]["status"], "ISSUED");
    assert_eq!(hook.bodies()[2]["previous_status"], "ENROLLREADY");

    let events = sim
        .get(&sim.url(&format!("/_signsim/events?provider=uanataca&id={pk}")))
        .await
        .json();
    let webhook_lines: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "webhook")
        .map(|e| e["text"].as_str().unwrap().replace(&hook.url, "URL"))
        .collect();
    assert_eq!(
        webhook_lines,
        [
            "webhook attempt 1 to URL answered 500",
            "webhook attempt 2 to URL answered 500",
            "webhook attempt 3 to URL answered 200"
        ]
    );

    let delivery = log[0]["delivery"].as_str().unwrap();
    let again = sim
        .post_json(
            &sim.url(&format!("/_signsim/webhooks/{delivery}/redeliver")),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 200);
    eventually("the redelivery", async || hook.bodies().len() == 4).await;
    let unknown = sim
        .post_json(&sim.url("/_signsim/webhooks/nope/redeliver"), json!({}))
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn unreachable_receiver_is_given_up_after_the_last_attempt() {
    let mut config = signsim::Config::default();
    config.engine.webhook_retry.max_attempts = 2;
    let sim = crate::common::start_with(config).await;
    let body = json!({
        "token": DEMO_TOKEN,
        "given_name": "Hook",
        "surname_1": "Gone",
        "email": "h@example.com",
        "mobile_phone_number": "+34600123998",
        "useasync": true,
        "callback": "http://127.0.0.1:9/nobody-listens",
    });
    let pk = sim.post_json(&sim.api("request"), body).await.json()["details"]
        .as_u64()
        .unwrap();
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    sim.post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;
    let attempts = || async { sim.get(&sim.url("/_signsim/webhooks")).await.json() };
    eventually("the first attempt", async || {
        attempts().await.as_array().unwrap().len() == 1
    })
    .await;
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 60 }),
    )
    .await;
    eventually("the second attempt", async || {
        attempts().await.as_array().unwrap().len() == 2
    })
    .await;
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 600 }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let log = attempts().await;
    assert_eq!(log.as_array().unwrap().len(), 2, "no third attempt");
    assert!(log[1]["error"].as_str().unwrap().contains("connection"));
    assert_eq!(log[1]["delivered"], false);
}
