//! End-to-end tests in headless Chromium, driven over WebDriver (chromedriver): a person
//! opens the links the providers "send", completes the act on the signer pages, and sees
//! what the simulator did on the dashboard and the resource pages.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! other paths through `SIGNSIM_CHROMIUM` and `SIGNSIM_CHROMEDRIVER`). Without them each test
//! prints a notice and passes, unless `SIGNSIM_REQUIRE_BROWSER=1` (CI) makes it fail.
//! Screenshots go to `target/browser-artifacts/`; with `SIGNSIM_UPDATE_SCREENSHOTS=1` the
//! README's three are copied to `docs/`.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use signsim::{spawn, Config, Running};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long one whole browser test may take before it fails.
const TEST_BUDGET: Duration = Duration::from_secs(90);
const QI_KEY: &str = "browser-key";
const SCRIPT: &str = "<script>alert(1)</script>";

fn find_binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    let path_dirs = std::env::var_os("PATH").unwrap_or_default();
    for name in candidates {
        for dir in std::env::split_paths(&path_dirs) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// A running chromedriver in a process group of its own, which the browser it starts
/// joins: dropping it (a test that passed or panicked) ends that group, chromedriver and
/// browser together, and removes the browser's profile directory.
struct Driver {
    child: Child,
    port: u16,
    profile: PathBuf,
    chromium: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (`process_group(0)`).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Chromedriver on a free port, or `None` (with a notice) when the browser is missing and
/// not required.
async fn driver(test: &str) -> Option<Driver> {
    let chromium = find_binary("SIGNSIM_CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = find_binary("SIGNSIM_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let required = std::env::var("SIGNSIM_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "SIGNSIM_REQUIRE_BROWSER=1 but chromium or chromedriver is missing \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "NOTICE: {test} skipped: chromium and chromedriver are not installed \
             (apt-get install chromium chromium-driver; SIGNSIM_REQUIRE_BROWSER=1 makes this fail)"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    static PROFILES: AtomicUsize = AtomicUsize::new(0);
    let profile = std::env::temp_dir().join(format!(
        "signsim-browser-{}-{}",
        std::process::id(),
        PROFILES.fetch_add(1, Ordering::SeqCst)
    ));
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        port,
        profile,
        chromium,
    };
    // Ready when its status answers.
    let status = format!("http://127.0.0.1:{port}/status");
    for _ in 0..100 {
        if reqwest::get(&status)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

/// A headless Chromium session of phone size.
async fn browser(driver: &Driver) -> Client {
    // fantoccini's https connector asks rustls for the process's crypto provider; ring is
    // the one this crate builds (the connection to chromedriver itself is plain http).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": driver.chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=412,915",
                "--disable-breakpad", "--disable-crash-reporter",
                format!("--user-data-dir={}", driver.profile.display()),
            ],
        }),
    );
    ClientBuilder::rustls()
        .expect("rustls connector")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact directory");
    dir
}

/// Saves a screenshot of the page as `target/browser-artifacts/<name>.png`; `docs` names
/// the README's copy, written when `SIGNSIM_UPDATE_SCREENSHOTS=1`.
async fn screenshot(client: &Client, name: &str, docs: Option<&str>) {
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(artifacts().join(format!("{name}.png")), &png).expect("screenshot written");
    if let Some(doc) = docs {
        if std::env::var("SIGNSIM_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(doc);
            std::fs::write(path, &png).expect("docs screenshot written");
        }
    }
}

async fn body_text(client: &Client) -> String {
    // Right after a click the page may be between documents: its body is gone before the
    // next one is there. Ask again a few times.
    for _ in 0..20 {
        if let Ok(body) = client.find(Locator::Css("body")).await {
            if let Ok(text) = body.text().await {
                return text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page has no readable body");
}

/// What a person does first: opens the inbox page `inbox`, clicks the link whose address
/// contains `link`, and waits until the page it opens shows `ready` (a CSS selector).
async fn open_from_inbox(client: &Client, inbox: &str, link: &str, ready: &str) {
    client.goto(inbox).await.unwrap();
    client
        .find(Locator::Css(&format!("a[href*='{link}']")))
        .await
        .unwrap_or_else(|e| panic!("no link to {link} in {inbox}: {e}"))
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css(ready))
        .await
        .unwrap_or_else(|e| panic!("the page behind {link} never showed {ready}: {e}"));
}

/// Follows the resource page's first "act as the end user" link, checking that the page
/// it opens runs no script; answers the link.
async fn open_act_link(client: &Client) -> String {
    let link = client
        .find(Locator::Css("#act a"))
        .await
        .expect("the end user's page link")
        .attr("href")
        .await
        .unwrap()
        .expect("href");
    client.goto(&link).await.unwrap();
    assert_no_alert(client, &link).await;
    link
}

/// Fails if the page opened an alert: what an injected script would do.
async fn assert_no_alert(client: &Client, page: &str) {
    if let Ok(text) = client.get_alert_text().await {
        panic!("{page} opened an alert: {text}");
    }
}

/// Waits until the page shows `expected` (after a form was posted), for ten seconds.
async fn until_shown(client: &Client, expected: &str) -> String {
    let mut text = String::new();
    for _ in 0..50 {
        text = body_text(client).await;
        if text.contains(expected) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the page never showed {expected:?}; it shows:\n{text}");
}

/// Reloads `url` until its text contains `expected`, for at most ten seconds.
async fn until_text(client: &Client, url: &str, expected: &str) -> String {
    let mut text = String::new();
    for _ in 0..50 {
        client.goto(url).await.expect("page opens");
        text = body_text(client).await;
        if text.contains(expected) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} never showed {expected:?}; it shows:\n{text}");
}

async fn simulator() -> Running {
    let mut config = Config::default();
    config.engine.seed = Some(7);
    spawn(config).await.expect("simulator starts")
}

/// A webhook receiver that answers 200; returns its URL.
async fn receiver() -> String {
    let app = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("receiver port");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    url
}

async fn call(sim: &Running, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .request(method, sim.url(path))
        .header("authorization", QI_KEY)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let json: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {json}");
    json
}

/// A submitted QI Tech envelope `id` with one signer named `name` and one document,
/// expiring in 10 days.
async fn qitech_envelope(sim: &Running, id: &str, name: &str) {
    use base64::Engine as _;
    let date = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date();
    let expiration = format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    let signer = json!({
        "id": "1", "name": name, "email": "maria@example.com", "birthdate": "1992-09-15",
        "document_number": "111.111.111-11",
        "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
        "document_submission_method": "email", "authentication_submission_method": "sms"
    });
    let post = reqwest::Method::POST;
    call(
        sim,
        post.clone(),
        "/qitech/sign/envelope",
        json!({ "id": id, "subject": "Contrato de locação", "expiration_date": expiration,
                "signers": [signer] }),
    )
    .await;
    let pdf = signsim::pki::text_pdf(
        "Contrato de locação",
        &[("Purpose".into(), "signsim browser test".into())],
    );
    call(
        sim,
        post,
        &format!("/qitech/sign/envelope/{id}/document"),
        json!({ "document_b64": base64::engine::general_purpose::STANDARD.encode(pdf),
                "name": "Contrato", "document_type": "pdf" }),
    )
    .await;
    call(
        sim,
        reqwest::Method::PATCH,
        &format!("/qitech/sign/envelope/{id}"),
        json!({ "status": "submitted" }),
    )
    .await;
}

fn resource_url(sim: &Running, provider: &str, tenant: &str, id: &str) -> String {
    sim.url(&format!("/_signsim/resources/{provider}/{tenant}/{id}"))
}

/// Runs one browser test within the budget, closing the session however it ends.
async fn with_browser<F>(test: &str, body: F)
where
    F: AsyncFnOnce(&Client) -> (),
{
    let Some(driver) = driver(test).await else {
        return;
    };
    let client = browser(&driver).await;
    let outcome = tokio::time::timeout(TEST_BUDGET, body(&client)).await;
    let _ = client.close().await;
    drop(driver);
    outcome.unwrap_or_else(|_| panic!("{test} took longer than {TEST_BUDGET:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qitech_a_person_signs_from_the_inbox_and_the_webhook_shows_on_the_timeline() {
    let sim = simulator().await;
    let hook = receiver().await;
    call(
        &sim,
        reqwest::Method::POST,
        "/_signsim/qitech/webhook",
        json!({ "api_key": QI_KEY, "url": hook, "signature_key": "s3cr3t" }),
    )
    .await;
    qitech_envelope(&sim, "env-browser", "Maria Souza").await;
    with_browser("qitech", async |client| {
        // The person opens the link from the inbox.
        let signing = client.window().await.unwrap();
        let inbox = sim.url("/_signsim/inbox?provider=qitech&channel=email");
        open_from_inbox(client, &inbox, "/_signsim/qitech/s/", "input[name=cpf]").await;
        assert!(body_text(client)
            .await
            .contains("Maria Souza, you are asked to sign"));
        // Opening it sent the token by SMS: read it in the inbox, in another tab.
        let tab = client.new_window(true).await.unwrap();
        client.switch_to_window(tab.handle).await.unwrap();
        client
            .goto(&sim.url("/_signsim/inbox?provider=qitech&channel=sms"))
            .await
            .unwrap();
        let otp = client
            .find(Locator::Css(".otp b"))
            .await
            .expect("the OTP in the inbox")
            .text()
            .await
            .unwrap();
        screenshot(client, "qitech-inbox", None).await;
        client.close_window().await.unwrap();
        // Back to the first tab, where the signing page is open.
        client.switch_to_window(signing).await.unwrap();
        client
            .find(Locator::Css("input[name=cpf]"))
            .await
            .unwrap()
            .send_keys("111.111.111-11")
            .await
            .unwrap();
        client
            .find(Locator::Css("input[name=token]"))
            .await
            .unwrap()
            .send_keys(&otp)
            .await
            .unwrap();
        screenshot(client, "qitech-signer-page", Some("signer-page.png")).await;
        client
            .find(Locator::Css("button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let done = until_shown(client, "Thank you").await;
        assert!(done.contains("Everyone has signed"), "{done}");

        // The resource's timeline shows the webhook delivered.
        let page = resource_url(&sim, "qitech", QI_KEY, "env-browser");
        let timeline = until_text(client, &page, "answered 200").await;
        assert!(timeline.contains("completed"), "{timeline}");
        assert!(timeline.contains("signed dossier: Contrato"), "{timeline}");
        screenshot(client, "qitech-timeline", Some("timeline.png")).await;
        client.goto(&sim.url("/_signsim")).await.unwrap();
        screenshot(client, "qitech-dashboard", None).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uanataca_the_video_page_drives_videoerror() {
    let sim = simulator().await;
    let created: Value = reqwest::Client::new()
        .post(sim.url("/uanataca/api/v1/videoid"))
        .json(
            &json!({ "mobile_phone_number": "+34611000009", "email": "video@example.com",
                       "registration_authority": "44", "profile": "PFnubeQAFCiudadano",
                       "videoid_mode": 1 }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = created["details"]["videoid_link"]
        .as_str()
        .expect("videoid_link")
        .to_owned();
    let pk = created["details"]["request_pk"]
        .as_u64()
        .expect("request_pk");
    with_browser("uanataca", async |client| {
        client.goto(&link).await.unwrap();
        assert!(body_text(client).await.contains("VIDEOPENDING"));
        screenshot(client, "uanataca-video-page", None).await;
        client
            .find(Locator::Css("button[value=error]"))
            .await
            .expect("the Fail button")
            .click()
            .await
            .unwrap();
        let done = until_shown(client, "VIDEOERROR").await;
        assert!(done.contains("is now VIDEOERROR"), "{done}");
        let page = resource_url(&sim, "uanataca", "default", &pk.to_string());
        client.goto(&page).await.unwrap();
        let status = client
            .find(Locator::Id("status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(status, "VIDEOERROR");
        assert!(body_text(client)
            .await
            .contains("VIDEOPENDING → VIDEOERROR"));
        screenshot(client, "uanataca-timeline", None).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboards_clock_form_expires_an_envelope() {
    let sim = simulator().await;
    qitech_envelope(&sim, "env-late", "Joana Lima").await;
    qitech_envelope(&sim, "env-other", "Pedro Alves").await;
    let created = reqwest::Client::new()
        .post(sim.url("/uanataca/api/v1/videoid"))
        .json(
            &json!({ "mobile_phone_number": "+34611000010", "email": "video@example.com",
                       "registration_authority": "44", "profile": "PFnubeQAFCiudadano",
                       "videoid_mode": 1 }),
        )
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    with_browser("clock", async |client| {
        client.goto(&sim.url("/_signsim")).await.unwrap();
        assert!(body_text(client).await.contains("env-late"));
        let seconds = client
            .find(Locator::Css("#clock-form input[name=seconds]"))
            .await
            .unwrap();
        seconds.clear().await.unwrap();
        seconds.send_keys(&(11 * 86_400).to_string()).await.unwrap();
        client
            .find(Locator::Css("#clock-form button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Back on the dashboard, the envelope is expired.
        let dashboard = until_text(client, &sim.url("/_signsim"), "expired").await;
        assert!(dashboard.contains("env-late"), "{dashboard}");
        let rows = client
            .find_all(Locator::Css("#resources tr"))
            .await
            .unwrap();
        let mut expired = false;
        for row in rows {
            let text = row.text().await.unwrap();
            expired |= text.contains("env-late") && text.contains("expired");
        }
        assert!(expired, "{dashboard}");
        screenshot(client, "dashboard", Some("dashboard.png")).await;
        client
            .goto(&resource_url(&sim, "qitech", QI_KEY, "env-late"))
            .await
            .unwrap();
        let status = client
            .find(Locator::Id("status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(status, "expired");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signer_named_like_a_script_stays_text_on_every_page() {
    let sim = simulator().await;
    qitech_envelope(&sim, "env-script", SCRIPT).await;
    let process = identiasign_process(&sim, SCRIPT, SCRIPT, None).await;
    let verification = mensatek_verification(&sim, &format!("{SCRIPT} [LINK]")).await;
    with_browser("script", async |client| {
        let pages = [
            (sim.url("/_signsim"), false),
            (sim.url("/_signsim/inbox"), false),
            (resource_url(&sim, "qitech", QI_KEY, "env-script"), true),
        ];
        for (url, shows_name) in pages {
            client.goto(&url).await.unwrap();
            assert_no_alert(client, &url).await;
            let text = body_text(client).await;
            if shows_name {
                assert!(
                    text.contains(SCRIPT),
                    "{url} shows the name as text: {text}"
                );
            }
        }
        // The signer page, opened from the resource page's link.
        open_act_link(client).await;
        assert!(body_text(client)
            .await
            .contains(&format!("{SCRIPT}, you are asked to sign")));
        screenshot(client, "script-signer-page", None).await;

        // IdentiaSign and Mensatek: the resource page, then the page it links for the
        // person (IdentiaSign's shows the description and the alias).
        let others = [
            (
                resource_url(&sim, "identiasign", IDENTIA_USER, &process),
                true,
            ),
            (
                resource_url(&sim, "mensatek", MENSATEK_USER, &verification),
                false,
            ),
        ];
        for (url, page_shows_name) in others {
            client.goto(&url).await.unwrap();
            assert_no_alert(client, &url).await;
            let text = body_text(client).await;
            assert!(
                text.contains(SCRIPT),
                "{url} shows the name as text: {text}"
            );
            let link = open_act_link(client).await;
            let text = body_text(client).await;
            assert!(
                !page_shows_name || text.contains(&format!("Firmante: {SCRIPT}")),
                "{link} shows the name as text: {text}"
            );
        }
        screenshot(client, "script-identiasign-mensatek", None).await;
    })
    .await;
}

const IDENTIA_USER: &str = "entidad.pe";
const MENSATEK_USER: &str = "browser-user";

/// A created IdentiaSign process with one signer (`alias`, PER 12345678, by email) and
/// one document, reporting to `callback` when given; returns its id.
async fn identiasign_process(
    sim: &Running,
    description: &str,
    alias: &str,
    callback: Option<&str>,
) -> String {
    let http = reqwest::Client::new();
    let login: Value = http
        .post(sim.url("/identiasign/api/auth/login"))
        .json(
            &json!({ "username": IDENTIA_USER, "clientname": "api@entidad.pe",
                       "password": "s3cr3t" }),
        )
        .send()
        .await
        .expect("login sent")
        .json()
        .await
        .expect("login answer");
    let token = login["access_token"].as_str().expect("access_token");
    let signer = json!([{
        "nat": "PER", "doc_id": "12345678", "signerAlias": alias,
        "signatureType": "advanced", "signChallenges": ["facial"],
        "stampPositions": { "0": { "0": { "x": 1, "y": 1, "size": 8, "orientation": "horizontal" } } },
        "contactInfo": { "type": "email", "value": "rosa@example.com", "tz": "-05:00" }
    }]);
    let pdf = signsim::pki::text_pdf(
        "Contrato",
        &[("Purpose".into(), "signsim browser test".into())],
    );
    let mut form = reqwest::multipart::Form::new()
        .part(
            "pdfFiles",
            reqwest::multipart::Part::bytes(pdf).file_name("Contrato.pdf"),
        )
        .text("signers", signer.to_string())
        .text("description", description.to_owned());
    if let Some(url) = callback {
        form = form.text("urlCallback", url.to_owned());
    }
    let created = http
        .put(sim.url("/identiasign/api/signature_processes"))
        .header("authorization", format!("jwt-bearer {token}"))
        .multipart(form)
        .send()
        .await
        .expect("create sent");
    let status = created.status();
    let json: Value = created.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "{json}");
    json["id"].as_str().expect("the process id").to_owned()
}

/// A Mensatek verification of `34600000001` with `message` (which has `[LINK]`); returns
/// its id.
async fn mensatek_verification(sim: &Running, message: &str) -> String {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{MENSATEK_USER}:tok"));
    let sent: Value = reqwest::Client::new()
        .post(sim.url("/mensatek/VerificarIdentidad"))
        .header("authorization", format!("Basic {basic}"))
        .json(&json!({ "Telefono": "34600000001", "Mensaje": message, "Resp": "JSON" }))
        .send()
        .await
        .expect("VerificarIdentidad sent")
        .json()
        .await
        .expect("VerificarIdentidad answer");
    assert_eq!(sent[0]["Res"], "10", "{sent}");
    sent[0]["ID"]
        .as_str()
        .expect("the verification id")
        .to_owned()
}

/// How many webhook attempts the page's text shows answered 200.
fn answered_200(text: &str) -> usize {
    text.matches("answered 200").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identiasign_a_person_signs_from_the_inbox_and_the_callback_shows_on_the_timeline() {
    let sim = simulator().await;
    let hook = receiver().await;
    let id = identiasign_process(&sim, "Contrato de servicios", "Rosa Quispe", Some(&hook)).await;
    with_browser("identiasign", async |client| {
        // The person opens the link (`msg`) from the inbox.
        // The shared link asks who is signing first.
        let inbox = sim.url("/_signsim/inbox?provider=identiasign&channel=email");
        let link = "/_signsim/identiasign/ui/signature_processes/";
        open_from_inbox(client, &inbox, link, "select[name=signer]").await;
        assert!(body_text(client).await.contains("Contrato.pdf"));
        client
            .find(Locator::Css("form[method=get] button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let signing = until_shown(client, "Superar la validación facial").await;
        assert!(signing.contains("Rosa Quispe (PER:12345678)"), "{signing}");
        screenshot(client, "identiasign-signer-page", None).await;
        client
            // Each form posts through the link; its hidden `act` says which act it is.
            .find(Locator::Css(
                "input[name=act][value=sign] ~ button[type=submit]",
            ))
            .await
            .expect("the sign button")
            .click()
            .await
            .unwrap();
        let done = until_shown(client, "Firmado").await;
        assert!(done.contains("el proceso está firmado"), "{done}");

        // The resource's timeline shows the callback delivered.
        let page = resource_url(&sim, "identiasign", IDENTIA_USER, &id);
        let timeline = until_text(client, &page, "answered 200").await;
        let status = client
            .find(Locator::Id("status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(status, "signed");
        assert!(timeline.contains("pending → signed"), "{timeline}");
        assert!(timeline.contains("signed: Contrato.pdf"), "{timeline}");
        assert!(
            timeline.contains("tiene documentos por firmar"),
            "{timeline}"
        );
        screenshot(client, "identiasign-timeline", None).await;
        // The used link says so.
        client.back().await.unwrap();
        client.back().await.unwrap();
        client.refresh().await.unwrap();
        let used = body_text(client).await;
        assert!(used.contains("ya no se puede firmar"), "{used}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mensatek_a_person_verifies_from_the_inbox_and_the_reports_show_on_the_timeline() {
    let sim = simulator().await;
    let hook = receiver().await;
    call(
        &sim,
        reqwest::Method::POST,
        "/_signsim/mensatek/report-url",
        json!({ "api_user": MENSATEK_USER, "url": hook }),
    )
    .await;
    let id = mensatek_verification(&sim, "Verifique su identidad: [LINK]").await;
    with_browser("mensatek", async |client| {
        let inbox = sim.url("/_signsim/inbox?provider=mensatek&channel=sms");
        open_from_inbox(
            client,
            &inbox,
            "/_signsim/mensatek/v/",
            "button[value=verified]",
        )
        .await;
        assert!(body_text(client).await.contains(&id));
        screenshot(client, "mensatek-verification-page", None).await;
        client
            .find(Locator::Css("button[value=verified]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until_shown(client, "Your identity has been verified").await;

        // Sent, opened, in progress, verified: four reports, each answered 200.
        let page = resource_url(&sim, "mensatek", MENSATEK_USER, &id);
        let mut timeline = String::new();
        for _ in 0..50 {
            timeline = until_text(client, &page, "answered 200").await;
            if answered_200(&timeline) >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(answered_200(&timeline) >= 4, "{timeline}");
        let status = client
            .find(Locator::Id("status"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(status, "5010 (verified)");
        assert!(timeline.contains("Verifique su identidad"), "{timeline}");
        screenshot(client, "mensatek-timeline", None).await;

        // A minute later the certificate is there, and reported too.
        call(
            &sim,
            reqwest::Method::POST,
            "/_signsim/clock/advance",
            json!({ "seconds": 61 }),
        )
        .await;
        let later = until_text(client, &page, "verification certificate (PDF)").await;
        assert!(later.contains("5100 (certificate_available)"), "{later}");
        let href = client
            .find(Locator::Css("#documents a"))
            .await
            .expect("the certificate link")
            .attr("href")
            .await
            .unwrap()
            .expect("href");
        let url = if href.starts_with("http") {
            href
        } else {
            sim.url(&href)
        };
        let pdf = reqwest::get(&url).await.unwrap();
        assert_eq!(pdf.status(), 200);
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    })
    .await;
}

/// Issue 21: a tenant chooses its QI Tech signer's id so that the signing form would post
/// to `/_signsim/reset` (`../../../../reset#`); an admin, logged in with the token, opens the
/// link from the inbox and signs. The form posts to the signer's own act, and every other
/// tenant's data is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signing_a_hostile_signers_page_resets_nothing() {
    use base64::Engine as _;
    const ADMIN_TOKEN: &str = "browser-admin-token";
    const HOSTILE: &str = "../../../../reset#";
    let mut config = Config::default();
    config.engine.seed = Some(7);
    config.admin_token = Some(ADMIN_TOKEN.to_owned());
    let sim = spawn(config).await.expect("simulator starts");
    let http = reqwest::Client::new();
    let qi = async |method: reqwest::Method, key: &str, path: &str, body: Value| {
        let response = http
            .request(method, sim.url(path))
            .header("authorization", key)
            .json(&body)
            .send()
            .await
            .expect("request sent");
        (
            response.status(),
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    let date = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date();
    let expiration = format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    let envelope = |id: &str, signer: &str| {
        json!({ "id": id, "subject": "Contrato", "expiration_date": expiration,
                "signers": [{
            "id": signer, "name": "Maria Souza", "email": "maria@example.com",
            "birthdate": "1992-09-15", "document_number": "111.111.111-11",
            "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
            "document_submission_method": "email", "authentication_submission_method": "sms"
        }]})
    };
    let post = reqwest::Method::POST;
    // Another tenant's envelope: what a reset would erase.
    let (status, _) = qi(
        post.clone(),
        "victim-key",
        "/qitech/sign/envelope",
        envelope("env-victim", "1"),
    )
    .await;
    assert!(status.is_success());
    // The attacker's envelope, its signer id aimed at the reset (accepted, or refused at
    // creation: then the most hostile id the simulator takes).
    let mut signer_id = HOSTILE;
    let (status, answer) = qi(
        post.clone(),
        "attacker-key",
        "/qitech/sign/envelope",
        envelope("env-attack", signer_id),
    )
    .await;
    if !status.is_success() {
        signer_id = "a/b?c#d";
        let (status, _) = qi(
            post.clone(),
            "attacker-key",
            "/qitech/sign/envelope",
            envelope("env-attack", signer_id),
        )
        .await;
        assert!(status.is_success(), "{answer}");
    }
    let pdf = signsim::pki::text_pdf("Contrato", &[]);
    let (status, _) = qi(
        post,
        "attacker-key",
        "/qitech/sign/envelope/env-attack/document",
        json!({ "document_b64": base64::engine::general_purpose::STANDARD.encode(pdf),
                "name": "Contrato", "document_type": "pdf" }),
    )
    .await;
    assert!(status.is_success());
    let (status, _) = qi(
        reqwest::Method::PATCH,
        "attacker-key",
        "/qitech/sign/envelope/env-attack",
        json!({ "status": "submitted" }),
    )
    .await;
    assert!(status.is_success());
    let (_, attack) = qi(
        reqwest::Method::GET,
        "attacker-key",
        "/qitech/sign/envelope/env-attack",
        Value::Null,
    )
    .await;
    let link = attack["signers"][0]["signature_url"]
        .as_str()
        .expect("signature_url")
        .to_owned();
    let code = link.rsplit('/').next().expect("a code").to_owned();

    with_browser("hostile-signer", async |client| {
        // The admin logs in with the token.
        client.goto(&sim.url("/_signsim/login")).await.unwrap();
        client
            .find(Locator::Css("input[name=token]"))
            .await
            .expect("the login form")
            .send_keys(ADMIN_TOKEN)
            .await
            .unwrap();
        client
            .find(Locator::Css("button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until_shown(client, "Resources").await;
        // ...opens the attacker's link from the inbox and signs.
        let inbox = sim.url("/_signsim/inbox?provider=qitech&channel=email");
        open_from_inbox(client, &inbox, &code, "input[name=cpf]").await;
        let outbox: Value = http
            .get(sim.url("/_signsim/outbox?provider=qitech&channel=sms"))
            .header("x-signsim-admin-token", ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let otp = outbox.as_array().and_then(|m| m.last()).expect("a token")["otp"]
            .as_str()
            .expect("otp")
            .to_owned();
        client
            .find(Locator::Css("input[name=cpf]"))
            .await
            .unwrap()
            .send_keys("111.111.111-11")
            .await
            .unwrap();
        client
            .find(Locator::Css("input[name=token]"))
            .await
            .unwrap()
            .send_keys(&otp)
            .await
            .unwrap();
        client
            .find(Locator::Css("button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let done = until_shown(client, "Thank you").await;
        assert!(done.contains("Everyone has signed"), "{done}");
        screenshot(client, "hostile-signer-signed", None).await;
    })
    .await;

    // The click signed the attacker's own signer and reset nothing.
    let (status, victim) = qi(
        reqwest::Method::GET,
        "victim-key",
        "/qitech/sign/envelope/env-victim",
        Value::Null,
    )
    .await;
    assert!(
        status.is_success(),
        "the other tenant's envelope is gone: {victim}"
    );
    let (_, attack) = qi(
        reqwest::Method::GET,
        "attacker-key",
        "/qitech/sign/envelope/env-attack",
        Value::Null,
    )
    .await;
    assert_eq!(attack["signers"][0]["id"], signer_id);
    assert_eq!(attack["signers"][0]["status"], "signed", "{attack}");
}
