//! `/sign/envelope/{id}/report` and `.../document/{document_id}/report`: the signed
//! dossiers of a completed envelope, as file URLs (and inline for one document).

use crate::providers::qitech::handlers::ApiKey;
use crate::providers::qitech::model::ModelError;
use crate::providers::qitech::service::files::FileKind;
use crate::providers::qitech::wire::{render, Path, QResult};
use crate::providers::qitech::QiTech;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn report(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path(id): Path<String>,
) -> QResult {
    state.script(&tenant, &id, "report").await?;
    let envelope = state.get(&tenant, &id)?;
    let status = render::report_status(&envelope);
    let reports: Vec<Value> = if status == "available" {
        envelope
            .dossiers
            .iter()
            .map(|d| {
                let kind = FileKind::Dossier(d.document_id.clone());
                json!({ "id": d.document_id, "url": state.file_url(&tenant, &id, kind, "pdf") })
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(
        Json(json!({ "id": envelope.id, "status": status, "documents_reports": reports }))
            .into_response(),
    )
}

pub async fn document_report(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path((id, document_id)): Path<(String, String)>,
) -> QResult {
    state.script(&tenant, &id, "document.report").await?;
    let envelope = state.get(&tenant, &id)?;
    if !envelope.documents.iter().any(|d| d.id == document_id) {
        return Err(ModelError::DocumentNotFound(document_id).into());
    }
    let dossier = envelope
        .dossiers
        .iter()
        .find(|d| d.document_id == document_id)
        .filter(|_| render::report_status(&envelope) == "available");
    let body = match dossier {
        Some(d) => json!({
            "id": document_id,
            "status": "available",
            "document_report_url":
                state.file_url(&tenant, &id, FileKind::Dossier(document_id.clone()), "pdf"),
            "document_report": base64::engine::general_purpose::STANDARD.encode(&d.bytes),
        }),
        None => json!({
            "id": document_id,
            "status": "unavailable",
            "document_report_url": null,
            "document_report": null,
        }),
    };
    Ok(Json(body).into_response())
}
