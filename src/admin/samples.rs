//! `GET /_signsim/samples/document.pdf?pages=N`: a valid PDF to upload (1 to
//! [`MAX_PAGES`] pages, the same bytes every time), so a test needs no document of its
//! own. Open under `--admin-token`, like the CA certificate: it holds nothing of anyone.

use crate::wire::admin::{AdminError, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

/// The most pages a sample has: enough to page through, small enough to make on a call.
pub const MAX_PAGES: u32 = 50;

pub fn router() -> Router {
    Router::new().route("/samples/document.pdf", get(document))
}

#[derive(Deserialize)]
struct Pages {
    pages: Option<String>,
}

async fn document(Query(query): Query<Pages>) -> Result<Response, AdminError> {
    let pages = match query.pages.as_deref().map(str::trim) {
        None => 1,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGES).contains(n))
            .ok_or_else(|| {
                AdminError::bad_request(format!(
                    "'pages' is how many pages the sample has, 1 to {MAX_PAGES} \
                     (e.g. ?pages=3), not '{text}'"
                ))
            })?,
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"document.pdf\"",
            ),
        ],
        crate::pki::sample_pdf(pages),
    )
        .into_response())
}
