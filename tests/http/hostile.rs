//! Bad input never hurts: seeded random calls with malformed bodies, wrong types, odd ids
//! and bad credentials, sent to every route of every surface, answer below 500 (but for the
//! provider's own documented 500s) without breaking the connection, and leave another
//! tenant's state exactly as it was.

use crate::common::{answer, sample_pdf, sample_png, start, Answer, Sim, DEMO_TOKEN};
use base64::Engine as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Map, Value};

const CALLS: usize = 1200;
const ATTACKER: &str = "attacker";
const VICTIM: &str = "victim";

/// Every route, with `{pk}`, `{uid}`, `{envelope}`, `{document}` and `{mensatek}` filled
/// in per call. Reset is aimed at the attacker's own tenant (a full one forgets the victim
/// by design); the random bodies only ever advance the clock by seconds, if at all.
const ROUTES: &[&str] = &[
    "GET /uanataca/api/v1/settings",
    "POST /uanataca/api/v1/settings",
    "POST /uanataca/api/v1/token",
    "GET /uanataca/api/v1/token/{uid}",
    "POST /uanataca/api/v1/image",
    "GET /uanataca/api/v1/image/{uid}",
    "POST /uanataca/api/v1/metadata",
    "GET /uanataca/api/v1/metadata/{uid}",
    "POST /uanataca/api/v1/request",
    "GET /uanataca/api/v1/request/{pk}",
    "PUT /uanataca/api/v1/request/{pk}",
    "POST /uanataca/api/v1/request/{pk}/approve",
    "POST /uanataca/api/v1/videoid",
    "POST /uanataca/api/v1/videoid/{pk}/evidences",
    "POST /uanataca/api/v1/videoid/{pk}/evidences/video",
    "POST /uanataca/api/v1/videoid/{pk}/validate",
    "POST /uanataca/api/v1/videoid/{pk}/refuse",
    "POST /uanataca/api/v1/otp/{pk}",
    "POST /uanataca/api/v1/sign/{pk}",
    "GET /uanataca/api/v1/async/status/{pk}",
    "POST /uanataca/api/v1/document/{pk}",
    "GET /uanataca/api/v1/document/{pk}/contract",
    "GET /uanataca/api/v1/document/{pk}/original/{uid}",
    "GET /uanataca/api/v1/document/{pk}/signed/{uid}",
    "DELETE /uanataca/api/v1/document/{pk}/original/{uid}",
    "GET /uanataca/api/v1/documents/{pk}",
    "DELETE /uanataca/api/v1/documents/{pk}",
    "POST /signal/auth/login",
    "POST /signal/sign",
    "POST /signal/sign/request",
    "GET /signal/sign/{pk}",
    "POST /signal/sign/retrieve",
    "POST /signal/sign/download",
    "POST /signal/biometric",
    "POST /qitech/sign/envelope",
    "GET /qitech/sign/envelope/{envelope}",
    "PATCH /qitech/sign/envelope/{envelope}",
    "POST /qitech/sign/envelope/{envelope}/document",
    "GET /qitech/sign/envelope/{envelope}/document/{document}/report",
    "GET /qitech/sign/envelope/{envelope}/report",
    "GET /qitech/sign/envelope/{envelope}/signer/1",
    "POST /qitech/sign/envelope/{envelope}/signer/1/personal_document",
    "POST /mensatek/VerificarIdentidad",
    "POST /mensatek/GetCertificadoVerificacion",
    "POST /mensatek/GetCreditos",
    "GET /_signsim/",
    "GET /_signsim?provider={pk}&tenant={uid}",
    "GET /_signsim/resources/qitech/attacker/{envelope}",
    "GET /_signsim/resources/uanataca/{uid}/{pk}",
    "GET /_signsim/uanataca/requests/{pk}/documents/{uid}?signed=true",
    "GET /_signsim/uanataca/requests/{pk}/certificate",
    "GET /_signsim/health",
    "GET /_signsim/ca.pem",
    "GET /_signsim/clock",
    "POST /_signsim/clock/advance",
    "POST /_signsim/reset?tenant=attacker",
    "GET /_signsim/scenarios",
    "GET /_signsim/openapi/{uid}.json",
    "GET /_signsim/openapi/uanataca.json",
    "POST /identiasign/api/auth/login",
    "PUT /identiasign/api/signature_processes",
    "POST /identiasign/api/signature_processes",
    "GET /identiasign/api/signature_processes",
    "GET /identiasign/api/signature_processes?limit=2&last_item=%7B%22processId%22%3A%22{process}%22%7D",
    "GET /identiasign/api/signature_processes?process_id={process}&creation_start=2024",
    "DELETE /identiasign/api/signature_processes",
    "POST /identiasign/api/notify",
    "GET /identiasign/api/labels?limit=99999999999999999999",
    "POST /identiasign/api/labels",
    "DELETE /identiasign/api/labels",
    "POST /_signsim/identiasign/config",
    "POST /_signsim/identiasign/processes/{process}/signers/PER:12345678/sign",
    "POST /_signsim/identiasign/processes/{process}/signers/PER:12345678/fail-facial",
    "POST /_signsim/identiasign/processes/{process}/signers/PER:12345678/reject",
    "GET /_signsim/identiasign/ui/signature_processes/{process}.00",
    "GET /_signsim/identiasign/files/x",
    "POST /_signsim/scenarios",
    "GET /_signsim/webhooks",
    "POST /_signsim/webhooks/{uid}/redeliver",
    "GET /_signsim/events",
    "GET /_signsim/events?provider=uanataca&id={pk}",
    "GET /_signsim/events?provider={uid}&tenant=%FF",
    "GET /_signsim/outbox",
    "GET /_signsim/outbox?channel={pk}&to={uid}",
    "GET /_signsim/inbox?channel=pigeon",
    "GET /_signsim/requests",
    "GET /_signsim/requests?provider={pk}&tenant[]=1",
    "GET /_signsim/nowhere/{pk}",
    "POST /_signsim/qitech/webhook",
    "POST /_signsim/qitech/envelopes/{envelope}/signers/1/sign",
    "GET /_signsim/qitech/s/{uid}",
    "POST /_signsim/qitech/s/{uid}",
    "GET /_signsim/qitech/files/{uid}.pdf",
    "POST /_signsim/qitech/receiver-down",
    "GET /_signsim/signal/files/{uid}",
    "GET /_signsim/signal/biometric/{uid}",
    "POST /_signsim/signal/biometric/{uid}/complete",
    "GET /_signsim/uanataca/videoid/{pk}",
    "POST /_signsim/uanataca/videoid/{pk}/complete",
    "POST /_signsim/mensatek/report-url",
    "POST /_signsim/mensatek/credits",
    "POST /_signsim/mensatek/verifications/{mensatek}/complete",
    "GET /_signsim/mensatek/verifications/{mensatek}/certificate?api_user={uid}",
    "GET /_signsim/mensatek/verifications/{mensatek}/certificate",
    "GET /_signsim/resources/identiasign/{uid}/{process}",
    "GET /_signsim/resources/mensatek/{uid}/{mensatek}",
    "GET /_signsim/mensatek/v/{uid}",
    "POST /_signsim/mensatek/receiver-down",
];

/// The routes whose 5xx is their purpose: the receivers the "receiver down" scenarios aim
/// deliveries at always answer 503.
const DOWN_BY_DESIGN: &[&str] = &[
    "POST /_signsim/qitech/receiver-down",
    "POST /_signsim/mensatek/receiver-down",
];

const KEYS: &[&str] = &[
    "secret",
    "pk",
    "uid",
    "type",
    "status",
    "token",
    "username",
    "password",
    "pin",
    "given_name",
    "surname_1",
    "email",
    "mobile_phone_number",
    "serial_number",
    "env",
    "options",
    "useasync",
    "callback",
    "reason",
    "scratchcard",
    "seconds",
    "api_key",
    "url",
    "signature_key",
    "cpf",
    "id",
    "subject",
    "expiration_date",
    "signers",
    "document_b64",
    "template",
    "documents_to_sign",
    "document_front",
    "outcome",
    "delivery_method",
    "metadata",
    "metadata_oid",
    "image",
    "name",
    "document_type",
    "Telefono",
    "Mensaje",
    "Dni",
    "Fecha",
    "Remitente",
    "Id",
    "Resp",
    "api_user",
    "credits",
    "format",
    "process_id",
    "clientname",
    "label",
    "labels",
    "limit",
    "expire",
    "link_expire",
    "urlCallback",
    "signOrder",
    "msg_form",
    "refused_nats",
    "link",
];

const RAW_BODIES: &[&str] = &[
    "",
    "null",
    "[]",
    "{}",
    "1e999",
    "\"text\"",
    "{\"a\":",
    "{\"pk\": [1], \"secret\": {}}",
    "{\"seconds\": -1e300}",
    "{\"seconds\": 18446744073709551616}",
    "\u{0}\u{ff}",
    "{\"signers\": [null, 1, \"x\"]}",
    "{\"options\": {\"x\": {\"position\": \"1,2\"}}}",
    "{\"type\": \"signed\", \"uid\": \"../../etc/passwd\", \"pk\": \"-1\"}",
];

fn random_value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..12) {
        0 => Value::Null,
        1 => json!(rng.random_range(-5i64..5)),
        2 => json!(u64::MAX),
        3 => json!(""),
        4 => json!("x".repeat(rng.random_range(1..5000))),
        5 => json!([]),
        6 => json!({}),
        7 => json!(true),
        8 => json!(1.5),
        9 => json!("ZZZ="),
        10 => json!([{ "id": 1 }]),
        _ => json!({ "a": [1, { "b": null }] }),
    }
}

fn random_text(rng: &mut StdRng) -> String {
    match random_value(rng) {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// A body of one of several broken kinds, with the Content-Type it claims.
fn random_body(rng: &mut StdRng, pdf: &[u8]) -> (Vec<u8>, Option<String>) {
    let claimed = [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=nope",
        "image/png",
    ];
    match rng.random_range(0..4) {
        0 => {
            let raw = RAW_BODIES[rng.random_range(0..RAW_BODIES.len())];
            let content_type = claimed[rng.random_range(0..claimed.len())];
            (raw.as_bytes().to_vec(), Some(content_type.into()))
        }
        1 => {
            let mut object = Map::new();
            for _ in 0..rng.random_range(1..6) {
                let key = KEYS[rng.random_range(0..KEYS.len())];
                object.insert(key.into(), random_value(rng));
            }
            let content_type = rng.random_bool(0.8).then(|| "application/json".into());
            (Value::Object(object).to_string().into_bytes(), content_type)
        }
        2 => {
            let bytes: Vec<u8> = (0..rng.random_range(0..3000))
                .map(|_| rng.random())
                .collect();
            let content_type = claimed[rng.random_range(0..claimed.len())];
            (bytes, Some(content_type.into()))
        }
        _ => {
            let boundary = "hostile-boundary";
            let mut body = Vec::new();
            for _ in 0..rng.random_range(0..4) {
                let key = KEYS[rng.random_range(0..KEYS.len())];
                let text = random_text(rng);
                body.extend(format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{text}\r\n"
                ).into_bytes());
            }
            if rng.random_bool(0.5) {
                let file: Vec<u8> = match rng.random_range(0..3) {
                    0 => pdf[..rng.random_range(0..pdf.len())].to_vec(),
                    1 => pdf.to_vec(),
                    _ => b"{\"messageDigest\": \"AAAA\"}".to_vec(),
                };
                let field =
                    ["file", "hashfile", "image", "video", "pdfFiles"][rng.random_range(0..5)];
                body.extend(format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"f.pdf\"\r\n\r\n"
                ).into_bytes());
                body.extend(file);
                body.extend(b"\r\n");
            }
            body.extend(format!("--{boundary}--\r\n").into_bytes());
            if rng.random_bool(0.2) {
                body.truncate(rng.random_range(0..=body.len()));
            }
            (
                body,
                Some(format!("multipart/form-data; boundary={boundary}")),
            )
        }
    }
}

/// A 500 the real service documents for bad input, copied as it is (docs/fidelity.md): the
/// One-Shot create call's field and billing errors, a wrong scratchcard, approving an
/// unfinished video identification.
fn documented_500(path: &str, answered: &Answer) -> bool {
    let Ok(body) = serde_json::from_slice::<Value>(&answered.bytes) else {
        return false;
    };
    if !path.starts_with("/uanataca/") || body["status"] != "500 Internal Server Error" {
        return false;
    }
    match &body["details"] {
        Value::String(text) => [
            "Billing credentials not valid",
            "Cannot check the remaining credit",
            "Cannot update the Request",
            "Cannot approve Request",
        ]
        .iter()
        .any(|start| text.starts_with(start)),
        Value::Object(fields) => fields
            .keys()
            .all(|k| ["email", "id_document_country", "country_name"].contains(&k.as_str())),
        _ => false,
    }
}

/// The ids a tenant's resources have, to aim calls at.
struct Ids {
    pk: String,
    uid: String,
    signal_pk: String,
    envelope: String,
    document: String,
    mensatek: String,
    /// An IdentiaSign process, and the tenant's token.
    process: String,
    token: String,
}

async fn send(
    sim: &Sim,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    content_type: Option<String>,
) -> Result<Answer, reqwest::Error> {
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = sim.http.request(method, sim.url(path)).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    Ok(answer(request.send().await?).await)
}

/// Posts a well-formed JSON body and expects `status`; answers the body.
async fn post_ok(sim: &Sim, path: &str, header: (&str, String), body: Value, status: u16) -> Value {
    let json = Some("application/json".to_owned());
    let answered = send(
        sim,
        "POST",
        path,
        &[header],
        body.to_string().into_bytes(),
        json,
    )
    .await
    .unwrap();
    assert_eq!(answered.status, status, "{path}: {:?}", answered.json());
    answered.json()
}

/// Creates one resource per surface for `tenant` and returns their ids.
async fn populate(sim: &Sim, tenant: &str) -> Ids {
    let uanataca = || ("x-signsim-tenant", tenant.to_owned());
    let created = post_ok(
        sim,
        "/uanataca/api/v1/request",
        uanataca(),
        json!({
            "token": DEMO_TOKEN, "given_name": "Quiet", "surname_1": "Tenant",
            "email": "quiet@example.com", "mobile_phone_number": "+34600999888"
        }),
        201,
    )
    .await;
    let pk = created["details"].to_string();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(sample_pdf("Quiet")).file_name("q.pdf"),
    );
    let (name, value) = uanataca();
    let uploaded = sim
        .http
        .post(sim.url(&format!("/uanataca/api/v1/document/{pk}")))
        .header(name, value)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let uploaded = answer(uploaded).await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();

    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let png = b64(&sample_png(4, 4));
    let signal = post_ok(
        sim,
        "/signal/sign/request",
        ("authorization", format!("Bearer {tenant}")),
        json!({
            "given_name": "Quiet", "surname_1": "Tenant", "id_document_type": "IDC",
            "id_document_country": "EC", "serial_number": "1712345678",
            "email": "quiet@example.com", "mobile_phone_number": "+593991234567",
            "document_front": png, "document_rear": png, "document_owner": png,
            "documents_to_sign": b64(&sample_pdf("Quiet")),
        }),
        200,
    )
    .await;
    let signal_pk = signal["pk"].to_string().trim_matches('"').to_owned();

    let key = || ("authorization", tenant.to_owned());
    let envelope = format!("{tenant}-envelope");
    post_ok(
        sim,
        "/qitech/sign/envelope",
        key(),
        json!({
            "id": envelope, "subject": "Quiet", "expiration_date": "2099-01-01",
            "signers": [{
                "id": "1", "name": "Quiet Tenant", "email": "quiet@example.com",
                "birthdate": "1990-01-01", "document_number": "111.111.111-11",
                "document_submission_method": "email",
                "authentication_submission_method": "email"
            }]
        }),
        201,
    )
    .await;
    let document = post_ok(
        sim,
        &format!("/qitech/sign/envelope/{envelope}/document"),
        key(),
        json!({ "document_b64": b64(&sample_pdf("Quiet")), "name": "Quiet", "document_type": "pdf" }),
        201,
    )
    .await;
    let document = document["id"].as_str().unwrap().to_owned();
    let verification = post_ok(
        sim,
        "/mensatek/VerificarIdentidad",
        ("authorization", mensatek_basic(tenant)),
        json!({ "Telefono": "34600999888", "Resp": "JSON" }),
        200,
    )
    .await;
    let mensatek = verification[0]["ID"].as_str().unwrap().to_owned();

    let login = post_ok(
        sim,
        "/identiasign/api/auth/login",
        ("x-ignored", String::new()),
        json!({ "username": tenant, "clientname": "quiet@example.com", "password": "x" }),
        200,
    )
    .await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let form = reqwest::multipart::Form::new()
        .part(
            "pdfFiles",
            reqwest::multipart::Part::bytes(sample_pdf("Quiet")).file_name("q.pdf"),
        )
        .text(
            "signers",
            json!([{ "nat": "PER", "doc_id": "12345678" }]).to_string(),
        );
    let created = sim
        .http
        .put(sim.url("/identiasign/api/signature_processes"))
        .header("authorization", format!("jwt-bearer {token}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let created = answer(created).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let process = created.json()["id"].as_str().unwrap().to_owned();
    Ids {
        pk,
        uid,
        signal_pk,
        envelope,
        document,
        mensatek,
        process,
        token,
    }
}

/// Mensatek's `Authorization: Basic` for API user `tenant`.
fn mensatek_basic(tenant: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{tenant}:token"));
    format!("Basic {encoded}")
}

/// Everything the victim tenant can read back about its resources.
async fn state_of(sim: &Sim, ids: &Ids) -> Vec<(u16, Vec<u8>)> {
    let uanataca = [("x-signsim-tenant", VICTIM.to_owned())];
    let bearer = [("authorization", format!("Bearer {VICTIM}"))];
    let key = [("authorization", VICTIM.to_owned())];
    let reads: [(String, &[(&str, String)]); 5] = [
        (format!("/uanataca/api/v1/request/{}", ids.pk), &uanataca),
        (format!("/uanataca/api/v1/documents/{}", ids.pk), &uanataca),
        (
            format!("/uanataca/api/v1/document/{}/original/{}", ids.pk, ids.uid),
            &uanataca,
        ),
        (format!("/signal/sign/{}", ids.signal_pk), &bearer),
        (format!("/qitech/sign/envelope/{}", ids.envelope), &key),
    ];
    let mut state = Vec::new();
    for (path, headers) in reads {
        let read = send(sim, "GET", &path, headers, Vec::new(), None)
            .await
            .unwrap();
        state.push((read.status, read.bytes));
    }
    // Mensatek's calls are POSTs: the certificate's state (-5) and the balance.
    let basic = [("authorization", mensatek_basic(VICTIM))];
    for (path, body) in [
        (
            "/mensatek/GetCertificadoVerificacion",
            json!({ "Id": ids.mensatek, "Resp": "JSON" }),
        ),
        ("/mensatek/GetCreditos", json!({ "Resp": "JSON" })),
    ] {
        let json = Some("application/json".to_owned());
        let read = send(
            sim,
            "POST",
            path,
            &basic,
            body.to_string().into_bytes(),
            json,
        )
        .await
        .unwrap();
        state.push((read.status, read.bytes));
    }
    // IdentiaSign's listing makes fresh document URLs each time: compare without them.
    let jwt = [("authorization", format!("jwt-bearer {}", ids.token))];
    let path = format!(
        "/identiasign/api/signature_processes?process_id={}",
        ids.process
    );
    let read = send(sim, "GET", &path, &jwt, Vec::new(), None)
        .await
        .unwrap();
    let mut listed: Value = serde_json::from_slice(&read.bytes).unwrap_or(Value::Null);
    if let Some(processes) = listed["signatureProcesses"].as_array_mut() {
        for process in processes {
            if let Some(documents) = process["documents"].as_array_mut() {
                for document in documents {
                    if let Some(document) = document.as_object_mut() {
                        document.remove("url");
                    }
                }
            }
        }
    }
    state.push((read.status, listed.to_string().into_bytes()));
    state
}

#[tokio::test]
async fn random_bad_calls_answer_4xx_and_hurt_no_other_tenant() {
    let sim = start().await;
    let victim = populate(&sim, VICTIM).await;
    let mut attacker = populate(&sim, ATTACKER).await;
    let before = state_of(&sim, &victim).await;
    assert!(before.iter().all(|(status, _)| *status == 200));

    let pdf = sample_pdf("Hostile");
    let mut rng = StdRng::seed_from_u64(7);
    let mut called = std::collections::HashSet::new();
    for call in 0..CALLS {
        let route = ROUTES[rng.random_range(0..ROUTES.len())];
        called.insert(route);
        let (method, template) = route.split_once(' ').expect("METHOD path");
        // Mostly the attacker's own ids, sometimes the victim's or nonsense.
        let aimed = if rng.random_bool(0.15) {
            &victim
        } else {
            &attacker
        };
        let odd = ["0", "-1", "99999999999999999999", "abc", "%20"];
        let pk = if rng.random_bool(0.1) {
            odd[rng.random_range(0..odd.len())].to_owned()
        } else if template.starts_with("/signal") {
            aimed.signal_pk.clone()
        } else {
            aimed.pk.clone()
        };
        let path = template
            .replace("{pk}", &pk)
            .replace("{uid}", &aimed.uid)
            .replace("{envelope}", &aimed.envelope)
            .replace("{document}", &aimed.document)
            .replace("{mensatek}", &aimed.mensatek)
            .replace("{process}", &aimed.process);
        let credential = if template.starts_with("/signal") {
            let good = rng.random_bool(0.9);
            let value = if good {
                &format!("Bearer {ATTACKER}")
            } else {
                "Bearer a b"
            };
            ("authorization", value.to_owned())
        } else if template.starts_with("/mensatek") {
            let value = if rng.random_bool(0.9) {
                mensatek_basic(ATTACKER)
            } else {
                "Basic eA==".to_owned()
            };
            ("authorization", value)
        } else if template.starts_with("/identiasign") {
            let value = if rng.random_bool(0.9) {
                format!("jwt-bearer {}", attacker.token)
            } else {
                "jwt-bearer a.b.c".to_owned()
            };
            ("authorization", value)
        } else if template.starts_with("/qitech") {
            let value = if rng.random_bool(0.9) {
                ATTACKER
            } else {
                "Basic eA=="
            };
            ("authorization", value.to_owned())
        } else {
            // Uanataca and the admin API tell tenants apart by this header.
            ("x-signsim-tenant", ATTACKER.to_owned())
        };
        let (body, content_type) = random_body(&mut rng, &pdf);
        let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        let answered = send(&sim, method, &path, &[credential], body, content_type).await;
        let answered = answered.unwrap_or_else(|e| panic!("call {call} {method} {path}: {e}"));
        let by_design = DOWN_BY_DESIGN.contains(&route) && answered.status == 503;
        assert!(
            answered.status < 500 || by_design || documented_500(&path, &answered),
            "call {call}: {method} {path} with {shown:?} answered {} {}",
            answered.status,
            String::from_utf8_lossy(&answered.bytes)
        );
        if template.starts_with("/_signsim/reset") && answered.status == 200 {
            // The attacker forgot its own resources: later calls aim at fresh ones.
            attacker = populate(&sim, ATTACKER).await;
        }
    }

    let missed: Vec<&&str> = ROUTES.iter().filter(|r| !called.contains(*r)).collect();
    assert!(missed.is_empty(), "never called: {missed:?}");

    let health = sim.get(&sim.url("/_signsim/health")).await;
    assert_eq!(health.status, 200);
    assert!(
        before == state_of(&sim, &victim).await,
        "the victim tenant's state changed"
    );
}
