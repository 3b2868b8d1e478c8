//! Shipped scenarios, chosen by magic values or by header, and scenario files at run time.

use crate::common::{sample_pdf, start, Sim, DEMO_TOKEN};
use crate::receiver::{self, eventually};
use insta::assert_json_snapshot;
use serde_json::json;
use std::process::Command;

fn create_body(phone: &str) -> serde_json::Value {
    json!({
        "token": DEMO_TOKEN,
        "given_name": "Scenario",
        "surname_1": "Tester",
        "email": "s@example.com",
        "mobile_phone_number": phone,
    })
}

async fn create(sim: &Sim, body: serde_json::Value) -> u64 {
    let answer = sim.post_json(&sim.api("request"), body).await;
    assert_eq!(answer.status, 201, "{:?}", answer.json());
    answer.json()["details"].as_u64().unwrap()
}

async fn sign(sim: &Sim, pk: u64, secret: &str) -> crate::common::Answer {
    sim.post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": secret }))
        .await
}

#[tokio::test]
async fn otp_wrong_then_right_by_magic_phone() {
    let sim = start().await;
    let pk = create(&sim, create_body("+34600000001")).await;
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    let first = sign(&sim, pk, &otp).await;
    assert_json_snapshot!("scenario_otp_wrong_first", first.shape());
    assert_eq!(
        sign(&sim, pk, &otp).await.status,
        200,
        "the same code signs the second time"
    );
}

#[tokio::test]
async fn sms_never_delivered() {
    let sim = start().await;
    let pk = create(&sim, create_body("+34600000002")).await;
    let answer = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        sim.get(&sim.url("/_signsim/outbox")).await.json(),
        json!([])
    );
    let events = sim
        .get(&sim.url(&format!("/_signsim/events?provider=uanataca&id={pk}")))
        .await
        .json();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "scenario", "otp_sent", "otp_lost"]);
}

#[tokio::test]
async fn otp_expired() {
    let sim = start().await;
    let pk = create(&sim, create_body("+34600000003")).await;
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    let answer = sign(&sim, pk, &otp).await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["details"], "Confirmation Code invalid");
}

#[tokio::test]
async fn flaky_gateway_breaks_the_first_otp_call() {
    let sim = start().await;
    let pk = create(&sim, create_body("+34600000005")).await;
    let broken = sim.http.post(sim.api(&format!("otp/{pk}"))).send().await;
    let failed = match broken {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(failed, "the first OTP call must not complete");
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 61 }),
    )
    .await;
    let retry = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_eq!(retry.status, 200);

    let uid = sim
        .upload(pk, vec![("file", "a.pdf", sample_pdf("A"))])
        .await
        .json()["details"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = sim.api(&format!("document/{pk}/original/{uid}"));
    let first = sim.get(&url).await;
    assert_json_snapshot!("scenario_flaky_download", first.shape());
    assert_eq!(sim.get(&url).await.status, 200);
}

#[tokio::test]
async fn slow_async_signature_and_its_callback() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    let mut body = create_body("+34699999999");
    body["useasync"] = json!(true);
    body["callback"] = json!(hook.url);
    let created = sim
        .http
        .post(sim.api("request"))
        .header("X-Signsim-Scenario", "slow-signature")
        .json(&body)
        .send()
        .await
        .unwrap();
    let pk = created.json::<serde_json::Value>().await.unwrap()["details"]
        .as_u64()
        .unwrap();
    sim.upload(pk, vec![("file", "a.pdf", sample_pdf("Async"))])
        .await;
    let status = sim.get(&sim.api(&format!("async/status/{pk}"))).await;
    assert_json_snapshot!("async_status_approved", status.shape());

    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    let started = std::time::Instant::now();
    let answer = sign(&sim, pk, &otp).await;
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(2900),
        "the scenario adds 3 s"
    );
    assert_json_snapshot!("async_sign_accepted", answer.shape());
    let status = sim
        .get(&sim.api(&format!("async/status/{pk}")))
        .await
        .json();
    assert_eq!(status["details"], "signing");

    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 31 }),
    )
    .await;
    eventually("the signature", async || {
        sim.get(&sim.api(&format!("async/status/{pk}")))
            .await
            .json()["details"]
            == "signed"
    })
    .await;
    eventually("the callback", async || !hook.bodies().is_empty()).await;
    let callback = &hook.bodies()[0];
    assert_json_snapshot!("async_callback", callback, { ".date" => "[date]", ".request" => "[pk]" });
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
    assert_eq!(details["details"]["status"], "ISSUED");
}

#[tokio::test]
async fn unknown_scenario_header_is_refused() {
    let sim = start().await;
    let answer = sim
        .http
        .post(sim.api("request"))
        .header("X-Signsim-Scenario", "nope")
        .json(&create_body("+34600111222"))
        .send()
        .await
        .unwrap();
    let answer = crate::common::answer(answer).await;
    assert_json_snapshot!("scenario_unknown_header", answer.shape());
}

#[tokio::test]
async fn scenarios_load_at_run_time() {
    let sim = start().await;
    let listed = sim.get(&sim.url("/_signsim/scenarios")).await.json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"otp-wrong-then-right"));

    let file = "[[scenario]]\nname = \"no-docs\"\nprovider = \"uanataca\"\n\n[[scenario.effects]]\noperation = \"document.upload\"\nrespond = { status = 400, body = { status = \"400 Bad Request\", details = \"Maximum number of document reached for Request 1\" } }\n";
    let loaded = sim
        .post_raw(
            &sim.url("/_signsim/scenarios"),
            Some("application/toml"),
            file.into(),
        )
        .await;
    assert_json_snapshot!("scenario_loaded", loaded.shape());
    let pk = {
        let answer = sim
            .http
            .post(sim.api("request"))
            .header("X-Signsim-Scenario", "no-docs")
            .json(&create_body("+34600111333"))
            .send()
            .await
            .unwrap();
        answer.json::<serde_json::Value>().await.unwrap()["details"]
            .as_u64()
            .unwrap()
    };
    let upload = sim
        .upload(pk, vec![("file", "a.pdf", sample_pdf("A"))])
        .await;
    assert_eq!(upload.status, 400);

    let broken = "[[scenario]]\nname = \"bad\"\nprovider = \"uanataca\"\n[[scenario.effects]]\noperation = \"teleport\"\n";
    let refused = sim
        .post_raw(&sim.url("/_signsim/scenarios"), None, broken.into())
        .await;
    assert_json_snapshot!("scenario_load_error", refused.shape());
}

#[test]
fn scenarios_check_reports_file_and_line() {
    let binary = env!("CARGO_BIN_EXE_signsim");
    let shipped = Command::new(binary)
        .args([
            "scenarios",
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"),
        ])
        .output()
        .unwrap();
    assert!(
        shipped.status.success(),
        "{}",
        String::from_utf8_lossy(&shipped.stderr)
    );

    let dir = std::env::temp_dir().join(format!("signsim-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broken.toml"),
        "[[scenario]]\nname = \"x\"\nprovider = \"uanataca\"\n\n[[scenario.effects]]\noperation = \"sign\"\ntransition = { after_seconds = 5, to = \"SIGNED\" }\n",
    )
    .unwrap();
    let checked = Command::new(binary)
        .args(["scenarios", "check"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&checked.stderr);
    assert!(!checked.status.success());
    assert!(stderr.contains("broken.toml:7:"), "{stderr}");
    assert!(stderr.contains("unknown state 'SIGNED'"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();

    let schema = Command::new(binary)
        .args(["scenarios", "schema"])
        .output()
        .unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(schema["title"], "signsim scenario file");
}

/// Each provider's guide, `docs/providers/<slug>.md`, shows its shipped scenario file
/// complete: the copy must stay the file as it is. Every provider in the registry has one.
#[test]
fn each_provider_guide_shows_its_scenario_file_as_it_is() {
    let root = env!("CARGO_MANIFEST_DIR");
    for provider in signsim::PROVIDERS {
        let guide_path = format!("docs/providers/{}.md", provider.slug);
        let guide = std::fs::read_to_string(format!("{root}/{guide_path}"))
            .unwrap_or_else(|e| panic!("{guide_path}: {e}"));
        let (file, _) = provider.scenarios;
        let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        let block = format!("```toml\n{}\n```", text.trim_end());
        assert!(
            guide.contains(&block),
            "{guide_path} lacks an exact copy of {file}"
        );
    }
}
