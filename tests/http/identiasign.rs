//! IdentiaSign (/identiasign/api/...): login and the jwt-bearer credential, every call and
//! its documented errors, stable paging with last_item, labels, the signer's acts (admin
//! calls and page), the callback, document URL expiry and the scenarios.

use crate::common::{answer, sample_pdf, start, Answer, Sim};
use crate::receiver::{self, eventually};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use insta::assert_json_snapshot;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

const USER: &str = "entidad.pe";
const CLIENT: &str = "api@entidad.pe";

fn u(sim: &Sim, path: &str) -> String {
    sim.url(&format!("/identiasign{path}"))
}

async fn login_as(sim: &Sim, username: &str, clientname: &str) -> Answer {
    sim.post_json(
        &u(sim, "/api/auth/login"),
        json!({ "username": username, "clientname": clientname, "password": "s3cr3t" }),
    )
    .await
}

async fn login(sim: &Sim) -> String {
    let answered = login_as(sim, USER, CLIENT).await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());
    answered.json()["access_token"].as_str().unwrap().to_owned()
}

async fn call(sim: &Sim, method: Method, url: &str, token: &str, form: Option<Form>) -> Answer {
    let mut request = sim
        .http
        .request(method, url)
        .header("authorization", format!("jwt-bearer {token}"));
    if let Some(form) = form {
        request = request.multipart(form);
    }
    answer(request.send().await.expect("request sent")).await
}

fn signer(doc_id: &str, email: &str) -> Value {
    json!({
        "nat": "PER",
        "doc_id": doc_id,
        "signatureType": "advanced",
        "signChallenges": ["facial"],
        "stampPositions": { "0": { "0": { "x": 1, "y": 1, "size": 8, "orientation": "horizontal" } } },
        "contactInfo": { "type": "email", "value": email, "tz": "-05:00" }
    })
}

fn form(signers: Value, extra: &[(&str, &str)]) -> Form {
    let mut form = Form::new()
        .part(
            "pdfFiles",
            Part::bytes(sample_pdf("Contrato")).file_name("Contrato.pdf"),
        )
        .text("signers", signers.to_string());
    for (name, value) in extra {
        form = form.text(name.to_string(), value.to_string());
    }
    form
}

async fn create_with(sim: &Sim, token: &str, form: Form) -> Answer {
    call(
        sim,
        Method::PUT,
        &u(sim, "/api/signature_processes"),
        token,
        Some(form),
    )
    .await
}

/// A created process with one signer; returns its id.
async fn create(sim: &Sim, token: &str, doc_id: &str) -> String {
    let created = create_with(
        sim,
        token,
        form(json!([signer(doc_id, "a@example.com")]), &[]),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    created.json()["id"].as_str().unwrap().to_owned()
}

async fn list(sim: &Sim, token: &str, query: &str) -> Answer {
    let url = u(sim, &format!("/api/signature_processes?{query}"));
    call(sim, Method::GET, &url, token, None).await
}

async fn act(sim: &Sim, id: &str, signer: &str, what: &str) -> Answer {
    act_as(sim, USER, id, signer, what).await
}

/// A signer's act on a process of entity `username`.
async fn act_as(sim: &Sim, username: &str, id: &str, signer: &str, what: &str) -> Answer {
    sim.post_json(
        &sim.url(&format!(
            "/_signsim/identiasign/processes/{id}/signers/{signer}/{what}"
        )),
        json!({ "username": username }),
    )
    .await
}

async fn outbox(sim: &Sim) -> Vec<Value> {
    sim.get(&sim.url("/_signsim/outbox?provider=identiasign"))
        .await
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn advance(sim: &Sim, seconds: u64) {
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": seconds }),
        )
        .await;
    assert_eq!(moved.status, 200);
}

fn query_escape(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn is_process_id(id: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    id.split_once(':')
        .is_some_and(|(a, b)| hex(a, 32) && hex(b, 16))
}

#[tokio::test]
async fn login_hands_out_a_jwt_that_every_call_needs() {
    let sim = start().await;
    let answered = login_as(&sim, USER, CLIENT).await;
    assert_json_snapshot!("identiasign_login", answered.shape(), { ".body.access_token" => "[jwt]" });
    let token = answered.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token.split('.').count(), 3, "a JWT");

    let missing = sim
        .post_json(
            &u(&sim, "/api/auth/login"),
            json!({ "username": USER, "password": "x" }),
        )
        .await;
    assert_json_snapshot!("identiasign_login_missing", missing.shape());

    let url = u(&sim, "/api/signature_processes");
    let bare = answer(sim.http.get(&url).send().await.unwrap()).await;
    assert_json_snapshot!("identiasign_unauthorized", bare.shape());
    for header in [
        format!("Bearer {token}"),
        "jwt-bearer".to_owned(),
        "jwt-bearer not.a.jwt".to_owned(),
    ] {
        let refused = answer(
            sim.http
                .get(&url)
                .header("authorization", header.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(refused.status, 401, "{header}");
    }
    // A token of the real service (signed by another key) is accepted, as the entity it
    // names; one whose own `exp` has passed is not.
    let real = |exp: i64| {
        let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let header = b64(json!({ "alg": "HS256", "typ": "JWT" }));
        let claims = b64(json!({ "username": "real-entity", "exp": exp }));
        format!("{header}.{claims}.c2lnbmF0dXJl")
    };
    let far = time::OffsetDateTime::now_utc().unix_timestamp() + 10 * 365 * 86400;
    assert_eq!(
        list(&sim, &real(far), "").await.status,
        404,
        "accepted: nothing yet"
    );
    assert_eq!(
        list(&sim, &real(1), "").await.status,
        401,
        "its own exp passed"
    );
    // Nothing yet: 404. Then the token expires on the virtual clock.
    assert_eq!(list(&sim, &token, "").await.status, 404);
    advance(&sim, 3600).await;
    let expired = list(&sim, &token, "").await;
    assert_json_snapshot!("identiasign_expired_token", expired.shape());

    // A configured password refuses others, with the documented 404.
    let configured = sim
        .post_json(
            &sim.url("/_signsim/identiasign/config"),
            json!({ "username": USER, "password": "right" }),
        )
        .await;
    assert_json_snapshot!("identiasign_config", configured.shape());
    assert_eq!(login_as(&sim, USER, CLIENT).await.status, 404);
}

#[tokio::test]
async fn the_entity_is_the_tenant() {
    let sim = start().await;
    let first = login(&sim).await;
    let id = create(&sim, &first, "12345678").await;
    let colleague = login_as(&sim, USER, "otro@entidad.pe").await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = list(&sim, &colleague, "").await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.json()["signatureProcesses"][0]["id"], json!(id));
    let stranger = login_as(&sim, "otra.pe", CLIENT).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(list(&sim, &stranger, "").await.status, 404);
    let query = format!("process_id={}", query_escape(&id));
    assert_eq!(list(&sim, &stranger, &query).await.status, 404);
}

#[tokio::test]
async fn create_answers_id_and_link_and_notifies() {
    let sim = start().await;
    let token = login(&sim).await;
    let created = create_with(
        &sim,
        &token,
        form(
            json!([signer("12345678", "ana@example.com"), {
                "nat": "PER", "doc_id": "87654321",
                "contactInfo": { "type": "whatsapp", "value": "+51987654321" }
            }, { "nat": "PER", "doc_id": "11111111" }]),
            &[("description", "Contrato de prueba"), ("expire", "3600")],
        ),
    )
    .await;
    assert_eq!(created.status, 201);
    let body = created.json();
    let id = body["id"].as_str().unwrap();
    assert!(is_process_id(id), "{id}");
    let link = body["msg"].as_str().unwrap();
    assert!(link.contains(&format!(
        "/_signsim/identiasign/ui/signature_processes/{id}."
    )));
    assert_json_snapshot!("identiasign_create", created.shape(), {
        ".body.id" => "[id]", ".body.msg" => "[link]"
    });
    // The two signers with contact information got the link; the third gets nothing.
    let sent = outbox(&sim).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["channel"], "email");
    assert_eq!(sent[0]["to"], "ana@example.com");
    assert_eq!(sent[1]["channel"], "whatsapp");
    assert_eq!(sent[1]["to"], "+51987654321");
    assert_eq!(sent[0]["link"], json!(link));

    // The listing: the blank signature page is appended (the sample PDF has one page).
    let listed = list(&sim, &token, "").await;
    let process = &listed.json()["signatureProcesses"][0];
    assert_eq!(process["documents"][0]["pages"], 2);
    assert_json_snapshot!("identiasign_list_one", listed.shape(), {
        ".body.signatureProcesses[].id" => "[id]",
        ".body.signatureProcesses[].date" => "[date]",
        ".body.signatureProcesses[].expire" => "[date]",
        ".body.signatureProcesses[].documents[].id" => "[doc]",
        ".body.signatureProcesses[].documents[].url" => "[url]",
    });

    // The March 2026 form: one link per signer.
    sim.post_json(
        &sim.url("/_signsim/identiasign/config"),
        json!({ "username": USER, "msg_form": "list" }),
    )
    .await;
    let listed = create_with(
        &sim,
        &token,
        form(json!([signer("12345678", "ana@example.com")]), &[]),
    )
    .await;
    assert_json_snapshot!("identiasign_create_list_form", listed.shape(), {
        ".body.id" => "[id]", ".body.msg[].link" => "[link]"
    });
    // Each signer's own link goes straight to their acts, and is the one they are sent.
    let own = listed.json()["msg"][0]["link"].as_str().unwrap().to_owned();
    assert_eq!(outbox(&sim).await.last().unwrap()["link"], json!(own));
    let opened = sim.browse(&own).await;
    let signed = sim.submit_form(&own, &opened, &[]).await;
    assert_eq!(signed.status, 200);
    let id = listed.json()["id"].as_str().unwrap().to_owned();
    let query = format!("process_id={}", query_escape(&id));
    let process = list(&sim, &token, &query).await.json();
    assert_eq!(process["signatureProcesses"][0]["status"], "signed");
}

#[tokio::test]
async fn create_names_the_bad_field() {
    let sim = start().await;
    let token = login(&sim).await;
    let one = |s: Value| json!([s]);
    let with = |key: &str, value: Value| {
        let mut s = signer("12345678", "a@example.com");
        s[key] = value;
        one(s)
    };
    let cases: Vec<(&str, Form)> = vec![
        (
            "signers",
            Form::new().part("pdfFiles", Part::bytes(sample_pdf("x")).file_name("x.pdf")),
        ),
        (
            "pdfFiles",
            Form::new().text(
                "signers",
                one(signer("12345678", "a@example.com")).to_string(),
            ),
        ),
        (
            "pdfFiles[0]",
            Form::new()
                .part(
                    "pdfFiles",
                    Part::bytes(b"not a pdf".to_vec()).file_name("x.pdf"),
                )
                .text(
                    "signers",
                    one(signer("12345678", "a@example.com")).to_string(),
                ),
        ),
        ("signers[0].nat", form(with("nat", json!("ARG")), &[])),
        (
            "signers[0].doc_id",
            form(with("doc_id", json!("1234567")), &[]),
        ),
        ("signers[0].doc_id", form(with("nat", json!("CHL")), &[])),
        (
            "signers[0].doc_id",
            form(one(json!({"nat": "CHL", "doc_id": "12345678-9"})), &[]),
        ),
        (
            "signers[0].doc_id",
            form(one(json!({"nat": "PERPASS", "doc_id": "123456789"})), &[]),
        ),
        (
            "signers[0].doc_id",
            form(one(json!({"nat": "PERCE", "doc_id": "1234567891234"})), &[]),
        ),
        (
            "signers[0].signChallenges",
            form(with("signChallenges", json!(["otp"])), &[]),
        ),
        (
            "signers[0].stampPositions",
            form(with("stampPositions", json!({"1": {}})), &[]),
        ),
        (
            "signers[0].contactInfo.type",
            form(
                with(
                    "contactInfo",
                    json!({"type": "sms", "value": "+51987654321"}),
                ),
                &[],
            ),
        ),
        (
            "signers[0].contactInfo.value",
            form(
                with(
                    "contactInfo",
                    json!({"type": "whatsapp", "value": "+51 987 654 321"}),
                ),
                &[],
            ),
        ),
        (
            "signers[0].contactInfo.value",
            form(
                with("contactInfo", json!({"type": "email", "value": "nobody"})),
                &[],
            ),
        ),
        (
            "signers[0].contactInfo.tz",
            form(
                with(
                    "contactInfo",
                    json!({"type": "email", "value": "a@example.com", "tz": "-5"}),
                ),
                &[],
            ),
        ),
        (
            "signers",
            form(
                json!([signer("12345678", "a@b.pe"), signer("12345678", "a@b.pe")]),
                &[],
            ),
        ),
        (
            "expire",
            form(one(signer("12345678", "a@b.pe")), &[("expire", "0")]),
        ),
        (
            "link_expire",
            form(
                one(signer("12345678", "a@b.pe")),
                &[("link_expire", "99999999999999999999")],
            ),
        ),
        (
            "urlCallback",
            form(
                one(signer("12345678", "a@b.pe")),
                &[("urlCallback", "not a url")],
            ),
        ),
        (
            "labels",
            form(
                one(signer("12345678", "a@b.pe")),
                &[("labels", "[\"nope\"]")],
            ),
        ),
        ("signers", form(json!("not json"), &[])),
    ];
    for (field, form) in cases {
        let refused = create_with(&sim, &token, form).await;
        assert_eq!(refused.status, 400, "{field}: {:?}", refused.json());
        let msg = refused.json()["msg"].as_str().unwrap().to_owned();
        assert!(msg.contains(&format!("'{field}'")), "{field}: {msg}");
    }
    let refused = create_with(
        &sim,
        &token,
        form(json!([{"nat": "PER", "doc_id": "1234"}]), &[]),
    )
    .await;
    assert_json_snapshot!("identiasign_create_bad_field", refused.shape());

    // The starred ID types are allowed by default and refusable by configuration.
    for (nat, doc_id) in [
        ("CHL", "12345678-5"),
        ("PERPASS", "1234567891"),
        ("PERCE", "123456789123"),
    ] {
        let ok = create_with(
            &sim,
            &token,
            form(json!([{"nat": nat, "doc_id": doc_id}]), &[]),
        )
        .await;
        assert_eq!(ok.status, 201, "{nat}: {:?}", ok.json());
    }
    sim.post_json(
        &sim.url("/_signsim/identiasign/config"),
        json!({ "username": USER, "refused_nats": ["CHL"] }),
    )
    .await;
    let refused = create_with(
        &sim,
        &token,
        form(json!([{"nat": "CHL", "doc_id": "12345678-5"}]), &[]),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(refused.json()["msg"]
        .as_str()
        .unwrap()
        .contains("signers[0].nat"));

    // The same fields URL-encoded, with the PDF in base64.
    use base64::Engine as _;
    let pdf = base64::engine::general_purpose::STANDARD.encode(sample_pdf("Form"));
    let encoded = answer(
        sim.http
            .put(u(&sim, "/api/signature_processes"))
            .header("authorization", format!("jwt-bearer {token}"))
            .form(&[
                ("pdfFiles", pdf.as_str()),
                (
                    "signers",
                    &json!([{"nat": "PER", "doc_id": "12345678"}]).to_string(),
                ),
                ("signOrder", "true"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(encoded.status, 201, "{:?}", encoded.json());
}

#[tokio::test]
async fn paging_is_stable_with_last_item() {
    let sim = start().await;
    let token = login(&sim).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(create(&sim, &token, &format!("1000000{i}")).await);
    }
    let mut seen = Vec::new();
    let mut statuses = Vec::new();
    let mut query = "limit=2".to_owned();
    loop {
        let page = list(&sim, &token, &query).await;
        statuses.push(page.status);
        let body = page.json();
        for process in body["signatureProcesses"].as_array().unwrap() {
            seen.push(process["id"].as_str().unwrap().to_owned());
        }
        if statuses.len() == 1 {
            assert_json_snapshot!("identiasign_list_partial_last_item", body["last_item"], {
                ".processId" => "[id]", ".date" => "[date]"
            });
        }
        if body["last_item"].is_null() {
            break;
        }
        query = format!(
            "limit=2&last_item={}",
            query_escape(&body["last_item"].to_string())
        );
    }
    assert_eq!(statuses, vec![206, 206, 206, 200]);
    assert_eq!(seen, ids, "every process once, in creation order");

    // New processes created while paging come once, on a later page.
    let mut seen = Vec::new();
    let mut query = "limit=3".to_owned();
    let mut created = false;
    loop {
        let body = list(&sim, &token, &query).await.json();
        for process in body["signatureProcesses"].as_array().unwrap() {
            seen.push(process["id"].as_str().unwrap().to_owned());
        }
        if !created {
            ids.push(create(&sim, &token, "20000000").await);
            created = true;
        }
        if body["last_item"].is_null() {
            break;
        }
        query = format!(
            "limit=3&last_item={}",
            query_escape(&body["last_item"].to_string())
        );
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn listing_filters_and_bad_parameters() {
    let sim = start().await;
    let token = login(&sim).await;
    let first = create(&sim, &token, "12345678").await;
    let second = create(&sim, &token, "87654321").await;
    assert_eq!(act(&sim, &second, "PER:87654321", "sign").await.status, 200);

    let signed = list(&sim, &token, "status=signed").await.json();
    assert_eq!(signed["signatureProcesses"].as_array().unwrap().len(), 1);
    assert_eq!(signed["signatureProcesses"][0]["id"], json!(second));
    assert_eq!(list(&sim, &token, "status=rejected").await.status, 404);

    // process_id wins over the other parameters.
    let query = format!(
        "process_id={}&status=rejected&limit=0",
        query_escape(&first)
    );
    let one = list(&sim, &token, &query).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["signatureProcesses"][0]["id"], json!(first));
    assert_eq!(list(&sim, &token, "process_id=nope").await.status, 404);

    // Creation dates in AAAAMMDDThh:mm:ss+00:00, with or without the + encoded.
    let all = list(
        &sim,
        &token,
        "creation_start=20000101T00:00:00%2B00:00&creation_end=20991231T23:59:59+00:00",
    )
    .await;
    assert_eq!(
        all.json()["signatureProcesses"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        list(&sim, &token, "creation_start=20990101T00:00:00%2B00:00")
            .await
            .status,
        404
    );

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("limit=100000", "limit"),
        ("creation_start=2024-01-01", "creation_start"),
        ("creation_end=20240101", "creation_end"),
        ("status=lost", "status"),
        ("last_item=nope", "last_item"),
        ("last_item=%7B%22processId%22%3A%22x%22%7D", "last_item"),
    ] {
        let refused = list(&sim, &token, query).await;
        assert_eq!(refused.status, 400, "{query}");
        assert!(refused.json()["msg"].as_str().unwrap().contains(field));
    }
    let refused = list(&sim, &token, "limit=0").await;
    assert_json_snapshot!("identiasign_list_bad_parameter", refused.shape());
    let nothing = list(&sim, &token, "status=expired").await;
    assert_json_snapshot!("identiasign_list_nothing", nothing.shape());
}

#[tokio::test]
async fn document_urls_stop_working_after_120_seconds() {
    let sim = start().await;
    let token = login(&sim).await;
    create(&sim, &token, "12345678").await;
    let listed = list(&sim, &token, "").await.json();
    let url = listed["signatureProcesses"][0]["documents"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let fresh = sim.get(&url).await;
    assert_eq!(fresh.status, 200);
    assert!(fresh.bytes.starts_with(b"%PDF-"));
    advance(&sim, 119).await;
    assert_eq!(sim.get(&url).await.status, 200);
    advance(&sim, 1).await;
    assert_eq!(sim.get(&url).await.status, 403);
    // A new listing makes a new URL.
    let again = list(&sim, &token, "").await.json();
    let url = again["signatureProcesses"][0]["documents"][0]["url"]
        .as_str()
        .unwrap();
    assert_eq!(sim.get(url).await.status, 200);
}

#[tokio::test]
async fn modify_reject_and_notify() {
    let sim = start().await;
    let token = login(&sim).await;
    let created = create_with(
        &sim,
        &token,
        form(
            json!([
                signer("12345678", "a@example.com"),
                signer("87654321", "b@example.com")
            ]),
            &[],
        ),
    )
    .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let url = u(&sim, "/api/signature_processes");
    let modify = |fields: Vec<(&'static str, String)>| {
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        call(&sim, Method::POST, &url, &token, Some(form))
    };
    let changes = json!([
        { "nat": "PER", "doc_id": "12345678", "action": "update", "signerAlias": "Ana Pérez",
          "contactInfo": { "type": "whatsapp", "value": "+51900000001", "tz": "-03:00" } },
        { "nat": "PER", "doc_id": "87654321", "action": "remove" }
    ]);
    let modified = modify(vec![
        ("process_id", id.clone()),
        ("description", "Nuevo".into()),
        ("signers", changes.to_string()),
    ])
    .await;
    assert_json_snapshot!("identiasign_modify", modified.shape());
    let process = list(&sim, &token, "").await.json()["signatureProcesses"][0].clone();
    assert_eq!(process["description"], "Nuevo");
    assert_eq!(process["signers"].as_array().unwrap().len(), 1);
    assert_eq!(process["signers"][0]["signerAlias"], "Ana Pérez");
    assert_eq!(process["signers"][0]["contactInfo"]["type"], "whatsapp");

    let unknown = modify(vec![("process_id", "nope:nope".into())]).await;
    assert_json_snapshot!("identiasign_modify_unknown", unknown.shape());
    let missing = modify(vec![("description", "x".into())]).await;
    assert_eq!(missing.status, 400);
    let bad_signer = modify(vec![
        ("process_id", id.clone()),
        (
            "signers",
            json!([{ "nat": "PER", "doc_id": "99999999", "action": "update" }]).to_string(),
        ),
    ])
    .await;
    assert_eq!(bad_signer.status, 400);

    // notify: a new link, sent again.
    let before = outbox(&sim).await.len();
    let notified = call(
        &sim,
        Method::POST,
        &u(&sim, "/api/notify"),
        &token,
        Some(
            Form::new()
                .text("process_id", id.clone())
                .text("link_expire", "600"),
        ),
    )
    .await;
    assert_json_snapshot!("identiasign_notify", notified.shape(), { ".body.msg" => "[link]" });
    let sent = outbox(&sim).await;
    assert_eq!(sent.len(), before + 1);
    assert_eq!(sent.last().unwrap()["to"], "+51900000001");
    assert_eq!(sent.last().unwrap()["link"], notified.json()["msg"]);
    let unknown = call(
        &sim,
        Method::POST,
        &u(&sim, "/api/notify"),
        &token,
        Some(Form::new().text("process_id", "nope")),
    )
    .await;
    assert_eq!(unknown.status, 404);

    // Reject: 200, then the state forbids changes (403); unknown 404.
    let reject = |process: String| {
        call(
            &sim,
            Method::DELETE,
            &url,
            &token,
            Some(Form::new().text("process_id", process)),
        )
    };
    let rejected = reject(id.clone()).await;
    assert_json_snapshot!("identiasign_reject", rejected.shape());
    let again = reject(id.clone()).await;
    assert_json_snapshot!("identiasign_reject_forbidden", again.shape());
    let after = modify(vec![
        ("process_id", id.clone()),
        ("description", "y".into()),
    ])
    .await;
    assert_eq!(after.status, 403);
    assert_eq!(reject("nope".into()).await.status, 404);
    assert_eq!(list(&sim, &token, "status=rejected").await.status, 200);

    // A signed process cannot be rejected.
    let signed = create(&sim, &token, "11111111").await;
    assert_eq!(act(&sim, &signed, "PER:11111111", "sign").await.status, 200);
    assert_eq!(reject(signed).await.status, 403);
}

#[tokio::test]
async fn labels_are_listed_descending_in_pages() {
    let sim = start().await;
    let token = login(&sim).await;
    let url = u(&sim, "/api/labels");
    for name in ["beta", "Alpha", "gamma", "alpha"] {
        let made = call(
            &sim,
            Method::POST,
            &url,
            &token,
            Some(Form::new().text("label", name)),
        )
        .await;
        assert_eq!(made.status, 200);
    }
    let changed = call(
        &sim,
        Method::POST,
        &url,
        &token,
        Some(
            Form::new()
                .text("label", "beta")
                .text("description", "segunda"),
        ),
    )
    .await;
    assert_json_snapshot!("identiasign_label_modified", changed.shape());
    let all = call(&sim, Method::GET, &url, &token, None).await;
    assert_json_snapshot!("identiasign_labels", all.shape());
    let first = call(&sim, Method::GET, &format!("{url}?limit=3"), &token, None).await;
    assert_json_snapshot!("identiasign_labels_partial", first.shape());
    let last = first.json()["last_item"].to_string();
    let rest = call(
        &sim,
        Method::GET,
        &format!("{url}?limit=3&last_item={}", query_escape(&last)),
        &token,
        None,
    )
    .await;
    assert_eq!(rest.status, 200);
    assert_eq!(rest.json()["labels"][0]["label"], "Alpha");

    // Processes take existing labels only.
    let labelled = create_with(
        &sim,
        &token,
        form(
            json!([signer("12345678", "a@b.pe")]),
            &[("labels", "[\"gamma\"]")],
        ),
    )
    .await;
    assert_eq!(labelled.status, 201);
    let deleted = call(
        &sim,
        Method::DELETE,
        &url,
        &token,
        Some(Form::new().text("label", "gamma")),
    )
    .await;
    assert_json_snapshot!("identiasign_label_deleted", deleted.shape());
    let unknown = call(
        &sim,
        Method::DELETE,
        &url,
        &token,
        Some(Form::new().text("label", "gamma")),
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        call(&sim, Method::GET, &format!("{url}?limit=-1"), &token, None)
            .await
            .status,
        400
    );
}

/// Two signers in order: each signs with a certificate of their own, the PDF carries both
/// signatures, and the callback reports the signed process.
#[tokio::test]
async fn two_signers_in_order_sign_and_the_callback_goes_out() {
    let sim = start().await;
    let hook = receiver::start(1).await;
    let token = login(&sim).await;
    let created = create_with(
        &sim,
        &token,
        form(
            json!([
                signer("12345678", "first@example.com"),
                signer("87654321", "second@example.com")
            ]),
            &[
                ("signOrder", "true"),
                ("urlCallback", hook.url.as_str()),
                ("description", "EJEMPLO"),
            ],
        ),
    )
    .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();

    let early = act(&sim, &id, "PER:87654321", "sign").await;
    assert_json_snapshot!("identiasign_sign_out_of_order", early.shape());
    let first = act(&sim, &id, "PER:12345678", "sign").await;
    assert_json_snapshot!("identiasign_sign", first.shape(), { ".body.process_id" => "[id]", ".body.at" => "[time]" });
    let again = act(&sim, &id, "PER:12345678", "sign").await;
    assert_eq!(again.status, 409);
    let second = act(&sim, &id, "PER:87654321", "sign").await;
    assert_eq!(second.status, 200);
    assert_eq!(second.json()["process_status"], "signed");

    // The callback: the receiver fails once, the dispatcher retries.
    eventually("the callback", async || {
        // Past the dispatcher's backoff, so that the retry is due.
        advance(&sim, 2).await;
        hook.bodies().len() >= 2
    })
    .await;
    let body = hook.bodies()[1].clone();
    assert_eq!(body["status"], "signed");
    assert_json_snapshot!("identiasign_callback", body, {
        ".id" => "[id]", ".date" => "[unix]", ".expire" => "[unix]",
        ".documents[].id" => "[doc]", ".documents[].url" => "[url]",
        ".signers[].sign_data.date" => "[unix]",
        ".signers[].sign_data.facial.id" => "[id]",
        ".signers[].sign_data.facial.expire" => "[unix]",
        ".urlCallback" => "[url]",
    });
    let attempts = sim.get(&sim.url("/_signsim/webhooks")).await.json();
    assert!(attempts.as_array().unwrap().len() >= 2);

    // Both signatures are in the PDF, and validate.
    let url = body["documents"][0]["url"].as_str().unwrap();
    let pdf = sim.get(url).await.bytes;
    let signatures = pdf.windows(10).filter(|w| w == b"/ByteRange").count();
    assert_eq!(signatures, 2);
    crate::validators::check_pdfs(&sim, &[("identiasign-two-signers.pdf", pdf)]).await;
}

/// The page behind `msg` drives the same state as the admin calls.
#[tokio::test]
async fn the_signing_page_signs_fails_and_rejects() {
    let sim = start().await;
    let token = login(&sim).await;
    let created = create_with(
        &sim,
        &token,
        form(
            json!([
                signer("12345678", "a@example.com"),
                signer("87654321", "b@example.com")
            ]),
            &[("link_expire", "300")],
        ),
    )
    .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let link = created.json()["msg"].as_str().unwrap().to_owned();

    // The shared link asks who signs (the signerId challenge).
    let opened = sim.browse(&link).await;
    assert_eq!(opened.status, 200);
    let html = String::from_utf8_lossy(&opened.bytes).into_owned();
    assert!(html.contains("PER:12345678") && html.contains("Contrato.pdf"));

    let mine = format!("{link}?signer=PER:12345678");
    let opened = sim.browse(&mine).await;
    // Second form: fail the facial challenge; nothing is signed.
    let failed = sim.submit_form(&mine, &nth_form(&opened, 1), &[]).await;
    assert_eq!(failed.status, 200);
    assert!(String::from_utf8_lossy(&failed.bytes).contains("validación facial no fue superada"));
    // First form: pass it and sign.
    let signed = sim.submit_form(&mine, &opened, &[]).await;
    assert_eq!(
        signed.status,
        200,
        "{}",
        String::from_utf8_lossy(&signed.bytes)
    );
    let process = list(&sim, &token, "").await.json()["signatureProcesses"][0].clone();
    assert_eq!(process["status"], "pending");
    // The signer who signed has used the link: it says so, with 410.
    let used = sim.browse(&mine).await;
    assert_eq!(used.status, 410);
    assert!(String::from_utf8_lossy(&used.bytes).contains("ya fue usado"));

    // Third form: the other signer rejects; the process is rejected.
    let theirs = format!("{link}?signer=PER:87654321");
    let opened = sim.browse(&theirs).await;
    let rejected = sim.submit_form(&theirs, &nth_form(&opened, 2), &[]).await;
    assert_eq!(rejected.status, 200);
    let process = list(&sim, &token, "").await.json()["signatureProcesses"][0].clone();
    assert_eq!(process["status"], "rejected");
    let closed = sim.browse(&mine).await;
    assert_eq!(closed.status, 410, "a concluded process's link is used");
    assert!(String::from_utf8_lossy(&closed.bytes).contains("rejected"));

    // An expired link opens an expired page; its form posts are refused.
    let other = create_with(
        &sim,
        &token,
        form(
            json!([signer("12345678", "a@example.com")]),
            &[("link_expire", "60")],
        ),
    )
    .await;
    let link = other.json()["msg"].as_str().unwrap().to_owned();
    let mine = format!("{link}?signer=PER:12345678");
    let opened = sim.browse(&mine).await;
    advance(&sim, 61).await;
    let expired = sim.browse(&mine).await;
    assert_eq!(expired.status, 410);
    assert!(String::from_utf8_lossy(&expired.bytes).contains("expirado"));
    let late = sim.submit_form(&mine, &opened, &[]).await;
    assert_eq!(late.status, 410);
    let _ = id;
}

/// The `n`th form of a page (0-based), as an answer of its own for `submit_form`.
fn nth_form(opened: &Answer, n: usize) -> Answer {
    let html = String::from_utf8_lossy(&opened.bytes).into_owned();
    let form = html.split("<form").nth(n + 1).expect("the form");
    Answer {
        status: opened.status,
        content_type: opened.content_type.clone(),
        bytes: format!("<form{form}").into_bytes(),
    }
}

#[tokio::test]
async fn signer_acts_as_admin_calls() {
    let sim = start().await;
    let token = login(&sim).await;
    let id = create(&sim, &token, "12345678").await;
    let failed = act(&sim, &id, "PER:12345678", "fail-facial").await;
    assert_json_snapshot!("identiasign_fail_facial", failed.shape(), { ".body.process_id" => "[id]" });
    let rejected = act(&sim, &id, "PER:12345678", "reject").await;
    assert_json_snapshot!("identiasign_signer_reject", rejected.shape(), { ".body.process_id" => "[id]", ".body.at" => "[time]" });
    assert_eq!(act(&sim, &id, "PER:12345678", "sign").await.status, 409);
    let other = create(&sim, &token, "12345678").await;
    assert_eq!(act(&sim, &other, "PER:99999999", "sign").await.status, 404);
    assert_eq!(act(&sim, "nope", "PER:12345678", "sign").await.status, 404);
    assert_eq!(act(&sim, &id, "nocolon", "sign").await.status, 400);
}

#[tokio::test]
async fn scenarios() {
    let sim = start().await;
    // login-refused
    let refused = login_as(&sim, USER, "refused@signsim.test").await;
    assert_json_snapshot!("identiasign_scenario_login_refused", refused.shape());
    assert_eq!(login_as(&sim, USER, CLIENT).await.status, 200);

    // partial-lists: pages of 2 even under the limit.
    let partial = login_as(&sim, "paging.pe", "partial@signsim.test")
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..3 {
        create(&sim, &partial, &format!("3000000{i}")).await;
    }
    let page = list(&sim, &partial, "limit=10").await;
    assert_eq!(page.status, 206);
    assert_eq!(
        page.json()["signatureProcesses"].as_array().unwrap().len(),
        2
    );
    let next = format!(
        "limit=10&last_item={}",
        query_escape(&page.json()["last_item"].to_string())
    );
    assert_eq!(list(&sim, &partial, &next).await.status, 200);

    let token = login(&sim).await;
    // facial-challenge-fails
    let id = create(&sim, &token, "40000001").await;
    let failed = act(&sim, &id, "PER:40000001", "sign").await;
    assert_json_snapshot!("identiasign_scenario_facial_fails", failed.shape());

    // process-expires
    let id = create(&sim, &token, "40000003").await;
    advance(&sim, 61).await;
    let query = format!("process_id={}", query_escape(&id));
    let expired = list(&sim, &token, &query).await.json();
    assert_eq!(expired["signatureProcesses"][0]["status"], "expired");
    assert!(expired["signatureProcesses"][0]["documents"][0]
        .get("url")
        .is_none());
    assert_eq!(act(&sim, &id, "PER:40000003", "sign").await.status, 409);

    // callback-receiver-down
    let hook = receiver::start(0).await;
    let created = create_with(
        &sim,
        &token,
        form(
            json!([signer("40000002", "a@b.pe")]),
            &[("urlCallback", hook.url.as_str())],
        ),
    )
    .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(act(&sim, &id, "PER:40000002", "sign").await.status, 200);
    eventually("failed callback attempts", async || {
        let attempts = sim.get(&sim.url("/_signsim/webhooks")).await.json();
        attempts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["response_status"] == 503)
    })
    .await;
    assert!(hook.bodies().is_empty());
}

/// A process with one signer whose scenario the header names; returns its id.
async fn create_with_scenario(sim: &Sim, token: &str, scenario: &str, doc_id: &str) -> String {
    let created = sim
        .http
        .put(u(sim, "/api/signature_processes"))
        .header("authorization", format!("jwt-bearer {token}"))
        .header("x-signsim-scenario", scenario)
        .multipart(form(json!([signer(doc_id, "a@example.com")]), &[]))
        .send()
        .await
        .expect("request sent");
    let created = answer(created).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    created.json()["id"].as_str().unwrap().to_owned()
}

/// The process's timeline (`/_signsim/events`).
async fn timeline(sim: &Sim, id: &str) -> Vec<Value> {
    let url = sim.url(&format!(
        "/_signsim/events?provider=identiasign&id={}",
        query_escape(id)
    ));
    let events = sim.get(&url).await;
    assert_eq!(events.status, 200);
    events.json().as_array().cloned().unwrap_or_default()
}

/// The process's status as the listing shows it.
async fn status_of(sim: &Sim, token: &str, id: &str) -> Value {
    let listed = list(sim, token, &format!("process_id={}", query_escape(id))).await;
    assert_eq!(listed.status, 200, "{:?}", listed.json());
    listed.json()["signatureProcesses"][0]["status"].clone()
}

/// Each status event as `(from, to, text)`, in order.
fn status_moves(events: &[Value]) -> Vec<(Value, Value, Value)> {
    events
        .iter()
        .filter(|e| e["kind"] == "status")
        .map(|e| (e["from"].clone(), e["to"].clone(), e["text"].clone()))
        .collect()
}

#[tokio::test]
async fn an_overflowing_scripted_transition_never_fires() {
    let sim = start().await;
    sim.load_scenarios(
        "[[scenario]]\nname = \"rejected-never\"\nprovider = \"identiasign\"\n\n\
         [[scenario.effects]]\noperation = \"create\"\n\
         transition = { after_seconds = 18446744073709551615, to = \"rejected\" }\n",
    )
    .await;
    let token = login(&sim).await;
    let id = create_with_scenario(&sim, &token, "rejected-never", "12345678").await;
    assert_eq!(act(&sim, &id, "PER:12345678", "sign").await.status, 200);
    // A hundred years on (a fresh token: the first expired long ago), still signed: the
    // scripted rejection never came.
    advance(&sim, 3_155_760_000).await;
    let token = login(&sim).await;
    assert_eq!(status_of(&sim, &token, &id).await, "signed");
    let events = timeline(&sim, &id).await;
    assert!(events.iter().any(|e| e["kind"] == "scenario"), "{events:?}");
    assert!(
        !events.iter().any(|e| e["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("by the scenario")),
        "{events:?}"
    );
}

#[tokio::test]
async fn status_events_carry_from_and_to() {
    let sim = start().await;
    let token = login(&sim).await;
    let pending = |text: &str| (Value::Null, json!("pending"), json!(text));
    let moved = |from: &str, to: &str, text: &str| (json!(from), json!(to), json!(text));
    let created = "process created in status pending";

    // Created, then signed by its one signer.
    let signed = create(&sim, &token, "12345678").await;
    act(&sim, &signed, "PER:12345678", "sign").await;
    assert_eq!(
        status_moves(&timeline(&sim, &signed).await),
        [
            pending(created),
            moved("pending", "signed", "pending → signed")
        ]
    );
    // Rejected by the client, and by a signer.
    let rejected = create(&sim, &token, "12345679").await;
    let form = Form::new().text("process_id", rejected.clone());
    let url = u(&sim, "/api/signature_processes");
    assert_eq!(
        call(&sim, Method::DELETE, &url, &token, Some(form))
            .await
            .status,
        200
    );
    assert_eq!(
        status_moves(&timeline(&sim, &rejected).await),
        [
            pending(created),
            moved("pending", "rejected", "by the client: pending → rejected")
        ]
    );
    let by_signer = create(&sim, &token, "12345670").await;
    act(&sim, &by_signer, "PER:12345670", "reject").await;
    assert_eq!(
        status_moves(&timeline(&sim, &by_signer).await)[1],
        moved(
            "pending",
            "rejected",
            "by signer PER:12345670: pending → rejected"
        )
    );

    // A scenario's scripted status, and the expiry.
    sim.load_scenarios(
        "[[scenario]]\nname = \"rejected-soon\"\nprovider = \"identiasign\"\n\n\
         [[scenario.effects]]\noperation = \"create\"\n\
         transition = { after_seconds = 10, to = \"rejected\" }\n",
    )
    .await;
    let scripted = create_with_scenario(&sim, &token, "rejected-soon", "12345671").await;
    let expiring = create_with_scenario(&sim, &token, "process-expires", "12345672").await;
    advance(&sim, 61).await;
    assert_eq!(
        status_moves(&timeline(&sim, &scripted).await),
        [
            pending(created),
            moved("pending", "rejected", "by the scenario: pending → rejected")
        ]
    );
    assert_eq!(
        status_moves(&timeline(&sim, &expiring).await),
        [
            pending(created),
            moved("pending", "expired", "pending → expired")
        ]
    );
}

// The entity as a tenant (issue 20): its own clock, namespace and logs.

/// A login of entity `username`; returns its token.
async fn login_entity(sim: &Sim, username: &str) -> String {
    let answered = login_as(sim, username, CLIENT).await;
    assert_eq!(answered.status, 200, "{:?}", answered.json());
    answered.json()["access_token"].as_str().unwrap().to_owned()
}

/// Moves the clock of IdentiaSign's entity `username` alone.
async fn advance_entity(sim: &Sim, username: &str, seconds: u64) {
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": seconds, "tenant": username, "provider": "identiasign" }),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
}

/// How far `provider`'s tenant `name`'s clock is ahead of real time.
async fn offset_of(sim: &Sim, provider: &str, name: &str) -> i64 {
    let url = sim.url(&format!(
        "/_signsim/clock?tenant={}&provider={provider}",
        query_escape(name)
    ));
    sim.get(&url).await.json()["offset_seconds"]
        .as_i64()
        .unwrap()
}

/// The rows of an admin view (`requests`, `events`, `outbox`) of IdentiaSign's entity
/// `username`, each checked to be that entity's.
async fn rows_of(sim: &Sim, view: &str, username: &str) -> Vec<Value> {
    let url = sim.url(&format!(
        "/_signsim/{view}?provider=identiasign&tenant={}",
        query_escape(username)
    ));
    let answered = sim.get(&url).await;
    assert_eq!(answered.status, 200, "{view}");
    let rows = answered.json().as_array().cloned().unwrap_or_default();
    for row in &rows {
        assert_eq!(row["provider"], "identiasign", "{view}: {row}");
        assert_eq!(row["tenant"], username, "{view}: {row}");
    }
    rows
}

/// The signing link's code: what follows the process id in `msg`.
fn link_code(link: &str) -> String {
    link.rsplit_once('.').unwrap().1.to_owned()
}

/// A signer's act posted as the signing page's form posts it: naming the link, not the
/// entity.
async fn act_by_link(sim: &Sim, id: &str, signer: &str, what: &str, code: &str) -> Answer {
    sim.post_json(
        &sim.url(&format!(
            "/_signsim/identiasign/processes/{id}/signers/{signer}/{what}"
        )),
        json!({ "link": code }),
    )
    .await
}

/// A process of one signer with `extra` fields; returns its id and its link (`msg`).
async fn process_with(sim: &Sim, token: &str, extra: &[(&str, &str)]) -> (String, String) {
    let created = create_with(
        sim,
        token,
        form(json!([signer("12345678", "a@example.com")]), extra),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let body = created.json();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["msg"].as_str().unwrap().to_owned(),
    )
}

/// A process's first document URL, as a listing hands it out.
async fn document_url(sim: &Sim, token: &str, id: &str) -> String {
    let listed = list(sim, token, &format!("process_id={}", query_escape(id))).await;
    listed.json()["signatureProcesses"][0]["documents"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Advancing one entity's clock expires its login tokens, signing links, document URLs and
/// processes; another entity's, made at the same moment, stay as they were.
#[tokio::test]
async fn an_entity_clock_advance_expires_its_own_tokens_links_and_processes_alone() {
    let sim = start().await;
    let mut made = Vec::new();
    for entity in ["w1.pe", "w2.pe"] {
        let token = login_entity(&sim, entity).await;
        let (id, link) =
            process_with(&sim, &token, &[("expire", "7200"), ("link_expire", "1800")]).await;
        let url = document_url(&sim, &token, &id).await;
        made.push((token, id, link, url));
    }
    let (t1, id1, link1, url1) = made[0].clone();
    let (t2, id2, link2, url2) = made[1].clone();

    // An hour on w1's clock: past its token's hour, its link's half hour and its document
    // URL's 120 s.
    advance_entity(&sim, "w1.pe", 3600).await;
    assert_eq!(list(&sim, &t1, "").await.status, 401, "w1's token expired");
    assert_eq!(list(&sim, &t2, "").await.status, 200, "w2's token did not");
    assert_eq!(sim.browse(&link1).await.status, 410, "w1's link expired");
    assert_eq!(sim.browse(&link2).await.status, 200, "w2's link did not");
    assert_eq!(
        sim.get(&url1).await.status,
        403,
        "w1's document URL expired"
    );
    assert_eq!(
        sim.get(&url2).await.status,
        200,
        "w2's document URL did not"
    );

    // Another hour: w1's process (expire 7200) has expired; w2's is pending.
    advance_entity(&sim, "w1.pe", 3600).await;
    let t1 = login_entity(&sim, "w1.pe").await;
    assert_eq!(status_of(&sim, &t1, &id1).await, "expired");
    assert_eq!(status_of(&sim, &t2, &id2).await, "pending");
    let signed = act_as(&sim, "w2.pe", &id2, "PER:12345678", "sign").await;
    assert_eq!(signed.status, 200);
    assert_eq!(offset_of(&sim, "identiasign", "w1.pe").await, 7200);
    assert_eq!(offset_of(&sim, "identiasign", "w2.pe").await, 0);
    // The expiry is on w1's timeline, stamped on its clock.
    let expired = timeline(&sim, &id1).await;
    assert!(expired.iter().any(|e| e["to"] == "expired"), "{expired:?}");
    assert!(!timeline(&sim, &id2)
        .await
        .iter()
        .any(|e| e["to"] == "expired"));
}

/// `AAAAMMDDThh:mm:ss+00:00` (the `+` encoded), `days` from now in real time.
fn creation_bound(days: i64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    format!(
        "{:04}{:02}{:02}T{:02}:{:02}:{:02}%2B00:00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A token is minted and checked on its entity's clock, and the dates a listing shows and
/// filters by are the entity's.
#[tokio::test]
async fn an_entity_ahead_mints_tokens_and_dates_processes_on_its_own_clock() {
    let sim = start().await;
    advance_entity(&sim, "ahead.pe", 2 * 86_400).await;
    let ahead = login_entity(&sim, "ahead.pe").await;
    let today = login_entity(&sim, "today.pe").await;
    // Minted on the entity's clock and checked on it: valid now (not expired at birth),
    // an hour later on its clock no longer.
    let (mine, link) = process_with(&sim, &ahead, &[("link_expire", "600")]).await;
    let (theirs, _) = process_with(&sim, &today, &[]).await;
    // Its links and document URLs last their lifetimes from its own now.
    assert_eq!(sim.browse(&link).await.status, 200);
    let url = document_url(&sim, &ahead, &mine).await;
    assert_eq!(sim.get(&url).await.status, 200);

    // Created two days ahead: after tomorrow, for this entity alone.
    let tomorrow = creation_bound(1);
    let after = list(&sim, &ahead, &format!("creation_start={tomorrow}")).await;
    assert_eq!(after.status, 200, "{:?}", after.json());
    assert_eq!(after.json()["signatureProcesses"][0]["id"], json!(mine));
    let query = format!("creation_start={tomorrow}");
    assert_eq!(list(&sim, &today, &query).await.status, 404);
    let before = list(&sim, &today, &format!("creation_end={tomorrow}")).await;
    assert_eq!(before.json()["signatureProcesses"][0]["id"], json!(theirs));
    let query = format!("creation_end={tomorrow}");
    assert_eq!(list(&sim, &ahead, &query).await.status, 404);

    advance_entity(&sim, "ahead.pe", 3600).await;
    assert_eq!(list(&sim, &ahead, "").await.status, 401);
    assert_eq!(list(&sim, &today, "").await.status, 200);
}

/// `POST /_signsim/reset?tenant=&provider=identiasign` forgets that entity's processes,
/// links, labels, configuration, journal rows, events and outbox messages, and nothing of
/// another entity.
#[tokio::test]
async fn resetting_an_entity_forgets_everything_of_its_own_alone() {
    let sim = start().await;
    let mut made = Vec::new();
    for entity in ["r1.pe", "r2.pe"] {
        let configured = sim
            .post_json(
                &sim.url("/_signsim/identiasign/config"),
                json!({ "username": entity, "msg_form": "list" }),
            )
            .await;
        assert_eq!(configured.status, 200);
        let token = login_entity(&sim, entity).await;
        let label = call(
            &sim,
            Method::POST,
            &u(&sim, "/api/labels"),
            &token,
            Some(Form::new().text("label", "contratos")),
        )
        .await;
        assert_eq!(label.status, 200);
        let created = create_with(
            &sim,
            &token,
            form(json!([signer("12345678", "a@example.com")]), &[]),
        )
        .await;
        assert_eq!(created.status, 201);
        let id = created.json()["id"].as_str().unwrap().to_owned();
        let link = created.json()["msg"][0]["link"]
            .as_str()
            .unwrap()
            .to_owned();
        let failed = act_as(&sim, entity, &id, "PER:12345678", "fail-facial").await;
        assert_eq!(failed.status, 200);
        for view in ["requests", "events", "outbox"] {
            assert!(!rows_of(&sim, view, entity).await.is_empty(), "{view}");
        }
        made.push((token, id, link));
    }

    let reset = sim
        .post_json(
            &sim.url("/_signsim/reset?tenant=r1.pe&provider=identiasign"),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json());
    for view in ["requests", "events", "outbox"] {
        let rows = rows_of(&sim, view, "r1.pe").await;
        assert!(rows.is_empty(), "r1's {view} after its reset: {rows:?}");
    }
    let (t1, _, link1) = &made[0];
    assert_eq!(sim.browse(link1).await.status, 404, "r1's link is gone");
    assert_eq!(list(&sim, t1, "").await.status, 404, "r1 has no process");
    let labels = call(&sim, Method::GET, &u(&sim, "/api/labels"), t1, None).await;
    assert_eq!(labels.json()["labels"], json!([]));
    // Its configuration too: `msg` is one link again.
    let (_, link) = process_with(&sim, t1, &[]).await;
    assert!(link.contains("/ui/signature_processes/"), "{link}");

    // r2 is as it was.
    let (t2, id2, link2) = &made[1];
    for view in ["requests", "events", "outbox"] {
        assert!(
            !rows_of(&sim, view, "r2.pe").await.is_empty(),
            "r2's {view}"
        );
    }
    assert_eq!(sim.browse(link2).await.status, 200);
    assert_eq!(status_of(&sim, t2, id2).await, "pending");
    let labels = call(&sim, Method::GET, &u(&sim, "/api/labels"), t2, None).await;
    assert_eq!(labels.json()["labels"][0]["label"], "contratos");
    let created = create_with(
        &sim,
        t2,
        form(json!([signer("12345678", "a@example.com")]), &[]),
    )
    .await;
    assert!(created.json()["msg"].is_array(), "r2 keeps the list form");
}

/// The path of a URL the simulator handed out.
fn path_of(url: &str) -> String {
    url::Url::parse(url).unwrap().path().to_owned()
}

/// The admin acts, the configuration, the signing page, its form posts and the document
/// URLs are journaled under the entity whose process they touch; the process's page lists
/// them; another entity's view holds none of them.
#[tokio::test]
async fn admin_and_page_acts_are_journaled_under_the_entity() {
    let sim = start().await;
    let configured = sim
        .post_json(
            &sim.url("/_signsim/identiasign/config"),
            json!({ "username": "j1.pe", "msg_form": "link" }),
        )
        .await;
    assert_eq!(configured.status, 200);
    let token = login_entity(&sim, "j1.pe").await;
    let created = create_with(
        &sim,
        &token,
        form(
            json!([
                signer("12345678", "a@example.com"),
                signer("87654321", "b@example.com")
            ]),
            &[],
        ),
    )
    .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let link = created.json()["msg"].as_str().unwrap().to_owned();
    let acts = format!("/_signsim/identiasign/processes/{id}/signers");
    let by_name = |path: String, entity: &'static str| {
        let sim = &sim;
        async move {
            sim.post_json(&sim.url(&path), json!({ "username": entity }))
                .await
                .status
        }
    };
    // By the entity's name: one that works, one on a process it does not have.
    let facial = format!("{acts}/PER:12345678/fail-facial");
    assert_eq!(by_name(facial.clone(), "j1.pe").await, 200);
    let unknown = "/_signsim/identiasign/processes/nope/signers/PER:12345678/sign".to_owned();
    assert_eq!(by_name(unknown.clone(), "j1.pe").await, 404);
    // By its link: the page, and its form.
    let mine = format!("{link}?signer=PER:87654321");
    let opened = sim.browse(&mine).await;
    assert_eq!(opened.status, 200);
    let signed = sim.submit_form(&mine, &opened, &[]).await;
    assert_eq!(signed.status, 200);
    let url = document_url(&sim, &token, &id).await;
    assert_eq!(sim.get(&url).await.status, 200);
    // A link that does not exist names nobody.
    let nobody = act_by_link(&sim, &id, "PER:12345678", "reject", "nope").await;
    assert_eq!(nobody.status, 404);

    let calls: Vec<(String, u64)> = rows_of(&sim, "requests", "j1.pe")
        .await
        .iter()
        .map(|row| {
            (
                row["path"].as_str().unwrap().to_owned(),
                row["status"].as_u64().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("/_signsim/identiasign/config".to_owned(), 200),
        (facial, 200),
        (unknown, 404),
        (path_of(&link), 200),
        // The page's forms post through the link (issue 21: the code is the credential).
        (
            format!(
                "/_signsim/identiasign/processes/{id}/links/{}",
                link_code(&link)
            ),
            200,
        ),
        (path_of(&url), 200),
    ] {
        assert!(calls.contains(&expected), "{expected:?} in {calls:?}");
    }
    assert!(
        !calls
            .iter()
            .any(|(path, status)| path.ends_with("/reject") && *status == 404),
        "{calls:?}"
    );

    // The process's page lists its acts; another entity's calls hold none of them.
    let page = sim
        .get(&sim.url(&format!(
            "/_signsim/resources/identiasign/j1.pe/{}",
            query_escape(&id)
        )))
        .await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.bytes).into_owned();
    assert!(html.contains("fail-facial"), "{html}");
    let _other = login_entity(&sim, "j2.pe").await;
    let theirs = rows_of(&sim, "requests", "j2.pe").await;
    assert!(!theirs.is_empty());
    assert!(
        theirs
            .iter()
            .all(|row| row["path"] == "/identiasign/api/auth/login"),
        "{theirs:?}"
    );
}

/// The signer's acts answer by the admin API's one rule: 404 for an unknown process,
/// signer or link, 409 when the process's or the signer's state does not allow the act,
/// 410 for a signing link that expired or was used.
#[tokio::test]
async fn signer_acts_answer_404_409_and_410_by_one_rule() {
    let sim = start().await;
    let token = login(&sim).await;
    let created = create_with(
        &sim,
        &token,
        form(
            json!([
                signer("12345678", "a@example.com"),
                signer("87654321", "b@example.com")
            ]),
            &[("signOrder", "true")],
        ),
    )
    .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let code = link_code(created.json()["msg"].as_str().unwrap());
    let (other, other_link) = process_with(&sim, &token, &[]).await;

    // 404: unknown process, signer, link; a link of another process.
    assert_eq!(act(&sim, "nope", "PER:12345678", "sign").await.status, 404);
    assert_eq!(act(&sim, &id, "PER:99999999", "sign").await.status, 404);
    let unknown = act_by_link(&sim, &id, "PER:12345678", "sign", "nope").await;
    assert_eq!(unknown.status, 404);
    let foreign = act_by_link(&sim, &id, "PER:12345678", "sign", &link_code(&other_link)).await;
    assert_eq!(foreign.status, 404);

    // 409: out of order; a signer who has answered; a process no longer pending.
    assert_eq!(act(&sim, &id, "PER:87654321", "sign").await.status, 409);
    let early = act_by_link(&sim, &id, "PER:87654321", "sign", &code).await;
    assert_eq!(early.status, 409, "the link is open, the order is not");
    assert_eq!(act(&sim, &id, "PER:12345678", "sign").await.status, 200);
    assert_eq!(act(&sim, &id, "PER:12345678", "reject").await.status, 409);
    // 410: through the link, that signer has used it.
    let used = act_by_link(&sim, &id, "PER:12345678", "reject", &code).await;
    assert_eq!(used.status, 410, "{:?}", used.json());
    assert_eq!(act(&sim, &id, "PER:87654321", "reject").await.status, 200);
    assert_eq!(act(&sim, &id, "PER:87654321", "sign").await.status, 409);
    let concluded = act_by_link(&sim, &id, "PER:87654321", "sign", &code).await;
    assert_eq!(
        concluded.status, 410,
        "the process is rejected: the link is used"
    );

    // A link expired on the clock (the process is still pending: by name it can act), and
    // a process that expired before its link did.
    let (short, short_link) = process_with(&sim, &token, &[("link_expire", "60")]).await;
    let (brief, brief_link) =
        process_with(&sim, &token, &[("expire", "60"), ("link_expire", "600")]).await;
    advance(&sim, 61).await;
    let late = act_by_link(
        &sim,
        &short,
        "PER:12345678",
        "sign",
        &link_code(&short_link),
    )
    .await;
    assert_eq!(late.status, 410);
    assert_eq!(act(&sim, &short, "PER:12345678", "sign").await.status, 200);
    let late = act_by_link(
        &sim,
        &brief,
        "PER:12345678",
        "sign",
        &link_code(&brief_link),
    )
    .await;
    assert_eq!(late.status, 410);
    assert_eq!(act(&sim, &brief, "PER:12345678", "sign").await.status, 409);
    let _ = other;
}

/// `times = 1` on `create`, the operation that makes a process, counts per entity: its
/// first create that picks the scenario fails, its retry works, and another entity's
/// first create fails on its own count.
#[tokio::test]
async fn a_times_1_failure_on_create_fails_once_per_entity() {
    let sim = start().await;
    sim.load_scenarios(
        "[[scenario]]\nname = \"gateway-once\"\nprovider = \"identiasign\"\n\n\
         [[scenario.effects]]\noperation = \"create\"\ntimes = 1\n\
         respond = { status = 503, body = { msg = \"Servicio no disponible\" } }\n",
    )
    .await;
    let create = |token: String| {
        let sim = &sim;
        async move {
            let sent = sim
                .http
                .put(u(sim, "/api/signature_processes"))
                .header("authorization", format!("jwt-bearer {token}"))
                .header("x-signsim-scenario", "gateway-once")
                .multipart(form(json!([signer("12345678", "a@example.com")]), &[]))
                .send()
                .await
                .expect("request sent");
            answer(sent).await.status
        }
    };
    let first = login_entity(&sim, "once-a.pe").await;
    let second = login_entity(&sim, "once-b.pe").await;
    assert_eq!(create(first.clone()).await, 503);
    assert_eq!(create(first).await, 201, "the retry works");
    assert_eq!(
        create(second).await,
        503,
        "another entity counts on its own"
    );
}

fn qitech_signer() -> Value {
    json!({
        "id": "1", "name": "Ana Corp", "email": "ana@example.com",
        "birthdate": "1992-09-15", "document_number": "111.111.111-11",
        "phone": {"international_dial_code": "55", "area_code": "11", "number": "988878722"},
        "document_submission_method": "email", "authentication_submission_method": "sms"
    })
}

/// A QI Tech envelope `id` of API key `key`; returns the create's status.
async fn qitech_envelope(sim: &Sim, key: &str, id: &str) -> u16 {
    let expires = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();
    let sent = sim
        .http
        .post(sim.url("/qitech/sign/envelope"))
        .header("authorization", key)
        .json(&json!({
            "id": id, "subject": "Contrato", "expiration_date": expires,
            "signers": [qitech_signer()]
        }))
        .send()
        .await
        .expect("request sent");
    answer(sent).await.status
}

async fn qitech_envelope_status(sim: &Sim, key: &str, id: &str) -> u16 {
    let sent = sim
        .http
        .get(sim.url(&format!("/qitech/sign/envelope/{id}")))
        .header("authorization", key)
        .send()
        .await
        .expect("request sent");
    answer(sent).await.status
}

/// The IdentiaSign entity `corp` and the QI Tech key `corp` are two tenants: neither's
/// views list the other's rows, and neither's clock advance or reset reaches the other's
/// resources.
#[tokio::test]
async fn an_entity_and_a_qitech_key_of_the_same_name_are_two_tenants() {
    let sim = start().await;
    let token = login_entity(&sim, "corp").await;
    let (id, _) = process_with(&sim, &token, &[]).await;
    assert_eq!(qitech_envelope(&sim, "corp", "e1").await, 201);

    // Each provider's `corp` sees its own resources in the views.
    let events = rows_of(&sim, "events", "corp").await;
    assert!(events.iter().any(|e| e["id"] == json!(id)));
    assert!(!events.iter().any(|e| e["id"] == "e1"), "{events:?}");
    let theirs = sim
        .get(&sim.url("/_signsim/events?provider=qitech&tenant=corp"))
        .await
        .json();
    let theirs = theirs.as_array().cloned().unwrap_or_default();
    assert!(theirs.iter().any(|e| e["id"] == "e1"), "{theirs:?}");
    assert!(!theirs.iter().any(|e| e["id"] == json!(id)), "{theirs:?}");

    // A day on QI Tech's `corp` clock leaves the entity's token (an hour) valid; an hour
    // on the entity's expires it and leaves QI Tech's clock where it was.
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": 86_400, "tenant": "corp", "provider": "qitech" }),
        )
        .await;
    assert_eq!(moved.status, 200);
    assert_eq!(list(&sim, &token, "").await.status, 200);
    advance_entity(&sim, "corp", 3600).await;
    assert_eq!(list(&sim, &token, "").await.status, 401);
    assert_eq!(offset_of(&sim, "qitech", "corp").await, 86_400);
    assert_eq!(offset_of(&sim, "identiasign", "corp").await, 3600);

    // QI Tech's reset of `corp` forgets its envelope, not the entity's process.
    let reset = sim
        .post_json(
            &sim.url("/_signsim/reset?tenant=corp&provider=qitech"),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200);
    assert_eq!(qitech_envelope_status(&sim, "corp", "e1").await, 404);
    let token = login_entity(&sim, "corp").await;
    assert_eq!(status_of(&sim, &token, &id).await, "pending");

    // And the other way round.
    assert_eq!(qitech_envelope(&sim, "corp", "e2").await, 201);
    let reset = sim
        .post_json(
            &sim.url("/_signsim/reset?tenant=corp&provider=identiasign"),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200);
    assert_eq!(list(&sim, &token, "").await.status, 404);
    assert_eq!(qitech_envelope_status(&sim, "corp", "e2").await, 200);
}
