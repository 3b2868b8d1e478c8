//! The pages for developers: the dashboard lists resources with their status and moves
//! the clock, a resource's page merges its timeline (calls, events, messages, webhook
//! attempts) and redelivers, the inbox filters, and what users type stays text.

use crate::common::{start, Sim};
use crate::qitech::{configure_hook, get, signer, submitted, KEY};
use crate::receiver::{self, eventually};
use serde_json::json;

fn text(answer: &crate::common::Answer) -> String {
    String::from_utf8_lossy(&answer.bytes).into_owned()
}

/// The resource page of QI Tech envelope `id` of the test key.
fn resource_url(sim: &Sim, id: &str) -> String {
    sim.url(&format!("/_signsim/resources/qitech/{KEY}/{id}"))
}

/// Signs envelope `id` as signer 1 through the signing page, as a person would.
async fn sign_through_the_page(sim: &Sim, id: &str) {
    let link = get(sim, &format!("/sign/envelope/{id}")).await.json()["signers"][0]
        ["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = sim.browse(&link).await;
    assert_eq!(page.status, 200);
    let messages = sim
        .get(&sim.url("/_signsim/outbox?provider=qitech&channel=sms"))
        .await
        .json();
    let token = messages.as_array().unwrap().last().unwrap()["otp"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = sim
        .submit_form(
            &link,
            &page,
            &[("cpf", "111.111.111-11"), ("token", &token)],
        )
        .await;
    assert_eq!(signed.status, 200, "{}", text(&signed));
}

#[tokio::test]
async fn the_dashboard_lists_resources_and_the_resource_page_merges_its_timeline() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    assert_eq!(configure_hook(&sim, &hook.url, json!({})).await.status, 200);
    submitted(&sim, "env-a", vec![signer("1", "a@example.com")]).await;
    let video = sim
        .post_json(
            &sim.api("videoid"),
            json!({ "mobile_phone_number": "+34611000001", "email": "v@example.com",
                    "registration_authority": "44", "profile": "PFnubeQAFCiudadano",
                    "videoid_mode": 1 }),
        )
        .await;
    let pk = video.json()["details"]["request_pk"].as_u64().unwrap();

    for path in ["/_signsim", "/_signsim/"] {
        let dashboard = sim.browse(&sim.url(path)).await;
        assert_eq!(dashboard.status, 200, "{path}");
        let html = text(&dashboard);
        assert!(
            html.contains("href=\"/_signsim/resources/qitech/qi-key-alpha/env-a\""),
            "{html}"
        );
        assert!(html.contains(&format!("/_signsim/resources/uanataca/default/{pk}")));
        assert!(html.contains("<td class=\"status\">submitted</td>"));
        assert!(html.contains("<td class=\"status\">VIDEOPENDING</td>"));
        assert!(html.contains("action=\"/_signsim/clock/advance\""));
        assert!(html.contains("href=\"/_signsim/ca.pem\""));
        assert!(
            html.contains("expired-envelope"),
            "the scenarios are listed"
        );
    }
    // Newest first, and the filter narrows by provider and tenant.
    let html = text(&sim.browse(&sim.url("/_signsim")).await);
    assert!(html.find(&format!("uanataca/default/{pk}")) < html.find("qitech/qi-key-alpha/env-a"));
    let only_qitech = text(
        &sim.browse(&sim.url("/_signsim?provider=qitech&tenant="))
            .await,
    );
    assert!(only_qitech.contains("env-a"));
    assert!(!only_qitech.contains(&format!("uanataca/default/{pk}")));
    let other_tenant = text(&sim.browse(&sim.url("/_signsim?tenant=nobody")).await);
    assert!(!other_tenant.contains("env-a"));

    sign_through_the_page(&sim, "env-a").await;
    eventually("the webhook", async || !hook.bodies().is_empty()).await;
    // The used link says so, with 410.
    let link = get(&sim, "/sign/envelope/env-a").await.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let used = sim.browse(&link).await;
    assert_eq!(used.status, 410);
    assert!(text(&used).contains("already signed"));

    let page = sim.browse(&resource_url(&sim, "env-a")).await;
    assert_eq!(page.status, 200);
    let html = text(&page);
    assert!(html.contains("id=\"status\">completed<"), "{html}");
    for expected in [
        "<code>POST /qitech/sign/envelope/env-a/document</code> → 201",
        "<code>PATCH /qitech/sign/envelope/env-a</code> → 200",
        "created → submitted",
        "you have documents to sign at",
        "QI Tech Sign: your authentication token is",
        "<code>POST /_signsim/qitech/envelopes/env-a/signers/1/sign</code> → 200",
        "answered <b>200</b>",
        "envelope_completed",
        "signing page of John Sample 1",
        "original: Contrato",
        "signed dossier: Contrato",
    ] {
        assert!(html.contains(expected), "{expected} missing from {html}");
    }
    // In time order: the submit before the message it sent, the signature before the webhook.
    assert!(html.find("created → submitted") < html.find("you have documents to sign"));
    assert!(html.find("signers/1/sign</code>") < html.find("answered <b>200</b>"));

    // The dossier link opens the PDF, and looking at the page twice gives the same link.
    let dossier = html
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap_or(""))
        .find(|href| href.contains("/_signsim/qitech/files/"))
        .map(|href| href.replace("&amp;", "&"))
        .unwrap();
    let pdf = sim.get(&dossier).await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(text(&sim.browse(&resource_url(&sim, "env-a")).await).contains(&dossier));

    // Redeliver from the page: back to it (303), and the receiver gets the webhook again.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = html.split("/redeliver\"").next().unwrap();
    let delivery = form.rsplit("/_signsim/webhooks/").next().unwrap();
    let redelivered = no_redirects
        .post(sim.url(&format!("/_signsim/webhooks/{delivery}/redeliver")))
        .header("accept", "text/html")
        .form(&[("back", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(redelivered.status(), 303);
    assert_eq!(
        redelivered.headers()["location"],
        "/_signsim/resources/qitech/qi-key-alpha/env-a"
    );
    eventually("the redelivery", async || hook.bodies().len() == 2).await;
    // A client still gets JSON.
    let again = sim
        .post_json(
            &sim.url(&format!("/_signsim/webhooks/{delivery}/redeliver")),
            json!({}),
        )
        .await;
    assert_eq!(again.json()["status"], "ok");
    let unknown = sim
        .browse(&sim.url("/_signsim/webhooks/nope/redeliver"))
        .await;
    assert_eq!(unknown.status, 405, "redeliver is a POST");

    // The video request's page links the video page; an unknown resource is a 404 page.
    let video_page = text(
        &sim.browse(&sim.url(&format!("/_signsim/resources/uanataca/default/{pk}")))
            .await,
    );
    // It is the link the API handed out, by its code (issue 21), not by number.
    let video_link = video.json()["details"]["videoid_link"]
        .as_str()
        .unwrap()
        .to_owned();
    let video_path = video_link.split_once("/_signsim/").unwrap().1;
    assert!(
        video_page.contains(&format!("/_signsim/{video_path}")),
        "{video_page}"
    );
    assert!(video_path.starts_with("uanataca/lcmpl/videoid/"));
    assert!(video_page.contains("created in status VIDEOPENDING"));
    let opened = sim.browse(&video_link).await;
    assert_eq!(opened.status, 200);
    let done = sim
        .submit_form(&video_link, &opened, &[("outcome", "error")])
        .await;
    assert_eq!(done.status, 200);
    assert!(text(&done).contains("VIDEOERROR"));
    let over = sim.browse(&video_link).await;
    assert_eq!(over.status, 410, "a used video link");
    assert!(text(&over).contains("this video identification is over"));
    let missing = sim
        .browse(&sim.url("/_signsim/resources/qitech/nobody/nothing"))
        .await;
    assert_eq!(missing.status, 404);
    assert!(missing.content_type.starts_with("text/html"));
}

#[tokio::test]
async fn the_clock_form_expires_an_envelope_and_clients_still_get_json() {
    let sim = start().await;
    submitted(&sim, "late", vec![signer("1", "a@example.com")]).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let moved = no_redirects
        .post(sim.url("/_signsim/clock/advance"))
        .header("accept", "text/html")
        .form(&[("seconds", (11 * 86400).to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 303);
    assert_eq!(moved.headers()["location"], "/_signsim");
    let dashboard = text(&sim.browse(&sim.url("/_signsim")).await);
    assert!(
        dashboard.contains("<td class=\"status\">expired</td>"),
        "{dashboard}"
    );
    let refused = no_redirects
        .post(sim.url("/_signsim/clock/advance"))
        .header("accept", "text/html")
        .form(&[("seconds", "-5")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("must not be negative"));
    let client = sim
        .post_json(&sim.url("/_signsim/clock/advance"), json!({ "seconds": 1 }))
        .await;
    assert_eq!(client.status, 200);
    assert_eq!(client.json()["offset_seconds"], 11 * 86400 + 1);
}

#[tokio::test]
async fn the_inbox_filters_and_lists_newest_first() {
    let sim = start().await;
    submitted(&sim, "one", vec![signer("1", "first@example.com")]).await;
    submitted(&sim, "two", vec![signer("1", "second@example.com")]).await;
    let all = text(&sim.browse(&sim.url("/_signsim/inbox")).await);
    assert!(all.find("second@example.com") < all.find("first@example.com"));
    assert!(all.contains("<a href=\"http://"), "links are clickable");
    let one = text(
        &sim.browse(
            &sim.url("/_signsim/inbox?provider=qitech&channel=email&to=first%40example.com"),
        )
        .await,
    );
    assert!(one.contains("first@example.com"));
    assert!(!one.contains("second@example.com"));
    let none = text(&sim.browse(&sim.url("/_signsim/inbox?channel=sms")).await);
    assert!(!none.contains("first@example.com"));
    let any = text(
        &sim.browse(&sim.url("/_signsim/inbox?provider=&channel=&to="))
            .await,
    );
    assert!(any.contains("first@example.com"));
    assert_eq!(
        sim.browse(&sim.url("/_signsim/inbox?channel=pigeon"))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn what_users_type_stays_text_on_every_page() {
    let sim = start().await;
    let script = "<script>alert(1)</script>";
    let mut evil = signer("1", "a@example.com");
    evil["name"] = json!(script);
    submitted(&sim, "evil", vec![evil]).await;
    let link = get(&sim, "/sign/envelope/evil").await.json()["signers"][0]["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let pages = [
        sim.url("/_signsim"),
        sim.url("/_signsim/inbox"),
        resource_url(&sim, "evil"),
        link,
    ];
    for url in pages {
        let html = text(&sim.browse(&url).await);
        assert!(!html.contains("<script>"), "{url}: {html}");
    }
    let page = text(&sim.browse(&resource_url(&sim, "evil")).await);
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    // A hostile id or tenant in the resource path is text too.
    let hostile = sim
        .browse(&sim.url("/_signsim/resources/qitech/%3Cscript%3E/%3Cimg%20src%3Dx%3E"))
        .await;
    assert_eq!(hostile.status, 404);
    assert!(!text(&hostile).contains("<script>") && !text(&hostile).contains("<img"));
}
