//! Issue 21, the admin surface and the pages: health under a token names no tenant, reset
//! refuses fields it does not take, cross-site browser requests and foreign `Host`s are
//! refused, every answer carries its security headers, token guesses are throttled, the
//! admin cookie is an expiring session with a logout, a tenant header that is not text is
//! a 400, and bidi controls show as text on a page.

use crate::common::{answer, start, start_with, Answer, Sim};
use crate::qitech::{get, signer, submitted, KEY};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::redirect::Policy;
use serde_json::json;
use signsim::Config;

const TOKEN: &str = "correct-horse-battery-staple";

fn guarded() -> Config {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config.admin_token = Some(TOKEN.to_owned());
    config
}

async fn send(request: reqwest::RequestBuilder) -> (HeaderMap, Answer) {
    let response = request.send().await.expect("request sent");
    let headers = response.headers().clone();
    (headers, answer(response).await)
}

fn text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.bytes).into_owned()
}

/// A client that does not follow redirects, to see what a login sets.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Logs in with the form; returns the `Set-Cookie` header as sent.
async fn log_in(sim: &Sim) -> String {
    let response = browser()
        .post(sim.url("/_signsim/login"))
        .header("accept", "text/html")
        .form(&[("token", TOKEN), ("back", "/_signsim")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

#[tokio::test]
async fn health_under_a_token_names_no_tenant_without_it() {
    let sim = start_with(guarded()).await;
    submitted(&sim, "env-health", vec![signer("1", "ana@example.com")]).await;
    let open = sim.get(&sim.url("/_signsim/health")).await;
    assert_eq!(open.status, 200);
    let body = text(&open);
    assert!(!body.contains(KEY), "health names a tenant: {body}");
    let json = open.json();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert!(json["uptime_seconds"].is_u64());
    assert!(json.get("storage").is_none(), "{json}");
    // A wrong token sees no more.
    let (_, wrong) = send(
        sim.http
            .get(sim.url("/_signsim/health"))
            .header("x-signsim-admin-token", "nope"),
    )
    .await;
    assert!(!text(&wrong).contains(KEY));

    let (_, full) = send(
        sim.http
            .get(sim.url("/_signsim/health"))
            .header("x-signsim-admin-token", TOKEN),
    )
    .await;
    assert_eq!(full.status, 200);
    assert!(text(&full).contains(KEY), "{}", text(&full));
    // So does the login cookie.
    let cookie = pair(&log_in(&sim).await);
    let (_, by_cookie) = send(
        sim.http
            .get(sim.url("/_signsim/health"))
            .header("cookie", cookie),
    )
    .await;
    assert!(text(&by_cookie).contains(KEY));

    // Without a token, health is as it always was.
    let open_sim = start().await;
    submitted(
        &open_sim,
        "env-health",
        vec![signer("1", "ana@example.com")],
    )
    .await;
    let all = open_sim.get(&open_sim.url("/_signsim/health")).await;
    assert!(text(&all).contains(KEY));
}

#[tokio::test]
async fn reset_refuses_fields_it_does_not_take_and_erases_nothing() {
    let sim = start().await;
    submitted(&sim, "kept", vec![signer("1", "ana@example.com")]).await;
    // What a signing form aimed at reset would post.
    let (_, refused) = send(
        sim.http
            .post(sim.url("/_signsim/reset"))
            .form(&[("cpf", "111.111.111-11"), ("token", "123456")]),
    )
    .await;
    assert_eq!(refused.status, 400, "{}", text(&refused));
    let message = refused.json()["error"].as_str().unwrap().to_owned();
    assert!(message.contains("cpf"), "{message}");
    assert!(
        message.contains("tenant") && message.contains("provider"),
        "{message}"
    );
    assert_eq!(get(&sim, "/sign/envelope/kept").await.status, 200);

    // Its own fields still work, in the body or the query.
    let (_, scoped) = send(
        sim.http
            .post(sim.url("/_signsim/reset"))
            .json(&json!({ "provider": "qitech", "tenant": "someone-else" })),
    )
    .await;
    assert_eq!(scoped.status, 200, "{}", text(&scoped));
    assert_eq!(get(&sim, "/sign/envelope/kept").await.status, 200);
    let everything = sim.post_json(&sim.url("/_signsim/reset"), json!({})).await;
    assert_eq!(everything.status, 200);
    assert_eq!(get(&sim, "/sign/envelope/kept").await.status, 404);

    // Redelivering takes nothing but its path.
    let (_, redeliver) = send(
        sim.http
            .post(sim.url("/_signsim/webhooks/nope/redeliver"))
            .form(&[("cpf", "1")]),
    )
    .await;
    assert_eq!(redeliver.status, 400, "{}", text(&redeliver));
}

const SCENARIO: &str = r#"
[[scenario]]
name = "cross-site-test"
provider = "qitech"
description = "loaded by a test"
"#;

#[tokio::test]
async fn cross_site_browser_requests_are_refused_and_plain_clients_pass() {
    let sim = start().await;
    submitted(&sim, "kept", vec![signer("1", "ana@example.com")]).await;
    let hook = json!({ "api_key": KEY, "url": "http://127.0.0.1:9/hook", "signature_key": "k" });
    let hostile: [&[(&str, &str)]; 4] = [
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://evil.test")],
        &[("origin", "null")],
    ];
    for headers in hostile {
        let with = |mut request: reqwest::RequestBuilder| {
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            request
        };
        let (_, reset) = send(with(sim.http.post(sim.url("/_signsim/reset")))).await;
        assert_eq!(reset.status, 403, "{headers:?}: {}", text(&reset));
        assert!(
            reset.json()["error"]
                .as_str()
                .unwrap()
                .contains("cross-site"),
            "{}",
            text(&reset)
        );
        let (_, scenarios) = send(with(
            sim.http
                .post(sim.url("/_signsim/scenarios"))
                .header("content-type", "text/plain")
                .body(SCENARIO),
        ))
        .await;
        assert_eq!(scenarios.status, 403, "{headers:?}");
        let (_, webhook) = send(with(
            sim.http
                .post(sim.url("/_signsim/qitech/webhook"))
                .json(&hook),
        ))
        .await;
        assert_eq!(webhook.status, 403, "{headers:?}");
    }
    assert_eq!(get(&sim, "/sign/envelope/kept").await.status, 200);
    let listed = text(&sim.get(&sim.url("/_signsim/scenarios")).await);
    assert!(!listed.contains("cross-site-test"));
    // Reading stays possible cross-site (the answer is the browser's to withhold).
    let (_, read) = send(
        sim.http
            .get(sim.url("/_signsim/clock"))
            .header("sec-fetch-site", "cross-site"),
    )
    .await;
    assert_eq!(read.status, 200);

    // The browser's own pages post same-origin: allowed.
    let own_origin = format!("http://{}", sim.running.addr);
    let (_, same) = send(
        sim.http
            .post(sim.url("/_signsim/qitech/webhook"))
            .header("origin", &own_origin)
            .header("sec-fetch-site", "same-origin")
            .json(&hook),
    )
    .await;
    assert_eq!(same.status, 200, "{}", text(&same));
    // What Chromium sends for a form of our own page under `Referrer-Policy: no-referrer`.
    let (_, own_form) = send(
        sim.http
            .post(sim.url("/_signsim/qitech/webhook"))
            .header("origin", "null")
            .header("sec-fetch-site", "same-origin")
            .json(&hook),
    )
    .await;
    assert_eq!(own_form.status, 200, "{}", text(&own_form));
    // Clients that send neither header pass.
    let (_, webhook) = send(
        sim.http
            .post(sim.url("/_signsim/qitech/webhook"))
            .json(&hook),
    )
    .await;
    assert_eq!(webhook.status, 200);
    let (_, scenarios) = send(
        sim.http
            .post(sim.url("/_signsim/scenarios"))
            .header("content-type", "text/plain")
            .body(SCENARIO),
    )
    .await;
    assert_eq!(scenarios.status, 200, "{}", text(&scenarios));
    let (_, reset) = send(sim.http.post(sim.url("/_signsim/reset"))).await;
    assert_eq!(reset.status, 200);
    assert_eq!(get(&sim, "/sign/envelope/kept").await.status, 404);
}

#[tokio::test]
async fn a_foreign_host_is_refused_and_allow_host_admits_it() {
    let sim = start().await;
    let port = sim.running.addr.port();
    for path in ["/_signsim/outbox", "/uanataca/api/v1/hello", "/"] {
        let (_, refused) = send(
            sim.http
                .get(sim.url(path))
                .header("host", format!("rebind.evil.test:{port}")),
        )
        .await;
        assert_eq!(refused.status, 421, "{path}: {}", text(&refused));
        let message = refused.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains("--allow-host"), "{message}");
    }
    // The names it serves by default.
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "LocalHost".to_owned(),
    ] {
        let (_, served) = send(
            sim.http
                .get(sim.url("/uanataca/api/v1/hello"))
                .header("host", &host),
        )
        .await;
        assert_eq!(served.status, 200, "{host}");
    }

    let config = Config {
        allow_hosts: vec!["signsim.internal".to_owned()],
        ..Config::default()
    };
    let allowed = start_with(config).await;
    let (_, served) = send(allowed.http.get(allowed.url("/_signsim/outbox")).header(
        "host",
        format!("signsim.internal:{}", allowed.running.addr.port()),
    ))
    .await;
    assert_eq!(served.status, 200);
    let (_, other) = send(
        allowed
            .http
            .get(allowed.url("/_signsim/outbox"))
            .header("host", "other.internal"),
    )
    .await;
    assert_eq!(other.status, 421);

    let config = Config {
        allow_hosts: vec!["*".to_owned()],
        ..Config::default()
    };
    let any = start_with(config).await;
    let (_, served) = send(
        any.http
            .get(any.url("/_signsim/outbox"))
            .header("host", "whatever.test"),
    )
    .await;
    assert_eq!(served.status, 200);
}

#[tokio::test]
async fn pages_and_answers_carry_security_headers() {
    let sim = start().await;
    submitted(&sim, "env-headers", vec![signer("1", "ana@example.com")]).await;
    let link = get(&sim, "/sign/envelope/env-headers").await.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let common = |headers: &HeaderMap, what: &str| {
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
    };

    let (admin, page) = send(
        sim.http
            .get(sim.url("/_signsim"))
            .header("accept", "text/html"),
    )
    .await;
    assert_eq!(page.status, 200);
    common(&admin, "dashboard");
    let csp = admin["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(admin["x-frame-options"], "DENY");
    // The policy admits the page's one stylesheet by its hash.
    let html = text(&page);
    let style = html
        .split("<style>")
        .nth(1)
        .and_then(|rest| rest.split("</style>").next())
        .unwrap();
    let hash = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style))
    };
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");

    // The page a signer opens from a link: may be framed by the app that embeds it.
    let (signing, page) = send(sim.http.get(&link).header("accept", "text/html")).await;
    assert_eq!(page.status, 200);
    common(&signing, "signing page");
    let csp = signing["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!signing.contains_key("x-frame-options"));

    // A provider's API answer.
    let (api, answer) = send(
        sim.http
            .get(sim.url("/qitech/sign/envelope/env-headers"))
            .header("authorization", KEY),
    )
    .await;
    assert_eq!(answer.status, 200);
    common(&api, "API answer");
    // The inbox has no inline style attribute the policy would block.
    let inbox = sim.browse(&sim.url("/_signsim/inbox")).await;
    assert!(!text(&inbox).contains("style=\""), "{}", text(&inbox));
}

#[tokio::test]
async fn token_guesses_are_throttled_and_the_right_token_works_after_the_window() {
    let mut config = guarded();
    config.admin_guess_window = std::time::Duration::from_secs(1);
    let sim = start_with(config).await;
    // A browser logged in before the guessing keeps its session.
    let cookie = pair(&log_in(&sim).await);
    let guess = |value: &'static str| {
        sim.http
            .get(sim.url("/_signsim/outbox"))
            .header("x-signsim-admin-token", value)
    };
    for _ in 0..10 {
        let (_, refused) = send(guess("wrong")).await;
        assert_eq!(refused.status, 401);
    }
    let (headers, throttled) = send(guess("wrong")).await;
    assert_eq!(throttled.status, 429, "{}", text(&throttled));
    assert!(headers.contains_key("retry-after"));
    assert!(throttled.json()["error"].is_string());
    // Guessing right while throttled tells the guesser nothing.
    let (_, right) = send(guess(TOKEN)).await;
    assert_eq!(right.status, 429);
    // A login form is a guess too.
    let (_, login) = send(
        browser()
            .post(sim.url("/_signsim/login"))
            .form(&[("token", TOKEN)]),
    )
    .await;
    assert_eq!(login.status, 429);
    let (_, session) = send(
        sim.http
            .get(sim.url("/_signsim/outbox"))
            .header("cookie", &cookie),
    )
    .await;
    assert_eq!(session.status, 200);
    // Once the window passes, the right token is let in.
    crate::receiver::eventually("the right token is let in again", async || {
        send(guess(TOKEN)).await.1.status == 200
    })
    .await;
}

#[tokio::test]
async fn logout_forgets_the_session_and_the_cookie_expires() {
    let sim = start_with(guarded()).await;
    let set_cookie = log_in(&sim).await;
    assert!(set_cookie.contains("Max-Age=43200"), "{set_cookie}");
    let cookie = pair(&set_cookie);
    // Another login is another session.
    assert_ne!(cookie, pair(&log_in(&sim).await));
    let dashboard = |cookie: String| {
        sim.http
            .get(sim.url("/_signsim"))
            .header("accept", "text/html")
            .header("cookie", cookie)
    };
    let (_, page) = send(dashboard(cookie.clone())).await;
    assert_eq!(page.status, 200);
    assert!(
        text(&page).contains("action=\"/_signsim/logout\""),
        "no logout button: {}",
        text(&page)
    );

    let logout = browser()
        .post(sim.url("/_signsim/logout"))
        .header("accept", "text/html")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    let cleared = logout.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let (_, after) = send(dashboard(cookie)).await;
    assert_eq!(after.status, 401, "the old cookie still admits");

    // Without a token there is no session and no button.
    let open = start().await;
    let page = open.browse(&open.url("/_signsim")).await;
    assert!(!text(&page).contains("/_signsim/logout"));
}

#[tokio::test]
async fn a_tenant_header_that_is_not_text_is_refused() {
    let sim = start().await;
    for bad in [&b"caf\xe9"[..], b"a\tb", b"\xff\xfe"] {
        let (_, refused) = send(
            sim.http
                .get(sim.api("hello"))
                .header("x-signsim-tenant", HeaderValue::from_bytes(bad).unwrap()),
        )
        .await;
        assert_eq!(refused.status, 400, "{bad:?}: {}", text(&refused));
        assert!(
            text(&refused).contains("X-Signsim-Tenant"),
            "{}",
            text(&refused)
        );
    }
    // UTF-8 names are names.
    let (_, fine) = send(sim.http.get(sim.api("hello")).header(
        "x-signsim-tenant",
        HeaderValue::from_bytes("équipe".as_bytes()).unwrap(),
    ))
    .await;
    assert_eq!(fine.status, 200);
}

#[tokio::test]
async fn bidi_controls_show_as_text_and_long_values_wrap() {
    let sim = start().await;
    let mut person = signer("1", "ana@example.com");
    person["name"] = json!("Ana \u{202E}gnp.exe\u{202C} Silva");
    submitted(&sim, "env-bidi", vec![person]).await;
    let link = get(&sim, "/sign/envelope/env-bidi").await.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = text(&sim.browse(&link).await);
    assert!(!page.contains('\u{202E}'), "a raw bidi control on the page");
    assert!(page.contains("&lt;U+202E&gt;"), "{page}");
    // The shared stylesheet breaks long values anywhere, so none overflows a phone.
    let body_rule = page
        .split("body {")
        .nth(1)
        .and_then(|rule| rule.split('}').next())
        .unwrap()
        .to_owned();
    assert!(body_rule.contains("overflow-wrap: anywhere"), "{body_rule}");
}

/// The binary: `--allow-host` (here its env var, comma-separated) reaches every listener,
/// a provider's own (`--listen`) included, which refuses other hosts the same way.
#[tokio::test]
async fn the_binary_checks_hosts_on_every_listener() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    /// Stops the server however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--port", "0", "--seed", "3"])
        .args(["--listen", "uanataca=127.0.0.1:0"])
        .env("SIGNSIM_ALLOW_HOSTS", "sim.test,other.test")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _stop = Stop(child);
    // One `NAME URL` line per listener, the main one first.
    let mut lines = BufReader::new(stdout).lines();
    let mut url_of = |name: &str| {
        let line = lines.next().unwrap().unwrap();
        let (named, url) = line.split_once(' ').unwrap();
        assert_eq!(named, name, "{line}");
        url.to_owned()
    };
    let main = url_of("signsim");
    let uanataca = url_of("uanataca");
    let http = reqwest::Client::new();
    let status = |url: String, host: &'static str| {
        let request = http.get(url).header("host", host);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let hello = format!("{uanataca}/api/v1/hello");
    assert_eq!(status(hello.clone(), "evil.test").await, 421);
    assert_eq!(status(hello.clone(), "sim.test").await, 200);
    assert_eq!(status(hello, "other.test:8801").await, 200);
    let outbox = format!("{main}/_signsim/outbox");
    assert_eq!(status(outbox.clone(), "evil.test").await, 421);
    assert_eq!(status(outbox, "other.test").await, 200);
}
