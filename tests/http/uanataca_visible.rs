//! Images, metadata and visible signatures of the sign call.

use crate::common::{sample_pdf, sample_png, start, Sim};
use base64::Engine as _;
use der::Encode;
use insta::assert_json_snapshot;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

const METADATA_OID: &str = "1.3.6.1.4.1.47289.100.2.9";

async fn upload_image(sim: &Sim, png: Vec<u8>) -> crate::common::Answer {
    let form = Form::new().part("image", Part::bytes(png).file_name("rubric.png"));
    sim.post_form(&sim.api("image"), form).await
}

/// A request with one uploaded PDF and an OTP in the outbox: (pk, document uid, otp).
async fn ready_to_sign(sim: &Sim) -> (u64, String, String) {
    let pk = sim.create_request("Visible").await;
    let uid = sim
        .upload(pk, vec![("file", "v.pdf", sample_pdf("Visible"))])
        .await
        .json()["details"]
        .as_str()
        .unwrap()
        .to_owned();
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    (pk, uid, sim.last_otp().await)
}

#[tokio::test]
async fn images_lifecycle() {
    let sim = start().await;
    let uploaded = upload_image(&sim, sample_png(60, 30)).await;
    assert_json_snapshot!("image_uploaded", uploaded.shape(), { ".body.details" => "[uid]" });
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();
    let listed = sim.get(&sim.api("images")).await.json();
    assert_json_snapshot!("images_list_entry", listed["details"][&uid], { ".upload_date" => "[date]" });
    let fetched = sim.get(&sim.api(&format!("image/{uid}"))).await;
    assert_eq!(fetched.content_type, "image/png");
    assert_eq!(fetched.bytes, sample_png(60, 30));
    let not_png = upload_image(&sim, b"GIF89a....".to_vec()).await;
    assert_json_snapshot!("image_not_png", not_png.shape());
    let missing = sim
        .post_form(&sim.api("image"), Form::new().text("x", "y"))
        .await;
    assert_json_snapshot!("image_missing", missing.shape());
    assert_json_snapshot!(
        "image_deleted",
        sim.delete(&sim.api(&format!("image/{uid}"))).await.shape()
    );
    let gone = sim.get(&sim.api(&format!("image/{uid}"))).await;
    assert_json_snapshot!("image_gone", gone.shape(), { ".body.details" => "[message]" });
    assert_json_snapshot!(
        "images_deleted",
        sim.delete(&sim.api("images")).await.shape()
    );
}

#[tokio::test]
async fn metadata_lifecycle() {
    let sim = start().await;
    assert_json_snapshot!("metadata_none", sim.get(&sim.api("metadata")).await.shape());
    let encoded = base64::engine::general_purpose::STANDARD.encode("contract 2026/001");
    let uploaded = sim
        .post_json(
            &sim.api("metadata"),
            json!({ "metadata": encoded, "metadata_oid": METADATA_OID }),
        )
        .await;
    assert_json_snapshot!("metadata_uploaded", uploaded.shape(), { ".body.details.metadata" => "[uid]" });
    let uid = uploaded.json()["details"]["metadata"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_json_snapshot!(
        "metadata_get",
        sim.get(&sim.api(&format!("metadata/{uid}"))).await.shape()
    );
    let missing = sim
        .post_json(&sim.api("metadata"), json!({ "metadata": encoded }))
        .await;
    assert_json_snapshot!("metadata_missing_oid", missing.shape());
    let bad_oid = sim
        .post_json(
            &sim.api("metadata"),
            json!({ "metadata": encoded, "metadata_oid": "x.y" }),
        )
        .await;
    assert_eq!(bad_oid.status, 400);
    assert_json_snapshot!(
        "metadata_deleted",
        sim.delete(&sim.api(&format!("metadata/{uid}")))
            .await
            .shape()
    );
    assert_eq!(
        sim.get(&sim.api(&format!("metadata/{uid}"))).await.status,
        404
    );
    assert_json_snapshot!(
        "metadata_all_deleted",
        sim.delete(&sim.api("metadata")).await.shape()
    );
}

#[tokio::test]
async fn visible_signature_with_image_text_and_metadata() {
    let sim = start().await;
    let image = upload_image(&sim, sample_png(120, 40)).await.json()["details"]
        .as_str()
        .unwrap()
        .to_owned();
    let encoded = base64::engine::general_purpose::STANDARD.encode("contract 2026/001");
    let metadata = sim
        .post_json(
            &sim.api("metadata"),
            json!({ "metadata": encoded, "metadata_oid": METADATA_OID }),
        )
        .await
        .json()["details"]["metadata"]
        .as_str()
        .unwrap()
        .to_owned();
    let (pk, uid, otp) = ready_to_sign(&sim).await;
    let body = json!({
        "secret": otp,
        "disable_ltv": true,
        "use_signature_text": true,
        "metadata": metadata,
        "signature_format": {
            "text_format": ["Firmado por: %(CN)s", "Fecha: %(DATE)s"],
            "date_format": "%d/%m/%Y %H:%M:%S",
            "timezone": "Europe/Madrid"
        },
        "options": { uid.clone(): { "position": "50, 600, 300, 680", "page": "0", "image": image } }
    });
    let signed = sim.post_json(&sim.api(&format!("sign/{pk}")), body).await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    let pdf = sim
        .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
        .await
        .bytes;
    let text = String::from_utf8_lossy(&pdf);
    assert!(
        text.contains("/Rect [50 600 300 680]") || text.contains("/Rect[50 600 300 680]"),
        "the widget sits where asked"
    );
    assert!(
        text.contains("/Subtype /Image") || text.contains("/Subtype/Image"),
        "the PNG is drawn"
    );
    // The text wraps inside the rectangle: "Firmado por: Visible" / "Garcia Lopez".
    assert!(
        text.contains("Firmado por: Visible"),
        "the text names the signer"
    );
    assert!(text.contains("Garcia Lopez"));
    // The metadata OID is a signed attribute inside the CMS (hex in /Contents).
    let oid = der::asn1::ObjectIdentifier::new_unwrap(METADATA_OID)
        .to_der()
        .unwrap();
    assert!(
        text.to_ascii_uppercase().contains(&hex::encode_upper(&oid)),
        "metadata signed in"
    );
    crate::validators::check_pdfs(&sim, &[("visible.pdf", pdf.to_vec())]).await;
}

#[tokio::test]
async fn bad_sign_options_are_refused_before_the_otp_is_spent() {
    let sim = start().await;
    let (pk, uid, otp) = ready_to_sign(&sim).await;
    let sign = |extra: Value| {
        let mut body = json!({ "secret": otp });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let url = sim.api(&format!("sign/{pk}"));
        let sim = &sim;
        async move { sim.post_json(&url, body).await }
    };
    let cases = [
        (
            "no_position",
            json!({ "options": { uid.clone(): { "page": 0 } } }),
        ),
        (
            "no_page",
            json!({ "options": { uid.clone(): { "position": "1, 1, 50, 50" } } }),
        ),
        (
            "bad_position",
            json!({ "options": { uid.clone(): { "position": "50, 50, 1", "page": 0 } } }),
        ),
        (
            "unknown_document",
            json!({ "options": { "nope": { "position": "1, 1, 50, 50", "page": 0 } } }),
        ),
        (
            "unknown_image",
            json!({ "options": { uid.clone(): { "position": "1, 1, 50, 50", "page": 0, "image": "nope" } } }),
        ),
        (
            "unknown_timezone",
            json!({ "signature_format": { "timezone": "Mars/Olympus" } }),
        ),
        ("unknown_metadata", json!({ "metadata": "nope" })),
        ("options_not_object", json!({ "options": [1] })),
    ];
    for (name, extra) in cases {
        let answer = sign(extra).await;
        assert!((400..500).contains(&answer.status), "{name}");
        // Keys and messages name the document uid: hide it, keep the words.
        let shape: Value =
            serde_json::from_str(&answer.shape().to_string().replace(&uid, "[uid]")).unwrap();
        assert_json_snapshot!(format!("sign_options_{name}"), shape);
    }
    let signed = sign(json!({})).await;
    assert_eq!(signed.status, 200, "the OTP survived the refused calls");
}
