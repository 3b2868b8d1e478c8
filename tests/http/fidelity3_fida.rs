//! Issue 23, IdentiaSign: a reject of several processes (every reading a client sends),
//! the callback's `facial.id` shape, the choices `docs/fidelity.md` writes down (the
//! callback's `urlCallback`, `sign_data` of a signer who rejects, the `signOrder`
//! spellings, a login body that is not JSON) and error texts in Spanish throughout.

use crate::common::{answer, sample_pdf, start, Answer, Sim};
use crate::receiver::{self, eventually};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

const USER: &str = "entidad.pe";

fn u(sim: &Sim, path: &str) -> String {
    sim.url(&format!("/identiasign{path}"))
}

async fn login(sim: &Sim) -> String {
    let answered = sim
        .post_json(
            &u(sim, "/api/auth/login"),
            json!({ "username": USER, "clientname": "api@entidad.pe", "password": "x" }),
        )
        .await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());
    answered.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// A call with the token; `body` as the builder sets it.
async fn call(
    sim: &Sim,
    method: Method,
    path: &str,
    token: &str,
    body: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Answer {
    let request = sim
        .http
        .request(method, u(sim, path))
        .header("authorization", format!("jwt-bearer {token}"));
    answer(body(request).send().await.expect("request sent")).await
}

fn create_form(doc_id: &str, extra: &[(&str, &str)]) -> Form {
    let signers = json!([{
        "nat": "PER", "doc_id": doc_id, "signatureType": "advanced", "signChallenges": ["facial"],
        "contactInfo": { "type": "email", "value": "firmante@example.com", "tz": "-05:00" }
    }]);
    let mut form = Form::new()
        .part(
            "pdfFiles",
            Part::bytes(sample_pdf("Contrato")).file_name("Contrato.pdf"),
        )
        .text("signers", signers.to_string());
    for (name, value) in extra {
        form = form.text(name.to_string(), value.to_string());
    }
    form
}

async fn create_with(sim: &Sim, token: &str, extra: &[(&str, &str)]) -> Answer {
    let form = create_form("12345678", extra);
    call(sim, Method::PUT, "/api/signature_processes", token, |r| {
        r.multipart(form)
    })
    .await
}

async fn create(sim: &Sim, token: &str) -> String {
    let created = create_with(sim, token, &[]).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    created.json()["id"].as_str().expect("an id").to_owned()
}

async fn status_of(sim: &Sim, token: &str, id: &str) -> String {
    let query: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let listed = call(
        sim,
        Method::GET,
        &format!("/api/signature_processes?process_id={query}"),
        token,
        |r| r,
    )
    .await;
    assert_eq!(listed.status, 200, "{:?}", listed.json());
    listed.json()["signatureProcesses"][0]["status"]
        .as_str()
        .expect("a status")
        .to_owned()
}

async fn reject(
    sim: &Sim,
    token: &str,
    body: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Answer {
    call(sim, Method::DELETE, "/api/signature_processes", token, body).await
}

/// A signer's act through the admin API.
async fn act(sim: &Sim, id: &str, what: &str) -> Answer {
    sim.post_json(
        &sim.url(&format!(
            "/_signsim/identiasign/processes/{id}/signers/PER:12345678/{what}"
        )),
        json!({ "username": USER }),
    )
    .await
}

/// Item 2: "uno o varios procesos". Each reading a client sends names several processes,
/// and every one of them is rejected (not only the last).
#[tokio::test]
async fn a_reject_of_several_processes_rejects_each_in_every_reading() {
    let sim = start().await;
    let token = login(&sim).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(create(&sim, &token).await);
    }
    let pair = |n: usize| (ids[2 * n].clone(), ids[2 * n + 1].clone());

    // multipart/form-data, the documented Content-Type: the field repeated.
    let (a, b) = pair(0);
    let form = Form::new()
        .text("process_id", a.clone())
        .text("process_id", b.clone());
    let answered = reject(&sim, &token, |r| r.multipart(form)).await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());
    // As PHP and Rails forms name a list.
    let (c, d) = pair(1);
    let form = Form::new()
        .text("process_id[]", c.clone())
        .text("process_id[]", d.clone());
    let answered = reject(&sim, &token, |r| r.multipart(form)).await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());
    // One field holding a JSON list, as `signers` and `labels` are sent.
    let (e, f) = pair(2);
    let form = Form::new().text("process_id", json!([e, f]).to_string());
    let answered = reject(&sim, &token, |r| r.multipart(form)).await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());
    // A JSON body with a list.
    let (g, h) = pair(3);
    let answered = reject(&sim, &token, |r| r.json(&json!({ "process_id": [g, h] }))).await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());
    // A URL-encoded form, the field repeated.
    let (i, j) = pair(4);
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("process_id", &i)
        .append_pair("process_id", &j)
        .finish();
    let answered = reject(&sim, &token, |r| {
        r.header("content-type", "application/x-www-form-urlencoded")
            .body(encoded)
    })
    .await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());

    for id in &ids {
        assert_eq!(status_of(&sim, &token, id).await, "rejected", "{id}");
    }
}

/// Item 2: a mix of rejectable and not-rejectable processes rejects none of them, and the
/// answer names each one that stood in the way (the single-process status: 404 for an
/// unknown one, else 403 for one in a state that cannot be rejected).
#[tokio::test]
async fn a_reject_of_a_mix_rejects_none_and_names_each_in_the_way() {
    let sim = start().await;
    let token = login(&sim).await;
    let pending = create(&sim, &token).await;
    let other = create(&sim, &token).await;
    let done = create(&sim, &token).await;
    assert_eq!(act(&sim, &done, "sign").await.status, 200);
    let unknown = "0123456789abcdef0123456789abcdef:0123456789abcdef";

    let form = Form::new()
        .text("process_id", pending.clone())
        .text("process_id", unknown)
        .text("process_id", done.clone());
    let answered = reject(&sim, &token, |r| r.multipart(form)).await;
    assert_eq!(answered.status, 404, "{:?}", answered.json());
    let msg = answered.json()["msg"].as_str().expect("msg").to_owned();
    assert!(msg.contains(unknown), "{msg}");
    assert!(!msg.contains(&pending), "{msg}");

    let form = Form::new()
        .text("process_id", pending.clone())
        .text("process_id", done.clone())
        .text("process_id", other.clone());
    let answered = reject(&sim, &token, |r| r.multipart(form)).await;
    assert_eq!(answered.status, 403, "{:?}", answered.json());
    let msg = answered.json()["msg"].as_str().expect("msg").to_owned();
    assert!(msg.contains(&done) && msg.contains("signed"), "{msg}");
    assert!(!msg.contains(&pending) && !msg.contains(&other), "{msg}");

    // Nothing was rejected by either call.
    assert_eq!(status_of(&sim, &token, &pending).await, "pending");
    assert_eq!(status_of(&sim, &token, &other).await, "pending");
    assert_eq!(status_of(&sim, &token, &done).await, "signed");

    // The same process twice is that process once.
    let form = Form::new()
        .text("process_id", pending.clone())
        .text("process_id", pending.clone());
    let answered = reject(&sim, &token, |r| r.multipart(form)).await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());
    assert_eq!(status_of(&sim, &token, &pending).await, "rejected");

    // No id at all is still the 400 that names the field.
    let answered = reject(&sim, &token, |r| r.json(&json!({ "process_id": [] }))).await;
    assert_eq!(answered.status, 400, "{:?}", answered.json());
    assert!(answered.json()["msg"]
        .as_str()
        .is_some_and(|m| m.contains("process_id")));
}

/// The callback a signer's `what` (sign or reject) sends, on a fresh simulator.
async fn callback_after(what: &str) -> Value {
    let sim = start().await;
    let hook = receiver::start(0).await;
    let token = login(&sim).await;
    let created = create_with(&sim, &token, &[("urlCallback", hook.url.as_str())]).await;
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let acted = act(&sim, &id, what).await;
    assert_eq!(acted.status, 200, "{:?}", acted.json());
    eventually("the callback", async || !hook.bodies().is_empty()).await;
    let body = hook.bodies()[0].clone();
    // `urlCallback`: the URL the process was created with (docs/fidelity.md).
    assert_eq!(body["urlCallback"], json!(hook.url));
    body
}

/// Item 6: `facial.id` has the example's shape, three dotted parts of 7, 5 and 5
/// lower-case letters (`"aaaaaaa.bbbbb.ccccc"`), drawn from the seeded generator: the same
/// seed gives the same id.
#[tokio::test]
async fn the_callback_facial_id_has_the_documented_shape_and_follows_the_seed() {
    let first = callback_after("sign").await;
    let id = first["signers"][0]["sign_data"]["facial"]["id"]
        .as_str()
        .expect("a facial id")
        .to_owned();
    let parts: Vec<&str> = id.split('.').collect();
    let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    assert_eq!(lengths, [7, 5, 5], "{id}");
    assert!(
        parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase())),
        "{id}"
    );
    let again = callback_after("sign").await;
    assert_eq!(again["signers"][0]["sign_data"]["facial"]["id"], json!(id));
}

/// Item 7: a signer who rejects has `sign_data` with what they did and when, and no
/// `facial` (they never passed the challenge).
#[tokio::test]
async fn a_signer_who_rejects_has_sign_data_without_facial() {
    let body = callback_after("reject").await;
    assert_eq!(body["status"], "rejected");
    let data = body["signers"][0]["sign_data"].clone();
    let keys: Vec<&str> = data
        .as_object()
        .expect("sign_data")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["signAction", "date", "result"], "{data}");
    assert_eq!(data["signAction"], "reject");
    assert_eq!(data["result"], "reject");
    assert!(data["date"].is_i64());
}

/// Item 7: `signOrder` reads the spellings clients send; anything else is a 400.
#[tokio::test]
async fn sign_order_reads_the_spellings_clients_send() {
    let sim = start().await;
    let token = login(&sim).await;
    for (given, read) in [
        ("true", true),
        ("True", true),
        ("yes", true),
        ("on", true),
        ("1", true),
        ("false", false),
        ("no", false),
        ("off", false),
        ("0", false),
        ("", false),
    ] {
        let created = create_with(&sim, &token, &[("signOrder", given)]).await;
        assert_eq!(created.status, 201, "{given}: {:?}", created.json());
        let id = created.json()["id"].as_str().expect("id").to_owned();
        let query: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let listed = call(
            &sim,
            Method::GET,
            &format!("/api/signature_processes?process_id={query}"),
            &token,
            |r| r,
        )
        .await;
        assert_eq!(
            listed.json()["signatureProcesses"][0]["sign_order"],
            json!(read),
            "{given}"
        );
    }
    let refused = create_with(&sim, &token, &[("signOrder", "quizás")]).await;
    assert_eq!(refused.status, 400);
    assert_spanish(&refused);
}

/// English words that must not appear in an IdentiaSign error text (whole words: the
/// Spanish `columna` is not the English `column`).
const ENGLISH: &[&str] = &[
    "expected", "could", "not", "parse", "parsing", "boolean", "string", "body", "unknown",
    "request", "invalid", "storage", "line", "column", "the", "of", "while", "value", "at",
];

fn assert_spanish(answered: &Answer) {
    let msg = answered.json()["msg"]
        .as_str()
        .unwrap_or_else(|| panic!("an error msg: {:?}", answered.json()))
        .to_owned();
    let lower = msg.to_lowercase();
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        assert!(
            !ENGLISH.contains(&word),
            "'{word}' in an IdentiaSign error: {msg}"
        );
    }
}

/// Item 7: the errors a client meets, from IdentiaSign's own checks and the shared body
/// reader alike, are Spanish throughout; a login body that is not JSON is a 400.
#[tokio::test]
async fn error_texts_are_spanish_throughout() {
    let sim = start().await;
    let token = login(&sim).await;
    let login_url = u(&sim, "/api/auth/login");

    // A login body that is neither JSON nor a form.
    let answered = sim
        .post_raw(
            &login_url,
            Some("application/json"),
            b"{\"username\": ".to_vec(),
        )
        .await;
    assert_eq!(answered.status, 400);
    assert_spanish(&answered);
    let answered = sim
        .post_raw(&login_url, Some("application/json"), b"[1, 2]".to_vec())
        .await;
    assert_eq!(answered.status, 400);
    assert_spanish(&answered);
    // A multipart body that is cut short.
    let answered = call(&sim, Method::PUT, "/api/signature_processes", &token, |r| {
        r.header("content-type", "multipart/form-data; boundary=XYZ")
            .body("--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb")
    })
    .await;
    assert_eq!(answered.status, 400);
    assert_spanish(&answered);
    // A field of the wrong JSON type.
    let answered = call(&sim, Method::POST, "/api/notify", &token, |r| {
        r.json(&json!({ "process_id": { "id": 1 } }))
    })
    .await;
    assert_eq!(answered.status, 400);
    assert_spanish(&answered);
    let answered = call(&sim, Method::PUT, "/api/signature_processes", &token, |r| {
        r.json(&json!({ "signOrder": "quizás" }))
    })
    .await;
    assert_eq!(answered.status, 400);
    assert_spanish(&answered);
    // A file that is not a PDF.
    let form = Form::new()
        .part(
            "pdfFiles",
            Part::bytes(b"%PDF-1.7 nope".to_vec()).file_name("roto.pdf"),
        )
        .text("signers", "[]");
    let answered = call(&sim, Method::PUT, "/api/signature_processes", &token, |r| {
        r.multipart(form)
    })
    .await;
    assert_eq!(answered.status, 400);
    assert_spanish(&answered);
    // A scenario that does not exist, named by header.
    let answered = call(&sim, Method::PUT, "/api/signature_processes", &token, |r| {
        r.header("x-signsim-scenario", "nope")
            .multipart(create_form("12345678", &[]))
    })
    .await;
    assert_eq!(answered.status, 400);
    assert_spanish(&answered);
    let answered = call(&sim, Method::GET, "/api/labels", &token, |r| {
        r.header("x-signsim-scenario", "nope")
    })
    .await;
    assert_eq!(answered.status, 400);
    assert_spanish(&answered);
}

/// Item 7: a body over the limit is refused in Spanish too.
#[tokio::test]
async fn a_body_over_the_limit_is_refused_in_spanish() {
    let mut config = signsim::Config::default();
    config.engine.seed = Some(42);
    config.body_limit = 64 * 1024;
    let sim = crate::common::start_with(config).await;
    let token = login(&sim).await;
    let big = "x".repeat(128 * 1024);
    let answered = call(&sim, Method::POST, "/api/labels", &token, |r| {
        r.json(&json!({ "label": big }))
    })
    .await;
    assert_eq!(answered.status, 413);
    assert_spanish(&answered);
}
