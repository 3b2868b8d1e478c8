//! Fidelity to the real One-Shot Optimizer: every credential a user holds is accepted, and
//! documented answers (status line, HTTP code, body) are copied exactly, 500s included.

use crate::common::{sample_pdf, start, Answer, Sim, DEMO_TOKEN};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

/// A token the user holds for the real service; this simulator has never seen it.
const REAL_TOKEN: &str = "a44765ab8ca04e429a565f02d22179a0";

/// The quick start's create form with `token` as the RAO's credential.
fn form_with_token(given_name: &str, token: &str) -> Form {
    Form::new()
        .text("token", token.to_owned())
        .text("given_name", given_name.to_owned())
        .text("surname_1", "Garcia")
        .text("serial_number", "12345678Z")
        .text("email", "signer@example.com")
        .text("mobile_phone_number", "+34600123123")
}

fn body(answer: &Answer) -> (u16, Value) {
    (answer.status, answer.json())
}

async fn create_video(sim: &Sim, headers: &[(&str, &str)]) -> u64 {
    let mut call = sim.http.post(sim.api("videoid")).json(&json!({
        "mobile_phone_number": "+34611222333",
        "email": "video@example.com",
        "registration_authority": "44",
        "profile": "PFnubeQAFCiudadano",
        "videoid_mode": true,
    }));
    for (name, value) in headers {
        call = call.header(*name, *value);
    }
    let answer = crate::common::answer(call.send().await.unwrap()).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json());
    answer.json()["details"]["request_pk"].as_u64().unwrap()
}

async fn complete_video(sim: &Sim, pk: u64, outcome: &str) {
    let done = sim
        .post_json(
            &sim.url(&format!("/_signsim/uanataca/videoid/{pk}/complete")),
            json!({ "outcome": outcome }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
}

async fn status_of(sim: &Sim, pk: u64) -> Value {
    sim.get(&sim.api(&format!("request/{pk}"))).await.json()["details"]["status"].clone()
}

async fn tokens(sim: &Sim) -> Value {
    sim.get(&sim.api("tokens")).await.json()["details"].clone()
}

/// The production client's Video ID approval: its real token together with the RAO's
/// username, password and pin.
#[tokio::test]
async fn a_real_token_approves_with_the_raos_credentials() {
    let sim = start().await;
    let pk = create_video(&sim, &[]).await;
    complete_video(&sim, pk, "review").await;
    let approved = sim
        .post_json(
            &sim.api(&format!("requests/{pk}/approve")),
            json!({ "token": REAL_TOKEN, "username": "9001800", "password": "Gy6F89xK", "pin": "p1n" }),
        )
        .await;
    assert_eq!(
        body(&approved),
        (
            200,
            json!({ "status": "200 OK", "details": "Request approved successfully" })
        )
    );
    assert_eq!(status_of(&sim, pk).await, "ENROLLREADY");
    // Created on first use and listed, with the credentials as given.
    assert_eq!(
        tokens(&sim).await[REAL_TOKEN],
        json!({ "username": "9001800", "password": true, "pin": true })
    );
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json()["details"].clone();
    assert_eq!(details["approving_rao"]["id_document_number"], "9001800");
}

#[tokio::test]
async fn any_well_formed_token_creates_and_refuses_in_every_tenant() {
    let sim = start().await;
    // Create with a token alone, in a tenant of its own.
    let created = sim
        .http
        .post(sim.api("request"))
        .header("x-signsim-tenant", "team-a")
        .multipart(form_with_token("Tok", REAL_TOKEN))
        .send()
        .await
        .unwrap();
    let created = crate::common::answer(created).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let listed = sim
        .http
        .get(sim.api("tokens"))
        .header("x-signsim-tenant", "team-a")
        .send()
        .await
        .unwrap();
    let listed = crate::common::answer(listed).await.json();
    assert_eq!(
        listed["details"][REAL_TOKEN],
        json!({ "username": "9001800", "password": true, "pin": true }),
        "a token first seen alone holds a complete set of credentials"
    );
    assert_eq!(
        listed["details"][DEMO_TOKEN]["username"], "1125824",
        "the demo token is still listed"
    );

    // Refuse with another unknown token, in the default tenant.
    let pk = create_video(&sim, &[]).await;
    let refused = sim
        .post_json(
            &sim.api(&format!("videoid/{pk}/refuse")),
            json!({ "token": "0123456789abcdef0123456789abcdef", "reason": "blurry" }),
        )
        .await;
    assert_eq!(
        body(&refused),
        (
            200,
            json!({ "status": "200 OK", "details": "Videoid refuse completed" })
        )
    );
    assert_eq!(status_of(&sim, pk).await, "REFUSED");
    assert!(tokens(&sim)
        .await
        .get("0123456789abcdef0123456789abcdef")
        .is_some());
}

#[tokio::test]
async fn wrong_credentials_use_each_calls_documented_words() {
    let sim = start().await;
    let pk = create_video(&sim, &[]).await;
    complete_video(&sim, pk, "review").await;
    let forbidden = |details: &str| {
        (
            403,
            json!({ "status": "403 Forbidden", "details": details }),
        )
    };
    let malformed = json!({ "token": "not a token!" });
    let approve = sim
        .post_json(
            &sim.api(&format!("request/{pk}/approve")),
            malformed.clone(),
        )
        .await;
    assert_eq!(body(&approve), forbidden("Invalid RAO credentials"));
    let mut refuse_body = malformed.clone();
    refuse_body["reason"] = json!("blurry");
    let refuse = sim
        .post_json(&sim.api(&format!("videoid/{pk}/refuse")), refuse_body)
        .await;
    assert_eq!(body(&refuse), forbidden("Invalid RAO credentials"));
    let create = sim
        .post_form(&sim.api("request"), form_with_token("Bad", "not a token!"))
        .await;
    assert_eq!(body(&create), forbidden("Invalid RAO Credentials"));
    assert_eq!(
        status_of(&sim, pk).await,
        "VIDEOREVIEW",
        "nothing was approved or refused"
    );
}

#[tokio::test]
async fn the_strict_scenario_accepts_only_known_tokens() {
    let sim = start().await;
    let strict = [("x-signsim-scenario", "strict-rao-tokens")];
    let create = |token: &str| {
        let call = sim
            .http
            .post(sim.api("request"))
            .header(strict[0].0, strict[0].1)
            .multipart(form_with_token("Strict", token));
        async move { crate::common::answer(call.send().await.unwrap()).await }
    };
    let unknown = create(REAL_TOKEN).await;
    assert_eq!(
        body(&unknown),
        (
            403,
            json!({ "status": "403 Forbidden", "details": "Invalid RAO Credentials" })
        )
    );
    assert!(
        tokens(&sim).await.get(REAL_TOKEN).is_none(),
        "a refused token is not stored"
    );
    assert_eq!(create(DEMO_TOKEN).await.status, 201, "the demo token works");
    let made = sim
        .post_json(
            &sim.api("token"),
            json!({ "username": "9001800", "password": "x", "pin": "y", "env": "sandbox" }),
        )
        .await;
    let made = made.json()["details"].as_str().unwrap().to_owned();
    assert_eq!(
        create(&made).await.status,
        201,
        "a token made with POST token works"
    );

    let pk = create_video(&sim, &strict).await;
    complete_video(&sim, pk, "review").await;
    let approve = sim
        .post_json(
            &sim.api(&format!("request/{pk}/approve")),
            json!({ "token": REAL_TOKEN, "username": "9001800", "password": "x", "pin": "y" }),
        )
        .await;
    assert_eq!(
        body(&approve),
        (
            403,
            json!({ "status": "403 Forbidden", "details": "Invalid RAO credentials" })
        )
    );
    let refuse = sim
        .post_json(
            &sim.api(&format!("videoid/{pk}/refuse")),
            json!({ "token": REAL_TOKEN, "reason": "blurry" }),
        )
        .await;
    assert_eq!(refuse.status, 403);
    assert_eq!(refuse.json()["details"], "Invalid RAO credentials");
    // Username, password and pin are still accepted as given.
    let approved = sim
        .post_json(
            &sim.api(&format!("request/{pk}/approve")),
            json!({ "username": "9001800", "password": "x", "pin": "y" }),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.json());
}

/// The real service answers a 500 when the video identification is not finished; clients
/// show "video identification not done" on exactly that.
#[tokio::test]
async fn approving_an_unfinished_video_is_the_documented_500() {
    let sim = start().await;
    let pending = create_video(&sim, &[]).await;
    let approve = |pk: u64| {
        let url = sim.api(&format!("request/{pk}/approve"));
        let sim = &sim;
        async move {
            sim.post_json(
                &url,
                json!({ "token": DEMO_TOKEN, "username": "9001800", "password": "x", "pin": "y" }),
            )
            .await
        }
    };
    assert_eq!(
        body(&approve(pending).await),
        (
            500,
            json!({
                "status": "500 Internal Server Error",
                "details": format!("Cannot approve Request {pending}: Invalid request status VIDEOPENDING"),
            })
        )
    );
    let incomplete = create_video(&sim, &[]).await;
    complete_video(&sim, incomplete, "incomplete").await;
    let answer = approve(incomplete).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json()["status"], "500 Internal Server Error");
    assert!(answer.json()["details"]
        .as_str()
        .unwrap()
        .ends_with("Invalid request status VIDEOINCOMPLETE"));
    // Other wrong statuses keep the 412.
    let issued_or_ready = sim.create_request("Ready").await;
    let ready = approve(issued_or_ready).await;
    assert_eq!(ready.status, 412);
    assert_eq!(ready.json()["status"], "412 Precondition Failed");
}

#[tokio::test]
async fn wrong_scratchcard_is_the_documented_500() {
    let sim = start().await;
    let pk = create_video(&sim, &[]).await;
    let wrong = sim
        .http
        .put(sim.api(&format!("request/{pk}")))
        .json(&json!({ "scratchcard": "0" }))
        .send()
        .await
        .unwrap();
    let wrong = crate::common::answer(wrong).await;
    assert_eq!(
        body(&wrong),
        (
            500,
            json!({
                "status": "500 Internal Server Error",
                "details": format!("Cannot update the Request {pk}: {{\"detail\": \"Invalid ScratchCard\"}}"),
            })
        )
    );
}

#[tokio::test]
async fn invalid_json_is_worded_as_each_call_documents() {
    let sim = start().await;
    let pk = create_video(&sim, &[]).await;
    let broken = b"{\"a\": 1,".to_vec();
    let post = |path: String| {
        let sim = &sim;
        let broken = broken.clone();
        async move {
            sim.post_raw(&sim.api(&path), Some("application/json"), broken)
                .await
        }
    };
    assert_eq!(
        body(&post("settings".into()).await),
        (
            400,
            json!({ "status": "Invalid JSON", "details": "Could not parse JSON body" })
        )
    );
    assert_eq!(
        body(&post("metadata".into()).await),
        (
            400,
            json!({ "status": "400 Invalid JSON", "details": "Could not parse JSON body" })
        )
    );
    for path in [
        format!("videoid/{pk}/evidences"),
        format!("videoid/{pk}/refuse"),
    ] {
        let answer = post(path.clone()).await;
        assert_eq!(answer.status, 400, "{path}");
        assert_eq!(answer.json()["status"], "Invalid JSON", "{path}");
        let details = answer.json()["details"].as_str().unwrap().to_owned();
        assert!(
            details.starts_with("Could not parse JSON body - "),
            "{path}: {details}"
        );
    }
    // Other calls keep the token call's documented words.
    let token = post("token".into()).await;
    assert_eq!(token.json()["status"], "400 Bad Request");
}

#[tokio::test]
async fn sign_with_a_missing_document_or_image_is_404_not_found_lowercase() {
    let sim = start().await;
    let pk = sim.create_request("Missing").await;
    let uid = sim
        .upload(pk, vec![("file", "m.pdf", sample_pdf("Missing"))])
        .await
        .json()["details"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    let sign = |options: Value| {
        let url = sim.api(&format!("sign/{pk}"));
        let body = json!({ "secret": otp, "options": options });
        let sim = &sim;
        async move { sim.post_json(&url, body).await }
    };
    let one = sign(json!({ "a6554-adsf54": { "position": "1, 1, 50, 50", "page": 0 } })).await;
    assert_eq!(
        body(&one),
        (
            404,
            json!({
                "status": "404 Not found",
                "details": "The following documents are not found in Request's folders:a6554-adsf54",
            })
        )
    );
    let two = sign(json!({
        "aaa": { "position": "1, 1, 50, 50", "page": 0 },
        "bbb": { "position": "1, 1, 50, 50", "page": 0 },
    }))
    .await;
    assert_eq!(
        body(&two),
        (
            404,
            json!({
                "status": "404 Not Found",
                "details": "The following documents are not found in Request's folders: aaa, bbb",
            })
        )
    );
    let image = sign(
        json!({ uid.clone(): { "position": "1, 1, 50, 50", "page": 0, "image": "13705f52" } }),
    )
    .await;
    assert_eq!(
        body(&image),
        (
            404,
            json!({
                "status": "404 Not found",
                "details": { uid.clone(): "The image 13705f52 cannot be found on disk" },
            })
        )
    );
    let signed = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;
    assert_eq!(signed.status, 200, "the OTP survived the refused calls");
}

#[tokio::test]
async fn otp_in_the_wrong_state_is_the_documented_text_alone() {
    let sim = start().await;
    // No RAO credentials: the request stays CREATED.
    let form = Form::new()
        .text("given_name", "Unapproved")
        .text("surname_1", "Garcia")
        .text("email", "u@example.com")
        .text("mobile_phone_number", "+34600123123");
    let created = sim.post_form(&sim.api("request"), form).await;
    assert_eq!(created.status, 201);
    let pk = created.json()["details"].as_u64().unwrap();
    let otp = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_eq!(
        body(&otp),
        (
            412,
            json!({
                "status": "412 Precondition Failed",
                "details": "Error occured during OTP generation: Invalid request status",
            })
        )
    );
}

#[tokio::test]
async fn documented_details_are_not_extended() {
    let sim = start().await;
    let bad_request = |details: &str| {
        (
            400,
            json!({ "status": "400 Bad Request", "details": details }),
        )
    };
    let metadata = sim
        .post_json(&sim.api("metadata"), json!({ "metadata": "aGVsbG8=" }))
        .await;
    assert_eq!(body(&metadata), bad_request("Missing required parameters"));
    for missing in ["mobile_phone_number", "email"] {
        let mut video = json!({ "mobile_phone_number": "+34611222333", "email": "v@example.com" });
        video.as_object_mut().unwrap().remove(missing);
        let answer = sim.post_json(&sim.api("videoid"), video).await;
        assert_eq!(
            body(&answer),
            bad_request("Missing required parameters"),
            "{missing}"
        );
    }
    let pk = sim.create_request("Types").await;
    let not_pdf = sim
        .upload(pk, vec![("file", "notes.txt", b"just text".to_vec())])
        .await;
    assert_eq!(
        body(&not_pdf),
        (
            415,
            json!({ "status": "415 Unsupported Media Type", "details": "Unsupported file type: notes.txt" })
        )
    );
    let gif = sim
        .post_form(
            &sim.api("image"),
            Form::new().part(
                "image",
                Part::bytes(b"GIF89a..".to_vec()).file_name("r.gif"),
            ),
        )
        .await;
    assert_eq!(
        body(&gif),
        (
            415,
            json!({ "status": "415 Unsupported Media Type", "details": "Image file type not supported: r.gif" })
        )
    );
}

/// Any IANA zone, from the database compiled into the binary.
#[tokio::test]
async fn signature_dates_in_any_iana_time_zone() {
    let sim = start().await;
    for (zone, offsets) in [
        ("America/Santiago", ["-0300", "-0400"]),
        ("America/New_York", ["-0500", "-0400"]),
    ] {
        let pk = sim.create_request("Zone").await;
        let uid = sim
            .upload(pk, vec![("file", "z.pdf", sample_pdf("Zone"))])
            .await
            .json()["details"]
            .as_str()
            .unwrap()
            .to_owned();
        sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
            .await;
        let otp = sim.last_otp().await;
        let signed = sim
            .post_json(
                &sim.api(&format!("sign/{pk}")),
                json!({
                    "secret": otp,
                    "signature_format": {
                        "text_format": ["Zone %(DATE)s"],
                        "date_format": "%z %Z",
                        "timezone": zone,
                    },
                    "options": { uid.clone(): { "position": "20, 600, 580, 700", "page": 0 } },
                }),
            )
            .await;
        assert_eq!(signed.status, 200, "{zone}: {:?}", signed.json());
        let pdf = sim
            .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
            .await
            .bytes;
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            offsets
                .iter()
                .any(|offset| text.contains(&format!("Zone {offset} {zone}"))),
            "{zone}: the date is written with the zone's offset"
        );
    }
    let pk = sim.create_request("Nowhere").await;
    let answer = sim
        .post_json(
            &sim.api(&format!("sign/{pk}")),
            json!({ "secret": "000000", "signature_format": { "timezone": "Europe/Atlantis" } }),
        )
        .await;
    assert_eq!(answer.status, 400);
}
