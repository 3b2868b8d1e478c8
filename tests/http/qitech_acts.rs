//! QI Tech's signer act (`POST /_signsim/qitech/envelopes/{id}/signers/{signer_id}/sign`,
//! by a test's `api_key` or by the signing page's form and its `link`) answers by the
//! admin API's one rule: 409 when the envelope's state does not allow it (by `api_key`),
//! 410 when the page's link was used or expired with its envelope (by `link`), 404 for an
//! unknown envelope, signer or link.

use crate::common::{Answer, Sim};
use crate::qitech::{get, signer, submitted, KEY};
use serde_json::{json, Value};

fn sign_url(sim: &Sim, id: &str, signer: &str) -> String {
    sim.url(&format!(
        "/_signsim/qitech/envelopes/{id}/signers/{signer}/sign"
    ))
}

/// The signer act as a test makes it, naming the tenant by `api_key`.
async fn sign_by_key(sim: &Sim, id: &str, signer: &str) -> Answer {
    sim.post_json(&sign_url(sim, id, signer), json!({ "api_key": KEY }))
        .await
}

/// The `signature_url` of signer number `index` of envelope `id`.
async fn link(sim: &Sim, id: &str, index: usize) -> String {
    let envelope = get(sim, &format!("/sign/envelope/{id}")).await.json();
    envelope["signers"][index]["signature_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no signature_url: {envelope}"))
        .to_owned()
}

/// The authentication token the last opened link sent (by SMS, the test signers' method).
async fn last_token(sim: &Sim) -> String {
    let outbox = sim
        .get(&sim.url(&format!(
            "/_signsim/outbox?provider=qitech&tenant={KEY}&channel=sms"
        )))
        .await
        .json();
    outbox
        .as_array()
        .and_then(|m| m.last())
        .expect("a token sent")["otp"]
        .as_str()
        .expect("an otp")
        .to_owned()
}

/// Opens signer `index`'s link as a browser does; returns the link and the page with its
/// form, and the token the opening sent.
async fn open(sim: &Sim, id: &str, index: usize) -> (String, Answer, String) {
    let link = link(sim, id, index).await;
    let page = sim.browse(&link).await;
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.bytes));
    let token = last_token(sim).await;
    (link, page, token)
}

async fn fill_in(sim: &Sim, link: &str, page: &Answer, token: &str) -> Answer {
    sim.submit_form(link, page, &[("cpf", "111.111.111-11"), ("token", token)])
        .await
}

async fn advance_own_clock(sim: &Sim, seconds: u64) {
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": seconds, "tenant": KEY, "provider": "qitech" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
}

fn error(answer: &Answer) -> Value {
    answer.json()["error"].clone()
}

fn page_text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.bytes).into_owned()
}

#[tokio::test]
async fn signing_an_expired_completed_or_canceled_envelope_is_409() {
    let sim = crate::common::start().await;
    // Completed: its one signer signed.
    submitted(&sim, "completed", vec![signer("1", "a@example.com")]).await;
    assert_eq!(sign_by_key(&sim, "completed", "1").await.status, 200);
    let completed = sign_by_key(&sim, "completed", "1").await;
    assert_eq!(completed.status, 409, "{:?}", completed.json());
    assert_eq!(
        error(&completed),
        "Envelope in status completed cannot be signed"
    );

    // Canceled.
    submitted(&sim, "canceled", vec![signer("1", "a@example.com")]).await;
    assert_eq!(
        crate::qitech::patch(&sim, "canceled", "canceled")
            .await
            .status,
        200
    );
    assert_eq!(sign_by_key(&sim, "canceled", "1").await.status, 409);

    // A signer who signed already, while the envelope waits for the others: the signer's
    // state does not allow a second signature.
    submitted(
        &sim,
        "two",
        vec![signer("1", "a@example.com"), signer("2", "b@example.com")],
    )
    .await;
    assert_eq!(sign_by_key(&sim, "two", "1").await.status, 200);
    let again = sign_by_key(&sim, "two", "1").await;
    assert_eq!(again.status, 409, "{:?}", again.json());
    assert_eq!(error(&again), "This signer has already signed");

    // Expired: its expiration_date (10 days on) passed on the key's clock. (Last: a new
    // envelope dated 10 days on would be refused on that clock.)
    submitted(&sim, "expired", vec![signer("1", "a@example.com")]).await;
    advance_own_clock(&sim, 11 * 86_400).await;
    let expired = sign_by_key(&sim, "expired", "1").await;
    assert_eq!(expired.status, 409, "{:?}", expired.json());
    assert_eq!(
        error(&expired),
        "Envelope in status expired cannot be signed"
    );
}

#[tokio::test]
async fn the_signing_form_is_410_once_its_link_was_used_or_expired() {
    let sim = crate::common::start().await;
    // Used: signer 1 signed by the form; the envelope still waits for signer 2.
    submitted(
        &sim,
        "used",
        vec![signer("1", "a@example.com"), signer("2", "b@example.com")],
    )
    .await;
    let (link, page, token) = open(&sim, "used", 0).await;
    let signed = fill_in(&sim, &link, &page, &token).await;
    assert_eq!(signed.status, 200, "{}", page_text(&signed));
    let again = fill_in(&sim, &link, &page, &token).await;
    assert_eq!(again.status, 410, "{}", page_text(&again));
    assert!(page_text(&again).contains("already signed"));
    // As a client (no page) it is the same answer, in JSON; a test naming the key gets
    // 409 for the same signer (the state, not a link).
    let code = link.rsplit('/').next().expect("the link's code");
    let json = sim
        .post_json(&sign_url(&sim, "used", "1"), json!({ "link": code }))
        .await;
    assert_eq!(json.status, 410, "{:?}", json.json());
    assert_eq!(sign_by_key(&sim, "used", "1").await.status, 409);
    // Opening the used link says so too.
    assert_eq!(sim.browse(&link).await.status, 410);

    // Used up: the page was open when a test signed for its signer, completing the
    // envelope.
    submitted(&sim, "done", vec![signer("1", "a@example.com")]).await;
    let (link, page, token) = open(&sim, "done", 0).await;
    assert_eq!(sign_by_key(&sim, "done", "1").await.status, 200);
    let refused = fill_in(&sim, &link, &page, &token).await;
    assert_eq!(refused.status, 410, "{}", page_text(&refused));
    assert!(page_text(&refused).contains("Envelope in status completed cannot be signed"));

    // Expired: the signer opened the page, then the envelope's date passed on the key's
    // clock before they pressed Sign. (Last: a new envelope dated 10 days on would be
    // refused on that clock.)
    submitted(&sim, "late", vec![signer("1", "a@example.com")]).await;
    let (link, page, token) = open(&sim, "late", 0).await;
    advance_own_clock(&sim, 11 * 86_400).await;
    let refused = fill_in(&sim, &link, &page, &token).await;
    assert_eq!(refused.status, 410, "{}", page_text(&refused));
    assert!(
        page_text(&refused).contains("Envelope in status expired cannot be signed"),
        "{}",
        page_text(&refused)
    );
    assert_eq!(sim.browse(&link).await.status, 410);
}

#[tokio::test]
async fn an_unknown_envelope_signer_or_link_is_404() {
    let sim = crate::common::start().await;
    submitted(
        &sim,
        "known",
        vec![signer("1", "a@example.com"), signer("2", "b@example.com")],
    )
    .await;
    let unknown_envelope = sign_by_key(&sim, "nowhere", "1").await;
    assert_eq!(
        unknown_envelope.status,
        404,
        "{:?}",
        unknown_envelope.json()
    );
    let unknown_signer = sign_by_key(&sim, "known", "9").await;
    assert_eq!(unknown_signer.status, 404, "{:?}", unknown_signer.json());
    let no_such_link = sim
        .post_json(
            &sign_url(&sim, "known", "1"),
            json!({ "link": "doesnotexist" }),
        )
        .await;
    assert_eq!(no_such_link.status, 404, "{:?}", no_such_link.json());
    // Signer 2's link does not sign for signer 1.
    let second = link(&sim, "known", 1).await;
    let code = second.rsplit('/').next().expect("the link's code");
    let not_theirs = sim
        .post_json(&sign_url(&sim, "known", "1"), json!({ "link": code }))
        .await;
    assert_eq!(not_theirs.status, 404, "{:?}", not_theirs.json());
    assert_eq!(
        sim.get(&sim.url("/_signsim/qitech/s/doesnotexist"))
            .await
            .status,
        404
    );
    // Nothing was signed by any of it.
    let envelope = get(&sim, "/sign/envelope/known").await.json();
    assert_eq!(envelope["signers"][0]["status"], "pending");
    assert_eq!(envelope["signers"][1]["status"], "pending");
}
