//! Uanataca's tenants (issue 20): `X-Signsim-Tenant: <name>` is the Uanataca tenant
//! `<name>` and nobody else. Signal's requests share the one-shot model but not its
//! tenants, so the same name on the two surfaces reaches nothing of the other; storage
//! caps, clocks, resets and the journal of admin acts are per tenant too.

use crate::common::{answer, sample_pdf, start, start_with, Answer, Sim, DEMO_TOKEN};
use crate::signal::create_body;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use signsim::engine::quota::Caps;
use signsim::Config;
use time::OffsetDateTime;

/// A Uanataca call as tenant `tenant` (`X-Signsim-Tenant`), with a JSON body if any.
async fn uanataca(
    sim: &Sim,
    method: Method,
    path: &str,
    tenant: &str,
    body: Option<Value>,
) -> Answer {
    let mut request = sim
        .http
        .request(method, sim.api(path))
        .header("x-signsim-tenant", tenant);
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.expect("request sent")).await
}

/// An approved Uanataca request of `tenant` (the demo RAO token); its pk.
async fn uanataca_request(sim: &Sim, tenant: &str, phone: &str) -> u64 {
    let body = json!({
        "token": DEMO_TOKEN, "given_name": "Ana", "surname_1": "Garcia",
        "serial_number": "12345678Z", "email": "ana@example.com",
        "mobile_phone_number": phone,
    });
    let created = uanataca(sim, Method::POST, "request", tenant, Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    created.json()["details"].as_u64().expect("pk")
}

/// Uploads a PDF to `tenant`'s request `pk`; the document's uid.
async fn uanataca_upload(sim: &Sim, tenant: &str, pk: u64) -> String {
    let form = Form::new().part(
        "file",
        Part::bytes(sample_pdf("Contrato")).file_name("contrato.pdf"),
    );
    let uploaded = answer(
        sim.http
            .post(sim.api(&format!("document/{pk}")))
            .header("x-signsim-tenant", tenant)
            .multipart(form)
            .send()
            .await
            .expect("request sent"),
    )
    .await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    uploaded.json()["details"].as_str().expect("uid").to_owned()
}

/// The newest OTP in `provider`'s outbox for tenant `tenant`.
async fn otp_of(sim: &Sim, provider: &str, tenant: &str) -> String {
    let messages = sim
        .get(&sim.url(&format!(
            "/_signsim/outbox?provider={provider}&tenant={tenant}"
        )))
        .await
        .json();
    messages
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["otp"].as_str())
        .unwrap_or_else(|| panic!("an OTP of {provider} tenant {tenant}: {messages}"))
        .to_owned()
}

/// A Signal call with `Authorization: Bearer <token>`.
async fn signal(sim: &Sim, method: Method, path: &str, token: &str, body: Option<Value>) -> Answer {
    let mut request = sim
        .http
        .request(method, sim.url(&format!("/signal{path}")))
        .header("authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.expect("request sent")).await
}

/// A Signal login token of `username`.
async fn signal_login(sim: &Sim, username: &str) -> String {
    let login = sim
        .post_json(
            &sim.url("/signal/auth/login"),
            json!({ "username": username, "password": "x" }),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.json());
    login.json()["token"].as_str().expect("token").to_owned()
}

/// A Signal request made with `token` (its OTP is sent); its pk and document uid.
async fn signal_request(sim: &Sim, token: &str, phone: &str) -> (u64, String) {
    let body = create_body(phone, &sample_pdf("Contrato"));
    let created = signal(sim, Method::POST, "/sign/request", token, Some(body)).await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    let body = created.json();
    (
        body["pk"].as_u64().expect("pk"),
        body["uid"].as_str().expect("uid").to_owned(),
    )
}

/// Every way the Uanataca API and its admin paths name request `pk` (with document
/// `uid`), as tenant `tenant`: each must answer 404, as for a request that does not exist.
async fn uanataca_finds_nothing(sim: &Sim, tenant: &str, pk: u64, uid: &str) {
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("request/{pk}"), None),
        (
            Method::PUT,
            format!("request/{pk}"),
            Some(json!({ "scratchcard": "1234567", "given_name": "Eve" })),
        ),
        (
            Method::POST,
            format!("request/{pk}/approve"),
            Some(json!({ "token": DEMO_TOKEN })),
        ),
        (Method::POST, format!("otp/{pk}"), Some(json!({}))),
        (
            Method::POST,
            format!("sign/{pk}"),
            Some(json!({ "secret": "123456" })),
        ),
        (Method::GET, format!("async/status/{pk}"), None),
        (Method::GET, format!("documents/{pk}"), None),
        (Method::GET, format!("document/{pk}/contract"), None),
        (Method::GET, format!("document/{pk}/original/{uid}"), None),
        (Method::GET, format!("document/{pk}/signed/{uid}"), None),
        (
            Method::DELETE,
            format!("document/{pk}/original/{uid}"),
            None,
        ),
        (Method::DELETE, format!("documents/{pk}"), None),
        (
            Method::POST,
            format!("videoid/{pk}/evidences"),
            Some(json!({})),
        ),
        (Method::GET, format!("videoid/{pk}/download/video"), None),
        (Method::DELETE, format!("request/{pk}"), None),
    ];
    for (method, path, body) in calls {
        let answered = uanataca(sim, method.clone(), &path, tenant, body).await;
        assert_eq!(
            answered.status,
            404,
            "{method} {path} as Uanataca tenant {tenant}: {:?}",
            answered.json()
        );
    }
    let admin = [
        format!("/_signsim/uanataca/requests/{pk}/documents/{uid}?tenant={tenant}"),
        format!("/_signsim/uanataca/requests/{pk}/documents/{uid}?tenant={tenant}&signed=true"),
        format!("/_signsim/uanataca/requests/{pk}/certificate?tenant={tenant}"),
        format!("/_signsim/uanataca/videoid/{pk}?tenant={tenant}"),
    ];
    for path in admin {
        assert_eq!(sim.get(&sim.url(&path)).await.status, 404, "{path}");
    }
    let complete = sim
        .post_json(
            &sim.url(&format!(
                "/_signsim/uanataca/videoid/{pk}/complete?tenant={tenant}"
            )),
            json!({ "outcome": "review" }),
        )
        .await;
    assert_eq!(complete.status, 404, "{:?}", complete.json());
}

#[tokio::test]
async fn a_signal_request_is_not_reached_through_uanataca_under_its_username_or_token() {
    let sim = start().await;
    // A login's username, and a Bearer token that is a tenant of its own.
    let login = signal_login(&sim, "u1").await;
    let (by_login, login_uid) = signal_request(&sim, &login, "+593991000001").await;
    let raw_token = "raw-signal-token";
    let (by_token, token_uid) = signal_request(&sim, raw_token, "+593991000002").await;

    uanataca_finds_nothing(&sim, "u1", by_login, &login_uid).await;
    uanataca_finds_nothing(&sim, raw_token, by_token, &token_uid).await;

    // Nothing of them changed: both are still there, ENROLLREADY with their document, and
    // sign with their own OTPs.
    for (token, tenant, pk, uid) in [
        (login.as_str(), "u1", by_login, &login_uid),
        (raw_token, raw_token, by_token, &token_uid),
    ] {
        let details = signal(&sim, Method::GET, &format!("/sign/{pk}"), token, None).await;
        assert_eq!(details.status, 200, "{:?}", details.json());
        assert_eq!(details.json()["details"]["status"], "ENROLLREADY");
        let download = signal(
            &sim,
            Method::POST,
            "/sign/download",
            token,
            Some(json!({ "pk": pk.to_string(), "type": "original", "uid": uid })),
        )
        .await;
        assert_eq!(download.status, 200, "the document was not deleted");
        let secret = otp_of(&sim, "signal", tenant).await;
        let signed = signal(
            &sim,
            Method::POST,
            "/sign",
            token,
            Some(json!({ "pk": pk.to_string(), "secret": secret })),
        )
        .await;
        assert_eq!(signed.status, 200, "{:?}", signed.json());
    }
    // The Uanataca tenant of that name has no journal rows, events or messages of Signal's.
    let events = sim
        .get(&sim.url("/_signsim/events?provider=uanataca&tenant=u1"))
        .await
        .json();
    assert_eq!(events, json!([]), "{events}");
}

#[tokio::test]
async fn a_uanataca_request_is_not_reached_through_signal_under_its_header_name() {
    let sim = start().await;
    let pk = uanataca_request(&sim, "u1", "+34600100001").await;
    let uid = uanataca_upload(&sim, "u1", pk).await;
    let otp = uanataca(
        &sim,
        Method::POST,
        &format!("otp/{pk}"),
        "u1",
        Some(json!({})),
    )
    .await;
    assert_eq!(otp.status, 200, "{:?}", otp.json());
    let secret = otp_of(&sim, "uanataca", "u1").await;

    // Signal's tenant u1, by login and by a raw token named u1.
    let login = signal_login(&sim, "u1").await;
    for token in [login.as_str(), "u1"] {
        let get = signal(&sim, Method::GET, &format!("/sign/{pk}"), token, None).await;
        assert_eq!(get.status, 404, "{:?}", get.json());
        for path in ["/sign/download", "/sign/retrieve"] {
            let file = signal(
                &sim,
                Method::POST,
                path,
                token,
                Some(json!({ "pk": pk.to_string(), "type": "original", "uid": uid })),
            )
            .await;
            assert_eq!(file.status, 404, "{path}: {:?}", file.json());
        }
        // Even with the right code, Signal cannot spend it.
        let sign = signal(
            &sim,
            Method::POST,
            "/sign",
            token,
            Some(json!({ "pk": pk.to_string(), "secret": secret })),
        )
        .await;
        assert_eq!(sign.status, 404, "{:?}", sign.json());
    }

    // The Uanataca request is untouched: it signs with that code.
    let signed = uanataca(
        &sim,
        Method::POST,
        &format!("sign/{pk}"),
        "u1",
        Some(json!({ "secret": secret })),
    )
    .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
}

#[tokio::test]
async fn a_full_uanataca_tenant_leaves_the_same_named_identiasign_entity_its_quota() {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config.engine.caps = Caps {
        tenant_bytes: 300 * 1024,
        process_bytes: 64 * 1024 * 1024,
    };
    let sim = start_with(config).await;
    let tenant = "corp.pe";
    let pk = uanataca_request(&sim, tenant, "+34600100002").await;
    // The contract and a padded PDF fill most of the Uanataca tenant's 300 KB; a second
    // one does not fit.
    // A real PDF padded with a comment and closed again with the same `startxref`.
    let big = |kb: usize| {
        let mut pdf = sample_pdf("Big");
        let at = pdf
            .windows(9)
            .rposition(|w| w == b"startxref")
            .expect("startxref");
        let tail = pdf[at..].to_vec();
        pdf.extend(b"\n%");
        pdf.extend(std::iter::repeat_n(b'x', kb * 1024));
        pdf.extend(b"\n");
        pdf.extend(tail);
        pdf
    };
    let upload = |bytes: Vec<u8>| {
        let form = Form::new().part("file", Part::bytes(bytes).file_name("big.pdf"));
        sim.http
            .post(sim.api(&format!("document/{pk}")))
            .header("x-signsim-tenant", tenant)
            .multipart(form)
            .send()
    };
    let first = answer(upload(big(200)).await.unwrap()).await;
    assert_eq!(first.status, 200, "{:?}", first.json());
    let refused = answer(upload(big(150)).await.unwrap()).await;
    assert_eq!(refused.status, 507, "{:?}", refused.json());

    // IdentiaSign's entity corp.pe is another tenant: its quota is its own.
    let login = sim
        .post_json(
            &sim.url("/identiasign/api/auth/login"),
            json!({ "username": tenant, "clientname": "api@corp.pe", "password": "x" }),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.json());
    let token = login.json()["access_token"].as_str().unwrap().to_owned();
    let signer = json!([{
        "nat": "PER", "doc_id": "12345678", "signatureType": "advanced",
        "signChallenges": ["facial"],
        "stampPositions": { "0": { "0": { "x": 1, "y": 1, "size": 8, "orientation": "horizontal" } } },
        "contactInfo": { "type": "email", "value": "a@example.com", "tz": "-05:00" }
    }]);
    let form = Form::new()
        .part(
            "pdfFiles",
            Part::bytes(sample_pdf("Contrato")).file_name("Contrato.pdf"),
        )
        .text("signers", signer.to_string())
        .text("link_expire", "86400");
    let process = answer(
        sim.http
            .put(sim.url("/identiasign/api/signature_processes"))
            .header("authorization", format!("jwt-bearer {token}"))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(process.status, 201, "{:?}", process.json());
}

/// Whether signing `tenant`'s request `pk` with its newest OTP works.
async fn signs(sim: &Sim, tenant: &str, pk: u64) -> u16 {
    let secret = otp_of(sim, "uanataca", tenant).await;
    uanataca(
        sim,
        Method::POST,
        &format!("sign/{pk}"),
        tenant,
        Some(json!({ "secret": secret })),
    )
    .await
    .status
}

async fn send_otp(sim: &Sim, tenant: &str, pk: u64) {
    let sent = uanataca(
        sim,
        Method::POST,
        &format!("otp/{pk}"),
        tenant,
        Some(json!({})),
    )
    .await;
    assert_eq!(sent.status, 200, "{:?}", sent.json());
}

#[tokio::test]
async fn a_tenants_clock_expires_its_otp_and_dates_its_certificate() {
    let sim = start().await;
    let w1 = uanataca_request(&sim, "w1", "+34600100003").await;
    let w2 = uanataca_request(&sim, "w2", "+34600100004").await;
    send_otp(&sim, "w1", w1).await;
    send_otp(&sim, "w2", w2).await;
    // Signal's tenant w1, with an OTP of its own.
    let login = signal_login(&sim, "w1").await;
    let (signal_pk, _) = signal_request(&sim, &login, "+593991000003").await;

    // Eleven minutes on Uanataca w1's clock: past its OTP's ten.
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": 660, "tenant": "w1", "provider": "uanataca" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
    assert_eq!(signs(&sim, "w1", w1).await, 403, "w1's OTP expired");
    assert_eq!(signs(&sim, "w2", w2).await, 200, "w2's clock did not move");
    let secret = otp_of(&sim, "signal", "w1").await;
    let signal_signed = signal(
        &sim,
        Method::POST,
        "/sign",
        &login,
        Some(json!({ "pk": signal_pk.to_string(), "secret": secret })),
    )
    .await;
    assert_eq!(signal_signed.status, 200, "Signal's w1 is another clock");

    // Thirty days on: w1's next OTP and certificate are dated by its clock.
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": 30 * 86_400, "tenant": "w1", "provider": "uanataca" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
    // A document uploaded now is dated thirty days ahead.
    let uid = uanataca_upload(&sim, "w1", w1).await;
    let listed = uanataca(&sim, Method::GET, &format!("documents/{w1}"), "w1", None).await;
    let uploaded = listed.json()["details"][&uid]["upload_date"]
        .as_str()
        .expect("upload_date")
        .to_owned();
    let ahead = OffsetDateTime::now_utc() + time::Duration::days(30);
    let day = ahead
        .format(&time::macros::format_description!("[day]/[month]/[year]"))
        .unwrap();
    assert!(uploaded.starts_with(&day), "{uploaded} is not on {day}");
    send_otp(&sim, "w1", w1).await;
    assert_eq!(signs(&sim, "w1", w1).await, 200);
    // A certificate is valid until a day after its tenant's now (and from before real
    // time, so that people checking it today accept it).
    let valid_to = |details: &Value| {
        let text = details["details"]["certificate_set"][0]["valid_to"]
            .as_str()
            .expect("valid_to")
            .to_owned();
        time::Date::parse(
            &text[..10],
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .expect("a date")
    };
    let today = OffsetDateTime::now_utc().date();
    let w1_details = uanataca(&sim, Method::GET, &format!("request/{w1}"), "w1", None).await;
    assert!(
        valid_to(&w1_details.json()) >= today + time::Duration::days(30),
        "{:?}",
        w1_details.json()
    );
    let w2_details = uanataca(&sim, Method::GET, &format!("request/{w2}"), "w2", None).await;
    assert!(
        valid_to(&w2_details.json()) <= today + time::Duration::days(2),
        "{:?}",
        w2_details.json()
    );
}

/// `view` (`requests`, `events`, `outbox`) rows of Uanataca tenant `tenant`.
async fn rows(sim: &Sim, view: &str, provider: &str, tenant: &str) -> Vec<Value> {
    let listed = sim
        .get(&sim.url(&format!(
            "/_signsim/{view}?provider={provider}&tenant={tenant}"
        )))
        .await
        .json();
    listed.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_tenants_reset_forgets_it_alone() {
    let sim = start().await;
    let r1 = uanataca_request(&sim, "r1", "+34600100005").await;
    send_otp(&sim, "r1", r1).await;
    let r2 = uanataca_request(&sim, "r2", "+34600100006").await;
    send_otp(&sim, "r2", r2).await;
    let login = signal_login(&sim, "r1").await;
    let (signal_pk, _) = signal_request(&sim, &login, "+593991000004").await;
    for view in ["requests", "events", "outbox"] {
        assert!(
            !rows(&sim, view, "uanataca", "r1").await.is_empty(),
            "{view}"
        );
    }

    let reset = sim
        .post_json(
            &sim.url("/_signsim/reset?tenant=r1&provider=uanataca"),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json());
    let gone = uanataca(&sim, Method::GET, &format!("request/{r1}"), "r1", None).await;
    assert_eq!(gone.status, 404);
    for view in ["events", "outbox"] {
        assert_eq!(
            rows(&sim, view, "uanataca", "r1").await,
            Vec::<Value>::new(),
            "{view}"
        );
    }
    // The journal keeps only the call made since (the GET above).
    let journal = rows(&sim, "requests", "uanataca", "r1").await;
    assert_eq!(journal.len(), 1, "{journal:?}");

    // r2 and Signal's r1 keep everything.
    let kept = uanataca(&sim, Method::GET, &format!("request/{r2}"), "r2", None).await;
    assert_eq!(kept.status, 200);
    for view in ["requests", "events", "outbox"] {
        assert!(
            !rows(&sim, view, "uanataca", "r2").await.is_empty(),
            "{view}"
        );
        assert!(!rows(&sim, view, "signal", "r1").await.is_empty(), "{view}");
    }
    let signal_kept = signal(
        &sim,
        Method::GET,
        &format!("/sign/{signal_pk}"),
        &login,
        None,
    )
    .await;
    assert_eq!(signal_kept.status, 200);
}

/// A Video ID request of `tenant`; its pk.
async fn video_request(sim: &Sim, tenant: &str) -> u64 {
    let body = json!({
        "mobile_phone_number": "+34600100007", "email": "video@example.com",
        "registration_authority": "44", "profile": "PFnubeQAFCiudadano", "videoid_mode": 1,
    });
    let created = uanataca(sim, Method::POST, "videoid", tenant, Some(body)).await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    created.json()["details"]["request_pk"]
        .as_u64()
        .expect("pk")
}

#[tokio::test]
async fn admin_acts_are_journaled_under_the_requests_tenant() {
    let sim = start().await;
    let pk = video_request(&sim, "v1").await;
    let page = sim
        .get(&sim.url(&format!("/_signsim/uanataca/videoid/{pk}?tenant=v1")))
        .await;
    assert_eq!(page.status, 200);
    let done = sim
        .post_json(
            &sim.url(&format!(
                "/_signsim/uanataca/videoid/{pk}/complete?tenant=v1"
            )),
            json!({ "outcome": "review" }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    // The tenant named by the body, and by the header, are journaled alike.
    let by_body = video_request(&sim, "v1").await;
    let done = sim
        .post_json(
            &sim.url(&format!("/_signsim/uanataca/videoid/{by_body}/complete")),
            json!({ "outcome": "error", "tenant": "v1" }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    let by_header = video_request(&sim, "v1").await;
    let done = answer(
        sim.http
            .post(sim.url(&format!("/_signsim/uanataca/videoid/{by_header}/complete")))
            .header("x-signsim-tenant", "v1")
            .json(&json!({ "outcome": "incomplete" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    // A download the resource page links, and a failed one, are the tenant's too.
    let signed = uanataca_request(&sim, "v1", "+34600100008").await;
    let uid = uanataca_upload(&sim, "v1", signed).await;
    let document = format!("/_signsim/uanataca/requests/{signed}/documents/{uid}?tenant=v1");
    assert_eq!(sim.get(&sim.url(&document)).await.status, 200);
    let certificate = format!("/_signsim/uanataca/requests/{signed}/certificate?tenant=v1");
    assert_eq!(
        sim.get(&sim.url(&certificate)).await.status,
        404,
        "not signed yet"
    );

    let journal = rows(&sim, "requests", "uanataca", "v1").await;
    let paths: Vec<&str> = journal.iter().filter_map(|e| e["path"].as_str()).collect();
    for wanted in [
        format!("/_signsim/uanataca/videoid/{pk}"),
        format!("/_signsim/uanataca/videoid/{pk}/complete"),
        format!("/_signsim/uanataca/videoid/{by_body}/complete"),
        format!("/_signsim/uanataca/videoid/{by_header}/complete"),
        format!("/_signsim/uanataca/requests/{signed}/documents/{uid}"),
        format!("/_signsim/uanataca/requests/{signed}/certificate"),
    ] {
        assert!(paths.contains(&wanted.as_str()), "{wanted} in {paths:?}");
    }
    // None of them is left without its tenant.
    let untenanted = sim.get(&sim.url("/_signsim/requests")).await.json();
    let loose: Vec<&Value> = untenanted
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap_or("")
                .starts_with("/_signsim/uanataca/")
        })
        .filter(|e| e["tenant"] != "v1" || e["provider"] != "uanataca")
        .collect();
    assert!(loose.is_empty(), "{loose:?}");
}

#[tokio::test]
async fn video_acts_answer_404_unknown_409_finished_410_used_link() {
    let sim = start().await;
    let complete = async |pk: u64, tenant: &str| {
        let url = sim.url(&format!(
            "/_signsim/uanataca/videoid/{pk}/complete?tenant={tenant}"
        ));
        sim.post_json(&url, json!({ "outcome": "review" })).await
    };
    let pk = video_request(&sim, "s1").await;
    // Another tenant's name does not find it.
    assert_eq!(complete(pk, "s2").await.status, 404);
    assert_eq!(complete(999_999, "s1").await.status, 404);
    // A request without video identification has no video to complete.
    let classic = uanataca_request(&sim, "s1", "+34600100009").await;
    assert_eq!(complete(classic, "s1").await.status, 404);
    let page = format!("/_signsim/uanataca/videoid/{classic}?tenant=s1");
    assert_eq!(sim.get(&sim.url(&page)).await.status, 404);

    assert_eq!(complete(pk, "s1").await.status, 200);
    // Reviewed: the video's state does not allow completing it again.
    let again = complete(pk, "s1").await;
    assert_eq!(again.status, 409, "{:?}", again.json());
    // The link is used.
    let page = format!("/_signsim/uanataca/videoid/{pk}?tenant=s1");
    assert_eq!(sim.get(&sim.url(&page)).await.status, 410);
}

#[tokio::test]
async fn times_on_request_creation_count_per_tenant() {
    let sim = start().await;
    let file = "[[scenario]]\nname = \"gateway-once\"\nprovider = \"uanataca\"\n\n\
                [[scenario.effects]]\noperation = \"request.create\"\ntimes = 1\n\
                respond = { status = 503, body = { status = \"503 Service Unavailable\", details = \"try again\" } }\n\n\
                [[scenario.effects]]\noperation = \"videoid.create\"\ntimes = 1\n\
                respond = { status = 503, body = { status = \"503 Service Unavailable\", details = \"try again\" } }\n";
    let loaded = sim
        .post_raw(
            &sim.url("/_signsim/scenarios"),
            Some("application/toml"),
            file.into(),
        )
        .await;
    assert_eq!(loaded.status, 200, "{:?}", loaded.json());
    let create = |tenant: &'static str, path: &'static str| {
        let body = if path == "request" {
            json!({ "token": DEMO_TOKEN, "given_name": "Ana", "surname_1": "Garcia",
                    "email": "a@example.com", "mobile_phone_number": "+34600100010" })
        } else {
            json!({ "mobile_phone_number": "+34600100011", "email": "v@example.com",
                    "registration_authority": "44", "profile": "PFnubeQAFCiudadano",
                    "videoid_mode": 1 })
        };
        sim.http
            .post(sim.api(path))
            .header("x-signsim-tenant", tenant)
            .header("x-signsim-scenario", "gateway-once")
            .json(&body)
            .send()
    };
    for path in ["request", "videoid"] {
        // The gateway fails once per tenant; the retry works.
        assert_eq!(create("c1", path).await.unwrap().status(), 503, "{path}");
        assert!(
            create("c1", path).await.unwrap().status().is_success(),
            "{path}"
        );
        assert!(
            create("c1", path).await.unwrap().status().is_success(),
            "{path}"
        );
        assert_eq!(create("c2", path).await.unwrap().status(), 503, "{path}");
        assert!(
            create("c2", path).await.unwrap().status().is_success(),
            "{path}"
        );
    }
}
