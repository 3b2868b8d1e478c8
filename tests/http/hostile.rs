//! Bad input never hurts: seeded random calls with malformed bodies, wrong types, odd ids
//! and bad credentials, sent to every route of every surface, answer below 500 (but for the
//! provider's own documented 500s) without breaking the connection, and leave another
//! tenant's state exactly as it was.
//!
//! The routes are not kept by hand: they are every operation of every registered provider's
//! OpenAPI document (`signsim::PROVIDERS`) and of the admin document, plus the odd queries
//! and unknown paths of `EXTRA`. What only a provider's own knowledge gives (its credential,
//! how to make its resources, what fills its path parameters, what a tenant reads back) is
//! in `KNOWN`, one entry per slug; a registered provider without one fails the test by name
//! (and `registry.rs` names it without running this test).

use crate::common::{answer, sample_pdf, sample_png, start, Answer, Sim, DEMO_TOKEN};
use crate::documents::{fails_by_design, operations, parameters};
use base64::Engine as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::pin::Pin;

const CALLS: usize = 1200;
const ATTACKER: &str = "attacker";
const VICTIM: &str = "victim";

/// Calls beyond the documents' operations: odd queries, paging cursors, unknown paths.
/// `{name}`s are filled as in the documented routes (a provider's from its `KNOWN` entry,
/// the admin API's by `admin_value`).
const EXTRA: &[&str] = &[
    "GET /identiasign/api/signature_processes?limit=2&last_item=%7B%22processId%22%3A%22{id}%22%7D",
    "GET /identiasign/api/signature_processes?process_id={id}&creation_start=2024",
    "GET /identiasign/api/labels?limit=99999999999999999999",
    "GET /_signsim?provider=%FF&tenant=x",
    "GET /_signsim/uanataca/requests/{request_pk}/documents/{uid}?signed=true",
    "GET /_signsim/mensatek/verifications/{id}/certificate?api_user=nobody",
    "GET /_signsim/events?provider={provider}&id={id}",
    "GET /_signsim/events?provider=x&tenant=%FF",
    "GET /_signsim/outbox?channel=%FF&to=x",
    "GET /_signsim/inbox?channel=pigeon",
    "GET /_signsim/requests?provider=x&tenant[]=1",
    "GET /_signsim/nowhere/{id}",
];

/// Where a route belongs, which says what fills its `{name}`s and which credential it
/// carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    /// A provider's API, under `/<slug>`: its credential, its `KNOWN` values.
    Api(&'static str),
    /// A provider's admin calls and pages, under `/_signsim/<slug>`: its `KNOWN` values.
    ProviderAdmin(&'static str),
    /// The engine's admin calls: `admin_value`.
    Admin,
}

/// The surface of `path`, by its first segment(s).
fn surface_of(path: &str) -> Surface {
    let slug_of = |rest: &str| {
        let segment = rest.split(['/', '?']).next().unwrap_or("");
        signsim::PROVIDERS
            .iter()
            .map(|p| p.slug)
            .find(|slug| *slug == segment)
    };
    if let Some(rest) = path.strip_prefix("/_signsim") {
        return match rest.strip_prefix('/').and_then(slug_of) {
            Some(slug) => Surface::ProviderAdmin(slug),
            None => Surface::Admin,
        };
    }
    match path.strip_prefix('/').and_then(slug_of) {
        Some(slug) => Surface::Api(slug),
        None => Surface::Admin,
    }
}

/// One route, as `METHOD path` with `{name}`s to fill per call.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) method: &'static str,
    pub(crate) template: String,
    surface: Surface,
    /// A 5xx is its purpose: every status its document lists is one (the receivers the
    /// "receiver down" scenarios aim deliveries at always answer 503).
    down_by_design: bool,
}

impl Route {
    pub(crate) fn shown(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// Every route: each registered provider's documented operations under `/<slug>`, the
/// admin document's under `/_signsim`, and `EXTRA`. A full reset forgets the victim by
/// design, so the reset is aimed at the attacker's own tenant; the random bodies only ever
/// advance the clock by seconds, if at all.
pub(crate) fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    for provider in signsim::PROVIDERS {
        let slug = provider.slug;
        for operation in operations(slug, provider.openapi) {
            routes.push(Route {
                method: operation.method,
                template: format!("/{slug}{}", operation.path),
                surface: Surface::Api(slug),
                down_by_design: false,
            });
        }
    }
    let admin = signsim::admin::openapi::ADMIN;
    for operation in operations("admin", admin) {
        let reset = operation.method == "POST" && operation.path == "/reset";
        let aimed = if reset { "?tenant=attacker" } else { "" };
        let template = format!("/_signsim{}{aimed}", operation.path);
        routes.push(Route {
            method: operation.method,
            surface: surface_of(&template),
            template,
            down_by_design: fails_by_design(admin, operation.method, &operation.path),
        });
    }
    for extra in EXTRA {
        let (method, template) = extra.split_once(' ').expect("METHOD path");
        let method = ["GET", "POST", "PUT", "PATCH", "DELETE"]
            .into_iter()
            .find(|m| *m == method)
            .expect("a method");
        routes.push(Route {
            method,
            template: template.to_owned(),
            surface: surface_of(template),
            down_by_design: false,
        });
    }
    routes
}

/// What this test knows of one provider, beyond its documents.
pub(crate) struct Known {
    pub(crate) slug: &'static str,
    /// The `{name}`s its API document and its admin calls (`/<slug>/...` in the admin
    /// document) use, each of which `make` gives values for.
    pub(crate) params: &'static [&'static str],
    /// Makes its resources for a tenant (over HTTP, as a client would).
    make: for<'a> fn(&'a Sim, &'static str) -> Boxed<'a, Made>,
}

/// What an `async fn` in a table answers.
type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What this test knows of each provider, keyed by slug. A provider added to the registry
/// needs an entry here: `routes` then calls its operations with no further list to keep.
pub(crate) const KNOWN: &[Known] = &[
    Known {
        slug: "uanataca",
        params: &["metadata_uid", "uid", "request_pk", "pk", "type", "code"],
        make: |sim, tenant| Box::pin(make_uanataca(sim, tenant)),
    },
    Known {
        slug: "signal",
        params: &["pk", "id"],
        make: |sim, tenant| Box::pin(make_signal(sim, tenant)),
    },
    Known {
        slug: "mensatek",
        params: &["id", "code"],
        make: |sim, tenant| Box::pin(make_mensatek(sim, tenant)),
    },
    Known {
        slug: "identiasign",
        params: &["id", "signer", "link", "token", "code"],
        make: |sim, tenant| Box::pin(make_identiasign(sim, tenant)),
    },
    Known {
        slug: "qitech",
        params: &[
            "envelope_id",
            "document_id",
            "signer_id",
            "id",
            "code",
            "name",
        ],
        make: |sim, tenant| Box::pin(make_qitech(sim, tenant)),
    },
];

/// The `KNOWN` entry of `slug`; none fails the test, naming the slug.
fn known(slug: &str) -> &'static Known {
    KNOWN.iter().find(|k| k.slug == slug).unwrap_or_else(|| {
        panic!(
            "tests/http/hostile.rs: the registered provider '{slug}' has no entry in KNOWN \
             (its credential, its resources, its path parameters)"
        )
    })
}

/// One provider's resources for one tenant, as its `KNOWN` entry made them.
struct Made {
    slug: &'static str,
    /// Values for each path parameter, by name; each call picks one.
    params: Vec<(&'static str, Vec<String>)>,
    /// The id its events and resource page name.
    resource: String,
    /// The header that carries the tenant's credential, and a broken one to send
    /// sometimes instead (none: the API has no credential to break).
    credential: (&'static str, String),
    broken: Option<(&'static str, &'static str)>,
    /// Everything the tenant can read back about them.
    reads: Vec<Read>,
}

/// One read of a tenant's state, sent with its credential.
struct Read {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// Keys (at any depth) whose values change from read to read (fresh links).
    fresh: &'static [&'static str],
}

impl Read {
    fn get(path: String) -> Read {
        Read {
            method: "GET",
            path,
            body: None,
            fresh: &[],
        }
    }
}

/// A tenant and its resources at every provider, in registry order.
struct Tenant {
    name: &'static str,
    made: Vec<Made>,
}

impl Tenant {
    fn of(&self, slug: &str) -> &Made {
        self.made
            .iter()
            .find(|m| m.slug == slug)
            .expect("made for every registered provider")
    }
}
const KEYS: &[&str] = &[
    "secret",
    "pk",
    "uid",
    "type",
    "status",
    "token",
    "username",
    "password",
    "pin",
    "given_name",
    "surname_1",
    "email",
    "mobile_phone_number",
    "serial_number",
    "env",
    "options",
    "useasync",
    "callback",
    "reason",
    "scratchcard",
    "seconds",
    "api_key",
    "url",
    "signature_key",
    "cpf",
    "id",
    "subject",
    "expiration_date",
    "signers",
    "document_b64",
    "template",
    "documents_to_sign",
    "document_front",
    "outcome",
    "delivery_method",
    "metadata",
    "metadata_oid",
    "image",
    "name",
    "document_type",
    "Telefono",
    "Mensaje",
    "Dni",
    "Fecha",
    "Remitente",
    "Id",
    "Resp",
    "api_user",
    "credits",
    "format",
    "process_id",
    "clientname",
    "label",
    "labels",
    "limit",
    "expire",
    "link_expire",
    "urlCallback",
    "signOrder",
    "msg_form",
    "refused_nats",
    "link",
];

const RAW_BODIES: &[&str] = &[
    "",
    "null",
    "[]",
    "{}",
    "1e999",
    "\"text\"",
    "{\"a\":",
    "{\"pk\": [1], \"secret\": {}}",
    "{\"seconds\": -1e300}",
    "{\"seconds\": 18446744073709551616}",
    "\u{0}\u{ff}",
    "{\"signers\": [null, 1, \"x\"]}",
    "{\"options\": {\"x\": {\"position\": \"1,2\"}}}",
    "{\"type\": \"signed\", \"uid\": \"../../etc/passwd\", \"pk\": \"-1\"}",
];

fn random_value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..12) {
        0 => Value::Null,
        1 => json!(rng.random_range(-5i64..5)),
        2 => json!(u64::MAX),
        3 => json!(""),
        4 => json!("x".repeat(rng.random_range(1..5000))),
        5 => json!([]),
        6 => json!({}),
        7 => json!(true),
        8 => json!(1.5),
        9 => json!("ZZZ="),
        10 => json!([{ "id": 1 }]),
        _ => json!({ "a": [1, { "b": null }] }),
    }
}

fn random_text(rng: &mut StdRng) -> String {
    match random_value(rng) {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// A body of one of several broken kinds, with the Content-Type it claims.
fn random_body(rng: &mut StdRng, pdf: &[u8]) -> (Vec<u8>, Option<String>) {
    let claimed = [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=nope",
        "image/png",
    ];
    match rng.random_range(0..4) {
        0 => {
            let raw = RAW_BODIES[rng.random_range(0..RAW_BODIES.len())];
            let content_type = claimed[rng.random_range(0..claimed.len())];
            (raw.as_bytes().to_vec(), Some(content_type.into()))
        }
        1 => {
            let mut object = Map::new();
            for _ in 0..rng.random_range(1..6) {
                let key = KEYS[rng.random_range(0..KEYS.len())];
                object.insert(key.into(), random_value(rng));
            }
            let content_type = rng.random_bool(0.8).then(|| "application/json".into());
            (Value::Object(object).to_string().into_bytes(), content_type)
        }
        2 => {
            let bytes: Vec<u8> = (0..rng.random_range(0..3000))
                .map(|_| rng.random())
                .collect();
            let content_type = claimed[rng.random_range(0..claimed.len())];
            (bytes, Some(content_type.into()))
        }
        _ => {
            let boundary = "hostile-boundary";
            let mut body = Vec::new();
            for _ in 0..rng.random_range(0..4) {
                let key = KEYS[rng.random_range(0..KEYS.len())];
                let text = random_text(rng);
                body.extend(format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{text}\r\n"
                ).into_bytes());
            }
            if rng.random_bool(0.5) {
                let file: Vec<u8> = match rng.random_range(0..3) {
                    0 => pdf[..rng.random_range(0..pdf.len())].to_vec(),
                    1 => pdf.to_vec(),
                    _ => b"{\"messageDigest\": \"AAAA\"}".to_vec(),
                };
                let field =
                    ["file", "hashfile", "image", "video", "pdfFiles"][rng.random_range(0..5)];
                body.extend(format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"f.pdf\"\r\n\r\n"
                ).into_bytes());
                body.extend(file);
                body.extend(b"\r\n");
            }
            body.extend(format!("--{boundary}--\r\n").into_bytes());
            if rng.random_bool(0.2) {
                body.truncate(rng.random_range(0..=body.len()));
            }
            (
                body,
                Some(format!("multipart/form-data; boundary={boundary}")),
            )
        }
    }
}

/// A 500 the real service documents for bad input, copied as it is (docs/fidelity.md): the
/// One-Shot create call's field and billing errors, a wrong scratchcard, approving an
/// unfinished video identification.
fn documented_500(path: &str, answered: &Answer) -> bool {
    let Ok(body) = serde_json::from_slice::<Value>(&answered.bytes) else {
        return false;
    };
    if !path.starts_with("/uanataca/") || body["status"] != "500 Internal Server Error" {
        return false;
    }
    match &body["details"] {
        Value::String(text) => [
            "Billing credentials not valid",
            "Cannot check the remaining credit",
            "Cannot update the Request",
            "Cannot approve Request",
        ]
        .iter()
        .any(|start| text.starts_with(start)),
        Value::Object(fields) => fields
            .keys()
            .all(|k| ["email", "id_document_country", "country_name"].contains(&k.as_str())),
        _ => false,
    }
}

async fn send(
    sim: &Sim,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    content_type: Option<String>,
) -> Result<Answer, reqwest::Error> {
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = sim.http.request(method, sim.url(path)).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    Ok(answer(request.send().await?).await)
}

/// Posts a well-formed JSON body and expects `status`; answers the body.
async fn post_ok(sim: &Sim, path: &str, header: (&str, String), body: Value, status: u16) -> Value {
    let json = Some("application/json".to_owned());
    let answered = send(
        sim,
        "POST",
        path,
        &[header],
        body.to_string().into_bytes(),
        json,
    )
    .await
    .unwrap();
    assert_eq!(answered.status, status, "{path}: {:?}", answered.json());
    answered.json()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Uanataca: a request with one uploaded document. No credential: the tenant header.
async fn make_uanataca(sim: &Sim, tenant: &'static str) -> Made {
    let header = || ("x-signsim-tenant", tenant.to_owned());
    let created = post_ok(
        sim,
        "/uanataca/api/v1/request",
        header(),
        json!({
            "token": DEMO_TOKEN, "given_name": "Quiet", "surname_1": "Tenant",
            "email": "quiet@example.com", "mobile_phone_number": "+34600999888"
        }),
        201,
    )
    .await;
    let pk = created["details"].to_string();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(sample_pdf("Quiet")).file_name("q.pdf"),
    );
    let (name, value) = header();
    let uploaded = sim
        .http
        .post(sim.url(&format!("/uanataca/api/v1/document/{pk}")))
        .header(name, value)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let uploaded = answer(uploaded).await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();
    let api = "/uanataca/api/v1";
    Made {
        slug: "uanataca",
        params: vec![
            ("metadata_uid", vec![uid.clone()]),
            ("uid", vec![uid.clone()]),
            ("request_pk", vec![pk.clone()]),
            ("pk", vec![pk.clone()]),
            ("type", vec!["original".into(), "signed".into()]),
            // A Video ID link's code (none of this tenant's: codes are not guessed).
            ("code", vec!["00".into()]),
        ],
        resource: pk.clone(),
        credential: header(),
        broken: None,
        reads: vec![
            Read::get(format!("{api}/request/{pk}")),
            Read::get(format!("{api}/documents/{pk}")),
            Read::get(format!("{api}/document/{pk}/original/{uid}")),
        ],
    }
}

/// Signal: a one-call request; the bearer token is the tenant.
async fn make_signal(sim: &Sim, tenant: &'static str) -> Made {
    let png = b64(&sample_png(4, 4));
    let credential = ("authorization", format!("Bearer {tenant}"));
    let signal = post_ok(
        sim,
        "/signal/sign/request",
        credential.clone(),
        json!({
            "given_name": "Quiet", "surname_1": "Tenant", "id_document_type": "IDC",
            "id_document_country": "EC", "serial_number": "1712345678",
            "email": "quiet@example.com", "mobile_phone_number": "+593991234567",
            "document_front": png, "document_rear": png, "document_owner": png,
            "documents_to_sign": b64(&sample_pdf("Quiet")),
        }),
        200,
    )
    .await;
    let pk = signal["pk"].to_string().trim_matches('"').to_owned();
    Made {
        slug: "signal",
        // The file and biometric links' ids are unguessable: a request's pk is not one.
        params: vec![("pk", vec![pk.clone()]), ("id", vec![pk.clone()])],
        resource: pk.clone(),
        credential,
        broken: Some(("authorization", "Bearer a b")),
        reads: vec![Read::get(format!("/signal/sign/{pk}"))],
    }
}

/// QI Tech: an envelope with one document; the API key is the tenant.
async fn make_qitech(sim: &Sim, tenant: &'static str) -> Made {
    let key = || ("authorization", tenant.to_owned());
    let envelope = format!("{tenant}-envelope");
    post_ok(
        sim,
        "/qitech/sign/envelope",
        key(),
        json!({
            "id": envelope, "subject": "Quiet", "expiration_date": "2099-01-01",
            "signers": [{
                "id": "1", "name": "Quiet Tenant", "email": "quiet@example.com",
                "birthdate": "1990-01-01", "document_number": "111.111.111-11",
                "document_submission_method": "email",
                "authentication_submission_method": "email"
            }]
        }),
        201,
    )
    .await;
    let document = post_ok(
        sim,
        &format!("/qitech/sign/envelope/{envelope}/document"),
        key(),
        json!({ "document_b64": b64(&sample_pdf("Quiet")), "name": "Quiet", "document_type": "pdf" }),
        201,
    )
    .await;
    let document = document["id"].as_str().unwrap().to_owned();
    Made {
        slug: "qitech",
        params: vec![
            ("envelope_id", vec![envelope.clone()]),
            ("document_id", vec![document.clone()]),
            ("signer_id", vec!["1".into()]),
            ("id", vec![envelope.clone()]),
            // The signing page's code and the files' names are unguessable.
            ("code", vec![document.clone()]),
            ("name", vec![format!("{document}.pdf")]),
        ],
        resource: envelope.clone(),
        credential: key(),
        broken: Some(("authorization", "Basic eA==")),
        reads: vec![Read::get(format!("/qitech/sign/envelope/{envelope}"))],
    }
}

/// Mensatek's `Authorization: Basic` for API user `tenant`.
fn mensatek_basic(tenant: &str) -> String {
    format!("Basic {}", b64(format!("{tenant}:token").as_bytes()))
}

/// Mensatek: a verification; the API user is the tenant.
async fn make_mensatek(sim: &Sim, tenant: &'static str) -> Made {
    let credential = ("authorization", mensatek_basic(tenant));
    let verification = post_ok(
        sim,
        "/mensatek/VerificarIdentidad",
        credential.clone(),
        json!({ "Telefono": "34600999888", "Resp": "JSON" }),
        200,
    )
    .await;
    let id = verification[0]["ID"].as_str().unwrap().to_owned();
    // Its calls are POSTs: the certificate's state (-5) and the balance.
    let post = |path: &str, body: Value| Read {
        method: "POST",
        path: path.to_owned(),
        body: Some(body),
        fresh: &[],
    };
    Made {
        slug: "mensatek",
        params: vec![("id", vec![id.clone()]), ("code", vec![id.clone()])],
        resource: id.clone(),
        credential,
        broken: Some(("authorization", "Basic eA==")),
        reads: vec![
            post(
                "/mensatek/GetCertificadoVerificacion",
                json!({ "Id": id, "Resp": "JSON" }),
            ),
            post("/mensatek/GetCreditos", json!({ "Resp": "JSON" })),
        ],
    }
}

/// IdentiaSign: a login (the username is the tenant) and a process with one signer.
async fn make_identiasign(sim: &Sim, tenant: &'static str) -> Made {
    let login = post_ok(
        sim,
        "/identiasign/api/auth/login",
        ("x-ignored", String::new()),
        json!({ "username": tenant, "clientname": "quiet@example.com", "password": "x" }),
        200,
    )
    .await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let credential = ("authorization", format!("jwt-bearer {token}"));
    let form = reqwest::multipart::Form::new()
        .part(
            "pdfFiles",
            reqwest::multipart::Part::bytes(sample_pdf("Quiet")).file_name("q.pdf"),
        )
        .text(
            "signers",
            json!([{ "nat": "PER", "doc_id": "12345678" }]).to_string(),
        );
    let created = sim
        .http
        .put(sim.url("/identiasign/api/signature_processes"))
        .header(credential.0, &credential.1)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let created = answer(created).await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    let process = created.json()["id"].as_str().unwrap().to_owned();
    Made {
        slug: "identiasign",
        params: vec![
            ("id", vec![process.clone()]),
            ("signer", vec!["PER:12345678".into()]),
            ("link", vec![format!("{process}.00")]),
            ("code", vec!["00".into()]),
            ("token", vec!["x".into()]),
        ],
        resource: process.clone(),
        credential,
        broken: Some(("authorization", "jwt-bearer a.b.c")),
        // Its listing makes fresh document URLs each time: compared without them.
        reads: vec![Read {
            fresh: &["url"],
            ..Read::get(format!(
                "/identiasign/api/signature_processes?process_id={process}"
            ))
        }],
    }
}

/// Makes `tenant`'s resources at every registered provider.
async fn populate(sim: &Sim, tenant: &'static str) -> Tenant {
    let mut made = Vec::new();
    for provider in signsim::PROVIDERS {
        let entry = known(provider.slug);
        let one = (entry.make)(sim, tenant).await;
        let mut named: Vec<&str> = one.params.iter().map(|(name, _)| *name).collect();
        let mut declared = entry.params.to_vec();
        named.sort_unstable();
        declared.sort_unstable();
        assert_eq!(named, declared, "{}: KNOWN's params", provider.slug);
        made.push(one);
    }
    Tenant { name: tenant, made }
}

/// Removes every `key` at any depth of `value`.
fn forget(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(object) => {
            for key in keys {
                object.remove(*key);
            }
            object.values_mut().for_each(|v| forget(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| forget(v, keys)),
        _ => {}
    }
}

/// Everything the tenant can read back about its resources.
async fn state_of(sim: &Sim, tenant: &Tenant) -> Vec<(String, u16, Vec<u8>)> {
    let mut state = Vec::new();
    for made in &tenant.made {
        for read in &made.reads {
            let (body, content_type) = match &read.body {
                Some(body) => (
                    body.to_string().into_bytes(),
                    Some("application/json".into()),
                ),
                None => (Vec::new(), None),
            };
            let credential = [(made.credential.0, made.credential.1.clone())];
            let answered = send(
                sim,
                read.method,
                &read.path,
                &credential,
                body,
                content_type,
            )
            .await
            .unwrap();
            let mut bytes = answered.bytes;
            if !read.fresh.is_empty() {
                let mut value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                forget(&mut value, read.fresh);
                bytes = value.to_string().into_bytes();
            }
            state.push((read.path.clone(), answered.status, bytes));
        }
    }
    state
}

/// A value for the admin API's own `{name}`, aimed at `tenant`'s resource at `chosen`.
fn admin_value(name: &str, tenant: &Tenant, chosen: &Made, rng: &mut StdRng) -> String {
    match name {
        "provider" => chosen.slug.to_owned(),
        "tenant" => tenant.name.to_owned(),
        "id" => chosen.resource.clone(),
        "delivery" => chosen.resource.clone(),
        "name" => {
            let names = [
                format!("{}.json", chosen.slug),
                "admin.json".into(),
                "x".into(),
            ];
            names[rng.random_range(0..names.len())].clone()
        }
        _ => panic!("tests/http/hostile.rs: no value for the admin API's {{{name}}}"),
    }
}

/// `template` with each `{name}` filled: mostly from `aimed`'s resources, sometimes with
/// nonsense.
fn fill(route: &Route, aimed: &Tenant, rng: &mut StdRng) -> String {
    let odd = ["0", "-1", "99999999999999999999", "abc", "%20"];
    let chosen = &aimed.made[rng.random_range(0..aimed.made.len())];
    let mut path = route.template.clone();
    for name in parameters(&route.template) {
        let value = if rng.random_bool(0.1) {
            odd[rng.random_range(0..odd.len())].to_owned()
        } else {
            match route.surface {
                Surface::Api(slug) | Surface::ProviderAdmin(slug) => {
                    let made = aimed.of(slug);
                    let values = made
                        .params
                        .iter()
                        .find(|(known, _)| *known == name)
                        .map(|(_, values)| values)
                        .unwrap_or_else(|| {
                            panic!(
                                "tests/http/hostile.rs: KNOWN's '{slug}' has no value for \
                                 {{{name}}} in {}",
                                route.shown()
                            )
                        });
                    values[rng.random_range(0..values.len())].clone()
                }
                Surface::Admin => admin_value(name, aimed, chosen, rng),
            }
        };
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    path
}

#[tokio::test]
async fn random_bad_calls_answer_4xx_and_hurt_no_other_tenant() {
    let routes = routes();
    assert!(CALLS >= routes.len(), "every route is called");
    let sim = start().await;
    let victim = populate(&sim, VICTIM).await;
    let mut attacker = populate(&sim, ATTACKER).await;
    let before = state_of(&sim, &victim).await;
    assert!(
        before.iter().all(|(_, status, _)| *status == 200),
        "{before:?}"
    );

    let pdf = sample_pdf("Hostile");
    let mut rng = StdRng::seed_from_u64(7);
    // Rounds through every route, each in a new random order.
    let mut order: Vec<&Route> = routes.iter().collect();
    for call in 0..CALLS {
        if call % order.len() == 0 {
            order.shuffle(&mut rng);
        }
        let route = order[call % order.len()];
        let method = route.method;
        // Mostly the attacker's own ids, sometimes the victim's or nonsense.
        let aimed = if rng.random_bool(0.15) {
            &victim
        } else {
            &attacker
        };
        let path = fill(route, aimed, &mut rng);
        // Always the attacker's credential, sometimes a broken one.
        let credential = match route.surface {
            Surface::Api(slug) => {
                let made = attacker.of(slug);
                match made.broken {
                    Some((name, value)) if rng.random_bool(0.1) => (name, value.to_owned()),
                    _ => made.credential.clone(),
                }
            }
            // The admin API tells tenants apart by this header.
            _ => ("x-signsim-tenant", ATTACKER.to_owned()),
        };
        let (body, content_type) = random_body(&mut rng, &pdf);
        let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        let answered = send(&sim, method, &path, &[credential], body, content_type).await;
        let answered = answered.unwrap_or_else(|e| panic!("call {call} {method} {path}: {e}"));
        let by_design = route.down_by_design && answered.status == 503;
        assert!(
            answered.status < 500 || by_design || documented_500(&path, &answered),
            "call {call}: {method} {path} with {shown:?} answered {} {}",
            answered.status,
            String::from_utf8_lossy(&answered.bytes)
        );
        if route.template.starts_with("/_signsim/reset") && answered.status == 200 {
            // The attacker forgot its own resources: later calls aim at fresh ones.
            attacker = populate(&sim, ATTACKER).await;
        }
    }

    let health = sim.get(&sim.url("/_signsim/health")).await;
    assert_eq!(health.status, 200);
    assert!(
        before == state_of(&sim, &victim).await,
        "the victim tenant's state changed"
    );
}

/// The routes are derived, not listed: every operation of every registered provider's
/// document and of the admin document is one, the reset is aimed at the attacker, and the
/// always-down receivers are known by their documents.
#[test]
fn the_routes_are_every_documented_operation() {
    let shown: Vec<String> = routes().iter().map(Route::shown).collect();
    for provider in signsim::PROVIDERS {
        for operation in operations(provider.slug, provider.openapi) {
            let route = format!("{} /{}{}", operation.method, provider.slug, operation.path);
            assert!(shown.contains(&route), "{route} is not called");
        }
    }
    assert!(shown.contains(&"POST /_signsim/reset?tenant=attacker".to_owned()));
    assert!(!shown.contains(&"POST /_signsim/reset".to_owned()));
    let down: Vec<Route> = routes().into_iter().filter(|r| r.down_by_design).collect();
    assert!(!down.is_empty());
    for route in down {
        assert!(
            route.method == "POST" && route.template.ends_with("/receiver-down"),
            "{} is not a receiver that is down",
            route.shown()
        );
    }
}
