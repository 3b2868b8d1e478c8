//! The OpenAPI documents are true: each test walks one surface through every operation its
//! document lists (successes and the error answers a client meets), and `Contract` checks
//! each answer's status, content type and body against the document; a documented
//! operation that no call made fails the test. The documents are the ones the server
//! serves at `/_signsim/openapi/<name>.json`.

use crate::common::{sample_pdf, sample_png, signer_form, start, Answer, Sim, DEMO_TOKEN};
use crate::contract::Contract;
use crate::receiver::eventually;
use base64::Engine as _;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

/// What a call sends.
enum Body {
    None,
    Json(Value),
    Form(Form),
    Raw(&'static str, String),
}

/// One surface's calls, each checked against its document.
struct Calls<'a> {
    sim: &'a Sim,
    contract: Contract,
    /// Sent with every call: the surface's credential.
    headers: Vec<(&'static str, String)>,
}

impl<'a> Calls<'a> {
    /// The document as the server serves it.
    async fn new(sim: &'a Sim, name: &'static str) -> Calls<'a> {
        let served = sim
            .get(&sim.url(&format!("/_signsim/openapi/{name}.json")))
            .await;
        assert_eq!(served.status, 200, "{name}.json is served");
        assert_eq!(served.content_type, "application/json");
        let text = String::from_utf8(served.bytes).expect("UTF-8");
        Calls {
            sim,
            contract: Contract::new(name, &text),
            headers: Vec::new(),
        }
    }

    fn with(mut self, header: &'static str, value: impl Into<String>) -> Calls<'a> {
        self.headers.push((header, value.into()));
        self
    }

    async fn call(&mut self, method: Method, path: &str, body: Body) -> Answer {
        let mut request = self.sim.http.request(method.clone(), self.sim.url(path));
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        request = match body {
            Body::None => request,
            Body::Json(value) => request.json(&value),
            Body::Form(form) => request.multipart(form),
            Body::Raw(content_type, text) => {
                request.header("content-type", content_type).body(text)
            }
        };
        let answer = crate::common::answer(request.send().await.expect("request sent")).await;
        self.contract.check(method.as_str(), path, &answer);
        answer
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.call(Method::GET, path, Body::None).await
    }

    async fn delete(&mut self, path: &str) -> Answer {
        self.call(Method::DELETE, path, Body::None).await
    }

    async fn json(&mut self, method: Method, path: &str, body: Value) -> Answer {
        self.call(method, path, Body::Json(body)).await
    }

    async fn form(&mut self, method: Method, path: &str, form: Form) -> Answer {
        self.call(method, path, Body::Form(form)).await
    }
}

/// The path of a link the simulator handed out (links are absolute).
fn path_of(sim: &Sim, link: &Value) -> String {
    let link = text(link);
    let root = sim.url("");
    link.strip_prefix(root.trim_end_matches('/'))
        .unwrap_or_else(|| panic!("{link} is not a link to {root}"))
        .to_owned()
}

fn details(answer: &Answer) -> Value {
    answer.json()["details"].clone()
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a string, got {value}"))
        .to_owned()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn every_document_is_served_and_an_unknown_one_is_a_404() {
    let sim = start().await;
    for name in ["admin"].into_iter().chain(signsim::slugs()) {
        let served = sim
            .get(&sim.url(&format!("/_signsim/openapi/{name}.json")))
            .await;
        assert_eq!(served.status, 200, "{name}");
        let contract = Contract::new("served", &String::from_utf8_lossy(&served.bytes));
        assert!(!contract.operations().is_empty(), "{name} documents calls");
    }
    for unknown in ["nope.json", "uanataca", "uanataca.yaml", "admin.json.json"] {
        let answer = sim
            .get(&sim.url(&format!("/_signsim/openapi/{unknown}")))
            .await;
        assert_eq!(answer.status, 404, "{unknown}");
        assert!(
            answer.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("uanataca.json")),
            "the 404 names the documents there are: {:?}",
            answer.json()
        );
    }
}

#[test]
fn documents_use_only_what_the_validator_knows() {
    let documents = signsim::PROVIDERS
        .iter()
        .map(|p| (p.slug, p.openapi))
        .chain([("admin", signsim::admin::openapi::ADMIN)]);
    for (name, text) in documents {
        let unknown = Contract::new(name, text).unknown_keywords();
        assert!(unknown.is_empty(), "{name}: {unknown:?}");
    }
}

#[tokio::test]
async fn uanataca_answers_as_documented() {
    let sim = start().await;
    let mut api = Calls::new(&sim, "uanataca").await;
    let at = |path: &str| format!("/uanataca/api/v1/{path}");

    api.get(&at("hello")).await;
    api.get(&at("version")).await;
    api.get(&at("settings")).await;
    api.json(
        Method::POST,
        &at("settings"),
        json!({ "request": { "default_profile": "PFnubeQAFCiudadano" } }),
    )
    .await;
    api.json(Method::POST, &at("settings"), json!({ "nope": {} }))
        .await;

    // Tokens.
    api.get(&at("tokens")).await;
    let token = api
        .json(
            Method::POST,
            &at("token"),
            json!({ "username": "9001800", "password": "p", "pin": "1234", "env": "sandbox" }),
        )
        .await;
    let uid = text(&details(&token));
    api.get(&at(&format!("token/{uid}"))).await;
    api.delete(&at(&format!("token/{uid}"))).await;
    api.get(&at(&format!("token/{uid}"))).await;

    // Images.
    let image = Form::new().part(
        "image",
        Part::bytes(sample_png(60, 30)).file_name("rubric.png"),
    );
    let uid = text(&details(&api.form(Method::POST, &at("image"), image).await));
    api.get(&at("images")).await;
    api.get(&at(&format!("image/{uid}"))).await;
    api.delete(&at(&format!("image/{uid}"))).await;
    api.get(&at(&format!("image/{uid}"))).await;
    api.delete(&at("images")).await;
    let gif = Form::new().part(
        "image",
        Part::bytes(b"GIF89a..".to_vec()).file_name("r.gif"),
    );
    api.form(Method::POST, &at("image"), gif).await;

    // Metadata.
    api.get(&at("metadata")).await;
    let metadata = api
        .json(
            Method::POST,
            &at("metadata"),
            json!({ "metadata": b64(b"contract 2026/001"), "metadata_oid": "1.3.6.1.4.1.47289.100.2.9" }),
        )
        .await;
    let uid = text(&details(&metadata)["metadata"]);
    api.get(&at("metadata")).await;
    api.get(&at(&format!("metadata/{uid}"))).await;
    api.delete(&at(&format!("metadata/{uid}"))).await;
    api.get(&at(&format!("metadata/{uid}"))).await;
    api.delete(&at("metadata")).await;

    // A request from creation to signature, and its documents.
    let created = api
        .form(Method::POST, &at("request"), signer_form("Contract"))
        .await;
    let pk = details(&created).as_u64().expect("pk");
    api.get(&at(&format!("request/{pk}"))).await;
    api.get(&at("request/999999")).await;
    let file = Form::new().part(
        "file",
        Part::bytes(sample_pdf("Contract")).file_name("c.pdf"),
    );
    let uploaded = api
        .form(Method::POST, &at(&format!("document/{pk}")), file)
        .await;
    let uid = text(&details(&uploaded));
    api.get(&at(&format!("documents/{pk}"))).await;
    api.get(&at(&format!("document/{pk}/contract"))).await;
    api.get(&at(&format!("document/{pk}/original/{uid}"))).await;
    api.json(
        Method::POST,
        &at(&format!("requests/{pk}/approve")),
        json!({ "token": DEMO_TOKEN, "rao": "1400" }),
    )
    .await;
    api.json(
        Method::POST,
        &at(&format!("request/{pk}/approve")),
        json!({ "token": DEMO_TOKEN, "rao": "1400" }),
    )
    .await;
    api.json(Method::POST, &at(&format!("otp/{pk}")), json!({}))
        .await;
    api.json(Method::POST, &at(&format!("otp/{pk}")), json!({}))
        .await;
    api.json(
        Method::POST,
        &at(&format!("sign/{pk}")),
        json!({ "secret": "000000" }),
    )
    .await;
    let otp = sim.last_otp().await;
    api.json(
        Method::POST,
        &at(&format!("sign/{pk}")),
        json!({ "secret": otp }),
    )
    .await;
    api.get(&at(&format!("async/status/{pk}"))).await;
    api.get(&at(&format!("document/{pk}/signed/{uid}"))).await;
    api.delete(&at(&format!("document/{pk}/signed/{uid}")))
        .await;
    api.delete(&at(&format!("documents/{pk}"))).await;
    api.delete(&at(&format!("request/{pk}"))).await;
    api.delete(&at(&format!("request/{pk}"))).await;

    // Video ID: evidences, the recording, validation; another refused; an update.
    let video = json!({
        "mobile_phone_number": "+34611000004", "email": "video@example.com",
        "registration_authority": "44", "profile": "PFnubeQAFCiudadano", "videoid_mode": 1,
    });
    let created = api.json(Method::POST, &at("videoid"), video.clone()).await;
    let pk = details(&created)["request_pk"].as_u64().expect("pk");
    api.get(&at(&format!("videoid/{pk}/download/video"))).await;
    let recording = Form::new().part(
        "video",
        Part::bytes(b"\x00\x00\x00\x18ftypmp42".to_vec()).file_name("v.mp4"),
    );
    api.form(
        Method::POST,
        &at(&format!("videoid/{pk}/evidences/video")),
        recording,
    )
    .await;
    api.get(&at(&format!("videoid/{pk}/download/video"))).await;
    let evidences = json!({
        "acceptance": { "description": "User Accepted Terms and Conditions", "date": 1622823879708u64 },
        "videoid_data": {
            "images": { "document_front": "aGVsbG8=", "document_rear": "aGVsbG8=", "document_owner": "aGVsbG8=" },
            "ocr_data": {
                "given_name": "Lucia", "surname_1": "Martin", "surname_2": "Soler",
                "serial_number": "A9999999E", "id_document_type": "IDC", "id_document_country": "ES"
            },
            "security_checks": { "otp_validation": true, "liveliness": true },
            "similarity_level": "high"
        }
    });
    api.json(
        Method::POST,
        &at(&format!("videoid/{pk}/evidences")),
        evidences.clone(),
    )
    .await;
    api.json(
        Method::POST,
        &at(&format!("videoid/{pk}/evidences")),
        evidences.clone(),
    )
    .await;
    api.json(
        Method::POST,
        &at(&format!("videoid/{pk}/validate")),
        json!({ "token": DEMO_TOKEN }),
    )
    .await;
    let mut other = video;
    other["mobile_phone_number"] = json!("+34611000005");
    let created = api.json(Method::POST, &at("videoid"), other).await;
    let other = details(&created)["request_pk"].as_u64().expect("pk");
    api.json(
        Method::PUT,
        &at(&format!("request/{other}")),
        json!({ "scratchcard": "0" }),
    )
    .await;
    api.json(
        Method::POST,
        &at(&format!("videoid/{other}/refuse")),
        json!({ "token": DEMO_TOKEN, "reason": "blurry document" }),
    )
    .await;
    api.json(
        Method::POST,
        &at(&format!("videoid/{other}/refuse")),
        json!({ "token": DEMO_TOKEN, "reason": "again" }),
    )
    .await;
    api.json(Method::POST, &at("videoid"), json!({})).await;

    api.contract.assert_all_called();
}

#[tokio::test]
async fn signal_answers_as_documented() {
    let sim = start().await;
    let mut open = Calls::new(&sim, "signal").await;
    let login = open
        .json(
            Method::POST,
            "/signal/auth/login",
            json!({ "username": "ana", "password": "secret" }),
        )
        .await;
    open.json(
        Method::POST,
        "/signal/auth/login",
        json!({ "username": "ana" }),
    )
    .await;
    open.get("/signal/sign").await;
    let token = text(&login.json()["token"]);
    let mut api = Calls::new(&sim, "signal")
        .await
        .with("authorization", format!("Bearer {token}"));

    api.get("/signal/sign").await;
    let png = sample_png(8, 8);
    let form = Form::new()
        .text("given_name", "Ana")
        .text("surname_1", "Vera")
        .text("serial_number", "1712345678")
        .text("email", "ana@example.com")
        .text("mobile_phone_number", "+593991234567")
        .text("id_document_country", "EC")
        .part(
            "document_front",
            Part::bytes(png.clone()).file_name("f.png"),
        )
        .part("document_rear", Part::bytes(png.clone()).file_name("r.png"))
        .part("document_owner", Part::bytes(png).file_name("o.png"))
        .part(
            "documents_to_sign",
            Part::bytes(sample_pdf("Signal")).file_name("d.pdf"),
        );
    let created = api.form(Method::POST, "/signal/sign/request", form).await;
    let pk = created.json()["pk"].as_u64().expect("pk");
    let uid = text(&created.json()["uid"]);
    api.form(Method::POST, "/signal/sign/request", Form::new())
        .await;
    api.get(&format!("/signal/sign/{pk}")).await;
    api.get("/signal/sign/999999").await;
    let file = json!({ "pk": pk.to_string(), "uid": uid, "type": "original" });
    api.json(Method::POST, "/signal/sign/retrieve", file.clone())
        .await;
    api.json(Method::POST, "/signal/sign/download", file).await;
    let signed = json!({ "pk": pk.to_string(), "uid": uid, "type": "signed" });
    api.json(Method::POST, "/signal/sign/download", signed.clone())
        .await;
    api.json(
        Method::POST,
        "/signal/sign",
        json!({ "pk": pk.to_string(), "secret": "000000" }),
    )
    .await;
    let otp = sim
        .get(&sim.url("/_signsim/outbox?provider=signal"))
        .await
        .json()
        .as_array()
        .and_then(|m| m.last().cloned())
        .expect("an SMS")["otp"]
        .clone();
    api.json(
        Method::POST,
        "/signal/sign",
        json!({ "pk": pk.to_string(), "secret": otp }),
    )
    .await;
    api.json(Method::POST, "/signal/sign", json!({})).await;
    api.json(Method::POST, "/signal/sign/retrieve", signed.clone())
        .await;
    api.json(Method::POST, "/signal/sign/download", signed)
        .await;
    api.json(
        Method::POST,
        "/signal/sign/retrieve",
        json!({ "pk": pk.to_string(), "uid": "nope", "type": "signed" }),
    )
    .await;
    api.json(Method::POST, "/signal/biometric", json!({})).await;

    let mut all = open.contract;
    all.absorb(&api.contract);
    all.assert_all_called();
}

#[tokio::test]
async fn mensatek_answers_as_documented() {
    let sim = start().await;
    let basic = format!("Basic {}", b64(b"api-user-alpha:token"));
    let mut api = Calls::new(&sim, "mensatek")
        .await
        .with("authorization", basic.clone());
    for resp in ["JSON", "TXT", "XML"] {
        api.json(
            Method::POST,
            "/mensatek/GetCreditos",
            json!({ "Resp": resp }),
        )
        .await;
    }
    api.json(Method::POST, "/mensatek/GetCreditos", json!({}))
        .await;
    let sent = api
        .json(
            Method::POST,
            "/mensatek/VerificarIdentidad",
            json!({ "Telefono": "34600000001", "Mensaje": "Verify: [LINK]", "Resp": "JSON" }),
        )
        .await;
    let id = text(&sent.json()[0]["ID"]);
    api.json(
        Method::POST,
        "/mensatek/VerificarIdentidad",
        json!({ "Mensaje": "no link", "Resp": "XML" }),
    )
    .await;
    api.json(
        Method::POST,
        "/mensatek/GetCertificadoVerificacion",
        json!({ "Id": id, "Resp": "JSON" }),
    )
    .await;
    let done = sim
        .post_json(
            &sim.url(&format!("/_signsim/mensatek/verifications/{id}/complete")),
            json!({ "api_user": "api-user-alpha", "outcome": "verified" }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 3600 }),
    )
    .await;
    // The certificate is made by a timer on the virtual clock, which runs on its own.
    let ready = json!({ "Id": id, "Resp": "JSON" });
    eventually("the certificate", async || {
        let url = sim.url("/mensatek/GetCertificadoVerificacion");
        let probe = sim
            .http
            .post(url)
            .header("authorization", &basic)
            .json(&ready)
            .send();
        let probe = crate::common::answer(probe.await.expect("sent")).await;
        probe.content_type == "application/pdf"
    })
    .await;
    let certificate = api
        .json(
            Method::POST,
            "/mensatek/GetCertificadoVerificacion",
            json!({ "Id": id, "Resp": "JSON" }),
        )
        .await;
    assert_eq!(certificate.content_type, "application/pdf");
    api.json(
        Method::POST,
        "/mensatek/GetCertificadoVerificacion",
        json!({ "Id": "1", "Resp": "TXT" }),
    )
    .await;
    api.contract.assert_all_called();
}

#[tokio::test]
async fn identiasign_answers_as_documented() {
    let sim = start().await;
    let mut open = Calls::new(&sim, "identiasign").await;
    let login = open
        .json(
            Method::POST,
            "/identiasign/api/auth/login",
            json!({ "username": "entidad.pe", "clientname": "api@entidad.pe", "password": "x" }),
        )
        .await;
    open.json(
        Method::POST,
        "/identiasign/api/auth/login",
        json!({ "username": "entidad.pe" }),
    )
    .await;
    open.get("/identiasign/api/labels").await;
    let token = text(&login.json()["access_token"]);
    let mut api = Calls::new(&sim, "identiasign")
        .await
        .with("authorization", format!("jwt-bearer {token}"));

    api.get("/identiasign/api/signature_processes").await;
    let label = Form::new().text("label", "alpha");
    api.form(Method::POST, "/identiasign/api/labels", label)
        .await;
    api.form(
        Method::POST,
        "/identiasign/api/labels",
        Form::new().text("label", "beta"),
    )
    .await;
    api.get("/identiasign/api/labels").await;
    api.get("/identiasign/api/labels?limit=1").await;
    api.form(Method::POST, "/identiasign/api/labels", Form::new())
        .await;
    let signers = json!([{
        "nat": "PER", "doc_id": "12345678", "signatureType": "advanced", "signChallenges": ["facial"],
        "contactInfo": { "type": "email", "value": "firmante@example.com", "tz": "-05:00" }
    }]);
    let create = || {
        Form::new()
            .part(
                "pdfFiles",
                Part::bytes(sample_pdf("Contrato"))
                    .file_name("Contrato.pdf")
                    .mime_str("application/pdf")
                    .expect("mime"),
            )
            .text("signers", signers.to_string())
            .text("description", "Contrato de prueba")
            .text("labels", json!(["alpha"]).to_string())
    };
    let created = api
        .form(
            Method::PUT,
            "/identiasign/api/signature_processes",
            create(),
        )
        .await;
    let id = text(&created.json()["id"]);
    api.form(
        Method::PUT,
        "/identiasign/api/signature_processes",
        Form::new().text("signers", "[]"),
    )
    .await;
    api.form(
        Method::PUT,
        "/identiasign/api/signature_processes",
        create(),
    )
    .await;
    api.get("/identiasign/api/signature_processes").await;
    api.get("/identiasign/api/signature_processes?limit=1")
        .await;
    api.get("/identiasign/api/signature_processes?limit=0")
        .await;
    api.get(&format!(
        "/identiasign/api/signature_processes?process_id={id}"
    ))
    .await;
    api.form(
        Method::POST,
        "/identiasign/api/signature_processes",
        Form::new()
            .text("process_id", id.clone())
            .text("description", "Otra"),
    )
    .await;
    api.form(
        Method::POST,
        "/identiasign/api/signature_processes",
        Form::new().text("process_id", "nope:nope"),
    )
    .await;
    api.form(
        Method::POST,
        "/identiasign/api/notify",
        Form::new().text("process_id", id.clone()),
    )
    .await;
    api.form(
        Method::POST,
        "/identiasign/api/notify",
        Form::new().text("process_id", "nope:nope"),
    )
    .await;
    let reject = || Form::new().text("process_id", id.clone());
    api.form(
        Method::DELETE,
        "/identiasign/api/signature_processes",
        reject(),
    )
    .await;
    api.form(
        Method::DELETE,
        "/identiasign/api/signature_processes",
        reject(),
    )
    .await;
    api.form(
        Method::DELETE,
        "/identiasign/api/labels",
        Form::new().text("label", "beta"),
    )
    .await;
    api.form(Method::DELETE, "/identiasign/api/labels", Form::new())
        .await;

    let mut all = open.contract;
    all.absorb(&api.contract);
    all.assert_all_called();
}

#[tokio::test]
async fn qitech_answers_as_documented() {
    let sim = start().await;
    let mut open = Calls::new(&sim, "qitech").await;
    open.get("/qitech/sign/envelope/e1").await;
    let mut api = Calls::new(&sim, "qitech")
        .await
        .with("authorization", "qi-key-alpha");
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date();
    let envelope = json!({
        "id": "e1", "subject": "CCB", "expiration_date": expires.to_string(),
        "signers": [{
            "id": "1", "name": "John Sample", "email": "one@example.com", "birthdate": "1992-09-15",
            "document_number": "111.111.111-11",
            "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
            "document_submission_method": "email", "authentication_submission_method": "sms"
        }]
    });
    api.json(Method::POST, "/qitech/sign/envelope", envelope.clone())
        .await;
    api.json(Method::POST, "/qitech/sign/envelope", envelope)
        .await;
    api.json(Method::POST, "/qitech/sign/envelope", json!({}))
        .await;
    let added = api
        .json(
            Method::POST,
            "/qitech/sign/envelope/e1/document",
            json!({ "document_b64": b64(&sample_pdf("CCB")), "name": "CCB", "document_type": "pdf" }),
        )
        .await;
    let document = text(&added.json()["id"]);
    api.json(
        Method::POST,
        "/qitech/sign/envelope/e1/signer/1/personal_document",
        json!({ "document_b64": b64(b"\xff\xd8\xff\xe0jpeg"), "template": "cnh_front" }),
    )
    .await;
    api.json(
        Method::POST,
        "/qitech/sign/envelope/e1/signer/1/personal_document",
        json!({ "document_b64": "x", "template": "passport" }),
    )
    .await;
    api.get("/qitech/sign/envelope/e1/signer/1/personal_document")
        .await;
    api.get("/qitech/sign/envelope/e1/signer/1/face").await;
    api.get("/qitech/sign/envelope/e1/report").await;
    api.json(
        Method::PATCH,
        "/qitech/sign/envelope/e1",
        json!({ "status": "submitted" }),
    )
    .await;
    api.json(
        Method::PATCH,
        "/qitech/sign/envelope/e1",
        json!({ "status": "submitted" }),
    )
    .await;
    api.get("/qitech/sign/envelope/e1").await;
    api.get("/qitech/sign/envelope/e1/signer/1").await;
    api.get("/qitech/sign/envelope/e1/signer/9").await;
    let signed = sim
        .post_json(
            &sim.url("/_signsim/qitech/envelopes/e1/signers/1/sign"),
            json!({ "api_key": "qi-key-alpha" }),
        )
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    api.get("/qitech/sign/envelope/e1/signer/1").await;
    api.get("/qitech/sign/envelope/e1/signer/1/face").await;
    api.get("/qitech/sign/envelope/e1/report").await;
    api.get(&format!(
        "/qitech/sign/envelope/e1/document/{document}/report"
    ))
    .await;
    api.get("/qitech/sign/envelope/e1/document/nope/report")
        .await;
    api.get("/qitech/sign/envelope/nope").await;

    let mut all = open.contract;
    all.absorb(&api.contract);
    all.assert_all_called();
}

#[tokio::test]
async fn admin_answers_as_documented() {
    let sim = start().await;
    let mut admin = Calls::new(&sim, "admin").await;

    // The engine's calls.
    admin.get("/_signsim/").await;
    admin.get("/_signsim/health").await;
    admin.get("/_signsim/ca.pem").await;
    admin.get("/_signsim/clock").await;
    admin
        .json(
            Method::POST,
            "/_signsim/clock/advance",
            json!({ "seconds": 60 }),
        )
        .await;
    admin
        .json(
            Method::POST,
            "/_signsim/clock/advance",
            json!({ "seconds": -1 }),
        )
        .await;
    admin.get("/_signsim/scenarios").await;
    let scenario = "[[scenario]]\nname = \"openapi-test\"\nprovider = \"qitech\"\n";
    admin
        .call(
            Method::POST,
            "/_signsim/scenarios",
            Body::Raw("text/plain", scenario.into()),
        )
        .await;
    admin
        .call(
            Method::POST,
            "/_signsim/scenarios",
            Body::Raw("text/plain", "[[nope".into()),
        )
        .await;
    admin.get("/_signsim/openapi/admin.json").await;
    admin.get("/_signsim/openapi/nope.json").await;
    admin
        .call(
            Method::POST,
            "/_signsim/webhooks/nope/redeliver",
            Body::None,
        )
        .await;

    // Uanataca: a Video ID request finished by the person; a signed request's files.
    let video = sim
        .post_json(
            &sim.api("videoid"),
            json!({ "mobile_phone_number": "+34611000009", "email": "v@example.com", "videoid_mode": 1 }),
        )
        .await;
    let pk = details(&video)["request_pk"].as_u64().expect("pk");
    admin.get(&format!("/_signsim/uanataca/videoid/{pk}")).await;
    admin.get("/_signsim/uanataca/videoid/999999").await;
    let complete = format!("/_signsim/uanataca/videoid/{pk}/complete");
    admin
        .json(Method::POST, &complete, json!({ "outcome": "review" }))
        .await;
    admin
        .json(Method::POST, &complete, json!({ "outcome": "review" }))
        .await;
    admin
        .json(Method::POST, &complete, json!({ "outcome": "maybe" }))
        .await;
    let pk = sim.create_request("Admin").await;
    let uploaded = sim
        .upload(pk, vec![("file", "a.pdf", sample_pdf("Admin"))])
        .await;
    let uid = text(&details(&uploaded));
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    let signed = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    admin
        .get(&format!(
            "/_signsim/uanataca/requests/{pk}/documents/{uid}?type=signed"
        ))
        .await;
    admin
        .get(&format!("/_signsim/uanataca/requests/{pk}/documents/nope"))
        .await;
    admin
        .get(&format!("/_signsim/uanataca/requests/{pk}/certificate"))
        .await;
    admin
        .get("/_signsim/uanataca/requests/999999/certificate")
        .await;
    admin
        .get(&format!("/_signsim/resources/uanataca/default/{pk}"))
        .await;

    // Signal: a biometric link and a retrieve link.
    let bearer = |request: reqwest::RequestBuilder| request.header("authorization", "Bearer admin");
    let biometric = bearer(sim.http.post(sim.url("/signal/biometric")))
        .json(&json!({}))
        .send()
        .await
        .expect("sent");
    let biometric: Value = biometric.json().await.expect("JSON");
    let page = path_of(&sim, &biometric["url"]);
    admin.get(&page).await;
    admin.get("/_signsim/signal/biometric/nope").await;
    let complete = format!("{page}/complete");
    admin
        .json(Method::POST, &complete, json!({ "outcome": "passed" }))
        .await;
    admin
        .json(Method::POST, &complete, json!({ "outcome": "passed" }))
        .await;
    admin.get("/_signsim/signal/files/nope").await;

    // Mensatek: the panel's settings, a verification and its page and certificate.
    admin
        .json(
            Method::POST,
            "/_signsim/mensatek/report-url",
            json!({ "api_user": "api-user-alpha", "url": "http://127.0.0.1:9/reports", "format": "json" }),
        )
        .await;
    admin
        .json(
            Method::POST,
            "/_signsim/mensatek/credits",
            json!({ "api_user": "api-user-alpha", "credits": 5 }),
        )
        .await;
    admin
        .json(
            Method::POST,
            "/_signsim/mensatek/credits",
            json!({ "api_user": "api-user-alpha" }),
        )
        .await;
    let sent = sim
        .http
        .post(sim.url("/mensatek/VerificarIdentidad"))
        .header(
            "authorization",
            format!("Basic {}", b64(b"api-user-alpha:t")),
        )
        .json(&json!({ "Telefono": "34600000009", "Mensaje": "[LINK]", "Resp": "JSON" }))
        .send()
        .await
        .expect("sent");
    let sent: Value = sent.json().await.expect("JSON");
    let id = text(&sent[0]["ID"]);
    let messages = sim
        .get(&sim.url("/_signsim/outbox?provider=mensatek"))
        .await;
    let link = messages.json()[0]["link"].clone();
    admin.get(&path_of(&sim, &link)).await;
    admin.get("/_signsim/mensatek/v/nope").await;
    admin
        .get(&format!(
            "/_signsim/mensatek/verifications/{id}/certificate?api_user=api-user-alpha"
        ))
        .await;
    let complete = format!("/_signsim/mensatek/verifications/{id}/complete");
    admin
        .json(
            Method::POST,
            &complete,
            json!({ "api_user": "api-user-alpha", "outcome": "verified" }),
        )
        .await;
    admin
        .json(
            Method::POST,
            &complete,
            json!({ "api_user": "api-user-alpha", "outcome": "verified" }),
        )
        .await;
    admin
        .call(Method::POST, "/_signsim/mensatek/receiver-down", Body::None)
        .await;

    // IdentiaSign: an entity's set-up, a process and its signers' acts.
    admin
        .json(
            Method::POST,
            "/_signsim/identiasign/config",
            json!({ "username": "entidad.pe", "msg_form": "link" }),
        )
        .await;
    admin
        .json(
            Method::POST,
            "/_signsim/identiasign/config",
            json!({ "username": "entidad.pe", "msg_form": "both" }),
        )
        .await;
    let login = sim
        .post_json(
            &sim.url("/identiasign/api/auth/login"),
            json!({ "username": "entidad.pe", "clientname": "api@entidad.pe", "password": "x" }),
        )
        .await;
    let jwt = format!("jwt-bearer {}", text(&login.json()["access_token"]));
    let signers = json!([
        { "nat": "PER", "doc_id": "12345678", "signatureType": "advanced", "signChallenges": ["facial"] },
        { "nat": "PER", "doc_id": "87654321", "signatureType": "advanced", "signChallenges": ["facial"] },
        { "nat": "PER", "doc_id": "11223344", "signatureType": "advanced", "signChallenges": ["facial"] }
    ]);
    let form = Form::new()
        .part(
            "pdfFiles",
            Part::bytes(sample_pdf("Contrato")).file_name("Contrato.pdf"),
        )
        .text("signers", signers.to_string());
    let created = sim
        .http
        .put(sim.url("/identiasign/api/signature_processes"))
        .header("authorization", &jwt)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    let created: Value = created.json().await.expect("JSON");
    let process = text(&created["id"]);
    admin.get(&path_of(&sim, &created["msg"])).await;
    admin
        .get("/_signsim/identiasign/ui/signature_processes/nope")
        .await;
    let act = |signer: &str, what: &str| {
        format!("/_signsim/identiasign/processes/{process}/signers/{signer}/{what}")
    };
    let who = json!({ "username": "entidad.pe" });
    admin
        .json(Method::POST, &act("PER:12345678", "sign"), who.clone())
        .await;
    admin
        .json(Method::POST, &act("PER:12345678", "sign"), who.clone())
        .await;
    admin
        .json(
            Method::POST,
            &act("PER:87654321", "fail-facial"),
            who.clone(),
        )
        .await;
    admin
        .json(Method::POST, &act("PER:11223344", "reject"), who.clone())
        .await;
    admin
        .json(Method::POST, &act("PER:99999999", "reject"), who)
        .await;
    let listed = sim
        .http
        .get(sim.url(&format!(
            "/identiasign/api/signature_processes?process_id={process}"
        )))
        .header("authorization", &jwt)
        .send()
        .await
        .expect("sent");
    let listed: Value = listed.json().await.expect("JSON");
    let document = &listed["signatureProcesses"][0]["documents"][0]["url"];
    admin.get(&path_of(&sim, document)).await;
    admin.get("/_signsim/identiasign/files/nope").await;
    admin
        .call(
            Method::POST,
            "/_signsim/identiasign/receiver-down",
            Body::None,
        )
        .await;

    // QI Tech: where its webhook goes, a signer's page and act, the files.
    admin
        .json(
            Method::POST,
            "/_signsim/qitech/webhook",
            json!({ "api_key": "qi-admin", "url": "http://127.0.0.1:9/hook", "signature_key": "k" }),
        )
        .await;
    admin
        .json(
            Method::POST,
            "/_signsim/qitech/webhook",
            json!({ "api_key": "qi-admin" }),
        )
        .await;
    let qi = |request: reqwest::RequestBuilder| request.header("authorization", "qi-admin");
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date();
    let envelope = json!({
        "id": "adm", "subject": "CCB", "expiration_date": expires.to_string(),
        "signers": [{
            "id": "1", "name": "John Sample", "email": "one@example.com", "birthdate": "1992-09-15",
            "document_number": "111.111.111-11",
            "document_submission_method": "email", "authentication_submission_method": "email"
        }]
    });
    for (method, path, body) in [
        (Method::POST, "/qitech/sign/envelope", envelope),
        (
            Method::POST,
            "/qitech/sign/envelope/adm/document",
            json!({ "document_b64": b64(&sample_pdf("CCB")), "name": "CCB", "document_type": "pdf" }),
        ),
        (
            Method::PATCH,
            "/qitech/sign/envelope/adm",
            json!({ "status": "submitted" }),
        ),
    ] {
        let answer = qi(sim.http.request(method, sim.url(path)))
            .json(&body)
            .send()
            .await;
        assert!(answer.expect("sent").status().is_success(), "{path}");
    }
    let envelope = qi(sim.http.get(sim.url("/qitech/sign/envelope/adm")))
        .send()
        .await;
    let envelope: Value = envelope.expect("sent").json().await.expect("JSON");
    admin
        .get(&path_of(&sim, &envelope["signers"][0]["signature_url"]))
        .await;
    admin.get("/_signsim/qitech/s/nope").await;
    let sign = "/_signsim/qitech/envelopes/adm/signers/1/sign";
    admin
        .json(
            Method::POST,
            sign,
            json!({ "api_key": "qi-admin", "cpf": "000.000.000-00" }),
        )
        .await;
    admin
        .json(Method::POST, sign, json!({ "api_key": "qi-admin" }))
        .await;
    admin
        .json(Method::POST, sign, json!({ "api_key": "qi-admin" }))
        .await;
    let report = qi(sim.http.get(sim.url("/qitech/sign/envelope/adm/report")))
        .send()
        .await;
    let report: Value = report.expect("sent").json().await.expect("JSON");
    admin
        .get(&path_of(&sim, &report["documents_reports"][0]["url"]))
        .await;
    admin.get("/_signsim/qitech/files/nope.pdf").await;
    admin
        .call(Method::POST, "/_signsim/qitech/receiver-down", Body::None)
        .await;

    // What all of the above left behind, and forgetting it.
    admin.get("/_signsim/outbox").await;
    admin.get("/_signsim/outbox?channel=pigeon").await;
    admin.get("/_signsim/inbox").await;
    admin.get("/_signsim/inbox?channel=pigeon").await;
    admin.get("/_signsim/requests?provider=qitech").await;
    admin.get("/_signsim/events?provider=uanataca").await;
    let attempts = admin.get("/_signsim/webhooks").await;
    let delivery = attempts.json()[0]["delivery"].clone();
    admin
        .call(
            Method::POST,
            &format!("/_signsim/webhooks/{}/redeliver", text(&delivery)),
            Body::None,
        )
        .await;
    admin
        .json(
            Method::POST,
            "/_signsim/reset",
            json!({ "tenant": "nobody" }),
        )
        .await;
    admin.json(Method::POST, "/_signsim/reset", json!({})).await;

    admin.contract.assert_all_called();
}

/// The checker itself: an answer the document does not describe fails.
#[test]
fn the_contract_refuses_what_the_document_does_not_say() {
    let document = json!({
        "openapi": "3.1.0",
        "servers": [{ "url": "/p" }],
        "paths": { "/things/{id}": { "get": { "responses": {
            "200": { "description": "", "content": { "application/json": { "schema": {
                "type": "object", "required": ["id"],
                "properties": { "id": { "type": "integer" }, "kind": { "enum": ["a", "b"] } }
            } } } }
        } } } }
    });
    let answer = |status: u16, content_type: &str, body: &str| Answer {
        status,
        content_type: content_type.to_owned(),
        bytes: body.as_bytes().to_vec(),
    };
    let refused = |path: &str, given: Answer| {
        let mut contract = Contract::new("test", &document.to_string());
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            contract.check("GET", path, &given)
        }))
        .is_err()
    };
    let json = "application/json";
    assert!(!refused(
        "/p/things/1",
        answer(200, json, r#"{"id": 1, "kind": "a"}"#)
    ));
    assert!(
        refused("/p/things/1", answer(404, json, r#"{"id": 1}"#)),
        "status"
    );
    assert!(
        refused("/p/things/1", answer(200, "text/html", "<p>")),
        "type"
    );
    assert!(
        refused("/p/things/1", answer(200, json, r#"{"kind": "a"}"#)),
        "required"
    );
    assert!(
        refused("/p/things/1", answer(200, json, r#"{"id": "1"}"#)),
        "a type"
    );
    assert!(
        refused(
            "/p/things/1",
            answer(200, json, r#"{"id": 1, "kind": "c"}"#)
        ),
        "enum"
    );
    assert!(
        refused("/p/other/1", answer(200, json, r#"{"id": 1}"#)),
        "the path"
    );
    let contract = Contract::new("test", &document.to_string());
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| contract.assert_all_called()))
            .is_err(),
        "an operation never called"
    );
}
