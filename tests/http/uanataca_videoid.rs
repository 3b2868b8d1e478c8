//! Video ID: creation, the person's video (admin call and page), evidences, recordings,
//! validation, refusal, updates, and the webhook at every status change.

use crate::common::{sample_pdf, start, Sim, DEMO_TOKEN};
use crate::receiver::{self, eventually};
use insta::assert_json_snapshot;
use serde_json::{json, Value};

async fn create_video(sim: &Sim, phone: &str, webhook: Option<&str>) -> u64 {
    let mut body = json!({
        "mobile_phone_number": phone,
        "email": "video@example.com",
        "registration_authority": "44",
        "profile": "PFnubeQAFCiudadano",
        "videoid_mode": 1,
    });
    if let Some(url) = webhook {
        body["webhook_url"] = json!(url);
    }
    let answer = sim.post_json(&sim.api("videoid"), body).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json());
    answer.json()["details"]["request_pk"].as_u64().unwrap()
}

async fn status(sim: &Sim, pk: u64) -> Value {
    sim.get(&sim.api(&format!("request/{pk}"))).await.json()["details"]["status"].clone()
}

fn evidences(checks_pass: bool, with_ocr: bool) -> Value {
    let mut body = json!({
        "acceptance": { "description": "User Accepted Terms and Conditions", "date": 1622823879708u64 },
        "videoid_data": {
            "images": { "document_front": "aGVsbG8=", "document_rear": "aGVsbG8=", "document_owner": "aGVsbG8=" },
            "ocr_data": {
                "given_name": "Lucia", "surname_1": "Martin", "surname_2": "Soler",
                "serial_number": "A9999999E", "id_document_type": "IDC", "id_document_country": "ES"
            },
            "security_checks": { "otp_validation": true, "liveliness": checks_pass },
            "similarity_level": "high"
        }
    });
    if !with_ocr {
        body["videoid_data"]
            .as_object_mut()
            .unwrap()
            .remove("ocr_data");
    }
    body
}

#[tokio::test]
async fn video_then_approval_then_signature_with_webhooks() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    let created = sim
        .post_json(
            &sim.api("videoid"),
            json!({ "mobile_phone_number": "+34699999999", "email": "mail@domain.com",
                    "registration_authority": "44", "profile": "PFnubeQAFCiudadano",
                    "videoid_mode": 1, "webhook_url": hook.url }),
        )
        .await;
    assert_json_snapshot!("videoid_created", created.shape(), {
        ".body.details.videoid_pk" => "[videoid_pk]",
        ".body.details.request_pk" => "[pk]",
        ".body.details.videoid_link" => "[link]",
    });
    let details = created.json()["details"].clone();
    let pk = details["request_pk"].as_u64().unwrap();
    assert_eq!(status(&sim, pk).await, "VIDEOPENDING");

    // The link opens the simulator's page.
    let link = details["videoid_link"].as_str().unwrap();
    assert!(link.starts_with(&sim.url("/_signsim/uanataca/lcmpl/videoid/")));
    let page = sim.get(link).await;
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.bytes).contains("Complete the video"));

    let done = sim
        .post_json(
            &sim.url(&format!("/_signsim/uanataca/videoid/{pk}/complete")),
            json!({ "outcome": "review" }),
        )
        .await;
    assert_json_snapshot!("videoid_admin_complete", done.shape(), { ".body.request" => "[pk]" });
    let approved = sim
        .post_json(
            &sim.api(&format!("request/{pk}/approve")),
            json!({ "token": DEMO_TOKEN, "rao": "1400" }),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.json());
    sim.upload(pk, vec![("file", "v.pdf", sample_pdf("Video"))])
        .await;
    let signed = sim.sign_with_otp(&pk).await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());

    eventually("three webhooks", async || hook.bodies().len() == 3).await;
    let moves: Vec<(String, String)> = hook
        .bodies()
        .iter()
        .map(|b| {
            (
                b["previous_status"].as_str().unwrap().into(),
                b["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("VIDEOPENDING".into(), "VIDEOREVIEW".into()),
            ("VIDEOREVIEW".into(), "ENROLLREADY".into()),
            ("ENROLLREADY".into(), "ISSUED".into())
        ]
    );
    assert_json_snapshot!("videoid_webhook", hook.bodies()[0], { ".date" => "[date]", ".request" => "[pk]" });
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json()["details"].clone();
    assert_eq!(details["videoid_mode"], true);
    assert!(
        !details["given_name"].as_str().unwrap().is_empty(),
        "the video read the names"
    );
}

#[tokio::test]
async fn evidences_decide_the_video_status() {
    let sim = start().await;
    let all = create_video(&sim, "+34611000001", None).await;
    let answer = sim
        .post_json(
            &sim.api(&format!("videoid/{all}/evidences")),
            evidences(true, true),
        )
        .await;
    assert_json_snapshot!("videoid_evidences_uploaded", answer.shape());
    assert_eq!(status(&sim, all).await, "VIDEOREVIEW");
    let details = sim.get(&sim.api(&format!("request/{all}"))).await.json()["details"].clone();
    assert_eq!(details["given_name"], "Lucia");
    assert_eq!(details["serial_number"], "A9999999E");

    let again = sim
        .post_json(
            &sim.api(&format!("videoid/{all}/evidences")),
            evidences(true, true),
        )
        .await;
    assert_json_snapshot!("videoid_evidences_wrong_state", again.shape(), { ".body.details" => "[message]" });
    assert_eq!(again.status, 412);
    assert!(again.json()["details"]
        .as_str()
        .unwrap()
        .contains("Invalid VideoId status 'VIDEOREVIEW'"));

    let partial = create_video(&sim, "+34611000002", None).await;
    sim.post_json(
        &sim.api(&format!("videoid/{partial}/evidences")),
        evidences(true, false),
    )
    .await;
    assert_eq!(status(&sim, partial).await, "VIDEOINCOMPLETE");

    let failed = create_video(&sim, "+34611000003", None).await;
    sim.post_json(
        &sim.api(&format!("videoid/{failed}/evidences")),
        evidences(false, true),
    )
    .await;
    assert_eq!(status(&sim, failed).await, "VIDEOERROR");

    let unknown = sim
        .post_json(&sim.api("videoid/999999/evidences"), evidences(true, true))
        .await;
    assert_json_snapshot!("videoid_evidences_unknown", unknown.shape());
    let classic = sim.create_request("Classic").await;
    let not_video = sim
        .post_json(
            &sim.api(&format!("videoid/{classic}/evidences")),
            evidences(true, true),
        )
        .await;
    assert_eq!(not_video.status, 412);
}

#[tokio::test]
async fn recordings_upload_and_download() {
    let sim = start().await;
    let pk = create_video(&sim, "+34611000004", None).await;
    let none = sim
        .get(&sim.api(&format!("videoid/{pk}/download/video")))
        .await;
    assert_eq!(none.status, 404);
    let form = reqwest::multipart::Form::new().part(
        "video",
        reqwest::multipart::Part::bytes(b"\x00\x00\x00\x18ftypmp42".to_vec()).file_name("v.mp4"),
    );
    let uploaded = sim
        .post_form(&sim.api(&format!("videoid/{pk}/evidences/video")), form)
        .await;
    assert_json_snapshot!("videoid_video_uploaded", uploaded.shape());
    let video = sim
        .get(&sim.api(&format!("videoid/{pk}/download/video")))
        .await;
    assert_eq!(video.content_type, "video/mp4");
    assert_eq!(video.bytes, b"\x00\x00\x00\x18ftypmp42");
    let missing = sim
        .post_form(
            &sim.api(&format!("videoid/{pk}/evidences/video")),
            reqwest::multipart::Form::new().text("a", "b"),
        )
        .await;
    assert_json_snapshot!("videoid_video_missing", missing.shape());
}

#[tokio::test]
async fn two_step_validation_refusal_and_updates() {
    let sim = start().await;
    let pk = create_video(&sim, "+34611000005", None).await;
    sim.post_json(
        &sim.api(&format!("videoid/{pk}/evidences")),
        evidences(true, true),
    )
    .await;
    let validated = sim
        .post_json(
            &sim.api(&format!("videoid/{pk}/validate")),
            json!({ "token": DEMO_TOKEN }),
        )
        .await;
    assert_json_snapshot!("videoid_validated", validated.shape());
    assert_eq!(
        status(&sim, pk).await,
        "ENROLLREADY",
        "a natural person is approved at once"
    );

    let other = sim
        .post_json(&sim.api("videoid"), json!({ "mobile_phone_number": "+34611000006", "email": "a@b.com", "profile": "CFnubeEmpresa" }))
        .await
        .json()["details"]["request_pk"]
        .as_u64()
        .unwrap();
    sim.post_json(
        &sim.api(&format!("videoid/{other}/evidences")),
        evidences(true, true),
    )
    .await;
    sim.post_json(&sim.api(&format!("videoid/{other}/validate")), json!({}))
        .await;
    assert_eq!(
        status(&sim, other).await,
        "CREATED",
        "other profiles wait for approval"
    );

    let details = sim.get(&sim.api(&format!("request/{other}"))).await.json()["details"].clone();
    let scratchcard = details["scratchcard"].as_str().unwrap().to_owned();
    let no_card = sim
        .http
        .put(sim.api(&format!("request/{other}")))
        .json(&json!({ "email": "x@y.com" }))
        .send()
        .await
        .unwrap();
    let no_card = crate::common::answer(no_card).await;
    assert_json_snapshot!("update_no_scratchcard", no_card.shape());
    let wrong = sim
        .http
        .put(sim.api(&format!("request/{other}")))
        .json(&json!({ "scratchcard": "0" }))
        .send()
        .await
        .unwrap();
    let wrong = crate::common::answer(wrong).await;
    assert_json_snapshot!("update_wrong_scratchcard", wrong.shape(), { ".body.details" => "[message]" });
    assert!(wrong.json()["details"]
        .as_str()
        .unwrap()
        .contains("Invalid ScratchCard"));
    let updated = sim
        .http
        .put(sim.api(&format!("request/{other}")))
        .json(&json!({ "scratchcard": scratchcard, "given_name": "Nuevo", "country_name": "PT" }))
        .send()
        .await
        .unwrap();
    let updated = crate::common::answer(updated).await;
    assert_json_snapshot!("update_ok", updated.shape());
    let details = sim.get(&sim.api(&format!("request/{other}"))).await.json()["details"].clone();
    assert_eq!(details["given_name"], "Nuevo");
    assert_eq!(details["country_name"], "PT");

    let no_reason = sim
        .post_json(
            &sim.api(&format!("videoid/{other}/refuse")),
            json!({ "token": DEMO_TOKEN }),
        )
        .await;
    assert_json_snapshot!("refuse_no_reason", no_reason.shape());
    let no_rao = sim
        .post_json(
            &sim.api(&format!("videoid/{other}/refuse")),
            json!({ "reason": "blurry" }),
        )
        .await;
    assert_eq!(no_rao.status, 400);
    let refused = sim
        .post_json(
            &sim.api(&format!("videoid/{other}/refuse")),
            json!({ "token": DEMO_TOKEN, "reason": "blurry document" }),
        )
        .await;
    assert_json_snapshot!("refuse_ok", refused.shape());
    assert_eq!(status(&sim, other).await, "REFUSED");
}

#[tokio::test]
async fn approval_needs_the_signer_data() {
    let sim = start().await;
    let pk = create_video(&sim, "+34611000008", None).await;
    sim.post_json(&sim.api(&format!("videoid/{pk}/evidences")), {
        let mut body = evidences(true, true);
        body["videoid_data"]["ocr_data"] = json!({ "given_name": "Solo" });
        body
    })
    .await;
    let refused = sim
        .post_json(
            &sim.api(&format!("request/{pk}/approve")),
            json!({ "token": DEMO_TOKEN }),
        )
        .await;
    assert_json_snapshot!("approve_missing_fields", refused.shape(), { ".body.details" => "[message]" });
    assert!(refused.json()["details"]
        .as_str()
        .unwrap()
        .ends_with("Invalid request fields: serial_number; surname_1"));
}

#[tokio::test]
async fn scripted_video_error_after_a_delay() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    let pk = create_video(&sim, "+34600000006", Some(&hook.url)).await;
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 29 }),
    )
    .await;
    assert_eq!(status(&sim, pk).await, "VIDEOPENDING");
    sim.post_json(&sim.url("/_signsim/clock/advance"), json!({ "seconds": 2 }))
        .await;
    assert_eq!(status(&sim, pk).await, "VIDEOERROR");
    eventually("the webhook", async || hook.bodies().len() == 1).await;
    assert_eq!(hook.bodies()[0]["status"], "VIDEOERROR");

    let incomplete = create_video(&sim, "+34600000007", None).await;
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 31 }),
    )
    .await;
    assert_eq!(status(&sim, incomplete).await, "VIDEOINCOMPLETE");
}

#[tokio::test]
async fn admin_complete_errors_are_json() {
    let sim = start().await;
    let pk = create_video(&sim, "+34611000009", None).await;
    let bad = sim
        .post_json(
            &sim.url(&format!("/_signsim/uanataca/videoid/{pk}/complete")),
            json!({ "outcome": "maybe" }),
        )
        .await;
    assert_json_snapshot!("videoid_admin_bad_outcome", bad.shape());
    let unknown = sim
        .post_json(
            &sim.url("/_signsim/uanataca/videoid/999999/complete"),
            json!({ "outcome": "review" }),
        )
        .await;
    assert_eq!(unknown.status, 404);
    // A form post (the page's buttons) answers a page.
    let form = sim
        .post_raw(
            &sim.url(&format!("/_signsim/uanataca/videoid/{pk}/complete")),
            Some("application/x-www-form-urlencoded"),
            b"outcome=error".to_vec(),
        )
        .await;
    assert_eq!(form.status, 200);
    assert!(String::from_utf8_lossy(&form.bytes).contains("VIDEOERROR"));
}
