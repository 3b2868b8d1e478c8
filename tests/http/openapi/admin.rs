//! The admin API through every operation of its document, the providers' admin calls
//! and pages included.

use super::{b64, details, path_of, text, Body, Calls};
use crate::common::{sample_pdf, start};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

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

    // The built-in receiver, its reads, the sample PDF.
    admin
        .json(Method::POST, "/_signsim/capture/doc", json!({ "n": 1 }))
        .await;
    admin
        .call(
            Method::PUT,
            "/_signsim/capture/doc",
            Body::Raw("text/plain", "text".into()),
        )
        .await;
    admin
        .json(
            Method::POST,
            "/_signsim/capture/doc-fail?fail_first=1",
            json!({}),
        )
        .await;
    admin
        .json(Method::POST, "/_signsim/capture/doc?status=503", json!({}))
        .await;
    admin
        .json(Method::POST, "/_signsim/capture/doc?status=1", json!({}))
        .await;
    admin
        .call(
            Method::POST,
            "/_signsim/capture/doc",
            Body::Raw("text/plain", "x".repeat(1024 * 1024 + 1)),
        )
        .await;
    admin.get("/_signsim/captures/doc?wait=0.5").await;
    admin.get("/_signsim/captures/doc?wait=61").await;
    admin.delete("/_signsim/captures/doc").await;
    admin.delete("/_signsim/captures/a%20b").await;
    admin.get("/_signsim/samples/document.pdf?pages=2").await;
    admin.get("/_signsim/samples/document.pdf?pages=0").await;

    // Uanataca: a Video ID request finished by the person; a signed request's files.
    let video = sim
        .post_json(
            &sim.api("videoid"),
            json!({ "mobile_phone_number": "+34611000009", "email": "v@example.com", "videoid_mode": 1 }),
        )
        .await;
    // The person's page, by the code its link carries.
    let link = path_of(&sim, &details(&video)["videoid_link"]);
    admin.get(&link).await;
    admin.get("/_signsim/uanataca/lcmpl/videoid/nope").await;
    let by_code = format!("{link}/complete");
    admin
        .json(Method::POST, &by_code, json!({ "outcome": "maybe" }))
        .await;
    admin
        .json(
            Method::POST,
            "/_signsim/uanataca/lcmpl/videoid/nope/complete",
            json!({ "outcome": "review" }),
        )
        .await;
    // The admin's page and act by number, on another request.
    let video = sim
        .post_json(
            &sim.api("videoid"),
            json!({ "mobile_phone_number": "+34611000009", "email": "v@example.com", "videoid_mode": 1 }),
        )
        .await;
    let pk = details(&video)["request_pk"].as_u64().expect("pk");
    admin
        .json(Method::POST, &by_code, json!({ "outcome": "incomplete" }))
        .await;
    admin
        .json(Method::POST, &by_code, json!({ "outcome": "incomplete" }))
        .await;
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
    let signed = sim.sign_with_otp(&pk).await;
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
    // The page's form, through the link.
    let code = text(&link).rsplit('/').next().expect("a code").to_owned();
    let by_link = format!("/_signsim/mensatek/verifications/{id}/links/{code}");
    admin
        .json(Method::POST, &by_link, json!({ "outcome": "maybe" }))
        .await;
    admin
        .json(
            Method::POST,
            &format!("/_signsim/mensatek/verifications/{id}/links/nope"),
            json!({ "outcome": "verified" }),
        )
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
    // The signing page's forms, through the link (its code in the path).
    let one = json!([{ "nat": "PER", "doc_id": "12345678", "signatureType": "advanced", "signChallenges": ["facial"] }]);
    let form = Form::new()
        .part(
            "pdfFiles",
            Part::bytes(sample_pdf("Contrato")).file_name("Contrato.pdf"),
        )
        .text("signers", one.to_string());
    let second = sim
        .http
        .put(sim.url("/identiasign/api/signature_processes"))
        .header("authorization", &jwt)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    let second: Value = second.json().await.expect("JSON");
    let second_id = text(&second["id"]);
    let code = text(&second["msg"])
        .rsplit_once('.')
        .expect("id.code")
        .1
        .to_owned();
    let by_link = format!("/_signsim/identiasign/processes/{second_id}/links/{code}");
    let signs = json!({ "act": "sign", "signer": "PER:12345678" });
    admin
        .json(Method::POST, &by_link, json!({ "act": "dance" }))
        .await;
    admin.json(Method::POST, &by_link, signs.clone()).await;
    admin.json(Method::POST, &by_link, signs.clone()).await;
    admin
        .json(
            Method::POST,
            &format!("/_signsim/identiasign/processes/{second_id}/links/nope"),
            signs,
        )
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
    admin.get("/_signsim/webhooks?wait=x").await;
    admin.get("/_signsim/webhooks?resource=adm&wait=0").await;
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
    admin
        .call(Method::POST, "/_signsim/logout", Body::None)
        .await;

    admin.contract.assert_all_called();
}
