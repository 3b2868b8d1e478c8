//! `--admin-token`: every /_signsim call and page asks for it, by header for clients and
//! by a login form and its cookie for browsers; health, the CA and the pages the
//! simulator's links open stay open, and so do the providers' APIs.

use crate::common::{answer, start, start_with, Answer, Sim};
use crate::qitech::{get, signer, submitted};
use reqwest::redirect::Policy;
use signsim::Config;

const TOKEN: &str = "correct-horse-battery-staple";

async fn start_guarded() -> Sim {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config.admin_token = Some(TOKEN.to_owned());
    start_with(config).await
}

async fn get_with(sim: &Sim, path: &str, header: Option<(&str, &str)>) -> Answer {
    let mut request = sim.http.get(sim.url(path));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    answer(request.send().await.unwrap()).await
}

#[tokio::test]
async fn admin_calls_ask_for_the_token_and_providers_do_not() {
    let sim = start_guarded().await;
    let refused = sim
        .http
        .get(sim.url("/_signsim/outbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().contains_key("www-authenticate"));
    let refused = answer(refused).await;
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("X-Signsim-Admin-Token"),
        "{:?}",
        refused.json()
    );
    // A wrong token, an unknown admin path and a POST are refused alike (no 404 hints).
    let wrong = get_with(
        &sim,
        "/_signsim/outbox",
        Some(("authorization", "Bearer nope")),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        get_with(&sim, "/_signsim/nothing-here", None).await.status,
        401
    );
    let reset = sim
        .post_json(&sim.url("/_signsim/reset"), serde_json::json!({}))
        .await;
    assert_eq!(reset.status, 401);

    let bearer = format!("Bearer {TOKEN}");
    let by_bearer = get_with(&sim, "/_signsim/outbox", Some(("authorization", &bearer))).await;
    assert_eq!(by_bearer.status, 200);
    let by_header = get_with(
        &sim,
        "/_signsim/clock",
        Some(("x-signsim-admin-token", TOKEN)),
    )
    .await;
    assert_eq!(by_header.status, 200);
    assert!(by_header.json()["now"].is_string());

    // Open: health checks, the public CA certificate, the providers' APIs.
    let health = get_with(&sim, "/_signsim/health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["version"], env!("CARGO_PKG_VERSION"));
    assert!(health.json()["uptime_seconds"].is_u64());
    assert_eq!(get_with(&sim, "/_signsim/ca.pem", None).await.status, 200);
    let hello = get_with(&sim, "/uanataca/api/v1/hello", None).await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.json()["details"], "Hello");
}

#[tokio::test]
async fn without_a_token_admin_calls_are_open() {
    let sim = start().await;
    assert_eq!(get_with(&sim, "/_signsim/outbox", None).await.status, 200);
    let page = sim.browse(&sim.url("/_signsim")).await;
    assert_eq!(page.status, 200);
    assert!(!String::from_utf8_lossy(&page.bytes).contains("Log in"));
}

#[tokio::test]
async fn a_browser_logs_in_with_the_form_and_keeps_a_cookie() {
    let sim = start_guarded().await;
    let asked = "/_signsim/inbox?provider=qitech";
    let login = sim.browse(&sim.url(asked)).await;
    assert_eq!(login.status, 401);
    let html = String::from_utf8_lossy(&login.bytes).into_owned();
    assert!(html.contains("action=\"/_signsim/login\""), "{html}");

    // The form posted by hand, without following the redirect, to see what it sets.
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let post = |token: &'static str| {
        browser
            .post(sim.url("/_signsim/login"))
            .header("accept", "text/html")
            .form(&[("token", token), ("back", asked)])
            .send()
    };
    let wrong = post("guess").await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(!wrong.headers().contains_key("set-cookie"));

    let right = post(TOKEN).await.unwrap();
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], asked);
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains(TOKEN),
        "the cookie must not carry the token: {cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let inbox = browser
        .get(sim.url(asked))
        .header("accept", "text/html")
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), 200);
    // A cookie of another value is no login.
    let forged = browser
        .get(sim.url(asked))
        .header("cookie", "signsim_admin=00")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // The form never sends people to another site.
    let elsewhere = browser
        .post(sim.url("/_signsim/login"))
        .form(&[("token", TOKEN), ("back", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.headers()["location"], "/_signsim");
}

#[tokio::test]
async fn the_links_people_get_open_their_pages_without_the_token() {
    let sim = start_guarded().await;
    // The app under test creates the envelope with its QI Tech key alone.
    submitted(&sim, "env-token", vec![signer("1", "ana@example.com")]).await;
    let link = get(&sim, "/sign/envelope/env-token").await.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    // The person holding the link opens it and signs, never having seen the token.
    let page = sim.browse(&link).await;
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.bytes));
    let outbox = get_with(
        &sim,
        "/_signsim/outbox?provider=qitech&channel=sms",
        Some(("x-signsim-admin-token", TOKEN)),
    )
    .await
    .json();
    let otp = outbox.as_array().unwrap().last().unwrap()["otp"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = sim
        .submit_form(&link, &page, &[("cpf", "111.111.111-11"), ("token", &otp)])
        .await;
    assert_eq!(
        signed.status,
        200,
        "{}",
        String::from_utf8_lossy(&signed.bytes)
    );
    let envelope = get(&sim, "/sign/envelope/env-token").await.json();
    assert_eq!(envelope["signers"][0]["status"], "signed", "{envelope}");
    // Its resource page (a developer's view) still asks for the token.
    let resource = sim
        .browse(&sim.url("/_signsim/resources/qitech/qi-key-alpha/env-token"))
        .await;
    assert_eq!(resource.status, 401);
}

#[tokio::test]
async fn every_provider_link_path_is_open_and_answers_for_itself() {
    let sim = start_guarded().await;
    // Unknown codes: each page answers its own "no such link" (404), not the gate's 401,
    // so each provider's registered path is the route its links really take.
    for path in [
        "/_signsim/uanataca/lcmpl/videoid/nope",
        "/_signsim/signal/files/nope",
        "/_signsim/signal/biometric/nope",
        "/_signsim/qitech/s/nope",
        "/_signsim/qitech/files/nope.pdf",
        "/_signsim/mensatek/v/nope",
        "/_signsim/identiasign/ui/signature_processes/nope",
        "/_signsim/identiasign/files/nope",
    ] {
        let opened = sim.browse(&sim.url(path)).await;
        assert_eq!(opened.status, 404, "{path}");
    }
    let down = sim
        .post_json(
            &sim.url("/_signsim/qitech/receiver-down"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(down.status, 503);
    // Beside them, the provider's admin calls stay closed.
    let configure = sim
        .post_json(&sim.url("/_signsim/qitech/webhook"), serde_json::json!({}))
        .await;
    assert_eq!(configure.status, 401);
}
