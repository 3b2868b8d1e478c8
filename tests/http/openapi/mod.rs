//! The OpenAPI documents are true: each test walks one surface through every operation its
//! document lists (successes and the error answers a client meets), and `Contract` checks
//! each answer's status, content type and body against the document; a documented
//! operation that no call made fails the test. The documents are the ones the server
//! serves at `/_signsim/openapi/<name>.json`. `providers.rs` walks the five surfaces,
//! `admin.rs` the admin API.

mod admin;
mod providers;

use crate::common::{start, Answer, Sim};
use crate::contract::Contract;
use base64::Engine as _;
use reqwest::multipart::Form;
use reqwest::Method;
use serde_json::{json, Value};

/// What a call sends.
pub(super) enum Body {
    None,
    Json(Value),
    Form(Form),
    Raw(&'static str, String),
}

/// One surface's calls, each checked against its document.
pub(super) struct Calls<'a> {
    sim: &'a Sim,
    pub(super) contract: Contract,
    /// Sent with every call: the surface's credential.
    headers: Vec<(&'static str, String)>,
}

impl<'a> Calls<'a> {
    /// The document as the server serves it.
    pub(super) async fn new(sim: &'a Sim, name: &'static str) -> Calls<'a> {
        let served = sim
            .get(&sim.url(&format!("/_signsim/openapi/{name}.json")))
            .await;
        assert_eq!(served.status, 200, "{name}.json is served");
        assert_eq!(served.content_type, "application/json");
        let text = String::from_utf8(served.bytes).expect("UTF-8");
        Calls {
            sim,
            contract: Contract::new(name, &text),
            headers: Vec::new(),
        }
    }

    pub(super) fn with(mut self, header: &'static str, value: impl Into<String>) -> Calls<'a> {
        self.headers.push((header, value.into()));
        self
    }

    pub(super) async fn call(&mut self, method: Method, path: &str, body: Body) -> Answer {
        let mut request = self.sim.http.request(method.clone(), self.sim.url(path));
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        request = match body {
            Body::None => request,
            Body::Json(value) => request.json(&value),
            Body::Form(form) => request.multipart(form),
            Body::Raw(content_type, text) => {
                request.header("content-type", content_type).body(text)
            }
        };
        let answer = crate::common::answer(request.send().await.expect("request sent")).await;
        self.contract.check(method.as_str(), path, &answer);
        answer
    }

    pub(super) async fn get(&mut self, path: &str) -> Answer {
        self.call(Method::GET, path, Body::None).await
    }

    pub(super) async fn delete(&mut self, path: &str) -> Answer {
        self.call(Method::DELETE, path, Body::None).await
    }

    pub(super) async fn json(&mut self, method: Method, path: &str, body: Value) -> Answer {
        self.call(method, path, Body::Json(body)).await
    }

    pub(super) async fn form(&mut self, method: Method, path: &str, form: Form) -> Answer {
        self.call(method, path, Body::Form(form)).await
    }
}

/// The path of a link the simulator handed out (links are absolute).
pub(super) fn path_of(sim: &Sim, link: &Value) -> String {
    let link = text(link);
    let root = sim.url("");
    link.strip_prefix(root.trim_end_matches('/'))
        .unwrap_or_else(|| panic!("{link} is not a link to {root}"))
        .to_owned()
}

pub(super) fn details(answer: &Answer) -> Value {
    answer.json()["details"].clone()
}

pub(super) fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a string, got {value}"))
        .to_owned()
}

pub(super) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn every_document_is_served_and_an_unknown_one_is_a_404() {
    let sim = start().await;
    for name in ["admin"].into_iter().chain(signsim::slugs()) {
        let served = sim
            .get(&sim.url(&format!("/_signsim/openapi/{name}.json")))
            .await;
        assert_eq!(served.status, 200, "{name}");
        let contract = Contract::new("served", &String::from_utf8_lossy(&served.bytes));
        assert!(!contract.operations().is_empty(), "{name} documents calls");
    }
    for unknown in ["nope.json", "uanataca", "uanataca.yaml", "admin.json.json"] {
        let answer = sim
            .get(&sim.url(&format!("/_signsim/openapi/{unknown}")))
            .await;
        assert_eq!(answer.status, 404, "{unknown}");
        assert!(
            answer.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("uanataca.json")),
            "the 404 names the documents there are: {:?}",
            answer.json()
        );
    }
}

#[test]
fn documents_use_only_what_the_validator_knows() {
    let documents = signsim::PROVIDERS
        .iter()
        .map(|p| (p.slug, p.openapi))
        .chain([("admin", signsim::admin::openapi::ADMIN)]);
    for (name, text) in documents {
        let unknown = Contract::new(name, text).unknown_keywords();
        assert!(unknown.is_empty(), "{name}: {unknown:?}");
    }
}

/// The checker itself: an answer the document does not describe fails.
#[test]
fn the_contract_refuses_what_the_document_does_not_say() {
    let document = json!({
        "openapi": "3.1.0",
        "servers": [{ "url": "/p" }],
        "paths": { "/things/{id}": { "get": { "responses": {
            "200": { "description": "", "content": { "application/json": { "schema": {
                "type": "object", "required": ["id"],
                "properties": { "id": { "type": "integer" }, "kind": { "enum": ["a", "b"] } }
            } } } }
        } } } }
    });
    let answer = |status: u16, content_type: &str, body: &str| Answer {
        status,
        content_type: content_type.to_owned(),
        bytes: body.as_bytes().to_vec(),
    };
    let refused = |path: &str, given: Answer| {
        let mut contract = Contract::new("test", &document.to_string());
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            contract.check("GET", path, &given)
        }))
        .is_err()
    };
    let json = "application/json";
    assert!(!refused(
        "/p/things/1",
        answer(200, json, r#"{"id": 1, "kind": "a"}"#)
    ));
    assert!(
        refused("/p/things/1", answer(404, json, r#"{"id": 1}"#)),
        "status"
    );
    assert!(
        refused("/p/things/1", answer(200, "text/html", "<p>")),
        "type"
    );
    assert!(
        refused("/p/things/1", answer(200, json, r#"{"kind": "a"}"#)),
        "required"
    );
    assert!(
        refused("/p/things/1", answer(200, json, r#"{"id": "1"}"#)),
        "a type"
    );
    assert!(
        refused(
            "/p/things/1",
            answer(200, json, r#"{"id": 1, "kind": "c"}"#)
        ),
        "enum"
    );
    assert!(
        refused("/p/other/1", answer(200, json, r#"{"id": 1}"#)),
        "the path"
    );
    let contract = Contract::new("test", &document.to_string());
    assert!(
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| contract.assert_all_called()))
            .is_err(),
        "an operation never called"
    );
}

/// The checker the other way round: a status the document lists for an operation that no
/// call was answered with fails (the document promises a 403 the simulator never gives).
#[test]
fn the_contract_refuses_a_documented_status_never_answered() {
    let document = json!({
        "openapi": "3.1.0",
        "servers": [{ "url": "/p" }],
        "paths": { "/things": { "delete": { "responses": {
            "200": { "description": "" },
            "404": { "description": "" }
        } } } }
    });
    let answer = |status: u16| Answer {
        status,
        content_type: String::new(),
        bytes: Vec::new(),
    };
    let mut contract = Contract::new("test", &document.to_string());
    contract.check("DELETE", "/p/things", &answer(200));
    let unanswered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        contract.assert_every_status_answered()
    }));
    assert!(
        unanswered.is_err(),
        "a documented 404 no call was answered with"
    );
    contract.check("DELETE", "/p/things", &answer(404));
    contract.assert_every_status_answered();
}
