//! Documents of a request: upload, retrieve (original or signed), list, delete, contract.

use crate::providers::shared::oneshot::DocumentKind;
use crate::providers::uanataca::service::Uanataca;
use crate::providers::uanataca::wire::documents::{read_uploads, signed_kind};
use crate::providers::uanataca::wire::{
    model_error, ok, parse_pk, Path, TenantHeader, UError, UResult,
};
use crate::wire::Fields;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use time::macros::format_description;

fn pdf_response(bytes: Bytes, filename: &str) -> Response {
    file_response(bytes, filename, "application/pdf")
}

fn file_response(bytes: Bytes, filename: &str, content_type: &str) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", filename.replace('"', ""));
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

pub async fn upload(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
    // Read after the pk is checked: an unknown request is reported before the body.
    request: Request,
) -> UResult {
    let not_found = |pk: &dyn std::fmt::Display| {
        format!("Cannot upload document: Request {pk} not found on disk")
    };
    let pk = parse_pk(&pk).ok_or_else(|| UError::not_found(not_found(&pk)))?;
    let fields = Fields::read(request, state.body_limit).await?;
    state.script(&tenant, pk, "document.upload").await?;
    // Unknown requests are reported before anything about the body.
    state
        .oneshot
        .get(&tenant, pk)
        .map_err(|e| model_error(pk, e, |pk| not_found(&pk)))?;
    let uploads = read_uploads(fields, pk)?;
    let single = uploads.len() == 1;
    let added = state
        .oneshot
        .add_documents(&tenant, pk, uploads)
        .map_err(|e| model_error(pk, e, |pk| not_found(&pk)))?;
    if let (true, Some(only)) = (single, added.first()) {
        return Ok(ok(only.uid.clone()));
    }
    let listed: Vec<Value> = added
        .iter()
        .map(|d| json!({ "digest": d.digest, "uid": d.uid, "key": d.key, "filename": d.filename }))
        .collect();
    Ok(ok(listed))
}

pub async fn contract(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let not_found = || UError::not_found(format!("Request {pk} not found"));
    let id = parse_pk(&pk).ok_or_else(not_found)?;
    state.script(&tenant, id, "contract").await?;
    let found = state.oneshot.get(&tenant, id).map_err(|_| not_found())?;
    // Once signed, the contract comes back with the signer's signature on it.
    let bytes = found.signed_contract.unwrap_or(found.contract);
    Ok(pdf_response(bytes, &format!("contract_{id}.pdf")))
}

pub async fn retrieve(
    State(state): State<Arc<Uanataca>>,
    Path((pk, kind, uid)): Path<(String, String, String)>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let signed = signed_kind(&kind)?;
    let not_found = || UError::not_found("Document not found");
    let id = parse_pk(&pk).ok_or_else(not_found)?;
    state.script(&tenant, id, "document.retrieve").await?;
    let found = state.oneshot.get(&tenant, id).map_err(|_| not_found())?;
    let document = found.document(&uid).ok_or_else(not_found)?;
    let (bytes, filename, content_type) = match (&document.kind, signed) {
        (DocumentKind::Pdf, false) => (
            document.original.clone(),
            document.filename.clone(),
            "application/pdf",
        ),
        (DocumentKind::Pdf, true) => (
            document.signed.clone().ok_or_else(not_found)?,
            document.filename.clone(),
            "application/pdf",
        ),
        // Not application/json: clients read a JSON download as an error answer.
        (DocumentKind::Hash { .. }, false) => (
            document.original.clone(),
            document.filename.clone(),
            "application/octet-stream",
        ),
        // The signed hash is a detached CMS: clients save it with a .p7m extension.
        (DocumentKind::Hash { .. }, true) => (
            document.signed.clone().ok_or_else(not_found)?,
            format!("{}.p7m", document.uid),
            "application/pkcs7-mime",
        ),
    };
    Ok(file_response(bytes, &filename, content_type))
}

pub async fn delete(
    State(state): State<Arc<Uanataca>>,
    Path((pk, kind, uid)): Path<(String, String, String)>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let signed = signed_kind(&kind)?;
    let not_found =
        || UError::not_found(format!("Document not found with uid {uid} and type {kind}"));
    let id = parse_pk(&pk).ok_or_else(not_found)?;
    state
        .oneshot
        .delete_document(&tenant, id, &uid, signed)
        .map_err(|_| not_found())?;
    Ok(ok("Document successfully deleted"))
}

pub async fn list(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let none = || UError::not_found("No documents found for specified Request");
    let id = parse_pk(&pk).ok_or_else(none)?;
    state.script(&tenant, id, "document.list").await?;
    let found = state.oneshot.get(&tenant, id).map_err(|_| none())?;
    if found.documents.is_empty() {
        return Err(none());
    }
    let date = format_description!("[day]/[month]/[year] [hour]:[minute]:[second]");
    let mut details = Map::new();
    for document in &found.documents {
        details.insert(
            document.uid.clone(),
            json!({
                "upload_date": document.uploaded_at.format(date).unwrap_or_default(),
                "ext": if document.kind == DocumentKind::Pdf { ".pdf" } else { ".json" },
                "size": document.original.len(),
                "mime": if document.kind == DocumentKind::Pdf { "application/pdf" } else { "application/json" },
                "filename": document.filename,
            }),
        );
    }
    Ok(ok(details))
}

pub async fn delete_all(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let not_found = || UError::not_found(format!("Request {pk} not found"));
    let id = parse_pk(&pk).ok_or_else(not_found)?;
    state
        .oneshot
        .delete_documents(&tenant, id)
        .map_err(|_| not_found())?;
    Ok(ok("Documents deleted successfully"))
}
