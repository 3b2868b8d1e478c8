//! QI Tech Sign (/qitech/sign/envelope...): every call, every error the table lists that
//! can happen, the signed webhook, the dossier, tenants, expiry and the scenarios.

use crate::common::{answer, sample_pdf, start, Answer, Sim};
use crate::receiver::{self, eventually};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use insta::assert_json_snapshot;
use reqwest::Method;
use serde_json::{json, Value};

pub(crate) const KEY: &str = "qi-key-alpha";
const OTHER_KEY: &str = "qi-key-beta";

fn q(sim: &Sim, path: &str) -> String {
    sim.url(&format!("/qitech{path}"))
}

async fn call(
    sim: &Sim,
    method: Method,
    url: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = sim.http.request(method, url);
    if let Some(key) = key {
        request = request.header("authorization", key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.expect("request sent")).await
}

pub(crate) async fn get(sim: &Sim, path: &str) -> Answer {
    call(sim, Method::GET, &q(sim, path), Some(KEY), None).await
}

pub(crate) async fn post(sim: &Sim, path: &str, body: Value) -> Answer {
    call(sim, Method::POST, &q(sim, path), Some(KEY), Some(body)).await
}

pub(crate) async fn patch(sim: &Sim, id: &str, status: &str) -> Answer {
    let url = q(sim, &format!("/sign/envelope/{id}"));
    call(
        sim,
        Method::PATCH,
        &url,
        Some(KEY),
        Some(json!({ "status": status })),
    )
    .await
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A date `days` from today, as `expiration_date` takes it.
fn in_days(days: i64) -> String {
    let date = (time::OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

pub(crate) fn signer(id: &str, email: &str) -> Value {
    json!({
        "id": id,
        "name": format!("John Sample {id}"),
        "email": email,
        "birthdate": "1992-09-15",
        "document_number": "111.111.111-11",
        "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
        "document_submission_method": "email",
        "authentication_submission_method": "sms"
    })
}

pub(crate) fn envelope(id: &str, signers: Vec<Value>) -> Value {
    json!({
        "id": id,
        "subject": "CCB QiTech",
        "expiration_date": in_days(10),
        "signers": signers,
    })
}

/// A created envelope with one document, submitted; returns the document id.
pub(crate) async fn submitted(sim: &Sim, id: &str, signers: Vec<Value>) -> String {
    let created = post(sim, "/sign/envelope", envelope(id, signers)).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let doc = post(
        sim,
        &format!("/sign/envelope/{id}/document"),
        json!({ "document_b64": b64(&sample_pdf("Contrato")), "name": "Contrato", "document_type": "pdf" }),
    )
    .await;
    assert_eq!(doc.status, 201, "{:?}", doc.json());
    assert_eq!(patch(sim, id, "submitted").await.status, 200);
    doc.json()["id"].as_str().unwrap().to_owned()
}

async fn sign(sim: &Sim, id: &str, signer: &str, extra: Value) -> Answer {
    let mut body = json!({ "api_key": KEY });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    sim.post_json(
        &sim.url(&format!(
            "/_signsim/qitech/envelopes/{id}/signers/{signer}/sign"
        )),
        body,
    )
    .await
}

pub(crate) async fn configure_hook(sim: &Sim, url: &str, extra: Value) -> Answer {
    let mut body = json!({ "api_key": KEY, "url": url, "signature_key": "s3cr3t" });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    sim.post_json(&sim.url("/_signsim/qitech/webhook"), body)
        .await
}

fn hmac_sha1(key: &str, message: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn outbox(sim: &Sim) -> Vec<Value> {
    sim.get(&sim.url("/_signsim/outbox?provider=qitech"))
        .await
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A tiny JPEG, as the identification images are sent.
fn jpeg() -> Vec<u8> {
    vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 0xFF, 0xD9,
    ]
}

#[tokio::test]
async fn the_whole_flow_from_creation_to_dossier() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    assert_eq!(configure_hook(&sim, &hook.url, json!({})).await.status, 200);

    let created = post(
        &sim,
        "/sign/envelope",
        envelope(
            "env-1",
            vec![
                signer("1", "one@example.com"),
                signer("2", "two@example.com"),
            ],
        ),
    )
    .await;
    assert_json_snapshot!("qitech_create", created.shape());

    let personal = post(
        &sim,
        "/sign/envelope/env-1/signer/1/personal_document",
        json!({ "document_b64": b64(&jpeg()), "template": "cnh_front" }),
    )
    .await;
    assert_json_snapshot!("qitech_personal_document_add", personal.shape(), { ".body.created_at" => "[time]" });

    let with_id = post(
        &sim,
        "/sign/envelope/env-1/document",
        json!({ "id": "3dfc5526-ee47-4b63-ad97-ddaf5b1c9110", "document_b64": b64(&sample_pdf("Laudo")), "name": "Laudo de vistoria de entrada", "document_type": "pdf" }),
    )
    .await;
    assert_json_snapshot!("qitech_document_add", with_id.shape(), { ".body.created_at" => "[time]" });
    let without_id = post(
        &sim,
        "/sign/envelope/env-1/document",
        json!({ "document_b64": b64(&sample_pdf("Anexo")), "name": "Anexo", "document_type": "pdf" }),
    )
    .await;
    assert_eq!(without_id.status, 201);
    let generated = without_id.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID4 when no id is given");

    let before = get(&sim, "/sign/envelope/env-1").await;
    assert_json_snapshot!("qitech_get_created", before.shape(), {
        ".body.documents[1].id" => "[uuid]", ".body.signers[].documents[1].id" => "[uuid]",
        ".body.expiration_date" => "[date]"
    });
    let report = get(&sim, "/sign/envelope/env-1/report").await;
    assert_json_snapshot!("qitech_report_unavailable", report.shape());

    let submitted = patch(&sim, "env-1", "submitted").await;
    assert_json_snapshot!("qitech_submit", submitted.shape());

    // Each signer got the link by e-mail (their document_submission_method).
    let messages = outbox(&sim).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["channel"], "email");
    assert_eq!(messages[0]["to"], "one@example.com");
    let envelope = get(&sim, "/sign/envelope/env-1").await.json();
    assert_eq!(envelope["status"], "submitted");
    let link = envelope["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(messages[0]["link"], link.as_str());
    assert_json_snapshot!("qitech_get_submitted", envelope, {
        ".documents[1].id" => "[uuid]", ".signers[].documents[1].id" => "[uuid]",
        ".signers[].signature_url" => "[url]", ".expiration_date" => "[date]"
    });

    // Signer 1 opens the link: the token goes by SMS (authentication_submission_method).
    let page = sim.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.bytes).contains("CPF"));
    let token_message = outbox(&sim).await.last().cloned().unwrap();
    assert_eq!(token_message["channel"], "sms");
    assert_eq!(token_message["to"], "+5511988878722");
    let token = token_message["otp"].as_str().unwrap().to_owned();

    let wrong_cpf = sign(&sim, "env-1", "1", json!({ "cpf": "222.222.222-22" })).await;
    assert_json_snapshot!("qitech_sign_wrong_cpf", wrong_cpf.shape());
    let wrong_token = sign(&sim, "env-1", "1", json!({ "token": "000000x" })).await;
    assert_eq!(wrong_token.status, 400);
    assert!(wrong_token.json()["error"]
        .as_str()
        .unwrap()
        .contains("authentication token is wrong"));
    let first = sign(
        &sim,
        "env-1",
        "1",
        json!({ "cpf": "11111111111", "token": token }),
    )
    .await;
    assert_json_snapshot!("qitech_sign", first.shape(), { ".body.signed_at" => "[time]" });
    let again = sign(&sim, "env-1", "1", json!({})).await;
    assert!(again.status >= 400 && again.status < 500);
    let refused = again.json()["error"].as_str().unwrap().to_lowercase();
    assert!(refused.contains("already signed"), "{refused}");

    let signer_one = get(&sim, "/sign/envelope/env-1/signer/1").await;
    assert_json_snapshot!("qitech_signer_signed", signer_one.shape(), { ".body.signed_at" => "[time]" });
    let signer_two = get(&sim, "/sign/envelope/env-1/signer/2").await;
    assert_json_snapshot!("qitech_signer_pending", signer_two.shape());
    let no_face = get(&sim, "/sign/envelope/env-1/signer/2/face").await;
    assert_json_snapshot!("qitech_face_missing", no_face.shape());

    // Signer 2 signs through the page's form, with the token sent when they opened it.
    let link_two = envelope["signers"][1]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page_two = sim.browse(&link_two).await;
    let token_two = outbox(&sim).await.last().unwrap()["otp"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = sim
        .submit_form(
            &link_two,
            &page_two,
            &[
                ("cpf", "111.111.111-11"),
                ("token", token_two.as_str()),
                ("face_validation_available", "true"),
                ("face_validation_score", "77"),
                ("liveness", "live"),
                ("document_check", "pass"),
                ("face_match_score", "66"),
            ],
        )
        .await;
    assert_eq!(form.status, 200, "{}", String::from_utf8_lossy(&form.bytes));
    assert!(String::from_utf8_lossy(&form.bytes).contains("completed"));

    let completed = get(&sim, "/sign/envelope/env-1").await.json();
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["signers"][1]["status"], "signed");

    // The webhook: documented body, Signature = HMAC-SHA1(key, path + method + payload).
    eventually("the webhook", async || !hook.bodies().is_empty()).await;
    let (headers, body) = hook.inbox.received.lock().unwrap()[0].clone();
    let payload = String::from_utf8(body.to_vec()).unwrap();
    let expected = hmac_sha1("s3cr3t", &format!("/hook{}{}", "POST", payload));
    assert_eq!(headers["signature"].to_str().unwrap(), expected);
    assert_json_snapshot!("qitech_webhook", hook.bodies()[0]);
    assert_eq!(
        hook.bodies()[0]["signers"][1]["document"]["face_match_score"],
        66
    );

    // Dossiers: one per document, URL valid for 24 hours.
    let report = get(&sim, "/sign/envelope/env-1/report").await;
    assert_json_snapshot!("qitech_report", report.shape(), {
        ".body.documents_reports[].url" => "[url]", ".body.documents_reports[1].id" => "[uuid]"
    });
    let url = report.json()["documents_reports"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let dossier = sim.get(&url).await;
    assert_eq!(dossier.status, 200);
    assert_eq!(dossier.content_type, "application/pdf");
    assert!(dossier.bytes.starts_with(b"%PDF-"));

    let by_document = get(
        &sim,
        "/sign/envelope/env-1/document/3dfc5526-ee47-4b63-ad97-ddaf5b1c9110/report",
    )
    .await;
    assert_json_snapshot!("qitech_document_report", by_document.shape(), {
        ".body.document_report_url" => "[url]", ".body.document_report" => "[base64]"
    });
    let embedded = base64::engine::general_purpose::STANDARD
        .decode(by_document.json()["document_report"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        embedded, dossier.bytes,
        "the base64 is the dossier the URL serves"
    );

    let face = get(&sim, "/sign/envelope/env-1/signer/1/face").await;
    assert_json_snapshot!("qitech_face", face.shape(), { ".body.face_image_url" => "[url]" });
    let photo = sim
        .get(face.json()["face_image_url"].as_str().unwrap())
        .await;
    assert_eq!(photo.content_type, "image/jpeg");
    assert!(photo.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));

    let documents = get(&sim, "/sign/envelope/env-1/signer/1/personal_document").await;
    assert_json_snapshot!("qitech_personal_documents", documents.shape(), {
        ".body.document_front_url" => "[url]"
    });
    let front = sim
        .get(documents.json()["document_front_url"].as_str().unwrap())
        .await;
    assert_eq!(front.bytes, jpeg());

    // 24 hours later the links have expired; a new GET gives fresh ones.
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 86401 }),
    )
    .await;
    assert_eq!(sim.get(&url).await.status, 403);
    let fresh = get(&sim, "/sign/envelope/env-1/report").await.json();
    let fresh_url = fresh["documents_reports"][0]["url"].as_str().unwrap();
    assert_eq!(sim.get(fresh_url).await.status, 200);

    // A completed envelope cannot be canceled.
    let cancel = patch(&sim, "env-1", "canceled").await;
    assert_json_snapshot!("qitech_cancel_completed", cancel.shape());
}

#[tokio::test]
async fn errors_of_the_status_table() {
    let sim = start().await;
    let create = q(&sim, "/sign/envelope");
    let no_key = call(
        &sim,
        Method::POST,
        &create,
        None,
        Some(envelope("e", vec![signer("1", "a@example.com")])),
    )
    .await;
    assert_json_snapshot!("qitech_401", no_key.shape());
    let bearer = call(
        &sim,
        Method::GET,
        &q(&sim, "/sign/envelope/e"),
        Some("Bearer abc"),
        None,
    )
    .await;
    assert_eq!(bearer.status, 401);

    let not_json = sim
        .http
        .post(&create)
        .header("authorization", KEY)
        .header("content-type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    let not_json = answer(not_json).await;
    assert_json_snapshot!("qitech_406", not_json.shape(), { ".body.description" => "[parser message]" });

    let missing = post(
        &sim,
        "/sign/envelope",
        json!({ "id": "e", "subject": "s", "expiration_date": in_days(3) }),
    )
    .await;
    assert_json_snapshot!("qitech_400_missing", missing.shape());
    let mut no_name = signer("1", "a@example.com");
    no_name.as_object_mut().unwrap().remove("name");
    let nested = post(&sim, "/sign/envelope", envelope("e", vec![no_name])).await;
    assert_eq!(
        nested.json()["description"],
        "Missing required field: signers[0].name"
    );
    let mut bad_method = signer("1", "a@example.com");
    bad_method["document_submission_method"] = json!("pigeon");
    let bad = post(&sim, "/sign/envelope", envelope("e", vec![bad_method])).await;
    assert_json_snapshot!("qitech_400_enum", bad.shape());
    let mut unreachable = signer("1", "a@example.com");
    unreachable.as_object_mut().unwrap().remove("email");
    unreachable.as_object_mut().unwrap().remove("phone");
    let neither = post(&sim, "/sign/envelope", envelope("e", vec![unreachable])).await;
    assert_eq!(neither.status, 400);
    assert!(neither.json()["description"]
        .as_str()
        .unwrap()
        .contains("email or a phone"));
    let mut sms_only = signer("1", "a@example.com");
    sms_only.as_object_mut().unwrap().remove("phone");
    let no_phone = post(&sim, "/sign/envelope", envelope("e", vec![sms_only])).await;
    assert!(no_phone.json()["description"]
        .as_str()
        .unwrap()
        .contains("has no phone"));
    let mut past = envelope("e", vec![signer("1", "a@example.com")]);
    past["expiration_date"] = json!("2020-01-01");
    assert_eq!(post(&sim, "/sign/envelope", past).await.status, 400);
    let mut bad_date = envelope("e", vec![signer("1", "a@example.com")]);
    bad_date["expiration_date"] = json!("20/09/2030");
    assert!(
        post(&sim, "/sign/envelope", bad_date).await.json()["description"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DD")
    );
    let twice = envelope(
        "e",
        vec![signer("1", "a@example.com"), signer("1", "b@example.com")],
    );
    assert_eq!(post(&sim, "/sign/envelope", twice).await.status, 400);
    let wrong_type = post(
        &sim,
        "/sign/envelope",
        json!({ "id": {"a": 1}, "subject": "s" }),
    )
    .await;
    assert_eq!(wrong_type.status, 400);

    assert_eq!(
        post(
            &sim,
            "/sign/envelope",
            envelope("e", vec![signer("1", "a@example.com")])
        )
        .await
        .status,
        201
    );
    let duplicate = post(
        &sim,
        "/sign/envelope",
        envelope("e", vec![signer("1", "a@example.com")]),
    )
    .await;
    assert_json_snapshot!("qitech_409", duplicate.shape());

    let unknown = get(&sim, "/sign/envelope/nope").await;
    assert_json_snapshot!("qitech_404_envelope", unknown.shape());
    let unknown_signer = get(&sim, "/sign/envelope/e/signer/9").await;
    assert_json_snapshot!("qitech_404_signer", unknown_signer.shape());
    let unknown_document = get(&sim, "/sign/envelope/e/document/nope/report").await;
    assert_eq!(unknown_document.json()["code"], "DOCUMENT_NOT_FOUND");
    let no_docs = get(&sim, "/sign/envelope/e/signer/1/personal_document").await;
    assert_eq!(no_docs.json()["code"], "PERSONAL_DOCUMENT_NOT_FOUND");
    let endpoint = get(&sim, "/sign/nothing-here").await;
    assert_json_snapshot!("qitech_404_endpoint", endpoint.shape());
    let method = call(
        &sim,
        Method::DELETE,
        &q(&sim, "/sign/envelope/e"),
        Some(KEY),
        None,
    )
    .await;
    assert_json_snapshot!("qitech_405", method.shape());

    let no_documents = patch(&sim, "e", "submitted").await;
    assert_json_snapshot!("qitech_400_no_documents", no_documents.shape());
    let bad_status = patch(&sim, "e", "completed").await;
    assert_eq!(bad_status.status, 400);

    let docs = "/sign/envelope/e/document";
    let not_pdf = post(
        &sim,
        docs,
        json!({ "document_b64": b64(b"hello"), "name": "x", "document_type": "pdf" }),
    )
    .await;
    assert_eq!(not_pdf.json()["code"], "INVALID_REQUEST");
    let not_b64 = post(
        &sim,
        docs,
        json!({ "document_b64": "%%%", "name": "x", "document_type": "pdf" }),
    )
    .await;
    assert!(not_b64.json()["description"]
        .as_str()
        .unwrap()
        .contains("base64"));
    let docx = post(
        &sim,
        docs,
        json!({ "document_b64": b64(&sample_pdf("x")), "name": "x", "document_type": "docx" }),
    )
    .await;
    assert_eq!(docx.status, 400);
    let big = vec![b'%'; 10 * 1024 * 1024 + 1];
    let too_big = post(
        &sim,
        docs,
        json!({ "document_b64": b64(&big), "name": "x", "document_type": "pdf" }),
    )
    .await;
    assert!(too_big.json()["description"]
        .as_str()
        .unwrap()
        .contains("10 MB"));
    let pdf = json!({ "id": "d1", "document_b64": b64(&sample_pdf("x")), "name": "x", "document_type": "pdf" });
    assert_eq!(post(&sim, docs, pdf.clone()).await.status, 201);
    assert_eq!(post(&sim, docs, pdf).await.status, 409);

    let personal = "/sign/envelope/e/signer/1/personal_document";
    let template = post(
        &sim,
        personal,
        json!({ "document_b64": b64(&jpeg()), "template": "passport" }),
    )
    .await;
    assert_json_snapshot!("qitech_400_template", template.shape());
    let png_as_jpeg = post(
        &sim,
        personal,
        json!({ "document_b64": b64(b"\x89PNG...."), "template": "rg_back" }),
    )
    .await;
    assert_eq!(png_as_jpeg.status, 400);
    let png = post(
        &sim,
        personal,
        json!({ "document_b64": b64(b"\x89PNG...."), "template": "rg_back", "file_type": "png" }),
    )
    .await;
    assert_eq!(png.status, 201);
    let large = vec![0xFF; 10 * 1024 * 1024 + 1];
    let too_large = post(
        &sim,
        personal,
        json!({ "document_b64": b64(&large), "template": "rg_front" }),
    )
    .await;
    assert_eq!(too_large.status, 400);
    let missing_signer = post(
        &sim,
        "/sign/envelope/e/signer/7/personal_document",
        json!({ "document_b64": b64(&jpeg()), "template": "rg_front" }),
    )
    .await;
    assert_eq!(missing_signer.status, 404);

    // Signing needs a submitted envelope: any other state refuses the act with 409.
    let early = sign(&sim, "e", "1", json!({})).await;
    assert_eq!(early.status, 409);
    assert_eq!(
        early.json()["error"],
        "Envelope in status created cannot be signed"
    );
    assert_eq!(patch(&sim, "e", "submitted").await.status, 200);
    let resubmit = patch(&sim, "e", "submitted").await;
    assert_json_snapshot!("qitech_400_transition", resubmit.shape());
    let late_document = post(
        &sim,
        docs,
        json!({ "document_b64": b64(&sample_pdf("y")), "name": "y", "document_type": "pdf" }),
    )
    .await;
    assert_eq!(late_document.json()["code"], "ENVELOPE_NOT_EDITABLE");
    let canceled = patch(&sim, "e", "canceled").await;
    assert_json_snapshot!("qitech_cancel", canceled.shape());
    assert_eq!(
        get(&sim, "/sign/envelope/e").await.json()["status"],
        "canceled"
    );
    assert_eq!(sign(&sim, "e", "1", json!({})).await.status, 409);
    let bad_value = sign(&sim, "e", "1", json!({ "liveness": "maybe" })).await;
    assert_eq!(
        bad_value.json()["error"],
        "'liveness' must be live or spoof"
    );
}

#[tokio::test]
async fn scripted_server_errors_use_the_error_shape() {
    let sim = start().await;
    let scenario = r#"
[[scenario]]
name = "qi-down"
provider = "qitech"
[[scenario.effects]]
operation = "envelope.get"
times = 1
respond = { status = 503, body = { title = "Service Unavailable", description = "Maintenance", translation = "Manutenção", code = "SERVICE_UNAVAILABLE" } }
[[scenario.effects]]
operation = "report"
respond = { status = 500, body = { title = "Internal Server Error", description = "Boom", translation = "Erro", code = "INTERNAL_ERROR" } }
[[scenario.effects]]
operation = "signer.get"
respond = { status = 403, body = { title = "Forbidden", description = "Internal endpoint", translation = "Endpoint interno", code = "FORBIDDEN" } }
"#;
    let loaded = sim
        .post_raw(
            &sim.url("/_signsim/scenarios"),
            Some("application/toml"),
            scenario.into(),
        )
        .await;
    assert_eq!(loaded.status, 200, "{:?}", loaded.json());
    let created = sim
        .http
        .post(q(&sim, "/sign/envelope"))
        .header("authorization", KEY)
        .header("x-signsim-scenario", "qi-down")
        .json(&envelope("down", vec![signer("1", "a@example.com")]))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let first = get(&sim, "/sign/envelope/down").await;
    assert_json_snapshot!("qitech_503", first.shape());
    assert_eq!(get(&sim, "/sign/envelope/down").await.status, 200);
    assert_eq!(get(&sim, "/sign/envelope/down/report").await.status, 500);
    assert_eq!(get(&sim, "/sign/envelope/down/signer/1").await.status, 403);
}

#[tokio::test]
async fn each_api_key_sees_only_its_envelopes() {
    let sim = start().await;
    submitted(&sim, "shared-id", vec![signer("1", "a@example.com")]).await;
    let sim = &sim;
    let other = |path: &str| {
        let url = q(sim, path);
        async move { call(sim, Method::GET, &url, Some(OTHER_KEY), None).await }
    };
    assert_eq!(other("/sign/envelope/shared-id").await.status, 404);
    assert_eq!(other("/sign/envelope/shared-id/signer/1").await.status, 404);
    assert_eq!(other("/sign/envelope/shared-id/report").await.status, 404);
    let sign_other = sim
        .post_json(
            &sim.url("/_signsim/qitech/envelopes/shared-id/signers/1/sign"),
            json!({ "api_key": OTHER_KEY }),
        )
        .await;
    assert_eq!(sign_other.status, 404);
    // The same id is free under another key.
    let mine = call(
        sim,
        Method::POST,
        &q(sim, "/sign/envelope"),
        Some(OTHER_KEY),
        Some(envelope("shared-id", vec![signer("1", "a@example.com")])),
    )
    .await;
    assert_eq!(mine.status, 201);
    assert_eq!(
        get(sim, "/sign/envelope/shared-id").await.json()["status"],
        "submitted"
    );
}

#[tokio::test]
async fn an_envelope_expires_when_the_clock_passes_its_date() {
    let sim = start().await;
    submitted(&sim, "late", vec![signer("1", "a@example.com")]).await;
    let envelope = get(&sim, "/sign/envelope/late").await.json();
    assert_eq!(
        envelope["expiration_date"],
        format!("{}T02:59:59Z", in_days(10)),
        "the deadline GET shows"
    );
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 5 * 86400 }),
    )
    .await;
    assert_eq!(
        get(&sim, "/sign/envelope/late").await.json()["status"],
        "submitted"
    );
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 6 * 86400 }),
    )
    .await;
    // The timer fired: the timeline has it before anyone reads the envelope.
    let events = sim
        .get(&sim.url("/_signsim/events?provider=qitech&id=late"))
        .await
        .json();
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["text"] == "submitted → expired"));
    assert_eq!(
        get(&sim, "/sign/envelope/late").await.json()["status"],
        "expired"
    );
    let refused = sign(&sim, "late", "1", json!({})).await;
    assert_json_snapshot!("qitech_sign_expired", refused.shape());
    assert_eq!(patch(&sim, "late", "canceled").await.status, 400);
}

#[tokio::test]
async fn webhook_endpoint_can_be_the_full_url() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    let configured = configure_hook(&sim, &hook.url, json!({ "endpoint": "url" })).await;
    assert_json_snapshot!("qitech_webhook_config", configured.shape(), {
        ".body.url" => "[url]", ".body.signed_endpoint" => "[url]"
    });
    assert_eq!(
        configure_hook(&sim, &hook.url, json!({ "endpoint": "host" }))
            .await
            .status,
        400
    );
    assert_eq!(
        configure_hook(&sim, "not a url", json!({})).await.status,
        400
    );
    submitted(&sim, "full", vec![signer("1", "a@example.com")]).await;
    assert_eq!(sign(&sim, "full", "1", json!({})).await.status, 200);
    eventually("the webhook", async || !hook.bodies().is_empty()).await;
    let (headers, body) = hook.inbox.received.lock().unwrap()[0].clone();
    let payload = String::from_utf8(body.to_vec()).unwrap();
    let expected = hmac_sha1("s3cr3t", &format!("{}POST{payload}", hook.url));
    assert_eq!(headers["signature"].to_str().unwrap(), expected);
}

/// Creates and submits an envelope whose signer e-mail picks a scenario, has them sign,
/// and returns the webhook body.
async fn webhook_for(email: &str, id: &str) -> Value {
    let sim = start().await;
    let hook = receiver::start(0).await;
    configure_hook(&sim, &hook.url, json!({})).await;
    submitted(&sim, id, vec![signer("1", email)]).await;
    assert_eq!(sign(&sim, id, "1", json!({})).await.status, 200);
    eventually("the webhook", async || !hook.bodies().is_empty()).await;
    hook.bodies()[0]["signers"][0].clone()
}

#[tokio::test]
async fn scenario_spoofed_liveness() {
    let signer = webhook_for("spoof@signsim.test", "spoof").await;
    assert_eq!(signer["liveness"]["result"], "spoof");
    assert_eq!(signer["biometry"]["face_validation_score"], 35);
}

#[tokio::test]
async fn scenario_fraud_base_hit() {
    let signer = webhook_for("fraud@signsim.test", "fraud").await;
    assert_eq!(signer["biometry"]["fraud_base_flag"], true);
    assert_eq!(signer["liveness"]["result"], "live");
}

#[tokio::test]
async fn scenario_low_face_match() {
    let signer = webhook_for("lowmatch@signsim.test", "low").await;
    assert_eq!(signer["document"]["face_match_score"], 30);
}

#[tokio::test]
async fn scenario_expired_envelope() {
    let sim = start().await;
    submitted(&sim, "exp", vec![signer("1", "expired@signsim.test")]).await;
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 61 }),
    )
    .await;
    assert_eq!(
        get(&sim, "/sign/envelope/exp").await.json()["status"],
        "expired"
    );
    let link = get(&sim, "/sign/envelope/exp").await.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = sim.get(&link).await;
    assert!(String::from_utf8_lossy(&page.bytes).contains("expired"));
}

#[tokio::test]
async fn scenario_signer_never_signs() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    configure_hook(&sim, &hook.url, json!({})).await;
    submitted(&sim, "never", vec![signer("1", "never@signsim.test")]).await;
    assert!(
        outbox(&sim).await.is_empty(),
        "the link never reaches the signer"
    );
    let refused = sign(&sim, "never", "1", json!({})).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["code"], "SIGNER_DID_NOT_SIGN");
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 11 * 86400 }),
    )
    .await;
    assert_eq!(
        get(&sim, "/sign/envelope/never").await.json()["status"],
        "expired"
    );
    assert!(hook.bodies().is_empty());
}

#[tokio::test]
async fn scenario_webhook_receiver_down() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    configure_hook(&sim, &hook.url, json!({})).await;
    submitted(&sim, "down", vec![signer("1", "hookdown@signsim.test")]).await;
    assert_eq!(sign(&sim, "down", "1", json!({})).await.status, 200);
    let attempts = || async { sim.get(&sim.url("/_signsim/webhooks")).await.json() };
    eventually("the first attempt", async || {
        attempts().await.as_array().unwrap().len() == 1
    })
    .await;
    sim.post_json(&sim.url("/_signsim/clock/advance"), json!({ "seconds": 1 }))
        .await;
    eventually("the retry", async || {
        attempts().await.as_array().unwrap().len() == 2
    })
    .await;
    let log = attempts().await;
    for attempt in log.as_array().unwrap() {
        assert_eq!(attempt["response_status"], 503);
        assert_eq!(attempt["delivered"], false);
        assert_eq!(attempt["body"]["webhook_type"], "envelope_completed");
    }
    assert!(hook.bodies().is_empty());
    assert_eq!(
        get(&sim, "/sign/envelope/down").await.json()["status"],
        "completed"
    );
}

#[tokio::test]
async fn the_dossier_passes_pyhanko_and_qpdf() {
    let sim = start().await;
    submitted(
        &sim,
        "dossier",
        vec![signer("1", "a@example.com"), signer("2", "b@example.com")],
    )
    .await;
    sign(&sim, "dossier", "1", json!({})).await;
    sign(&sim, "dossier", "2", json!({ "liveness": "spoof" })).await;
    let report = get(&sim, "/sign/envelope/dossier/report").await.json();
    let url = report["documents_reports"][0]["url"].as_str().unwrap();
    let pdf = sim.get(url).await.bytes;

    let pages = lopdf::Document::load_mem(&pdf).unwrap().get_pages().len();
    assert_eq!(pages, 2, "document + evidence page");
    let signatures = pdf
        .windows(b"/ETSI.CAdES.detached".len())
        .filter(|w| w == b"/ETSI.CAdES.detached")
        .count();
    assert_eq!(signatures, 2, "one signature per signer");
    crate::validators::check_pdfs(&sim, &[("dossier.pdf", pdf)]).await;
}

#[tokio::test]
async fn the_signing_page_refuses_a_wrong_token_and_unknown_links() {
    let sim = start().await;
    submitted(&sim, "page", vec![signer("1", "a@example.com")]).await;
    let link = get(&sim, "/sign/envelope/page").await.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = sim.browse(&link).await;
    assert_eq!(page.status, 200);
    let wrong = sim
        .submit_form(
            &link,
            &page,
            &[("cpf", "111.111.111-11"), ("token", "999999x")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(String::from_utf8_lossy(&wrong.bytes).contains("authentication token is wrong"));
    assert_eq!(
        get(&sim, "/sign/envelope/page/signer/1").await.json()["status"],
        "pending"
    );
    let unknown = sim.get(&sim.url("/_signsim/qitech/s/doesnotexist")).await;
    assert_eq!(unknown.status, 404);
    let missing_file = sim.get(&sim.url("/_signsim/qitech/files/nope.pdf")).await;
    assert_eq!(missing_file.status, 404);
}

/// Links belong to the key that made them: resetting that key forgets them, and only them.
#[tokio::test]
async fn resetting_a_key_forgets_its_links_only() {
    let sim = start().await;
    submitted(&sim, "mine", vec![signer("1", "a@example.com")]).await;
    let link = get(&sim, "/sign/envelope/mine").await.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset_other = sim
        .post_json(
            &sim.url(&format!("/_signsim/reset?tenant={OTHER_KEY}")),
            json!({}),
        )
        .await;
    assert_eq!(reset_other.status, 200);
    assert_eq!(sim.get(&link).await.status, 200, "another key's reset");
    let reset_mine = sim
        .post_json(
            &sim.url(&format!("/_signsim/reset?tenant={KEY}")),
            json!({}),
        )
        .await;
    assert_eq!(reset_mine.status, 200);
    assert_eq!(sim.get(&link).await.status, 404, "its own key's reset");
}

/// A PDF whose page tree claims `i64::MAX` pages: it uploads (the pages are there), the
/// dossier cannot be made, and the signature is undone instead of leaving the envelope stuck.
#[tokio::test]
async fn a_dossier_that_cannot_be_made_undoes_the_signature() {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let content_id = doc.add_object(Stream::new(dictionary! {}, b"BT ET".to_vec()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => i64::MAX,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).unwrap();

    let sim = start().await;
    let created = post(
        &sim,
        "/sign/envelope",
        envelope("huge", vec![signer("1", "h@example.com")]),
    )
    .await;
    assert_eq!(created.status, 201);
    let uploaded = post(
        &sim,
        "/sign/envelope/huge/document",
        json!({ "document_b64": b64(&pdf), "name": "Huge", "document_type": "pdf" }),
    )
    .await;
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.json());
    assert_eq!(patch(&sim, "huge", "submitted").await.status, 200);

    let signed = sign(&sim, "huge", "1", json!({})).await;
    assert_eq!(signed.status, 500, "{:?}", signed.json());
    let envelope = get(&sim, "/sign/envelope/huge").await.json();
    assert_eq!(envelope["status"], "submitted");
    assert_eq!(
        envelope["signers"][0]["status"], "pending",
        "the signature was undone"
    );
    assert_eq!(sim.get(&sim.url("/_signsim/health")).await.status, 200);
}

/// The manual's 406 is "not valid JSON": a form or multipart body is not JSON either, even
/// when its fields would make sense.
#[tokio::test]
async fn bodies_that_are_not_json_answer_406() {
    let sim = start().await;
    let created = post(
        &sim,
        "/sign/envelope",
        envelope("form", vec![signer("1", "f@example.com")]),
    )
    .await;
    assert_eq!(created.status, 201);
    let form = sim
        .http
        .patch(q(&sim, "/sign/envelope/form"))
        .header("authorization", KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("status=canceled")
        .send()
        .await
        .unwrap();
    let form = answer(form).await;
    assert_eq!(form.status, 406, "{:?}", form.json());
    assert_eq!(form.json()["code"], "INVALID_JSON");
    let multipart = sim
        .http
        .post(q(&sim, "/sign/envelope"))
        .header("authorization", KEY)
        .multipart(reqwest::multipart::Form::new().text("id", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(multipart).await.status, 406);
    let envelope = get(&sim, "/sign/envelope/form").await.json();
    assert_eq!(envelope["status"], "created", "nothing changed");
}

#[tokio::test]
async fn phones_are_digits_and_ids_whole_numbers() {
    let sim = start().await;
    let mut bad_phone = signer("1", "p@example.com");
    bad_phone["phone"] =
        json!({ "international_dial_code": "x", "area_code": "11", "number": "988878722" });
    let answer = post(&sim, "/sign/envelope", envelope("phone", vec![bad_phone])).await;
    assert_eq!(answer.status, 400);
    assert!(answer.json()["description"]
        .as_str()
        .unwrap()
        .contains("expected digits"));
    let mut float_id = envelope("ignored", vec![signer("1", "f@example.com")]);
    float_id["id"] = json!(1.5e29);
    assert_eq!(post(&sim, "/sign/envelope", float_id).await.status, 400);
    let mut number_id = envelope("ignored", vec![signer("1", "n@example.com")]);
    number_id["id"] = json!(12345);
    let created = post(&sim, "/sign/envelope", number_id).await;
    assert_eq!(created.json()["id"], "12345");
}
