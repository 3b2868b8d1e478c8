//! Signal (Ecuador): the Bearer-token facade over the one-shot flow, end to end, every
//! error shape, the links it hands out and its scenarios.

use crate::common::{answer, sample_pdf, start, Answer, Sim};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use insta::assert_json_snapshot;
use serde_json::{json, Value};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl";
const OTHER_TOKEN: &str = "another-tenant-token";

/// A tiny "image" with a PNG signature: all the simulator looks at.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(b"\0\0\0\rIHDR");
    bytes
}

fn jpeg() -> Vec<u8> {
    vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F']
}

/// The create body of the docs' example, with real payloads.
pub(crate) fn create_body(phone: &str, pdf: &[u8]) -> Value {
    json!({
        "given_name": "Maria",
        "surname_1": "Garcia",
        "surname_2": "Lopez",
        "id_document_type": "IDC",
        "id_document_country": "EC",
        "serial_number": "1712345678",
        "email": "maria@example.com",
        "mobile_phone_number": phone,
        "residence_address": "Av. Amazonas 123",
        "residence_city": "QUITO",
        "residence": "EC",
        "document_front": STANDARD.encode(jpeg()),
        "document_rear": STANDARD.encode(jpeg()),
        "document_owner": STANDARD.encode(png()),
        "documents_to_sign": STANDARD.encode(pdf),
    })
}

fn url(sim: &Sim, path: &str) -> String {
    sim.url(&format!("/signal{path}"))
}

async fn call(
    sim: &Sim,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = sim.http.request(method, url(sim, path));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.expect("request sent")).await
}

async fn post(sim: &Sim, path: &str, body: Value) -> Answer {
    call(sim, Some(TOKEN), "POST", path, Some(body)).await
}

async fn get(sim: &Sim, path: &str) -> Answer {
    call(sim, Some(TOKEN), "GET", path, None).await
}

/// Creates a request; returns its pk and the uid of its document.
async fn create(sim: &Sim, phone: &str) -> (u64, String) {
    let created = post(
        sim,
        "/sign/request",
        create_body(phone, &sample_pdf("To sign")),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    let body = created.json();
    (
        body["pk"].as_u64().unwrap(),
        body["uid"].as_str().unwrap().to_owned(),
    )
}

/// The OTPs "sent" by Signal, oldest first.
async fn otps(sim: &Sim) -> Vec<String> {
    let messages = sim
        .get(&sim.url("/_signsim/outbox?provider=signal"))
        .await
        .json();
    messages
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["otp"].as_str().map(str::to_owned))
        .collect()
}

async fn last_otp(sim: &Sim) -> String {
    otps(sim).await.pop().expect("an OTP in the outbox")
}

fn wrong(otp: &str) -> &'static str {
    if otp == "000000" {
        "111111"
    } else {
        "000000"
    }
}

fn file_body(pk: u64, kind: &str, uid: &str) -> Value {
    json!({ "pk": pk.to_string(), "type": kind, "uid": uid })
}

#[tokio::test]
async fn one_call_request_then_sign_and_download() {
    let sim = start().await;
    assert_json_snapshot!("signal_status", get(&sim, "/sign").await.shape());

    let pdf = sample_pdf("Contrato");
    let created = post(&sim, "/sign/request", create_body("+593991234567", &pdf)).await;
    assert_json_snapshot!("signal_create", created.shape(), {
        ".body.pk" => "[pk]",
        ".body.uid" => "[uid]",
        ".body.details[0].requestDetails.pk" => "[pk]",
        ".body.details[0].requestDetails.scratchcard" => "[scratchcard]",
        ".body.details[0].requestDetails.approving_rao.certificate.data" => "[der]",
        ".body.details[0].requestDetails.approving_rao.certificate.serial_number" => "[serial]",
        ".body.details[0].requestDetails.approving_rao.certificate.valid_from" => "[time]",
        ".body.details[0].requestDetails.approving_rao.certificate.valid_to" => "[time]",
        ".body.details[1].upload.details" => "[uid]",
    });
    let body = created.json();
    let pk = body["pk"].as_u64().unwrap();
    let uid = body["uid"].as_str().unwrap().to_owned();
    assert_eq!(body["status"], true);
    assert_eq!(body["details"][0]["requestDetails"]["pk"], pk);
    assert_eq!(
        body["details"][0]["requestDetails"]["status"],
        "ENROLLREADY"
    );
    assert_eq!(body["details"][1]["upload"]["details"], uid.as_str());

    // The OTP went to the phone by SMS, tagged with the surface.
    let outbox = sim
        .get(&sim.url("/_signsim/outbox?provider=signal"))
        .await
        .json();
    assert_eq!(outbox.as_array().unwrap().len(), 1);
    assert_eq!(outbox[0]["channel"], "sms");
    assert_eq!(outbox[0]["to"], "+593991234567");
    assert_eq!(outbox[0]["tenant"], TOKEN);
    let otp = outbox[0]["otp"].as_str().unwrap().to_owned();

    let details = get(&sim, &format!("/sign/{pk}")).await;
    assert_json_snapshot!("signal_details_enrollready", details.shape(), {
        ".body.details.pk" => "[pk]",
        ".body.details.scratchcard" => "[scratchcard]",
        ".body.details.**.data" => "[der]",
        ".body.details.approving_rao.certificate.serial_number" => "[serial]",
        ".body.details.**.valid_from" => "[time]",
        ".body.details.**.valid_to" => "[time]",
    });

    let signed = post(
        &sim,
        "/sign",
        json!({ "secret": otp, "pk": pk.to_string() }),
    )
    .await;
    assert_json_snapshot!("signal_sign", signed.shape());

    let details = get(&sim, &format!("/sign/{pk}")).await.json();
    assert_eq!(details["details"]["status"], "ISSUED");
    let issued = &details["details"]["certificate_set"][0];
    assert_json_snapshot!("signal_issued_certificate", issued, {
        ".data" => "[der]", ".serial_number" => "[serial]",
        ".valid_from" => "[time]", ".valid_to" => "[time]",
    });
    assert!(issued["subject"]
        .as_str()
        .unwrap()
        .contains("IDCEC-1712345678"));

    let original = post(&sim, "/sign/download", file_body(pk, "original", &uid)).await;
    assert_eq!(original.status, 200);
    assert_eq!(original.content_type, "application/octet-stream");
    assert_eq!(original.bytes, pdf, "the original comes back byte for byte");
    let download = post(&sim, "/sign/download", file_body(pk, "signed", &uid)).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.content_type, "application/octet-stream");
    assert!(download.bytes.starts_with(&pdf), "an incremental update");
    assert!(String::from_utf8_lossy(&download.bytes).contains("/ETSI.CAdES.detached"));

    // Retrieve hands out a link that works without the token.
    let retrieved = post(&sim, "/sign/retrieve", file_body(pk, "signed", &uid)).await;
    assert_json_snapshot!("signal_retrieve", retrieved.shape(), { ".body.url" => "[url]" });
    let link = retrieved.json()["url"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&sim.url("/_signsim/signal/files/")));
    let fetched = sim.get(&link).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.bytes, download.bytes);

    // The events timeline of the request carries the surface's name.
    let events = sim
        .get(&sim.url(&format!("/_signsim/events?provider=signal&id={pk}")))
        .await
        .json();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"signed"), "{kinds:?}");
    // Its creation and its status change carry the statuses as data.
    let typed: Vec<(&Value, &Value, &Value)> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "created" || e["kind"] == "status")
        .map(|e| (&e["kind"], &e["from"], &e["to"]))
        .collect();
    assert_eq!(
        typed,
        [
            (&json!("created"), &Value::Null, &json!("ENROLLREADY")),
            (&json!("status"), &json!("ENROLLREADY"), &json!("ISSUED")),
        ],
        "{events:?}"
    );
}

#[tokio::test]
async fn retrieve_links_expire_on_the_virtual_clock() {
    let sim = start().await;
    let (pk, uid) = create(&sim, "+593991234567").await;
    let retrieved = post(&sim, "/sign/retrieve", file_body(pk, "original", &uid)).await;
    let link = retrieved.json()["url"].as_str().unwrap().to_owned();
    assert_eq!(sim.get(&link).await.status, 200);
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 3601 }),
    )
    .await;
    let expired = sim.get(&link).await;
    assert_json_snapshot!("signal_link_expired", expired.shape());
    let unknown = sim.get(&sim.url("/_signsim/signal/files/nope")).await;
    assert_json_snapshot!("signal_link_unknown", unknown.shape());
}

#[tokio::test]
async fn login_gives_a_signed_jwt_that_belongs_to_its_username() {
    let sim = start().await;
    let login = call(
        &sim,
        None,
        "POST",
        "/auth/login",
        Some(json!({ "username": "integrator", "password": "secret" })),
    )
    .await;
    assert_json_snapshot!("signal_login", login.shape(), { ".body.token" => "[token]" });
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["sub"], "integrator");

    let status = call(&sim, Some(&token), "GET", "/sign", None).await;
    assert_eq!(status.status, 200);
    let created = call(
        &sim,
        Some(&token),
        "POST",
        "/sign/request",
        Some(create_body("+593991234567", &sample_pdf("A"))),
    )
    .await;
    let pk = created.json()["pk"].as_u64().unwrap();
    assert_eq!(
        call(&sim, Some(&token), "GET", &format!("/sign/{pk}"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        get(&sim, &format!("/sign/{pk}")).await.status,
        404,
        "a token the simulator did not sign is a tenant of its own"
    );
    let login_as = |username: &'static str| {
        let sim = &sim;
        async move {
            let body = json!({ "username": username, "password": "secret" });
            let login = call(sim, None, "POST", "/auth/login", Some(body)).await;
            login.json()["token"].as_str().unwrap().to_owned()
        }
    };
    let again = login_as("integrator").await;
    assert_ne!(again, token, "every login issues a new token");
    let seen = call(&sim, Some(&again), "GET", &format!("/sign/{pk}"), None).await;
    assert_eq!(
        seen.status, 200,
        "a new login of the same username sees its requests"
    );
    let other = login_as("someone-else").await;
    let unseen = call(&sim, Some(&other), "GET", &format!("/sign/{pk}"), None).await;
    assert_eq!(unseen.status, 404, "another username, another tenant");

    let missing = call(
        &sim,
        None,
        "POST",
        "/auth/login",
        Some(json!({ "username": "x" })),
    )
    .await;
    assert_json_snapshot!("signal_login_missing", missing.shape());
}

#[tokio::test]
async fn missing_or_malformed_authorization_is_401() {
    let sim = start().await;
    let missing = call(&sim, None, "GET", "/sign", None).await;
    assert_json_snapshot!("signal_auth_missing", missing.shape());
    let bad = [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer two words",
        "token-without-scheme",
    ];
    for header in bad {
        let answer = answer(
            sim.http
                .post(url(&sim, "/sign/request"))
                .header("authorization", header)
                .json(&create_body("+593991234567", &sample_pdf("A")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, 401, "{header}");
        assert_json_snapshot!("signal_auth_malformed", answer.shape());
    }
    for (method, path) in [
        ("POST", "/sign"),
        ("GET", "/sign/1"),
        ("POST", "/sign/retrieve"),
        ("POST", "/sign/download"),
        ("POST", "/biometric"),
    ] {
        let answer = call(&sim, None, method, path, Some(json!({}))).await;
        assert_eq!(answer.status, 401, "{method} {path}");
    }
}

#[tokio::test]
async fn create_validates_every_field() {
    let sim = start().await;
    let pdf = sample_pdf("A");

    let empty = post(&sim, "/sign/request", json!({})).await;
    assert_json_snapshot!("signal_create_missing_all", empty.shape());

    let mut body = create_body("+593991234567", &pdf);
    body.as_object_mut().unwrap().remove("serial_number");
    let missing = post(&sim, "/sign/request", body).await;
    assert_json_snapshot!("signal_create_missing_serial", missing.shape());

    let cases: Vec<(&str, &str, Value)> = vec![
        ("bad_base64", "document_front", json!("***not base64***")),
        ("not_image", "document_rear", json!(STANDARD.encode(&pdf))),
        (
            "not_pdf",
            "documents_to_sign",
            json!(STANDARD.encode(png())),
        ),
        ("bad_document_type", "id_document_type", json!("XYZ")),
        ("bad_country", "id_document_country", json!("ECU")),
        ("bad_email", "email", json!("not-an-email")),
        ("bad_phone", "mobile_phone_number", json!("0991234567")),
        ("wrong_type", "given_name", json!({ "a": 1 })),
    ];
    for (name, field, value) in cases {
        let mut body = create_body("+593991234567", &pdf);
        body[field] = value;
        let refused = post(&sim, "/sign/request", body).await;
        assert_eq!(refused.status, 400, "{name}");
        assert_json_snapshot!(format!("signal_create_{name}"), refused.shape());
    }

    let broken = sim
        .http
        .post(url(&sim, "/sign/request"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let broken = answer(broken).await;
    assert_eq!(broken.status, 400);
    assert_eq!(broken.json()["status"], false);

    // Nothing was created, so nothing was sent.
    assert!(otps(&sim).await.is_empty());
}

/// As signal.md shows and says: document type and country default to IDC and ES, the
/// residence address and city come back null, and the RAO certificate's issuer and subject
/// are empty in the create answer and filled in `GET /sign/:pk`.
#[tokio::test]
async fn details_as_the_docs_show_them() {
    let sim = start().await;
    let mut body = create_body("+593991234567", &sample_pdf("Defaults"));
    let fields = body.as_object_mut().unwrap();
    fields.remove("id_document_type");
    fields.remove("id_document_country");
    let created = post(&sim, "/sign/request", body).await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    let details = created.json()["details"][0]["requestDetails"].clone();
    assert_eq!(details["id_document_type"], "IDC");
    assert_eq!(details["id_document_country"], "ES");
    assert_eq!(details["country_name"], "ES");
    assert_eq!(details["residence_address"], Value::Null);
    assert_eq!(details["residence_city"], Value::Null);
    assert_eq!(details["residence"], "EC");
    let rao = &details["approving_rao"]["certificate"];
    assert_eq!((&rao["issuer"], &rao["subject"]), (&json!(""), &json!("")));

    let pk = created.json()["pk"].as_u64().unwrap();
    let fetched = get(&sim, &format!("/sign/{pk}")).await.json()["details"].clone();
    assert_eq!(fetched["residence_address"], Value::Null);
    assert_eq!(fetched["residence_city"], Value::Null);
    let rao = &fetched["approving_rao"]["certificate"];
    assert_eq!(
        rao["issuer"],
        "C=ES, L=Barcelona (see current address at www.uanataca.com/address), O=UANATACA S.A., OU=TSP-UANATACA, CN=UANATACA CA1 2016 STAGING, 2.5.4.97=VATES-A66721499"
    );
    assert_eq!(
        rao["subject"],
        "CN=RAO Ecuador One-Shot SandBox, 2.5.4.5=IDCEC-99999999R, 2.5.4.42=RAO Ecuador One-Shot, 2.5.4.4=SandBox, OU=BES DPR:https://www.uanataca.com/, C=ES"
    );

    // The signer's certificate carries the default document type and country.
    let otp = last_otp(&sim).await;
    let signed = post(&sim, "/sign", json!({ "secret": otp, "pk": pk })).await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    let issued = get(&sim, &format!("/sign/{pk}")).await.json()["details"]["certificate_set"][0]
        ["subject"]
        .clone();
    assert!(
        issued.as_str().unwrap().contains("IDCES-1712345678"),
        "{issued}"
    );
}

#[tokio::test]
async fn wrong_and_reused_otp_are_refused() {
    let sim = start().await;
    let (pk, _) = create(&sim, "+593991234567").await;
    let otp = last_otp(&sim).await;

    let refused = post(&sim, "/sign", json!({ "secret": wrong(&otp), "pk": pk })).await;
    assert_json_snapshot!("signal_sign_wrong_otp", refused.shape());
    let details = get(&sim, &format!("/sign/{pk}")).await.json();
    assert_eq!(details["details"]["status"], "ENROLLREADY");

    let signed = post(&sim, "/sign", json!({ "secret": otp, "pk": pk })).await;
    assert_eq!(signed.json(), json!({ "status": "true" }));
    let reused = post(&sim, "/sign", json!({ "secret": otp, "pk": pk })).await;
    assert_json_snapshot!("signal_sign_reused_otp", reused.shape());

    let missing = post(&sim, "/sign", json!({})).await;
    assert_json_snapshot!("signal_sign_missing", missing.shape());
}

#[tokio::test]
async fn unknown_and_foreign_requests_are_404() {
    let sim = start().await;
    let (pk, uid) = create(&sim, "+593991234567").await;
    let otp = last_otp(&sim).await;

    assert_json_snapshot!(
        "signal_get_unknown",
        get(&sim, "/sign/999999").await.shape()
    );
    assert_eq!(get(&sim, "/sign/abc").await.status, 404);
    let unknown_sign = post(&sim, "/sign", json!({ "secret": otp, "pk": "999999" })).await;
    assert_json_snapshot!("signal_sign_unknown", unknown_sign.shape());

    // Another token sees none of it, and cannot spend the OTP.
    let other = |method: &'static str, path: String, body: Option<Value>| {
        let sim = &sim;
        async move { call(sim, Some(OTHER_TOKEN), method, &path, body).await }
    };
    assert_eq!(other("GET", format!("/sign/{pk}"), None).await.status, 404);
    let foreign_sign = other(
        "POST",
        "/sign".into(),
        Some(json!({ "secret": otp, "pk": pk })),
    )
    .await;
    assert_eq!(foreign_sign.status, 404);
    let body = file_body(pk, "original", &uid);
    assert_eq!(
        other("POST", "/sign/retrieve".into(), Some(body.clone()))
            .await
            .status,
        404
    );
    assert_eq!(
        other("POST", "/sign/download".into(), Some(body))
            .await
            .status,
        404
    );
    assert_eq!(
        post(&sim, "/sign", json!({ "secret": otp, "pk": pk }))
            .await
            .status,
        200,
        "the owner still signs"
    );
}

#[tokio::test]
async fn file_calls_check_pk_type_and_uid() {
    let sim = start().await;
    let (pk, uid) = create(&sim, "+593991234567").await;

    let not_signed = post(&sim, "/sign/download", file_body(pk, "signed", &uid)).await;
    assert_json_snapshot!("signal_download_not_signed", not_signed.shape());
    let retrieve_not_signed = post(&sim, "/sign/retrieve", file_body(pk, "signed", &uid)).await;
    assert_eq!(retrieve_not_signed.status, 404);
    let bad_type = post(&sim, "/sign/download", file_body(pk, "draft", &uid)).await;
    assert_json_snapshot!("signal_download_bad_type", bad_type.shape());
    let bad_uid = post(&sim, "/sign/retrieve", file_body(pk, "original", "nope")).await;
    assert_json_snapshot!("signal_retrieve_unknown_uid", bad_uid.shape());
    let missing = post(&sim, "/sign/retrieve", json!({ "pk": pk })).await;
    assert_json_snapshot!("signal_retrieve_missing", missing.shape());
    let unknown_pk = post(&sim, "/sign/download", file_body(999_999, "original", &uid)).await;
    assert_eq!(unknown_pk.status, 404);
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let sim = start().await;
    assert_json_snapshot!("signal_unknown_path", get(&sim, "/nope").await.shape());
    let wrong_method = call(&sim, Some(TOKEN), "DELETE", "/sign", None).await;
    assert_json_snapshot!("signal_wrong_method", wrong_method.shape());
}

#[tokio::test]
async fn biometric_link_opens_a_page_that_records_the_outcome() {
    let sim = start().await;
    let created = post(&sim, "/biometric", json!({})).await;
    assert_json_snapshot!("signal_biometric", created.shape(), { ".body.url" => "[url]" });
    let link = created.json()["url"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&sim.url("/_signsim/signal/biometric/")));

    let page = sim.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    let html = String::from_utf8_lossy(&page.bytes);
    assert!(html.contains("Pass the check"), "{html}");

    let bad = sim
        .post_json(&format!("{link}/complete"), json!({ "outcome": "maybe" }))
        .await;
    assert_json_snapshot!("signal_biometric_bad_outcome", bad.shape());
    let done = sim
        .post_json(&format!("{link}/complete"), json!({ "outcome": "passed" }))
        .await;
    assert_json_snapshot!("signal_biometric_completed", done.shape(), { ".body.id" => "[id]" });
    let again = sim
        .post_json(&format!("{link}/complete"), json!({ "outcome": "failed" }))
        .await;
    assert_eq!(again.status, 410);
    // The link is used: its page says how the check ended, with 410.
    let used = sim.get(&link).await;
    assert_eq!(used.status, 410);
    assert!(String::from_utf8_lossy(&used.bytes).contains("passed"));

    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 1801 }),
    )
    .await;
    assert_eq!(sim.get(&link).await.status, 410);
}

#[tokio::test]
async fn scenario_sms_never_delivered() {
    let sim = start().await;
    let created = post(
        &sim,
        "/sign/request",
        create_body("+593900000001", &sample_pdf("A")),
    )
    .await;
    assert_eq!(created.json()["details"][2]["otp"]["status"], true);
    assert!(otps(&sim).await.is_empty(), "the SMS never arrives");
}

#[tokio::test]
async fn scenario_otp_expired() {
    let sim = start().await;
    let (pk, _) = create(&sim, "+593900000002").await;
    let otp = last_otp(&sim).await;
    sim.post_json(&sim.url("/_signsim/clock/advance"), json!({ "seconds": 1 }))
        .await;
    let refused = post(&sim, "/sign", json!({ "secret": otp, "pk": pk })).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["message"], "Confirmation Code invalid");
}

#[tokio::test]
async fn scenario_otp_gateway_down_is_a_partial_failure() {
    let sim = start().await;
    let created = post(
        &sim,
        "/sign/request",
        create_body("+593900000003", &sample_pdf("A")),
    )
    .await;
    assert_json_snapshot!(
        "signal_scenario_otp_gateway_down",
        created.json()["details"][2],
        {}
    );
    let body = created.json();
    assert_eq!(created.status, 200);
    assert_eq!(body["status"], false);
    assert_eq!(
        body["details"][0]["requestDetails"]["status"],
        "ENROLLREADY"
    );
    assert!(otps(&sim).await.is_empty());
}

#[tokio::test]
async fn scenario_signing_fails_and_wrong_then_right() {
    let sim = start().await;
    let (pk, _) = create(&sim, "+593900000005").await;
    let otp = last_otp(&sim).await;
    let failed = post(&sim, "/sign", json!({ "secret": otp, "pk": pk })).await;
    assert_json_snapshot!("signal_scenario_signing_fails", failed.shape());
    let details = get(&sim, &format!("/sign/{pk}")).await.json();
    assert_eq!(details["details"]["status"], "ENROLLREADY");

    // Chosen by header this time.
    let mut request = sim
        .http
        .post(url(&sim, "/sign/request"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("x-signsim-scenario", "signal-otp-wrong-then-right");
    request = request.json(&create_body("+593991234567", &sample_pdf("B")));
    let created = answer(request.send().await.unwrap()).await;
    let pk = created.json()["pk"].as_u64().unwrap();
    let otp = last_otp(&sim).await;
    let first = post(&sim, "/sign", json!({ "secret": otp, "pk": pk })).await;
    assert_eq!(first.status, 403);
    let second = post(&sim, "/sign", json!({ "secret": otp, "pk": pk })).await;
    assert_eq!(second.status, 200);
}

#[tokio::test]
async fn scenario_flaky_download_recovers() {
    let sim = start().await;
    let (pk, uid) = create(&sim, "+593900000007").await;
    let body = file_body(pk, "original", &uid);
    assert_eq!(post(&sim, "/sign/download", body.clone()).await.status, 503);
    assert_eq!(post(&sim, "/sign/download", body.clone()).await.status, 200);
    assert_eq!(post(&sim, "/sign/retrieve", body.clone()).await.status, 503);
    assert_eq!(post(&sim, "/sign/retrieve", body).await.status, 200);
}

/// The signed PDF from `/sign/download` through pyHanko and qpdf, like the Uanataca ones.
#[tokio::test]
async fn signed_download_passes_pyhanko_and_qpdf() {
    let sim = start().await;
    let (pk, uid) = create(&sim, "+593991234567").await;
    let otp = last_otp(&sim).await;
    assert_eq!(
        post(&sim, "/sign", json!({ "secret": otp, "pk": pk }))
            .await
            .status,
        200
    );
    let signed = post(&sim, "/sign/download", file_body(pk, "signed", &uid)).await;
    assert_eq!(signed.status, 200);
    crate::validators::check_pdfs(&sim, &[("signed.pdf", signed.bytes)]).await;
}

/// `view` (`requests`, `events`, `outbox`) rows of Signal tenant `tenant`.
async fn rows(sim: &Sim, view: &str, tenant: &str) -> Vec<Value> {
    let listed = sim
        .get(&sim.url(&format!("/_signsim/{view}?provider=signal&tenant={tenant}")))
        .await
        .json();
    listed.as_array().cloned().unwrap_or_default()
}

/// A retrieve link and a biometric link of the tenant of `token`, with its request.
async fn links_of(sim: &Sim, token: &str, phone: &str) -> (u64, String, String) {
    let created = call(
        sim,
        Some(token),
        "POST",
        "/sign/request",
        Some(create_body(phone, &sample_pdf("To sign"))),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    let pk = created.json()["pk"].as_u64().unwrap();
    let uid = created.json()["uid"].as_str().unwrap().to_owned();
    let retrieved = call(
        sim,
        Some(token),
        "POST",
        "/sign/retrieve",
        Some(file_body(pk, "original", &uid)),
    )
    .await;
    assert_eq!(retrieved.status, 200, "{:?}", retrieved.json());
    let biometric = call(sim, Some(token), "POST", "/biometric", Some(json!({}))).await;
    assert_eq!(biometric.status, 200, "{:?}", biometric.json());
    (
        pk,
        retrieved.json()["url"].as_str().unwrap().to_owned(),
        biometric.json()["url"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_tenants_clock_expires_its_links_and_otp_alone() {
    let sim = start().await;
    let (mine, file, check) = links_of(&sim, TOKEN, "+593991000101").await;
    let mine_otp = last_otp(&sim).await;
    let (theirs, their_file, their_check) = links_of(&sim, OTHER_TOKEN, "+593991000102").await;
    let their_otp = last_otp(&sim).await;

    // An hour and a minute on this tenant's clock: its file link (an hour), biometric link
    // (30 minutes) and OTP (10 minutes) expire; the other tenant's do not.
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": 3660, "tenant": TOKEN, "provider": "signal" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
    assert_eq!(sim.get(&file).await.status, 410);
    assert_eq!(sim.get(&check).await.status, 410);
    let refused = post(&sim, "/sign", json!({ "secret": mine_otp, "pk": mine })).await;
    assert_eq!(refused.status, 403, "{:?}", refused.json());

    assert_eq!(sim.get(&their_file).await.status, 200);
    assert_eq!(sim.get(&their_check).await.status, 200);
    let signed = call(
        &sim,
        Some(OTHER_TOKEN),
        "POST",
        "/sign",
        Some(json!({ "secret": their_otp, "pk": theirs })),
    )
    .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
}

#[tokio::test]
async fn a_tenants_reset_forgets_it_alone() {
    let sim = start().await;
    let (mine, file, check) = links_of(&sim, TOKEN, "+593991000103").await;
    let (theirs, their_file, their_check) = links_of(&sim, OTHER_TOKEN, "+593991000104").await;
    for view in ["requests", "events", "outbox"] {
        assert!(!rows(&sim, view, TOKEN).await.is_empty(), "{view}");
    }

    let reset = sim
        .post_json(
            &sim.url(&format!("/_signsim/reset?tenant={TOKEN}&provider=signal")),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json());
    for view in ["events", "outbox"] {
        assert_eq!(rows(&sim, view, TOKEN).await, Vec::<Value>::new(), "{view}");
    }
    assert_eq!(rows(&sim, "requests", TOKEN).await, Vec::<Value>::new());
    assert_eq!(get(&sim, &format!("/sign/{mine}")).await.status, 404);
    assert_eq!(sim.get(&file).await.status, 404, "its links are forgotten");
    assert_eq!(sim.get(&check).await.status, 404);

    for view in ["requests", "events", "outbox"] {
        assert!(!rows(&sim, view, OTHER_TOKEN).await.is_empty(), "{view}");
    }
    let kept = call(
        &sim,
        Some(OTHER_TOKEN),
        "GET",
        &format!("/sign/{theirs}"),
        None,
    )
    .await;
    assert_eq!(kept.status, 200);
    assert_eq!(sim.get(&their_file).await.status, 200);
    assert_eq!(sim.get(&their_check).await.status, 200);
}

#[tokio::test]
async fn link_acts_are_journaled_under_the_links_tenant_and_answer_404_410() {
    let sim = start().await;
    let login = call(
        &sim,
        None,
        "POST",
        "/auth/login",
        Some(json!({ "username": "journaled", "password": "x" })),
    )
    .await;
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let (_, file, check) = links_of(&sim, &token, "+593991000105").await;
    assert_eq!(sim.get(&file).await.status, 200);
    assert_eq!(sim.get(&check).await.status, 200);
    let done = sim
        .post_json(&format!("{check}/complete"), json!({ "outcome": "failed" }))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    // Used: the page and another completion answer 410, also journaled under the tenant.
    assert_eq!(sim.get(&check).await.status, 410);
    let again = sim
        .post_json(&format!("{check}/complete"), json!({ "outcome": "passed" }))
        .await;
    assert_eq!(again.status, 410);
    // Unknown links are 404 (and nobody's).
    let unknown = sim.url("/_signsim/signal/biometric/nope");
    assert_eq!(sim.get(&unknown).await.status, 404);
    let unknown_complete = sim
        .post_json(
            &format!("{unknown}/complete"),
            json!({ "outcome": "passed" }),
        )
        .await;
    assert_eq!(unknown_complete.status, 404);

    let journal = rows(&sim, "requests", "journaled").await;
    let path = |url: &str| url.trim_start_matches(&sim.url("")).to_owned();
    let listed: Vec<(String, u64)> = journal
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    for wanted in [
        (path(&file), 200),
        (path(&check), 200),
        (format!("{}/complete", path(&check)), 200),
        (path(&check), 410),
        (format!("{}/complete", path(&check)), 410),
    ] {
        assert!(listed.contains(&wanted), "{wanted:?} in {listed:?}");
    }
    assert!(journal.iter().all(|e| e["provider"] == "signal"));
}

#[tokio::test]
async fn times_on_request_create_count_per_tenant() {
    let sim = start().await;
    let file = "[[scenario]]\nname = \"signal-gateway-once\"\nprovider = \"signal\"\n\n\
                [[scenario.effects]]\noperation = \"request.create\"\ntimes = 1\n\
                respond = { status = 503, body = { status = false, code = 503, message = \"try again\" } }\n";
    let loaded = sim
        .post_raw(
            &sim.url("/_signsim/scenarios"),
            Some("application/toml"),
            file.into(),
        )
        .await;
    assert_eq!(loaded.status, 200, "{:?}", loaded.json());
    let create = async |token: &str| {
        let answered = sim
            .http
            .post(url(&sim, "/sign/request"))
            .header("authorization", format!("Bearer {token}"))
            .header("x-signsim-scenario", "signal-gateway-once")
            .json(&create_body("+593991000106", &sample_pdf("To sign")))
            .send()
            .await
            .unwrap();
        answered.status().as_u16()
    };
    // The gateway fails once per tenant; the retry works.
    assert_eq!(create(TOKEN).await, 503);
    assert_eq!(create(TOKEN).await, 200);
    assert_eq!(create(TOKEN).await, 200);
    assert_eq!(create(OTHER_TOKEN).await, 503);
    assert_eq!(create(OTHER_TOKEN).await, 200);
}
