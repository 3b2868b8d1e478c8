//! Issue 22, what a call costs must not grow with what is held: the outbox's lookup by
//! recipient goes through an index (not a scan of every message). These tests pin what
//! the index must keep right: each recipient's messages among many others', a tenant's
//! reset (its entries leave the index, another tenant's stay), and a state-file round
//! trip (the index is rebuilt from the restored messages). Eviction past the log's cap is
//! pinned by `engine::outbox`'s unit test (100,000 messages are too many to send here).

use crate::common::{answer, sample_pdf, start, start_with, Answer, Sim, DEMO_TOKEN};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Creates a request of `tenant` for `phone`, gives it a document and has its OTP sent:
/// one message to `phone` in the outbox. Returns the request's pk.
async fn otp_to(sim: &Sim, tenant: &str, phone: &str) -> u64 {
    let created = tenant_call(
        tenant,
        sim.http.post(sim.api("request")).json(&json!({
            "token": DEMO_TOKEN, "given_name": "Grow", "surname_1": "Th",
            "email": "g@example.com", "mobile_phone_number": phone,
        })),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let pk = created.json()["details"].as_u64().expect("pk");
    let form = Form::new().part(
        "file",
        Part::bytes(sample_pdf("growth")).file_name("contract.pdf"),
    );
    let uploaded = tenant_call(
        tenant,
        sim.http
            .post(sim.api(&format!("document/{pk}")))
            .multipart(form),
    )
    .await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let sent = tenant_call(tenant, sim.http.post(sim.api(&format!("otp/{pk}")))).await;
    assert_eq!(sent.status, 200, "{:?}", sent.json());
    pk
}

async fn tenant_call(tenant: &str, request: reqwest::RequestBuilder) -> Answer {
    let request = request.header("x-signsim-tenant", tenant);
    answer(request.send().await.expect("request sent")).await
}

/// The outbox's answer to `?tenant=&to=` (and `provider=uanataca`).
async fn to(sim: &Sim, tenant: &str, phone: &str) -> Vec<Value> {
    let url = format!(
        "/_signsim/outbox?provider=uanataca&tenant={tenant}&to={}",
        phone.replace('+', "%2B")
    );
    let found = sim.get(&sim.url(&url)).await;
    assert_eq!(found.status, 200);
    found.json().as_array().cloned().unwrap_or_default()
}

/// What the whole outbox holds for `phone` and `tenant`, found by a scan of every message
/// (no `to`): what the indexed lookup must agree with.
async fn scanned(sim: &Sim, tenant: &str, phone: &str) -> Vec<Value> {
    let url = format!("/_signsim/outbox?provider=uanataca&tenant={tenant}");
    let all = sim.get(&sim.url(&url)).await.json();
    all.as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["to"] == phone)
        .cloned()
        .collect()
}

fn phone(n: usize) -> String {
    format!("+3471{n:07}")
}

#[tokio::test]
async fn the_otp_lookup_by_recipient_finds_its_own_among_many() {
    let sim = start().await;
    for n in 0..40 {
        otp_to(&sim, "crowd", &phone(n)).await;
    }
    // A second OTP to one phone: both found, oldest first, the last one the newest.
    otp_to(&sim, "crowd", &phone(7)).await;
    for n in [0, 7, 39] {
        let found = to(&sim, "crowd", &phone(n)).await;
        assert_eq!(found, scanned(&sim, "crowd", &phone(n)).await, "phone {n}");
        assert_eq!(
            found.len(),
            if n == 7 { 2 } else { 1 },
            "phone {n}: {found:?}"
        );
        assert!(found
            .iter()
            .all(|m| m["to"] == phone(n) && m["otp"].is_string()));
    }
    assert!(to(&sim, "crowd", &phone(40)).await.is_empty());
    // The other filters still apply to what the index finds.
    assert!(to(&sim, "someone-else", &phone(7)).await.is_empty());
}

#[tokio::test]
async fn a_tenant_reset_takes_its_messages_out_of_the_index() {
    let sim = start().await;
    let shared = phone(1);
    otp_to(&sim, "gone", &shared).await;
    otp_to(&sim, "kept", &shared).await;
    otp_to(&sim, "gone", &phone(2)).await;
    let reset = sim
        .post_json(
            &sim.url("/_signsim/reset"),
            json!({ "provider": "uanataca", "tenant": "gone" }),
        )
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json());
    assert!(to(&sim, "gone", &shared).await.is_empty());
    assert!(to(&sim, "gone", &phone(2)).await.is_empty());
    let kept = to(&sim, "kept", &shared).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    // After the reset, new messages are found again, alone (no stale position points at
    // another message).
    otp_to(&sim, "gone", &phone(2)).await;
    let again = to(&sim, "gone", &phone(2)).await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again, scanned(&sim, "gone", &phone(2)).await);
    assert_eq!(to(&sim, "kept", &shared).await, kept);
}

#[tokio::test]
async fn a_state_file_round_trip_keeps_the_lookup_by_recipient() {
    let dir = std::env::temp_dir().join(format!("signsim-growth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("state.json");
    std::fs::remove_file(&path).ok();
    let config = || {
        let mut config = signsim::Config::default();
        config.engine.seed = Some(42);
        config.state = Some(signsim::saver::StateFile {
            path: path.clone(),
            every: Some(Duration::from_millis(100)),
        });
        config
    };
    let first = start_with(config()).await;
    for n in 0..5 {
        otp_to(&first, "saved", &phone(n)).await;
    }
    let before = to(&first, "saved", &phone(3)).await;
    assert_eq!(before.len(), 1);
    // A save that started after the messages: two more than now.
    let saves = |sim: &Sim| {
        let url = sim.url("/_signsim/health");
        let http = sim.http.clone();
        async move {
            let health: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            health["state"]["saves"]
                .as_u64()
                .expect("health names the saves")
        }
    };
    let now = saves(&first).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while saves(&first).await < now + 2 {
        assert!(Instant::now() < deadline, "never saved");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = start_with(config()).await;
    assert_eq!(to(&second, "saved", &phone(3)).await, before);
    // New messages after the restore are indexed past the restored ones.
    otp_to(&second, "saved", &phone(3)).await;
    let after = to(&second, "saved", &phone(3)).await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after, scanned(&second, "saved", &phone(3)).await);
    std::fs::remove_dir_all(&dir).ok();
}

/// `/_signsim/events?provider=uanataca&tenant=..` (and `id=` when given).
async fn events(sim: &Sim, tenant: &str, id: Option<u64>) -> Vec<Value> {
    let mut url = format!("/_signsim/events?provider=uanataca&tenant={tenant}");
    if let Some(id) = id {
        url.push_str(&format!("&id={id}"));
    }
    let found = sim.get(&sim.url(&url)).await;
    assert_eq!(found.status, 200);
    found.json().as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_resource_timeline_is_found_through_the_index_and_leaves_it_on_reset() {
    let sim = start().await;
    let mut pks = Vec::new();
    for n in 0..20 {
        pks.push(otp_to(&sim, "timeline", &phone(n)).await);
    }
    let other = otp_to(&sim, "other", &phone(99)).await;
    for pk in [pks[0], pks[9], pks[19]] {
        let found = events(&sim, "timeline", Some(pk)).await;
        let all = events(&sim, "timeline", None).await;
        let id = pk.to_string();
        let scanned: Vec<Value> = all.into_iter().filter(|e| e["id"] == *id).collect();
        assert!(found.len() >= 2, "request {pk}: {found:?}");
        assert_eq!(found, scanned, "request {pk}");
    }
    let reset = sim
        .post_json(
            &sim.url("/_signsim/reset"),
            json!({ "provider": "uanataca", "tenant": "timeline" }),
        )
        .await;
    assert_eq!(reset.status, 200);
    assert!(events(&sim, "timeline", Some(pks[9])).await.is_empty());
    let kept = events(&sim, "other", Some(other)).await;
    assert!(!kept.is_empty());
    let other = other.to_string();
    assert!(kept.iter().all(|e| e["id"] == *other));
}
