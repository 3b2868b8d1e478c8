//! Issue 21, the providers' part: a value that lands in a URL a page or a link builds is
//! encoded as what it is (hostile ids and tenants lead back to their own resource, never
//! elsewhere); QI Tech refuses the ids URL parsers treat specially; IdentiaSign's entity
//! password protects the entity; an open signer act needs the link code; the Video ID page
//! is reached by an unguessable code only and shows only its own request.

use crate::common::{answer, sample_pdf, start, start_with, Answer, Sim};
use base64::Engine as _;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use signsim::Config;

const TOKEN: &str = "admin-t0ken";
/// An id or tenant name made of what a URL treats specially.
const HOSTILE: &str = "a/b?c#d";

async fn start_guarded() -> Sim {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config.admin_token = Some(TOKEN.to_owned());
    start_with(config).await
}

/// Every character but letters and digits percent-encoded: a value put in a path by hand.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.bytes).into_owned()
}

/// Every `name="..."` attribute value of `html` (`href`, `action`), unescaped.
fn attributes(html: &str, name: &str) -> Vec<String> {
    let marker = format!("{name}=\"");
    html.split(&marker)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(html_unescape)
        .collect()
}

/// `reference` resolved against `page` as a browser resolves it.
fn resolve(page: &str, reference: &str) -> url::Url {
    url::Url::parse(page)
        .expect("page URL")
        .join(reference)
        .expect("a resolvable reference")
}

/// The hidden inputs of the `n`th form (0-based) of `html`, and the form's action resolved
/// against `page`.
fn form_of(page: &str, html: &str, n: usize) -> (url::Url, Vec<(String, String)>) {
    let form = html
        .split("<form")
        .nth(n + 1)
        .unwrap_or_else(|| panic!("no form {n} on {page}: {html}"));
    let form = form.split("</form>").next().unwrap_or(form);
    let action = attributes(form, "action")
        .into_iter()
        .next()
        .unwrap_or_default();
    let hidden = form
        .split("<input")
        .skip(1)
        .filter(|input| input.contains("type=\"hidden\""))
        .filter_map(|input| {
            let name = attributes(input, "name").into_iter().next()?;
            let value = attributes(input, "value").into_iter().next()?;
            Some((name, value))
        })
        .collect();
    (resolve(page, &action), hidden)
}

/// Posts form `n` of the page at `page` (its hidden inputs and `fields`) as a browser.
async fn submit(
    sim: &Sim,
    page: &str,
    html: &str,
    n: usize,
    fields: &[(&str, &str)],
    admin: bool,
) -> (url::Url, Answer) {
    let (action, mut posted) = form_of(page, html, n);
    posted.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut request = sim
        .http
        .post(action.clone())
        .header("accept", "text/html")
        .form(&posted);
    if admin {
        request = request.header("x-signsim-admin-token", TOKEN);
    }
    (action, answer(request.send().await.unwrap()).await)
}

async fn browse_as_admin(sim: &Sim, url: &str) -> Answer {
    let response = sim
        .http
        .get(url)
        .header("accept", "text/html")
        .header("x-signsim-admin-token", TOKEN)
        .send()
        .await
        .unwrap();
    answer(response).await
}

/// Every link (`href`) of the page at `page` under `/_signsim/` other than the header's,
/// resolved.
fn links_of(page: &str, html: &str) -> Vec<url::Url> {
    attributes(html, "href")
        .iter()
        .map(|href| resolve(page, href))
        .filter(|url| url.path().starts_with("/_signsim/"))
        .filter(|url| !["/_signsim/inbox", "/_signsim/outbox"].contains(&url.path()))
        .collect()
}

// QI Tech.

fn in_days(days: i64) -> String {
    let date = (time::OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn qi_signer(id: &str) -> Value {
    json!({
        "id": id,
        "name": "John Sample",
        "email": "john@example.com",
        "birthdate": "1992-09-15",
        "document_number": "111.111.111-11",
        "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
        "document_submission_method": "email",
        "authentication_submission_method": "sms"
    })
}

async fn qi(sim: &Sim, method: reqwest::Method, key: &str, path: &str, body: Value) -> Answer {
    let request = sim
        .http
        .request(method, sim.url(&format!("/qitech{path}")))
        .header("authorization", key)
        .json(&body);
    answer(request.send().await.unwrap()).await
}

/// Creates envelope `id` with one signer `signer_id` under `key`; the creation's answer.
async fn qi_create(sim: &Sim, key: &str, id: &str, signer_id: &str) -> Answer {
    let body = json!({
        "id": id,
        "subject": "CCB QiTech",
        "expiration_date": in_days(10),
        "signers": [qi_signer(signer_id)],
    });
    qi(sim, reqwest::Method::POST, key, "/sign/envelope", body).await
}

/// Envelope `id` with one signer `signer_id`, a document, submitted; the signer's
/// `signature_url`.
async fn qi_submitted(sim: &Sim, key: &str, id: &str, signer_id: &str) -> String {
    let created = qi_create(sim, key, id, signer_id).await;
    assert_eq!(created.status, 201, "{}", text(&created));
    let pdf = base64::engine::general_purpose::STANDARD.encode(sample_pdf("Contrato"));
    let path = format!("/sign/envelope/{}", enc(id));
    let document = json!({ "document_b64": pdf, "name": "Contrato", "document_type": "pdf" });
    let added = qi(
        sim,
        reqwest::Method::POST,
        key,
        &format!("{path}/document"),
        document,
    )
    .await;
    assert_eq!(added.status, 201, "{}", text(&added));
    let patched = qi(
        sim,
        reqwest::Method::PATCH,
        key,
        &path,
        json!({ "status": "submitted" }),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", text(&patched));
    let envelope = qi(sim, reqwest::Method::GET, key, &path, json!(null)).await;
    envelope.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", text(&envelope)))
        .to_owned()
}

/// The authentication token last sent for QI Tech.
async fn qi_token(sim: &Sim, admin: bool) -> String {
    let mut request = sim
        .http
        .get(sim.url("/_signsim/outbox?provider=qitech&channel=sms"));
    if admin {
        request = request.header("x-signsim-admin-token", TOKEN);
    }
    let outbox = answer(request.send().await.unwrap()).await.json();
    outbox.as_array().unwrap().last().unwrap()["otp"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn qitech_ids_cannot_aim_the_signing_form_outside_its_page() {
    let sim = start().await;
    // `..`, `.`, a control character: refused at creation, in QI Tech's error shape.
    for (id, signer) in [
        ("env-dots", ".."),
        ("env-dot", "."),
        ("..", "1"),
        (".", "1"),
        ("env-ctl", "a\u{7}b"),
        ("env\nnl", "1"),
    ] {
        let refused = qi_create(&sim, "qi-key", id, signer).await;
        assert_eq!(refused.status, 400, "{id:?} {signer:?}: {}", text(&refused));
        let body = refused.json();
        for member in ["title", "description", "translation", "code"] {
            assert!(body[member].is_string(), "{member}: {body}");
        }
    }
    // A document id of dots is refused the same way.
    let created = qi_create(&sim, "qi-key", "env-doc", "1").await;
    assert_eq!(created.status, 201);
    let pdf = base64::engine::general_purpose::STANDARD.encode(sample_pdf("Contrato"));
    let refused = qi(
        &sim,
        reqwest::Method::POST,
        "qi-key",
        "/sign/envelope/env-doc/document",
        json!({ "id": "..", "document_b64": pdf, "name": "C", "document_type": "pdf" }),
    )
    .await;
    assert_eq!(refused.status, 400, "{}", text(&refused));

    // The id of the report: accepted, but its form stays under the signing page.
    for signer in ["../../../../reset#", "..%2F..%2Freset", "a/b?c#d"] {
        let id = format!("env-{}", enc(signer));
        let link = qi_submitted(&sim, "qi-key", &id, signer).await;
        let page = sim.browse(&link).await;
        assert_eq!(page.status, 200, "{}", text(&page));
        let (action, _) = form_of(&link, &text(&page), 0);
        assert!(
            action.path().starts_with("/_signsim/qitech/"),
            "{signer}: the form posts to {action}"
        );
    }
}

/// Every provider's pages, for a resource whose id or tenant is `a/b?c#d` (where the
/// provider lets the client choose it), build links and forms that lead back to that very
/// resource.
#[tokio::test]
async fn every_provider_page_with_hostile_ids_leads_back_to_its_resource() {
    let sim = start().await;
    qitech_page_with_hostile_ids_signs_its_own_signer(&sim).await;
    identiasign_page_of_a_hostile_entity_signs_its_own_signer(&sim).await;
    signal_and_mensatek_pages_of_hostile_tenants_act_on_their_own(&sim).await;
    videoid_page_of_a_hostile_tenant_completes_its_request(&sim, HOSTILE).await;
}

async fn qitech_page_with_hostile_ids_signs_its_own_signer(sim: &Sim) {
    let key = "qa&team #2";
    let link = qi_submitted(sim, key, HOSTILE, HOSTILE).await;
    // The resource page's links lead to this envelope's files and page.
    let resource = sim.url(&format!(
        "/_signsim/resources/qitech/{}/{}",
        enc(key),
        enc(HOSTILE)
    ));
    let opened = sim.browse(&resource).await;
    assert_eq!(opened.status, 200, "{}", text(&opened));
    let links = links_of(&resource, &text(&opened));
    assert!(links.iter().any(|l| l.as_str() == link), "{links:?}");
    for url in &links {
        let got = sim.browse(url.as_str()).await;
        assert_eq!(got.status, 200, "{url}: {}", text(&got));
    }
    // The signing page's form signs this very signer.
    let page = sim.browse(&link).await;
    let otp = qi_token(sim, false).await;
    let (action, signed) = submit(
        sim,
        &link,
        &text(&page),
        0,
        &[("cpf", "111.111.111-11"), ("token", &otp)],
        false,
    )
    .await;
    assert_eq!(signed.status, 200, "{action}: {}", text(&signed));
    let envelope = qi(
        sim,
        reqwest::Method::GET,
        key,
        &format!("/sign/envelope/{}", enc(HOSTILE)),
        json!(null),
    )
    .await
    .json();
    assert_eq!(envelope["signers"][0]["status"], "signed", "{envelope}");
}

// IdentiaSign.

fn id_form(doc_id: &str) -> Form {
    let signers = json!([{
        "nat": "PER",
        "doc_id": doc_id,
        "signatureType": "advanced",
        "signChallenges": ["facial"],
        "stampPositions": { "0": { "0": { "x": 1, "y": 1, "size": 8, "orientation": "horizontal" } } },
        "contactInfo": { "type": "email", "value": "a@example.com", "tz": "-05:00" }
    }]);
    Form::new()
        .part(
            "pdfFiles",
            Part::bytes(sample_pdf("Contrato")).file_name("Contrato.pdf"),
        )
        .text("signers", signers.to_string())
}

async fn id_login(sim: &Sim, username: &str, password: &str) -> Answer {
    sim.post_json(
        &sim.url("/identiasign/api/auth/login"),
        json!({ "username": username, "clientname": "app", "password": password }),
    )
    .await
}

async fn id_call(sim: &Sim, method: reqwest::Method, path: &str, token: &str) -> Answer {
    let request = sim
        .http
        .request(method, sim.url(&format!("/identiasign{path}")))
        .header("authorization", format!("jwt-bearer {token}"));
    answer(request.send().await.unwrap()).await
}

/// A process of one signer (PER:12345678) of the entity of `token`: its id and `msg`.
async fn id_process(sim: &Sim, token: &str) -> (String, String) {
    let created = sim
        .http
        .put(sim.url("/identiasign/api/signature_processes"))
        .header("authorization", format!("jwt-bearer {token}"))
        .multipart(id_form("12345678"))
        .send()
        .await
        .unwrap();
    let created = answer(created).await;
    assert_eq!(created.status, 201, "{}", text(&created));
    let body = created.json();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["msg"].as_str().unwrap().to_owned(),
    )
}

fn b64url(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

fn hs256(key: &[u8], header: &Value, claims: &Value) -> String {
    use hmac::Mac;
    let signed = format!("{}.{}", b64url(header), b64url(claims));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(signed.as_bytes());
    let signature =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

#[tokio::test]
async fn identiasign_password_accepts_only_its_own_login_tokens() {
    let sim = start().await;
    let protected = "seguro.pe";
    let set = sim
        .post_json(
            &sim.url("/_signsim/identiasign/config"),
            json!({ "username": protected, "password": "s3cr3t" }),
        )
        .await;
    assert_eq!(set.status, 200, "{}", text(&set));
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let claims = json!({ "sub": protected, "username": protected, "exp": exp });
    let none = format!(
        "{}.{}.",
        b64url(&json!({ "alg": "none", "typ": "JWT" })),
        b64url(&claims)
    );
    let none_upper = format!(
        "{}.{}.x",
        b64url(&json!({ "alg": "NONE", "typ": "JWT" })),
        b64url(&claims)
    );
    let empty_key = hs256(b"", &json!({ "alg": "HS256", "typ": "JWT" }), &claims);
    // A real token of another entity with its `sub` changed.
    let other = id_login(&sim, "otra.pe", "x").await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = other.split('.').collect();
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    let mut changed = payload.clone();
    changed["sub"] = json!(protected);
    let tampered = format!("{}.{}.{}", parts[0], b64url(&changed), parts[2]);
    for (name, forged) in [
        ("alg none", &none),
        ("alg NONE", &none_upper),
        ("HS256 empty key", &empty_key),
        ("sub changed", &tampered),
    ] {
        let listed = id_call(
            &sim,
            reqwest::Method::GET,
            "/api/signature_processes",
            forged,
        )
        .await;
        assert_eq!(listed.status, 401, "{name}: {}", text(&listed));
    }
    // The wrong password gets no token; the right one's token works.
    assert_ne!(id_login(&sim, protected, "wrong").await.status, 200);
    let real = id_login(&sim, protected, "s3cr3t").await;
    assert_eq!(real.status, 200);
    let real = real.json()["access_token"].as_str().unwrap().to_owned();
    id_process(&sim, &real).await;
    let listed = id_call(
        &sim,
        reqwest::Method::GET,
        "/api/signature_processes",
        &real,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", text(&listed));
    // A token signed before the password changed no longer opens the entity.
    let changed = sim
        .post_json(
            &sim.url("/_signsim/identiasign/config"),
            json!({ "username": protected, "password": "n3w" }),
        )
        .await;
    assert_eq!(changed.status, 200);
    let stale = id_call(
        &sim,
        reqwest::Method::GET,
        "/api/signature_processes",
        &real,
    )
    .await;
    assert_eq!(stale.status, 401, "{}", text(&stale));

    // Fidelity: an entity without a password takes the tokens users hold for the real
    // service (any well-formed JWT but alg none), as before.
    let open_claims = json!({ "sub": "abierta.pe", "exp": exp });
    let foreign = hs256(
        b"the real service's key",
        &json!({ "alg": "HS256", "typ": "JWT" }),
        &open_claims,
    );
    id_process(&sim, &foreign).await;
    let listed = id_call(
        &sim,
        reqwest::Method::GET,
        "/api/signature_processes",
        &foreign,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", text(&listed));
    let none = format!(
        "{}.{}.",
        b64url(&json!({ "alg": "None" })),
        b64url(&open_claims)
    );
    let listed = id_call(
        &sim,
        reqwest::Method::GET,
        "/api/signature_processes",
        &none,
    )
    .await;
    assert_eq!(listed.status, 401, "alg none never: {}", text(&listed));
}

#[tokio::test]
async fn identiasign_open_signer_acts_need_the_link_code() {
    let sim = start_guarded().await;
    let token = id_login(&sim, "entidad.pe", "x").await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (id, msg) = id_process(&sim, &token).await;
    // Naming the entity is not enough without the admin token.
    for act in ["sign", "reject", "fail-facial"] {
        let forged = sim
            .post_json(
                &sim.url(&format!(
                    "/_signsim/identiasign/processes/{id}/signers/PER:12345678/{act}"
                )),
                json!({ "username": "entidad.pe" }),
            )
            .await;
        assert_eq!(forged.status, 401, "{act}: {}", text(&forged));
    }
    let status = id_call(
        &sim,
        reqwest::Method::GET,
        "/api/signature_processes",
        &token,
    )
    .await
    .json()["signatureProcesses"][0]["status"]
        .clone();
    assert_eq!(status, "pending");
    // The person holding the link signs through the page's form.
    let page = format!("{msg}?signer=PER:12345678");
    let opened = sim.browse(&page).await;
    assert_eq!(opened.status, 200, "{}", text(&opened));
    let (action, signed) = submit(&sim, &page, &text(&opened), 0, &[], false).await;
    assert_eq!(signed.status, 200, "{action}: {}", text(&signed));
    let status = id_call(
        &sim,
        reqwest::Method::GET,
        "/api/signature_processes",
        &token,
    )
    .await
    .json()["signatureProcesses"][0]["status"]
        .clone();
    assert_eq!(status, "signed");
    // The admin (with the token) may still act by naming the entity.
    let (other, _) = id_process(&sim, &token).await;
    let by_admin = sim
        .http
        .post(sim.url(&format!(
            "/_signsim/identiasign/processes/{other}/signers/PER:12345678/reject"
        )))
        .header("x-signsim-admin-token", TOKEN)
        .json(&json!({ "username": "entidad.pe" }))
        .send()
        .await
        .unwrap();
    assert_eq!(by_admin.status(), 200);
}

async fn identiasign_page_of_a_hostile_entity_signs_its_own_signer(sim: &Sim) {
    let token = id_login(sim, HOSTILE, "x").await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (id, _) = id_process(sim, &token).await;
    let resource = sim.url(&format!(
        "/_signsim/resources/identiasign/{}/{}",
        enc(HOSTILE),
        enc(&id)
    ));
    let opened = sim.browse(&resource).await;
    assert_eq!(opened.status, 200, "{}", text(&opened));
    let links = links_of(&resource, &text(&opened));
    assert!(links.len() >= 2, "{links:?}");
    for url in &links {
        let got = sim.browse(url.as_str()).await;
        assert_eq!(got.status, 200, "{url}: {}", text(&got));
    }
    let page = links
        .iter()
        .find(|l| l.path().contains("/ui/signature_processes/"))
        .expect("the signing page")
        .to_string();
    let opened = sim.browse(&page).await;
    let (action, signed) = submit(sim, &page, &text(&opened), 0, &[], false).await;
    assert_eq!(signed.status, 200, "{action}: {}", text(&signed));
    let listed = id_call(
        sim,
        reqwest::Method::GET,
        "/api/signature_processes",
        &token,
    )
    .await;
    assert_eq!(listed.json()["signatureProcesses"][0]["status"], "signed");
}

// Signal and Mensatek.

async fn signal_and_mensatek_pages_of_hostile_tenants_act_on_their_own(sim: &Sim) {
    // Signal: the tenant is the bearer token.
    let created = sim
        .http
        .post(sim.url("/signal/biometric"))
        .header("authorization", "Bearer a/b+c.d~")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let created = answer(created).await;
    assert_eq!(created.status, 200, "{}", text(&created));
    let link = created.json()["url"].as_str().unwrap().to_owned();
    let opened = sim.browse(&link).await;
    assert_eq!(opened.status, 200);
    let (action, done) = submit(
        sim,
        &link,
        &text(&opened),
        0,
        &[("outcome", "passed")],
        false,
    )
    .await;
    assert_eq!(done.status, 200, "{action}: {}", text(&done));
    assert_eq!(sim.browse(&link).await.status, 410, "the check is done");

    // Mensatek: the tenant is the API user.
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{HOSTILE}:tok"))
    );
    let sent = sim
        .http
        .post(sim.url("/mensatek/VerificarIdentidad"))
        .header("authorization", basic)
        .json(&json!({ "Telefono": "34600000001", "Resp": "JSON" }))
        .send()
        .await
        .unwrap();
    let sent = answer(sent).await;
    let id = sent.json()[0]["ID"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", text(&sent)))
        .to_owned();
    let outbox = sim
        .get(&sim.url("/_signsim/outbox?provider=mensatek"))
        .await
        .json();
    let link = outbox[0]["link"].as_str().unwrap().to_owned();
    let opened = sim.browse(&link).await;
    assert_eq!(opened.status, 200, "{}", text(&opened));
    let (action, done) = submit(
        sim,
        &link,
        &text(&opened),
        0,
        &[("outcome", "verified")],
        false,
    )
    .await;
    assert_eq!(done.status, 200, "{action}: {}", text(&done));
    // The certificate comes a minute later.
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": 61 }),
        )
        .await;
    assert_eq!(moved.status, 200);
    let resource = sim.url(&format!(
        "/_signsim/resources/mensatek/{}/{}",
        enc(HOSTILE),
        enc(&id)
    ));
    crate::receiver::eventually("the certificate", async || {
        text(&sim.browse(&resource).await).contains("/certificate")
    })
    .await;
    let opened = sim.browse(&resource).await;
    assert_eq!(opened.status, 200, "{}", text(&opened));
    let certificate = links_of(&resource, &text(&opened))
        .into_iter()
        .find(|l| l.path().ends_with("/certificate"))
        .expect("the certificate's link");
    let got = sim.get(certificate.as_str()).await;
    assert_eq!(got.status, 200, "{certificate}: {}", text(&got));
    assert_eq!(got.content_type, "application/pdf");
}

// Uanataca Video ID.

/// A Video ID request of `tenant` for `phone`: its pk and `videoid_link`.
async fn video(sim: &Sim, tenant: &str, phone: &str) -> (u64, String) {
    let created = sim
        .http
        .post(sim.url("/uanataca/api/v1/videoid"))
        .header("x-signsim-tenant", tenant)
        .json(&json!({ "mobile_phone_number": phone, "email": "v@example.com", "videoid_mode": 1 }))
        .send()
        .await
        .unwrap();
    let created = answer(created).await;
    assert_eq!(created.status, 200, "{}", text(&created));
    let details = created.json()["details"].clone();
    (
        details["request_pk"].as_u64().unwrap(),
        details["videoid_link"].as_str().unwrap().to_owned(),
    )
}

/// Item 15: `qa&team #2` as an Uanataca tenant.
#[tokio::test]
async fn videoid_link_of_a_hostile_tenant_opens_its_request() {
    let sim = start().await;
    videoid_page_of_a_hostile_tenant_completes_its_request(&sim, "qa&team #2").await;
}

async fn videoid_page_of_a_hostile_tenant_completes_its_request(sim: &Sim, tenant: &str) {
    let (pk, link) = video(sim, tenant, "+34611000001").await;
    let page = sim.browse(&link).await;
    assert_eq!(page.status, 200, "{tenant}: {link}: {}", text(&page));
    assert!(text(&page).contains("+34611000001"), "{}", text(&page));
    let (action, done) = submit(sim, &link, &text(&page), 0, &[("outcome", "review")], false).await;
    assert_eq!(done.status, 200, "{action}: {}", text(&done));
    // The done page's link leads to this request's resource page.
    for url in links_of(action.as_str(), &text(&done)) {
        let got = sim.browse(url.as_str()).await;
        assert_eq!(got.status, 200, "{url}");
        assert!(text(&got).contains(&pk.to_string()));
    }
    let status = sim
        .http
        .get(sim.url(&format!("/uanataca/api/v1/request/{pk}")))
        .header("x-signsim-tenant", tenant)
        .send()
        .await
        .unwrap();
    let status = answer(status).await;
    assert!(text(&status).contains("VIDEOREVIEW"), "{}", text(&status));
}

#[tokio::test]
async fn videoid_page_is_reached_by_its_code_only() {
    let sim = start_guarded().await;
    let (pk, link) = video(&sim, "t1", "+34611000001").await;
    let (other_pk, _) = video(&sim, "t2", "+34622000002").await;
    // By number: not open (the admin token is needed), whoever's request it is.
    for path in [
        format!("/_signsim/uanataca/videoid/{pk}?tenant=t1"),
        format!("/_signsim/uanataca/videoid/{other_pk}?tenant=t2"),
        format!("/_signsim/uanataca/videoid/{pk}"),
    ] {
        let opened = sim.browse(&sim.url(&path)).await;
        assert_ne!(opened.status, 200, "{path}");
        assert!(!text(&opened).contains("+346"), "{path}: {}", text(&opened));
    }
    let completed = sim
        .post_json(
            &sim.url(&format!(
                "/_signsim/uanataca/videoid/{pk}/complete?tenant=t1"
            )),
            json!({ "outcome": "error" }),
        )
        .await;
    assert_eq!(completed.status, 401, "{}", text(&completed));
    // By its code: its own request only.
    let code = link.rsplit('/').next().unwrap();
    assert!(
        code.len() >= 32 && code.bytes().all(|b| b.is_ascii_hexdigit()),
        "{link}"
    );
    let page = sim.browse(&link).await;
    assert_eq!(page.status, 200, "{}", text(&page));
    assert!(text(&page).contains("+34611000001"));
    assert!(!text(&page).contains("+34622000002"));
    let guessed = format!("{}0", &link[..link.len() - 1]);
    let guessed = if guessed == link {
        format!("{}1", &link[..link.len() - 1])
    } else {
        guessed
    };
    assert_eq!(sim.browse(&guessed).await.status, 404);
    // The admin still opens it by number.
    let by_admin = browse_as_admin(
        &sim,
        &sim.url(&format!("/_signsim/uanataca/videoid/{other_pk}?tenant=t2")),
    )
    .await;
    assert_eq!(by_admin.status, 200);
    assert!(text(&by_admin).contains("+34622000002"));
    // The person finishes through the page's form, without the token.
    let (action, done) = submit(
        &sim,
        &link,
        &text(&page),
        0,
        &[("outcome", "review")],
        false,
    )
    .await;
    assert_eq!(done.status, 200, "{action}: {}", text(&done));
    assert_eq!(sim.browse(&link).await.status, 410, "the link is used");
}

/// The same rule for Mensatek's person's act: `api_user` is a name, not a secret.
#[tokio::test]
async fn mensatek_open_act_needs_the_link_code() {
    let sim = start_guarded().await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("api-user-alpha:tok")
    );
    let sent = sim
        .http
        .post(sim.url("/mensatek/VerificarIdentidad"))
        .header("authorization", basic)
        .json(&json!({ "Telefono": "34600000001", "Resp": "JSON" }))
        .send()
        .await
        .unwrap();
    let sent = answer(sent).await;
    let id = sent.json()[0]["ID"].as_str().unwrap().to_owned();
    let forged = sim
        .post_json(
            &sim.url(&format!("/_signsim/mensatek/verifications/{id}/complete")),
            json!({ "api_user": "api-user-alpha", "outcome": "verified" }),
        )
        .await;
    assert_eq!(forged.status, 401, "{}", text(&forged));
    let outbox = sim
        .http
        .get(sim.url("/_signsim/outbox?provider=mensatek"))
        .header("x-signsim-admin-token", TOKEN)
        .send()
        .await
        .unwrap();
    let link = answer(outbox).await.json()[0]["link"]
        .as_str()
        .unwrap()
        .to_owned();
    let opened = sim.browse(&link).await;
    assert_eq!(opened.status, 200, "{}", text(&opened));
    let (action, done) = submit(
        &sim,
        &link,
        &text(&opened),
        0,
        &[("outcome", "verified")],
        false,
    )
    .await;
    assert_eq!(done.status, 200, "{action}: {}", text(&done));
    assert!(text(&done).contains("has been verified"), "{}", text(&done));
}
