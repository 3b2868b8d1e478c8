//! The five surfaces, each through every operation of its document.

use super::{b64, details, text, Body, Calls};
use crate::common::{sample_pdf, sample_png, signer_form, start, DEMO_TOKEN};
use crate::receiver::eventually;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::json;

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
            "/mensatek/v7/GetCreditos",
            json!({ "Resp": resp }),
        )
        .await;
    }
    api.json(Method::POST, "/mensatek/v7/GetCreditos", json!({}))
        .await;
    let sent = api
        .json(
            Method::POST,
            "/mensatek/v7/VerificarIdentidad",
            json!({ "Telefono": "34600000001", "Mensaje": "Verify: [LINK]", "Resp": "JSON" }),
        )
        .await;
    let id = text(&sent.json()[0]["ID"]);
    api.json(
        Method::POST,
        "/mensatek/v7/VerificarIdentidad",
        json!({ "Mensaje": "no link", "Resp": "XML" }),
    )
    .await;
    api.json(
        Method::POST,
        "/mensatek/v7/GetCertificadoVerificacion",
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
        let url = sim.url("/mensatek/v7/GetCertificadoVerificacion");
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
            "/mensatek/v7/GetCertificadoVerificacion",
            json!({ "Id": id, "Resp": "JSON" }),
        )
        .await;
    assert_eq!(certificate.content_type, "application/pdf");
    api.json(
        Method::POST,
        "/mensatek/v7/GetCertificadoVerificacion",
        json!({ "Id": "1", "Resp": "TXT" }),
    )
    .await;
    // The same functions at the root, as the verification guide names them.
    api.json(
        Method::POST,
        "/mensatek/GetCreditos",
        json!({ "Resp": "JSON" }),
    )
    .await;
    api.json(
        Method::POST,
        "/mensatek/VerificarIdentidad",
        json!({ "Telefono": "34600000002", "Mensaje": "Verify: [LINK]", "Resp": "TXT" }),
    )
    .await;
    api.json(
        Method::POST,
        "/mensatek/GetCertificadoVerificacion",
        json!({ "Id": id, "Resp": "JSON" }),
    )
    .await;
    api.contract.assert_all_called();
}

/// Every IdentiaSign operation through its successes and each of its error cases; then
/// every status the document lists must have been answered (`assert_every_status_answered`),
/// so the document promises no answer the simulator never gives. A small body limit makes
/// the 413s cheap.
#[tokio::test]
async fn identiasign_answers_as_documented() {
    let mut config = signsim::Config::default();
    config.engine.seed = Some(42);
    config.body_limit = 64 * 1024;
    let sim = crate::common::start_with(config).await;
    let big = || Body::Json(json!({ "label": "x".repeat(96 * 1024) }));
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
    open.call(
        Method::POST,
        "/identiasign/api/auth/login",
        Body::Raw("application/json", "{\"username\": ".into()),
    )
    .await;
    open.call(Method::POST, "/identiasign/api/auth/login", big())
        .await;
    // Without a token, every other call is a 401.
    for (method, path) in [
        (Method::PUT, "/identiasign/api/signature_processes"),
        (Method::POST, "/identiasign/api/signature_processes"),
        (Method::GET, "/identiasign/api/signature_processes"),
        (Method::DELETE, "/identiasign/api/signature_processes"),
        (Method::POST, "/identiasign/api/notify"),
        (Method::GET, "/identiasign/api/labels"),
        (Method::POST, "/identiasign/api/labels"),
        (Method::DELETE, "/identiasign/api/labels"),
    ] {
        let answered = open.call(method, path, Body::None).await;
        assert_eq!(answered.status, 401, "{path}");
    }
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
    api.get("/identiasign/api/labels?limit=nope").await;
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
        "/identiasign/api/signature_processes",
        Form::new(),
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
        "/identiasign/api/signature_processes",
        Form::new().text("process_id", "nope:nope"),
    )
    .await;
    api.form(
        Method::DELETE,
        "/identiasign/api/signature_processes",
        Form::new(),
    )
    .await;
    // A rejected process can be neither changed nor notified.
    api.form(
        Method::POST,
        "/identiasign/api/signature_processes",
        Form::new()
            .text("process_id", id.clone())
            .text("description", "Tarde"),
    )
    .await;
    api.form(
        Method::POST,
        "/identiasign/api/notify",
        Form::new().text("process_id", id.clone()),
    )
    .await;
    api.form(
        Method::DELETE,
        "/identiasign/api/labels",
        Form::new().text("label", "beta"),
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
    // Every call that takes a body, with one over the limit.
    for (method, path) in [
        (Method::PUT, "/identiasign/api/signature_processes"),
        (Method::POST, "/identiasign/api/signature_processes"),
        (Method::DELETE, "/identiasign/api/signature_processes"),
        (Method::POST, "/identiasign/api/notify"),
        (Method::POST, "/identiasign/api/labels"),
        (Method::DELETE, "/identiasign/api/labels"),
    ] {
        let answered = api.call(method, path, big()).await;
        assert_eq!(answered.status, 413, "{path}");
    }

    let mut all = open.contract;
    all.absorb(&api.contract);
    all.assert_all_called();
    all.assert_every_status_answered();
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
