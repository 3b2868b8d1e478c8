//! Bounded memory: the storage caps answer in each provider's error shape and lose
//! nothing; the retention period forgets finished resources after a clock advance.

use crate::common::{sample_pdf, start_with, Sim};
use crate::qitech::{self, KEY};
use insta::assert_json_snapshot;
use serde_json::json;
use signsim::engine::quota::Caps;
use signsim::Config;

fn config(tenant_bytes: u64, retention: Option<u64>) -> Config {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config.engine.caps = Caps {
        tenant_bytes,
        process_bytes: 64 * 1024 * 1024,
    };
    config.engine.retention = retention.map(signsim::engine::seconds);
    config
}

/// A PDF of about `kb` kilobytes: a real one, padded with a comment and closed again with
/// the same `startxref`, so it stays valid.
fn pdf_of(kb: usize) -> Vec<u8> {
    let mut pdf = sample_pdf("Padded");
    let at = pdf
        .windows(9)
        .rposition(|w| w == b"startxref")
        .expect("startxref");
    let tail = pdf[at..].to_vec();
    pdf.extend(b"\n%");
    pdf.extend(std::iter::repeat_n(b'x', kb * 1024));
    pdf.extend(b"\n");
    pdf.extend(tail);
    pdf
}

async fn used(sim: &Sim) -> u64 {
    let health = sim.get(&sim.url("/_signsim/health")).await.json();
    health["storage"]["used_bytes"]
        .as_u64()
        .expect("used_bytes")
}

#[tokio::test]
async fn a_full_tenant_is_refused_in_the_providers_shape_and_keeps_what_it_has() {
    let sim = start_with(config(300 * 1024, None)).await;
    let pk = sim.create_request("Maria").await;
    let first = pdf_of(200);
    let uploaded = sim.upload(pk, vec![("file", "a.pdf", first.clone())]).await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();

    let refused = sim.upload(pk, vec![("file", "b.pdf", pdf_of(150))]).await;
    assert_json_snapshot!("storage_full_uanataca", refused.shape(), { ".body.details" => "[why]" });
    let why = refused.json()["details"].as_str().unwrap().to_owned();
    assert!(
        why.contains("tenant 'default'") && why.contains("--max-tenant-mb"),
        "{why}"
    );

    // Nothing lost: the first document is there, byte for byte, and is the only one.
    let listed = sim.get(&sim.api(&format!("documents/{pk}"))).await.json();
    assert_eq!(
        listed["details"].as_object().map(|d| d.len()),
        Some(1),
        "{listed}"
    );
    let back = sim
        .get(&sim.api(&format!("document/{pk}/original/{uid}")))
        .await;
    assert_eq!(back.status, 200);
    assert_eq!(back.bytes, first);

    // Reads still work, and another tenant is not held back by this one.
    let other = sim
        .http
        .post(sim.api("request"))
        .header("x-signsim-tenant", "other")
        .multipart(crate::common::signer_form("Lucia"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201);

    // Health names the full tenant; a reset of it frees the space.
    let health = sim.get(&sim.url("/_signsim/health")).await.json();
    assert!(
        health["storage"]["tenants"]["uanataca/default"]
            .as_u64()
            .unwrap()
            > 200 * 1024
    );
    assert_eq!(health["storage"]["max_tenant_bytes"], 300 * 1024);
    let reset = sim
        .post_raw(&sim.url("/_signsim/reset?tenant=default"), None, vec![])
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json());
    let pk = sim.create_request("Maria").await;
    let again = sim.upload(pk, vec![("file", "b.pdf", pdf_of(150))]).await;
    assert_eq!(again.status, 200, "{:?}", again.json());
}

#[tokio::test]
async fn qitech_answers_a_full_tenant_in_its_error_shape() {
    let sim = start_with(config(64 * 1024, None)).await;
    let created = qitech::post(
        &sim,
        "/sign/envelope",
        qitech::envelope("env-full", vec![qitech::signer("1", "one@example.com")]),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let refused = qitech::post(
        &sim,
        "/sign/envelope/env-full/document",
        json!({ "document_b64": qitech::b64(&pdf_of(80)), "name": "Grande", "document_type": "pdf" }),
    )
    .await;
    assert_json_snapshot!("storage_full_qitech", refused.shape(), { ".body.description" => "[why]" });
    let envelope = qitech::get(&sim, "/sign/envelope/env-full").await;
    assert_eq!(envelope.status, 200);
    assert_eq!(
        envelope.json()["documents"],
        json!([]),
        "{:?}",
        envelope.json()
    );
    let health = sim.get(&sim.url("/_signsim/health")).await.json();
    assert!(
        health["storage"]["tenants"][format!("qitech/{KEY}")]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn retention_forgets_finished_resources_after_a_clock_advance() {
    let sim = start_with(config(64 * 1024 * 1024, Some(3600))).await;
    let health = sim.get(&sim.url("/_signsim/health")).await.json();
    assert_eq!(health["storage"]["retention_seconds"], 3600);

    let signed = sim.create_request("Maria").await;
    let uploaded = sim
        .upload(signed, vec![("file", "a.pdf", pdf_of(100))])
        .await;
    assert_eq!(uploaded.status, 200);
    let otp = sim
        .post_json(&sim.api(&format!("otp/{signed}")), json!({}))
        .await;
    assert_eq!(otp.status, 200, "{:?}", otp.json());
    let code = sim.last_otp().await;
    let sign = sim
        .post_json(
            &sim.api(&format!("sign/{signed}")),
            json!({ "secret": code }),
        )
        .await;
    assert_eq!(sign.status, 200, "{:?}", sign.json());
    let open = sim.create_request("Lucia").await;
    let before = used(&sim).await;

    // Not yet: an hour has not passed since it finished.
    let clock = sim.url("/_signsim/clock/advance");
    let advance = |seconds: u64| sim.post_json(&clock, json!({ "seconds": seconds }));
    assert_eq!(advance(1800).await.status, 200);
    assert_eq!(
        sim.get(&sim.api(&format!("request/{signed}"))).await.status,
        200
    );

    assert_eq!(advance(1801).await.status, 200);
    assert_eq!(
        sim.get(&sim.api(&format!("request/{signed}"))).await.status,
        404
    );
    assert_eq!(
        sim.get(&sim.api(&format!("request/{open}"))).await.status,
        200
    );
    let after = used(&sim).await;
    assert!(after + 100 * 1024 < before, "{before} -> {after}");
}
