//! The operations an OpenAPI document lists, read one way for every test that derives its
//! calls from the registry (`signsim::PROVIDERS`, each with its `openapi` text) instead of
//! keeping a list by hand: `hostile.rs` calls them all, `registry.rs` checks that each
//! provider brings what they need.

use serde_json::Value;

/// The methods an OpenAPI path item may hold, as they are sent.
const METHODS: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH"];

/// One operation: its method, its path as the document writes it (`/sign/{pk}`, relative
/// to where the surface is served) and whether it takes a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub method: &'static str,
    pub path: String,
    pub has_body: bool,
}

impl Operation {
    /// The names of its path parameters, `{name}` in the path, in order.
    pub fn parameters(&self) -> Vec<&str> {
        parameters(&self.path)
    }
}

/// The `{name}`s of a path template, in order.
pub fn parameters(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// Every operation of the document `text`, in the document's order. A document that is
/// not JSON with a `paths` object fails the calling test, naming `name`.
pub fn operations(name: &str, text: &str) -> Vec<Operation> {
    let document: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the OpenAPI document of {name} is not JSON: {e}"));
    let paths = document["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("the OpenAPI document of {name} has no paths"));
    let mut found = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            let operation = &item[method.to_ascii_lowercase()];
            if operation.is_object() {
                found.push(Operation {
                    method,
                    path: path.clone(),
                    has_body: operation.get("requestBody").is_some(),
                });
            }
        }
    }
    found
}

/// Whether every status the operation `method path` of `text` documents is a 5xx: a call
/// whose failure is its purpose (the receivers that "receiver down" scenarios aim at).
pub fn fails_by_design(text: &str, method: &str, path: &str) -> bool {
    let document: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let responses = &document["paths"][path][method.to_ascii_lowercase()]["responses"];
    responses
        .as_object()
        .is_some_and(|r| !r.is_empty() && r.keys().all(|status| status.starts_with('5')))
}
