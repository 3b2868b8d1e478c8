//! `GET /_signsim/openapi/<name>.json`: the OpenAPI 3.1 documents, one per surface (each
//! provider brings its own in the registry, `Provider::openapi`) and one for this admin API.
//! They are written by hand under `openapi/`; `tests/http/openapi/` calls every
//! operation they document and checks each answer against them, and `ci/schemathesis.sh`
//! fuzzes the server with them.

use crate::wire::admin::{AdminError, Path};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The admin API's own document.
pub const ADMIN: &str = include_str!("../../openapi/admin.json");

/// The document called `name` ("admin" or a provider's slug), if there is one.
pub fn document(name: &str) -> Option<&'static str> {
    if name == "admin" {
        return Some(ADMIN);
    }
    crate::PROVIDERS
        .iter()
        .find(|provider| provider.slug == name)
        .map(|provider| provider.openapi)
}

/// Every document's name, for the 404 that lists them.
fn names() -> Vec<&'static str> {
    let mut names = vec!["admin"];
    names.extend(crate::PROVIDERS.iter().map(|provider| provider.slug));
    names
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let found = file.strip_suffix(".json").and_then(document);
    match found {
        // The text as written: it is JSON already, and serving it byte for byte keeps the
        // key order people read in the file.
        Some(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        None => AdminError::not_found(format!(
            "no OpenAPI document '{file}'; there are: {}",
            names()
                .iter()
                .map(|name| format!("{name}.json"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into_response(),
    }
}
