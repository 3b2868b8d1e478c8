//! `GET /_signsim/openapi/<name>.json`: the OpenAPI 3.1 documents, one per surface (each
//! provider brings its own in the registry, `Provider::openapi`, which the app hands to
//! [`Documents::new`]) and one for this admin API. They are written by hand under
//! `openapi/`; `tests/http/openapi/` calls every operation they document and checks each
//! answer against them, and `ci/schemathesis.sh` fuzzes the server with them.

use crate::wire::admin::{AdminError, Path};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// The admin API's own document.
pub const ADMIN: &str = include_str!("../../openapi/admin.json");

/// Every document by name: "admin" first, then each provider's by its slug.
pub struct Documents(Vec<(&'static str, &'static str)>);

impl Documents {
    /// The admin API's document and `providers`' (slug, document text).
    pub fn new(providers: impl IntoIterator<Item = (&'static str, &'static str)>) -> Documents {
        let mut documents = vec![("admin", ADMIN)];
        documents.extend(providers);
        Documents(documents)
    }

    /// The document called `name` ("admin" or a provider's slug), if there is one.
    pub fn get(&self, name: &str) -> Option<&'static str> {
        self.0
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, text)| *text)
    }
}

/// The documents, mounted under `/_signsim`.
pub fn router(documents: Documents) -> Router {
    Router::new()
        .route("/openapi/{name}", get(serve))
        .with_state(Arc::new(documents))
}

async fn serve(State(documents): State<Arc<Documents>>, Path(file): Path<String>) -> Response {
    let found = file
        .strip_suffix(".json")
        .and_then(|name| documents.get(name));
    match found {
        // The text as written: it is JSON already, and serving it byte for byte keeps the
        // key order people read in the file.
        Some(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        None => AdminError::not_found(format!(
            "no OpenAPI document '{file}'; there are: {}",
            documents
                .0
                .iter()
                .map(|(name, _)| format!("{name}.json"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into_response(),
    }
}
