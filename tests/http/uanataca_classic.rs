//! The Uanataca One-Shot classic flow, end to end, and the OTP rules around it.

use crate::common::{sample_pdf, signer_form, start, Sim, DEMO_TOKEN};
use insta::assert_json_snapshot;
use serde_json::json;
use sha2::{Digest, Sha256};

async fn otp_and_sign(sim: &Sim, pk: u64) {
    let answer = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json());
    let otp = sim.last_otp().await;
    let answer = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json());
}

#[tokio::test]
async fn classic_flow_end_to_end() {
    let sim = start().await;

    assert_json_snapshot!("hello", sim.get(&sim.api("hello")).await.shape());
    assert_json_snapshot!("tokens", sim.get(&sim.api("tokens")).await.shape());

    let created = sim
        .post_form(&sim.api("request"), signer_form("Maria"))
        .await;
    assert_json_snapshot!("create_request", created.shape(), { ".body.details" => "[pk]" });
    let pk = created.json()["details"].as_u64().unwrap();

    let pdf = sample_pdf("Contract to sign");
    let uploaded = sim.upload(pk, vec![("file", "doc.pdf", pdf.clone())]).await;
    assert_json_snapshot!("upload_one", uploaded.shape(), { ".body.details" => "[uid]" });
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();

    let contract = sim.get(&sim.api(&format!("document/{pk}/contract"))).await;
    assert_eq!(contract.status, 200);
    assert_eq!(contract.content_type, "application/pdf");
    assert!(contract.bytes.starts_with(b"%PDF-"));

    let otp = sim
        .post_raw(&sim.api(&format!("otp/{pk}")), None, vec![])
        .await;
    assert_json_snapshot!("otp_generated", otp.shape());
    let outbox = sim.get(&sim.url("/_signsim/outbox")).await.json();
    assert_json_snapshot!("outbox_sms", outbox, {
        "[].id" => "[id]", "[].at" => "[time]", "[].otp" => "[otp]", "[].text" => "[text]"
    });
    let message = &outbox[0];
    assert_eq!(message["channel"], "sms");
    assert_eq!(message["to"], "+34600123123");
    let code = message["otp"].as_str().unwrap();
    assert_eq!(code.len(), 6);
    assert!(message["text"].as_str().unwrap().contains(code));

    let signed = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": code }))
        .await;
    assert_json_snapshot!("sign_ok", signed.shape());

    let details = sim.get(&sim.api(&format!("request/{pk}"))).await;
    assert_json_snapshot!("request_issued", details.shape(), {
        ".body.details.pk" => "[pk]",
        ".body.details.scratchcard" => "[scratchcard]",
        ".body.details.approving_user.request" => "[pk]",
        ".body.details.registering_user.request" => "[pk]",
        ".body.details.**.data" => "[der]",
        ".body.details.**.serial_number" => "[serial]",
        ".body.details.**.valid_from" => "[time]",
        ".body.details.**.valid_to" => "[time]",
        ".body.details.**.subject" => "[subject]",
    });
    assert_eq!(details.json()["details"]["status"], "ISSUED");

    let original = sim
        .get(&sim.api(&format!("document/{pk}/original/{uid}")))
        .await;
    assert_eq!(original.bytes, pdf, "the original comes back byte for byte");
    let signed = sim
        .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
        .await;
    assert_eq!(signed.status, 200);
    assert_eq!(signed.content_type, "application/pdf");
    assert!(signed.bytes.len() > pdf.len());
    assert!(
        signed.bytes.starts_with(&pdf),
        "the signature is an incremental update"
    );
    let signed_text = String::from_utf8_lossy(&signed.bytes);
    assert!(signed_text.contains("/ETSI.CAdES.detached"));

    let signed_contract = sim.get(&sim.api(&format!("document/{pk}/contract"))).await;
    assert!(signed_contract.bytes.starts_with(&contract.bytes));
    assert!(signed_contract.bytes.len() > contract.bytes.len());

    let listed = sim.get(&sim.api(&format!("documents/{pk}"))).await.json();
    assert_eq!(listed["status"], "200 OK");
    let entry = &listed["details"][&uid];
    assert_json_snapshot!("documents_list_entry", entry, {
        ".upload_date" => "[date]", ".size" => "[size]"
    });
    assert_eq!(entry["size"], pdf.len());

    let deleted = sim
        .delete(&sim.api(&format!("document/{pk}/signed/{uid}")))
        .await;
    assert_json_snapshot!("document_deleted", deleted.shape());
    let gone = sim
        .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
        .await;
    assert_eq!(gone.status, 404);
    let all = sim.delete(&sim.api(&format!("documents/{pk}"))).await;
    assert_json_snapshot!("documents_deleted", all.shape());
    let empty = sim.get(&sim.api(&format!("documents/{pk}"))).await;
    assert_json_snapshot!("documents_none", empty.shape());
}

#[tokio::test]
async fn wrong_otp_is_refused_then_the_right_one_signs() {
    let sim = start().await;
    let pk = sim.create_request("Luis").await;
    sim.upload(pk, vec![("file", "a.pdf", sample_pdf("A"))])
        .await;
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };

    let refused = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": wrong }))
        .await;
    assert_json_snapshot!("sign_wrong_otp", refused.shape());
    let status = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
    assert_eq!(status["details"]["status"], "ENROLLREADY");

    let signed = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;
    assert_eq!(signed.status, 200);
}

#[tokio::test]
async fn used_otp_cannot_sign_again() {
    let sim = start().await;
    let pk = sim.create_request("Eva").await;
    otp_and_sign(&sim, pk).await;
    let otp = sim.last_otp().await;
    let again = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;
    assert_json_snapshot!("sign_already_issued", again.shape());
    let otp_again = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_json_snapshot!("otp_after_issue", otp_again.shape());
}

#[tokio::test]
async fn three_wrong_codes_spend_the_otp() {
    let sim = start().await;
    let pk = sim.create_request("Ines").await;
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        let answer = sim
            .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": wrong }))
            .await;
        assert_eq!(answer.status, 403);
    }
    let right = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;
    assert_eq!(
        right.status, 403,
        "a spent OTP does not sign even when right"
    );

    // A new code, once the minute has passed, signs.
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 61 }),
    )
    .await;
    otp_and_sign(&sim, pk).await;
}

#[tokio::test]
async fn one_otp_per_minute_and_codes_expire() {
    let sim = start().await;
    let pk = sim.create_request("Pau").await;
    assert_eq!(
        sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
            .await
            .status,
        200
    );
    let too_soon = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_json_snapshot!("otp_too_soon", too_soon.shape());

    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 601 }),
    )
    .await;
    let otp = sim.last_otp().await;
    let expired = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": otp }))
        .await;
    assert_eq!(
        expired.status, 403,
        "an OTP older than ten minutes is invalid"
    );

    let fresh = sim
        .post_json(
            &sim.api(&format!("otp/{pk}")),
            json!({ "delivery_method": "whatsapp" }),
        )
        .await;
    assert_eq!(fresh.status, 200);
    let whatsapp = sim
        .get(&sim.url("/_signsim/outbox?channel=whatsapp&to=%2B34600123123"))
        .await
        .json();
    assert_eq!(whatsapp.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_request_is_404_everywhere() {
    let sim = start().await;
    let calls = [
        ("get", sim.get(&sim.api("request/999999")).await),
        (
            "otp",
            sim.post_json(&sim.api("otp/999999"), json!({})).await,
        ),
        (
            "sign",
            sim.post_json(&sim.api("sign/999999"), json!({ "secret": "123456" }))
                .await,
        ),
        (
            "upload",
            sim.upload(999_999, vec![("file", "a.pdf", sample_pdf("A"))])
                .await,
        ),
        (
            "contract",
            sim.get(&sim.api("document/999999/contract")).await,
        ),
        ("documents", sim.get(&sim.api("documents/999999")).await),
        ("cancel", sim.delete(&sim.api("request/999999")).await),
        ("not_a_number", sim.get(&sim.api("request/abc")).await),
    ];
    for (name, answer) in calls {
        assert_eq!(answer.status, 404, "{name}");
        assert_json_snapshot!(format!("unknown_pk_{name}"), answer.shape());
    }
}

#[tokio::test]
async fn non_pdf_upload_is_refused() {
    let sim = start().await;
    let pk = sim.create_request("Ana").await;
    let answer = sim
        .upload(pk, vec![("file", "notes.txt", b"just text".to_vec())])
        .await;
    assert_json_snapshot!("upload_not_pdf", answer.shape());
    let none = sim.get(&sim.api(&format!("documents/{pk}"))).await;
    assert_eq!(none.status, 404, "nothing was stored");
}

#[tokio::test]
async fn at_most_ten_documents() {
    let sim = start().await;
    let pk = sim.create_request("Ana").await;
    let pdf = sample_pdf("Many");
    let eleven: Vec<_> = (0..11)
        .map(|i| {
            (
                if i == 0 { "file" } else { "fileN" },
                "doc.pdf",
                pdf.clone(),
            )
        })
        .collect();
    let answer = sim.upload(pk, eleven).await;
    assert_json_snapshot!("upload_eleven", answer.shape(), { ".body.details" => "[message]" });
    assert_eq!(answer.status, 400);
    assert!(answer.json()["details"]
        .as_str()
        .unwrap()
        .contains("Maximum number of document"));

    let names = [
        "file", "file2", "file3", "file4", "file5", "file6", "file7", "file8", "file9", "file10",
    ];
    let ten: Vec<_> = names.iter().map(|n| (*n, "doc.pdf", pdf.clone())).collect();
    let answer = sim.upload(pk, ten).await;
    assert_eq!(answer.status, 200);
    let listed = answer.json()["details"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 10);
    let digest = hex::encode(Sha256::digest(&pdf));
    assert!(listed.iter().all(|d| d["digest"] == digest.as_str()));
    assert_eq!(listed[1]["key"], "file2");
    assert_json_snapshot!("upload_many_entry", listed[0], { ".uid" => "[uid]", ".digest" => "[sha256]" });

    let one_more = sim.upload(pk, vec![("file", "doc.pdf", pdf)]).await;
    assert_eq!(one_more.status, 400, "the eleventh document is refused");
}

#[tokio::test]
async fn two_requests_get_two_certificates() {
    let sim = start().await;
    let mut certificates = Vec::new();
    for name in ["Uno", "Dos"] {
        let pk = sim.create_request(name).await;
        sim.upload(pk, vec![("file", "a.pdf", sample_pdf(name))])
            .await;
        otp_and_sign(&sim, pk).await;
        let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
        let cert = details["details"]["certificate_set"][0].clone();
        assert!(cert["subject"].as_str().unwrap().contains(name));
        assert!(cert["subject"]
            .as_str()
            .unwrap()
            .contains("IDCES-12345678Z"));
        certificates.push(cert);
        // The OTP cooldown is per request; no clock games needed.
    }
    assert_ne!(certificates[0]["data"], certificates[1]["data"]);
    assert_ne!(
        certificates[0]["serial_number"],
        certificates[1]["serial_number"]
    );
}

#[tokio::test]
async fn request_without_rao_waits_for_approval() {
    let sim = start().await;
    let form = reqwest::multipart::Form::new()
        .text("given_name", "Sin")
        .text("surname_1", "Operador")
        .text("email", "s@example.com")
        .text("mobile_phone_number", "+34600000001");
    let created = sim.post_form(&sim.api("request"), form).await;
    let pk = created.json()["details"].as_u64().unwrap();
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
    assert_eq!(details["details"]["status"], "CREATED");
    assert!(details["details"]["approving_rao"].is_null());

    let otp = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_json_snapshot!("otp_not_approved", otp.shape());

    let incomplete = sim
        .post_json(
            &sim.api(&format!("request/{pk}/approve")),
            json!({ "username": "9001800" }),
        )
        .await;
    assert_json_snapshot!("approve_incomplete", incomplete.shape());
    let approved = sim
        .post_json(
            &sim.api(&format!("requests/{pk}/approve")),
            json!({ "token": DEMO_TOKEN }),
        )
        .await;
    assert_json_snapshot!("approve_ok", approved.shape());
    let again = sim
        .post_json(
            &sim.api(&format!("request/{pk}/approve")),
            json!({ "token": DEMO_TOKEN }),
        )
        .await;
    assert_eq!(again.status, 412);
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
    assert_eq!(details["details"]["status"], "ENROLLREADY");
}

#[tokio::test]
async fn cancel_forgets_the_request() {
    let sim = start().await;
    let pk = sim.create_request("Ciao").await;
    let cancelled = sim.delete(&sim.api(&format!("request/{pk}"))).await;
    assert_json_snapshot!("cancel_ok", cancelled.shape());
    assert_eq!(
        sim.get(&sim.api(&format!("request/{pk}"))).await.status,
        404
    );
}

#[tokio::test]
async fn tokens_lifecycle() {
    let sim = start().await;
    let body = json!({ "username": "9001800", "password": "p", "pin": "1234", "env": "sandbox" });
    let created = sim.post_json(&sim.api("token"), body.clone()).await;
    assert_json_snapshot!("token_created", created.shape(), { ".body.details" => "[token]" });
    let uid = created.json()["details"].as_str().unwrap().to_owned();
    assert_eq!(uid.len(), 32);

    let duplicate = sim.post_json(&sim.api("token"), body).await;
    assert_json_snapshot!("token_duplicate", duplicate.shape());
    let fetched = sim.get(&sim.api(&format!("token/{uid}"))).await;
    assert_json_snapshot!("token_get", fetched.shape());
    assert_eq!(
        sim.get(&sim.api("tokens")).await.json()["details"]
            .as_object()
            .unwrap()
            .len(),
        2
    );

    // The new token approves requests like the demo one.
    let form = signer_form("Tok").text("token", uid.clone());
    let created = sim.post_form(&sim.api("request"), form).await;
    assert_eq!(created.status, 201);

    let demo = sim.delete(&sim.api(&format!("token/{DEMO_TOKEN}"))).await;
    assert_json_snapshot!("token_delete_demo", demo.shape());
    let deleted = sim.delete(&sim.api(&format!("token/{uid}"))).await;
    assert_json_snapshot!("token_deleted", deleted.shape());
    let missing = sim.get(&sim.api(&format!("token/{uid}"))).await;
    assert_json_snapshot!("token_missing", missing.shape(), { ".body.details" => "[message]" });
    let no_user = sim
        .post_json(&sim.api("token"), json!({ "env": "sandbox" }))
        .await;
    assert_json_snapshot!("token_no_username", no_user.shape());
}

#[tokio::test]
async fn settings_and_version() {
    let sim = start().await;
    assert_json_snapshot!("settings", sim.get(&sim.api("settings")).await.shape());
    let saved = sim
        .post_json(
            &sim.api("settings"),
            json!({ "request": { "default_ra": "1000" } }),
        )
        .await;
    assert_json_snapshot!("settings_saved", saved.shape());
    let after = sim.get(&sim.api("settings")).await.json();
    assert_eq!(after["details"]["request"]["default_ra"], "1000");
    assert_eq!(
        after["details"]["request"]["default_profile"],
        "PFnubeQAFCiudadano"
    );
    let pk = sim.create_request("Ra").await;
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
    assert_eq!(details["details"]["registration_authority"], 1000);

    let bad = sim
        .post_json(&sim.api("settings"), json!({ "nope": {} }))
        .await;
    assert_json_snapshot!("settings_unknown_section", bad.shape());
    assert_json_snapshot!("version", sim.get(&sim.api("version")).await.shape(), {
        ".body.details.info" => "[host info]"
    });
}

#[tokio::test]
async fn tenants_are_isolated_by_header() {
    let sim = start().await;
    let pk = sim.create_request("Global").await;
    let other = sim
        .http
        .get(sim.api(&format!("request/{pk}")))
        .header("X-Signsim-Tenant", "ci-job-2")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let mine = sim.get(&sim.api(&format!("request/{pk}"))).await;
    assert_eq!(mine.status, 200);
}

/// A scenario whose every new request moves to `to` `after_seconds` after creation.
fn moved_after(name: &str, after_seconds: &str, to: &str) -> String {
    format!(
        "[[scenario]]\nname = \"{name}\"\nprovider = \"uanataca\"\n\n\
         [[scenario.effects]]\noperation = \"request.create\"\n\
         transition = {{ after_seconds = {after_seconds}, to = \"{to}\" }}\n"
    )
}

/// Creates an approved request (the demo token) under the scenario `name`; returns its pk.
async fn create_under(sim: &Sim, name: &str) -> u64 {
    let created = sim
        .http
        .post(sim.api("request"))
        .header("X-Signsim-Scenario", name)
        .multipart(signer_form("Scripted"))
        .send()
        .await
        .expect("request sent");
    let created = crate::common::answer(created).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    created.json()["details"].as_u64().expect("pk")
}

/// The request's timeline (`/_signsim/events`).
async fn timeline(sim: &Sim, pk: u64) -> Vec<serde_json::Value> {
    let events = sim
        .get(&sim.url(&format!("/_signsim/events?provider=uanataca&id={pk}")))
        .await;
    assert_eq!(events.status, 200);
    events.json().as_array().cloned().unwrap_or_default()
}

async fn status_of(sim: &Sim, pk: u64) -> serde_json::Value {
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await;
    assert_eq!(details.status, 200, "{:?}", details.json());
    details.json()["details"]["status"].clone()
}

async fn advance(sim: &Sim, seconds: u64) {
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": seconds }),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
}

#[tokio::test]
async fn an_overflowing_scripted_transition_never_fires() {
    let sim = start().await;
    sim.load_scenarios(&moved_after(
        "refused-never",
        "18446744073709551615",
        "REFUSED",
    ))
    .await;
    // The same transition a minute out, to show the clock does fire scripted transitions.
    sim.load_scenarios(&moved_after("refused-soon", "60", "REFUSED"))
        .await;
    let never = create_under(&sim, "refused-never").await;
    let soon = create_under(&sim, "refused-soon").await;

    // A hundred years on: the minute has long passed, the overflowing delay never does.
    advance(&sim, 3_155_760_000).await;
    assert_eq!(status_of(&sim, soon).await, "REFUSED");
    assert_eq!(status_of(&sim, never).await, "ENROLLREADY");
    let events = timeline(&sim, never).await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["created", "scenario"], "{events:?}");
}

#[tokio::test]
async fn status_events_carry_from_and_to() {
    let sim = start().await;
    // Created without a RAO: CREATED, then approved, then signed.
    let form = reqwest::multipart::Form::new()
        .text("given_name", "Typed")
        .text("surname_1", "Garcia")
        .text("serial_number", "12345678Z")
        .text("email", "signer@example.com")
        .text("mobile_phone_number", "+34600123123");
    let created = sim.post_form(&sim.api("request"), form).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let pk = created.json()["details"].as_u64().expect("pk");
    let approved = sim
        .post_json(
            &sim.api(&format!("request/{pk}/approve")),
            json!({ "token": DEMO_TOKEN }),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.json());
    otp_and_sign(&sim, pk).await;

    let events = timeline(&sim, pk).await;
    let typed: Vec<(&str, &serde_json::Value, &serde_json::Value, &str)> = events
        .iter()
        .filter(|e| e["kind"] == "created" || e["kind"] == "status")
        .map(|e| {
            let text = e["text"].as_str().unwrap_or_default();
            (
                e["kind"].as_str().unwrap_or_default(),
                &e["from"],
                &e["to"],
                text,
            )
        })
        .collect();
    let null = serde_json::Value::Null;
    assert_eq!(
        typed,
        [
            (
                "created",
                &null,
                &json!("CREATED"),
                "created in status CREATED"
            ),
            (
                "status",
                &json!("CREATED"),
                &json!("ENROLLREADY"),
                "status CREATED → ENROLLREADY"
            ),
            (
                "status",
                &json!("ENROLLREADY"),
                &json!("ISSUED"),
                "status ENROLLREADY → ISSUED"
            ),
        ],
        "{events:?}"
    );
    // Every other event is not a status change: it carries neither.
    for event in events
        .iter()
        .filter(|e| e["kind"] != "created" && e["kind"] != "status")
    {
        assert!(
            event.get("from").is_none() && event.get("to").is_none(),
            "{event:?}"
        );
    }
}
