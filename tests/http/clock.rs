//! The virtual clock's bounds, and what must keep working however it is pushed: timers,
//! webhooks and signatures that validate at real time.

use crate::common::{sample_pdf, start, Sim, DEMO_TOKEN};
use crate::receiver::{self, eventually};
use serde_json::json;

/// 100 years of 365.25 days: the farthest the clock may be moved ahead of real time.
const LIMIT: u64 = 3_155_760_000;

async fn advance(sim: &Sim, seconds: serde_json::Value) -> crate::common::Answer {
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": seconds }),
    )
    .await
}

fn error_of(answer: &crate::common::Answer) -> String {
    answer.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn advance_is_bounded_and_refusals_hurt_nothing() {
    let sim = start().await;
    // Once, this pushed `now` past year 9999: the call panicked (an empty reply) and so did
    // every later one that read the clock.
    let huge = advance(&sim, json!(400_000_000_000u64)).await;
    assert_eq!(huge.status, 400);
    assert!(
        error_of(&huge).contains("3155760000"),
        "{}",
        error_of(&huge)
    );

    let negative = advance(&sim, json!(-5)).await;
    assert_eq!(negative.status, 400);
    assert!(
        error_of(&negative).contains("negative"),
        "{}",
        error_of(&negative)
    );
    for bad in [json!(u64::MAX), json!(1.5), json!("soon"), json!(LIMIT + 1)] {
        let answer = advance(&sim, bad.clone()).await;
        assert_eq!(answer.status, 400, "{bad}: {:?}", answer.json());
    }

    // Nothing moved, and the simulator answers as before.
    let clock = sim.get(&sim.url("/_signsim/clock")).await;
    assert_eq!(clock.status, 200);
    assert_eq!(clock.json()["offset_seconds"], 0);
    let created = sim
        .post_form(&sim.api("request"), crate::common::signer_form("After"))
        .await;
    assert_eq!(created.status, 201);

    // The bound is on the total: up to it is fine, one second more is not.
    assert_eq!(advance(&sim, json!(LIMIT - 60)).await.status, 200);
    let over = advance(&sim, json!(61)).await;
    assert_eq!(over.status, 400);
    assert!(error_of(&over).contains("reset"), "{}", error_of(&over));
    let last = advance(&sim, json!(60)).await;
    assert_eq!(last.status, 200);
    assert_eq!(last.json()["offset_seconds"], LIMIT);
    assert!(last.json()["now"].as_str().unwrap().starts_with("21"));
    let pk = created.json()["details"].as_u64().unwrap();
    assert_eq!(
        sim.get(&sim.api(&format!("request/{pk}"))).await.status,
        200
    );

    let reset = sim.post_json(&sim.url("/_signsim/reset"), json!({})).await;
    assert_eq!(reset.status, 200);
    let clock = sim.get(&sim.url("/_signsim/clock")).await.json();
    assert_eq!(clock["offset_seconds"], 0);
}

/// A scenario with numbers as large as TOML allows, next to an ordinary timer.
const FAR_AND_NEAR: &str = r#"
[[scenario]]
name = "far-and-near"
provider = "uanataca"
description = "An OTP that never expires, a transition that never comes, and one in a minute."

[[scenario.effects]]
operation = "otp.generate"
expiry_seconds = 9223372036854775807
transition = { after_seconds = 9223372036854775807, to = "RENEWED" }

[[scenario.effects]]
operation = "request.get"
times = 1
transition = { after_seconds = 60, to = "CANCELLED" }
"#;

#[tokio::test]
async fn timers_and_webhooks_survive_huge_numbers_and_refused_advances() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    let loaded = sim
        .post_raw(
            &sim.url("/_signsim/scenarios"),
            Some("application/toml"),
            FAR_AND_NEAR.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(loaded.status, 200, "{:?}", loaded.json());
    let created = sim
        .http
        .post(sim.api("request"))
        .header("X-Signsim-Scenario", "far-and-near")
        .json(&json!({
            "token": DEMO_TOKEN, "given_name": "Far", "surname_1": "Near",
            "email": "far@example.com", "mobile_phone_number": "+34600111222",
            "callback": hook.url,
        }))
        .send()
        .await
        .unwrap();
    let created = crate::common::answer(created).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let pk = created.json()["details"].as_u64().unwrap();

    // `now + 2^63 s` once panicked right here; now it saturates (never expires, never fires).
    let otp = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_eq!(otp.status, 200, "{:?}", otp.json());
    let read = sim.get(&sim.api(&format!("request/{pk}"))).await;
    assert_eq!(read.json()["details"]["status"], "ENROLLREADY");

    // Refused moves leave the ticker alive ...
    assert_eq!(advance(&sim, json!(400_000_000_000u64)).await.status, 400);
    assert_eq!(advance(&sim, json!(-5)).await.status, 400);
    // ... so the minute-later transition fires on an ordinary one, and its webhook goes out.
    assert_eq!(advance(&sim, json!(61)).await.status, 200);
    eventually("the scripted cancellation", async || {
        sim.get(&sim.api(&format!("request/{pk}"))).await.json()["details"]["status"] == "CANCELLED"
    })
    .await;
    eventually("the status webhook", async || {
        hook.bodies().iter().any(|b| b["status"] == "CANCELLED")
    })
    .await;
}

#[tokio::test]
async fn signatures_made_400_days_ahead_validate_today() {
    let sim = start().await;
    assert_eq!(advance(&sim, json!(400 * 86_400)).await.status, 200);
    let pk = sim.create_request("Future").await;
    let uploaded = sim
        .upload(pk, vec![("file", "future.pdf", sample_pdf("Signed ahead"))])
        .await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();
    let otp = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_eq!(otp.status, 200, "{:?}", otp.json());
    let code = sim.last_otp().await;
    let signed = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": code }))
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    let document = sim
        .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
        .await;
    assert_eq!(document.status, 200);
    let contract = sim.get(&sim.api(&format!("document/{pk}/contract"))).await;
    assert_eq!(contract.status, 200);
    // pyHanko checks at real time, 400 days before the signature's own timestamp.
    crate::validators::check_pdfs(
        &sim,
        &[
            ("future.pdf", document.bytes),
            ("future-contract.pdf", contract.bytes),
        ],
    )
    .await;
}
