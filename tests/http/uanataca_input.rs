//! Whatever clients send, the simulator answers a 4xx in Uanataca's envelope and keeps
//! what it already stored.

use crate::common::{sample_pdf, signer_form, start, start_with, DEMO_TOKEN};
use insta::assert_json_snapshot;
use serde_json::json;
use signsim::Config;

fn create_body() -> serde_json::Value {
    json!({
        "token": DEMO_TOKEN,
        "given_name": "Json",
        "surname_1": "Client",
        "email": "json@example.com",
        "mobile_phone_number": "+34600111222",
        "env": "test"
    })
}

#[tokio::test]
async fn json_create_without_content_type() {
    let sim = start().await;
    let body = serde_json::to_vec(&create_body()).unwrap();
    let created = sim.post_raw(&sim.api("request"), None, body).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let labelled_as_form = sim
        .post_raw(
            &sim.api("request"),
            Some("application/x-www-form-urlencoded"),
            serde_json::to_vec(&create_body()).unwrap(),
        )
        .await;
    assert_eq!(
        labelled_as_form.status, 201,
        "curl -d @file.json sends this label"
    );
    let pk = created.json()["details"].as_u64().unwrap();
    // The OTP can come before any document, and the secret may be a number.
    assert_eq!(
        sim.post_raw(&sim.api(&format!("otp/{pk}")), None, vec![])
            .await
            .status,
        200
    );
    let otp = sim.last_otp().await;
    let signed = sim
        .post_raw(
            &sim.api(&format!("sign/{pk}")),
            None,
            format!("{{\"secret\": \"{otp}\"}}").into_bytes(),
        )
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
}

#[tokio::test]
async fn environments() {
    let sim = start().await;
    for env in ["test", "sandbox", "prod"] {
        let mut body = create_body();
        body["env"] = env.into();
        assert_eq!(
            sim.post_json(&sim.api("request"), body).await.status,
            201,
            "{env}"
        );
    }
    let mut body = create_body();
    body["env"] = "staging".into();
    let answer = sim.post_json(&sim.api("request"), body).await;
    assert_json_snapshot!("create_bad_env", answer.shape());
}

#[tokio::test]
async fn create_validation_errors() {
    let sim = start().await;
    // The field errors the docs answer with 500 Internal Server Error answer exactly that.
    let cases = [
        ("no_phone", "mobile_phone_number", None, 400),
        (
            "no_prefix",
            "mobile_phone_number",
            Some(json!("600123123")),
            400,
        ),
        ("no_email", "email", None, 500),
        ("blank_email", "email", Some(json!("")), 500),
        ("bad_email", "email", Some(json!("not-an-email")), 500),
        ("email_wrong_type", "email", Some(json!({ "a": 1 })), 400),
        ("bad_id_type", "id_document_type", Some(json!("XYZ")), 400),
        (
            "bad_country",
            "id_document_country",
            Some(json!("ESX")),
            500,
        ),
        ("no_given_name", "given_name", None, 412),
        ("name_wrong_type", "given_name", Some(json!(["Ana"])), 400),
        (
            "bad_language",
            "communication_language",
            Some(json!("FR")),
            400,
        ),
        ("bad_billing", "billing_password", Some(json!("***")), 500),
        ("bad_ra", "registration_authority", Some(json!("RA-1")), 400),
        ("bad_async", "useasync", Some(json!("maybe")), 400),
        ("bad_token", "token", Some(json!("not a token!")), 403),
    ];
    for (name, field, value, code) in cases {
        let mut body = create_body();
        match value {
            Some(value) => body[field] = value,
            None => {
                body.as_object_mut().unwrap().remove(field);
            }
        }
        let answer = sim.post_json(&sim.api("request"), body).await;
        assert_eq!(answer.status, code, "{name}: {:?}", answer.json());
        assert_json_snapshot!(format!("create_{name}"), answer.shape());
    }
    // Billing credentials neither in the call nor in settings.ini.
    let cleared = sim
        .post_json(
            &sim.api("settings"),
            json!({ "billing": { "billing_username": "", "billing_password": "" } }),
        )
        .await;
    assert_eq!(cleared.status, 200);
    let answer = sim.post_json(&sim.api("request"), create_body()).await;
    assert_json_snapshot!("create_no_billing", answer.shape());
    let mut body = create_body();
    body["billing_username"] = json!("user@uanataca.com");
    body["billing_password"] = json!("ejVxTnFrZkI=");
    assert_eq!(
        sim.post_json(&sim.api("request"), body).await.status,
        201,
        "billing credentials in the call"
    );
    let mut body = create_body();
    body.as_object_mut().unwrap().remove("token");
    body["username"] = "9001800".into();
    let answer = sim.post_json(&sim.api("request"), body).await;
    assert_json_snapshot!("create_incomplete_rao", answer.shape());
}

#[tokio::test]
async fn malformed_bodies() {
    let sim = start().await;
    let bad_json = sim
        .post_raw(
            &sim.api("request"),
            Some("application/json"),
            b"{\"token\": ".to_vec(),
        )
        .await;
    assert_eq!(bad_json.status, 400);
    assert!(bad_json.json()["details"]
        .as_str()
        .unwrap()
        .starts_with("Could not parse JSON body - "));
    let array = sim
        .post_raw(
            &sim.api("request"),
            Some("application/json"),
            b"[1, 2]".to_vec(),
        )
        .await;
    assert_json_snapshot!("create_json_array", array.shape());
    let multipart = sim
        .post_raw(
            &sim.api("request"),
            Some("multipart/form-data; boundary=XYZ"),
            b"--XYZ\r\nContent-Disposition: form-data; name=\"given_name\"\r\n\r\nAna".to_vec(),
        )
        .await;
    assert_eq!(multipart.status, 400);
    assert_eq!(multipart.json()["status"], "400 Bad Request");
    let no_boundary = sim
        .post_raw(
            &sim.api("request"),
            Some("multipart/form-data"),
            b"x".to_vec(),
        )
        .await;
    assert_eq!(no_boundary.status, 400);
    let sign_garbage = sim
        .post_raw(
            &sim.api("sign/1464"),
            Some("application/json"),
            vec![0xff, 0xfe, 0x00],
        )
        .await;
    assert_eq!(sign_garbage.status, 400);
    assert_eq!(sign_garbage.json()["status"], "400 Bad Request");
    let bad_type = sim.get(&sim.api("document/1464/copy/abc")).await;
    assert_json_snapshot!("retrieve_bad_type", bad_type.shape());
    let bad_delivery = {
        let pk = sim.create_request("Del").await;
        sim.post_json(
            &sim.api(&format!("otp/{pk}")),
            json!({ "delivery_method": "pigeon" }),
        )
        .await
    };
    assert_json_snapshot!("otp_bad_delivery", bad_delivery.shape());
    let no_file = {
        let form = reqwest::multipart::Form::new().text("note", "no file here");
        sim.post_form(&sim.api("document/1464"), form).await
    };
    assert_json_snapshot!("upload_no_file", no_file.shape());
}

#[tokio::test]
async fn oversized_bodies_are_refused_and_nothing_is_lost() {
    let config = Config {
        body_limit: 64 * 1024,
        ..Config::default()
    };
    let sim = start_with(config).await;
    let pk = {
        let answer = sim.post_form(&sim.api("request"), signer_form("Big")).await;
        answer.json()["details"].as_u64().unwrap()
    };
    let small = sample_pdf("small");
    assert_eq!(
        sim.upload(pk, vec![("file", "s.pdf", small.clone())])
            .await
            .status,
        200
    );

    let mut big = sample_pdf("big");
    big.extend(std::iter::repeat_n(b' ', 200 * 1024));
    let answer = sim.upload(pk, vec![("file", "big.pdf", big.clone())]).await;
    assert_json_snapshot!("upload_too_large", answer.shape());
    let json = sim
        .post_raw(&sim.api("request"), Some("application/json"), big)
        .await;
    assert_eq!(json.status, 413);
    assert_eq!(json.json()["status"], "413 Payload Too Large");

    let listed = sim.get(&sim.api(&format!("documents/{pk}"))).await.json();
    assert_eq!(
        listed["details"].as_object().unwrap().len(),
        1,
        "the stored document is intact"
    );
}

#[tokio::test]
async fn method_and_path_errors_use_the_envelope() {
    let sim = start().await;
    let missing = sim.get(&sim.api("nowhere")).await;
    assert_json_snapshot!("unknown_path", missing.shape());
    let wrong_method = sim.post_json(&sim.api("hello"), json!({})).await;
    assert_json_snapshot!("wrong_method", wrong_method.shape());
}

/// Garbage on every route: never a 5xx, never a dropped connection, and the server keeps
/// answering.
#[tokio::test]
async fn garbage_never_gets_a_5xx() {
    let sim = start().await;
    let pk = sim.create_request("Garbage").await;
    let routes = [
        ("POST", "request".to_owned()),
        ("PUT", format!("request/{pk}")),
        ("POST", format!("request/{pk}/approve")),
        ("POST", format!("otp/{pk}")),
        ("POST", format!("sign/{pk}")),
        ("POST", format!("document/{pk}")),
        ("POST", "token".to_owned()),
        ("POST", "settings".to_owned()),
        ("POST", "image".to_owned()),
        ("POST", "metadata".to_owned()),
        ("POST", "videoid".to_owned()),
        ("POST", format!("videoid/{pk}/evidences")),
        ("POST", format!("videoid/{pk}/evidences/video")),
        ("POST", format!("videoid/{pk}/refuse")),
        ("POST", format!("videoid/{pk}/validate")),
    ];
    let bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
        (None, b"{".to_vec()),
        (Some("application/json"), b"null".to_vec()),
        (Some("application/json"), b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".repeat(10)),
        (Some("application/json"), br#"{"secret": {"$ne": 1}, "options": {"x": 1}, "signature_format": 5}"#.to_vec()),
        (Some("multipart/form-data; boundary=z"), b"--z\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4 broken".to_vec()),
        (Some("multipart/form-data; boundary=z"), b"--z--".to_vec()),
        (Some("application/x-www-form-urlencoded"), b"%%%=%%%&&==".to_vec()),
        (Some("text/plain"), vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]),
    ];
    for (method, path) in &routes {
        for (content_type, body) in &bodies {
            let mut call = sim
                .http
                .request(method.parse().unwrap(), sim.api(path))
                .body(body.clone());
            if let Some(content_type) = content_type {
                call = call.header("content-type", *content_type);
            }
            let response = call.send().await.expect("the server answers");
            let status = response.status().as_u16();
            let body = response.bytes().await.expect("a complete body");
            assert!(
                status < 500,
                "{method} {path} with {content_type:?}: {status} {body:?}"
            );
            let json: serde_json::Value = serde_json::from_slice(&body).expect("a JSON answer");
            assert!(
                json["status"].is_string() && json.get("details").is_some(),
                "{json}"
            );
        }
    }
    // A file that only starts like a PDF is refused at upload, with the reason.
    let fake = sim
        .upload(
            pk,
            vec![("file", "fake.pdf", b"%PDF-1.4 nothing else".to_vec())],
        )
        .await;
    assert_eq!(fake.status, 400);
    let reason = fake.json()["details"].as_str().unwrap().to_owned();
    assert!(
        reason.starts_with("Cannot upload document fake.pdf: "),
        "{reason}"
    );
    assert_eq!(sim.get(&sim.url("/_signsim/health")).await.status, 200);
}
