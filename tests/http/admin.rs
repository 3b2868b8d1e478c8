//! The admin API under /_signsim.

use crate::common::start;
use insta::assert_json_snapshot;
use serde_json::json;

#[tokio::test]
async fn health_and_ca() {
    let sim = start().await;
    assert_json_snapshot!(
        "admin_health",
        sim.get(&sim.url("/_signsim/health")).await.shape(),
        { ".body.uptime_seconds" => "[uptime]" }
    );
    let ca = sim.get(&sim.url("/_signsim/ca.pem")).await;
    assert_eq!(ca.status, 200);
    assert!(String::from_utf8_lossy(&ca.bytes).starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn clock_moves_forward_only() {
    let sim = start().await;
    let before = sim.get(&sim.url("/_signsim/clock")).await.json();
    assert_eq!(before["offset_seconds"], 0);
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": 86400 }),
        )
        .await;
    assert_json_snapshot!("admin_clock_advanced", moved.shape(), { ".body.now" => "[time]" });
    let now = time::OffsetDateTime::parse(
        moved.json()["now"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(now - time::OffsetDateTime::now_utc() > time::Duration::hours(23));

    for bad in [
        json!({ "seconds": -5 }),
        json!({}),
        json!({ "seconds": "soon" }),
    ] {
        let answer = sim
            .post_json(&sim.url("/_signsim/clock/advance"), bad)
            .await;
        assert_eq!(answer.status, 400);
        assert!(answer.json()["error"].is_string());
    }
    let garbage = sim
        .post_raw(
            &sim.url("/_signsim/clock/advance"),
            Some("application/json"),
            b"{".to_vec(),
        )
        .await;
    assert_eq!(garbage.status, 400);
}

#[tokio::test]
async fn reset_forgets_all_or_one_tenant() {
    let sim = start().await;
    let pk = sim.create_request("Reset").await;
    let other = sim
        .http
        .post(sim.api("request"))
        .header("X-Signsim-Tenant", "other")
        .multipart(crate::common::signer_form("Other"))
        .send()
        .await
        .unwrap();
    let other_pk = other.json::<serde_json::Value>().await.unwrap()["details"]
        .as_u64()
        .unwrap();

    let answer = sim
        .post_json(&sim.url("/_signsim/reset?tenant=other"), json!({}))
        .await;
    assert_json_snapshot!("admin_reset_tenant", answer.shape());
    assert_eq!(
        sim.get(&sim.api(&format!("request/{pk}"))).await.status,
        200
    );
    let gone = sim
        .http
        .get(sim.api(&format!("request/{other_pk}")))
        .header("X-Signsim-Tenant", "other")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    sim.post_json(&sim.url("/_signsim/reset"), json!({})).await;
    assert_eq!(
        sim.get(&sim.api(&format!("request/{pk}"))).await.status,
        404
    );
    assert_eq!(
        sim.get(&sim.url("/_signsim/outbox")).await.json(),
        json!([])
    );
}

#[tokio::test]
async fn journal_lists_requests() {
    let sim = start().await;
    sim.get(&sim.api("hello")).await;
    sim.get(&sim.api("request/1")).await;
    let journal = sim
        .get(&sim.url("/_signsim/requests?provider=uanataca"))
        .await
        .json();
    let entries = journal.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_json_snapshot!("admin_journal_entry", entries[1], {
        ".at" => "[time]", ".duration_ms" => "[ms]", ".seq" => "[seq]"
    });
    // A provider whose tenant is a credential names it in the journal too.
    sim.http
        .get(sim.url("/signal/sign/1"))
        .bearer_auth("ci-token-7")
        .send()
        .await
        .unwrap();
    let mine = sim
        .get(&sim.url("/_signsim/requests?tenant=ci-token-7"))
        .await
        .json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["provider"], "signal");

    // Every provider whose tenant is a credential names it the way its extractor reads it:
    // QI Tech's key, Mensatek's API user, IdentiaSign's entity (here from a real-service
    // JWT the simulator did not sign).
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let jwt = format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"username":"entity-9"}"#)
    );
    let calls = [
        (
            "/qitech/sign/envelope/x",
            "key-9".to_owned(),
            "qitech",
            "key-9",
        ),
        (
            "/mensatek/GetCreditos",
            format!("Basic {}", STANDARD.encode("user-9:tok")),
            "mensatek",
            "user-9",
        ),
        (
            "/identiasign/api/labels",
            format!("jwt-bearer {jwt}"),
            "identiasign",
            "entity-9",
        ),
    ];
    for (path, credential, provider, tenant) in calls {
        let method = if provider == "mensatek" {
            "POST"
        } else {
            "GET"
        };
        let request = sim
            .http
            .request(method.parse().unwrap(), sim.url(path))
            .header("authorization", credential);
        request.send().await.unwrap();
        let named = sim
            .get(&sim.url(&format!("/_signsim/requests?tenant={tenant}")))
            .await
            .json();
        assert_eq!(named[0]["provider"], provider, "{path}");
    }
}

#[tokio::test]
async fn unknown_admin_path_is_json_404() {
    let sim = start().await;
    let answer = sim.get(&sim.url("/_signsim/nothing")).await;
    assert_json_snapshot!("admin_unknown", answer.shape());
    let bad_filter = sim.get(&sim.url("/_signsim/outbox?channel=pigeon")).await;
    assert_eq!(bad_filter.status, 400);
    assert!(bad_filter.json()["error"].is_string());
}

#[tokio::test]
async fn start_page_links_the_rest() {
    let sim = start().await;
    let page = sim.get(&sim.url("/")).await; // reqwest follows the redirect
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.bytes);
    assert!(html.contains("href=\"/_signsim/inbox\""), "{html}");
}

#[tokio::test]
async fn start_page_answers_with_the_trailing_slash() {
    let sim = start().await;
    // No redirect followed: /_signsim/ itself answers the page.
    let direct = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/_signsim", "/_signsim/"] {
        let page = direct.get(sim.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let content_type = page.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        let html = page.text().await.unwrap();
        assert!(html.contains("href=\"/_signsim/inbox\""), "{path}: {html}");
    }
}

#[tokio::test]
async fn inbox_page_shows_what_was_sent() {
    let sim = start().await;
    let empty = sim.get(&sim.url("/_signsim/inbox")).await;
    assert_eq!(empty.status, 200);
    assert!(String::from_utf8_lossy(&empty.bytes).contains("Nothing sent yet"));
    let pk = sim.create_request("Inbox").await;
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    let page = sim.get(&sim.url("/_signsim/inbox?provider=uanataca")).await;
    assert!(page.content_type.starts_with("text/html"));
    let html = String::from_utf8_lossy(&page.bytes);
    assert!(html.contains(&format!("<b>{otp}</b>")), "{html}");
    assert!(html.contains("+34600123123"));
}
