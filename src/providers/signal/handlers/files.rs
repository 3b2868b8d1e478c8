//! The documents of a request: `retrieve` hands out a link that works without the token
//! (like a presigned URL), `download` answers the bytes.

use crate::engine::seconds;
use crate::engine::tenant::Tenant;
use crate::providers::signal::model::{FileLink, LINK_LIFETIME_SECONDS};
use crate::providers::signal::service::Signal;
use crate::providers::signal::wire::files::{wanted, Wanted};
use crate::providers::signal::wire::{Bearer, Body, SError, SResult};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::json;
use std::sync::Arc;

impl Signal {
    /// The bytes and filename of one document, original or signed.
    pub(crate) fn file(
        &self,
        tenant: &Tenant,
        pk: u64,
        uid: &str,
        signed: bool,
    ) -> Result<Bytes, SError> {
        let request = self
            .oneshot
            .get(tenant, pk)
            .map_err(|_| SError::not_found(format!("Request {pk} not found")))?;
        let document = request
            .document(uid)
            .ok_or_else(|| SError::not_found(format!("Document {uid} not found")))?;
        if !signed {
            return Ok(document.original.clone());
        }
        document.signed.clone().ok_or_else(|| {
            SError::not_found("Signed document not found: the request is not signed yet")
        })
    }
}

pub fn octet_stream(bytes: Bytes, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

pub fn filename(wanted_signed: bool, uid: &str) -> String {
    let kind = if wanted_signed { "signed" } else { "original" };
    format!("{uid}_{kind}.pdf")
}

pub async fn retrieve(
    State(state): State<Arc<Signal>>,
    Bearer(tenant): Bearer,
    Body(fields): Body,
) -> SResult {
    let Wanted { pk, uid, signed } = wanted(&fields)?;
    state.script(&tenant, pk, "retrieve").await?;
    // The file must exist now; the link is checked again when it is opened.
    state.file(&tenant, pk, &uid, signed)?;
    let engine = state.oneshot.engine();
    let link = FileLink {
        pk,
        uid,
        signed,
        expires_at: engine.after(&tenant, seconds(LINK_LIFETIME_SECONDS)),
    };
    let id = state.files.insert(engine, &tenant, link);
    Ok(Json(json!({
        "status": true,
        "message": "file retrieved successfully",
        "url": engine.link(&format!(
            "/_signsim/signal/files/{}",
            crate::ui::path_segment(&id)
        )),
    }))
    .into_response())
}

pub async fn download(
    State(state): State<Arc<Signal>>,
    Bearer(tenant): Bearer,
    Body(fields): Body,
) -> SResult {
    let Wanted { pk, uid, signed } = wanted(&fields)?;
    state.script(&tenant, pk, "download").await?;
    let bytes = state.file(&tenant, pk, &uid, signed)?;
    Ok(octet_stream(bytes, &filename(signed, &uid)))
}
