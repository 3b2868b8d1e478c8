//! `/sign/envelope/{id}/signer/{signer_id}...`: a signer's status, their face image once
//! signed, and their identification documents (added and read back as file URLs).

use crate::providers::qitech::handlers::ApiKey;
use crate::providers::qitech::service::files::FileKind;
use crate::providers::qitech::wire::render::timestamp;
use crate::providers::qitech::wire::{request, Path, QError, QResult};
use crate::providers::qitech::QiTech;
use crate::wire::Fields;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::sync::Arc;

pub async fn signer(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path((id, signer_id)): Path<(String, String)>,
) -> QResult {
    state.script(&tenant, &id, "signer.get").await?;
    let envelope = state.get(&tenant, &id)?;
    let signer = envelope.signer(&signer_id)?;
    let mut body = json!({
        "name": signer.name,
        "email": signer.email,
        "status": signer.status(),
        "signed_at": signer.signed_at.map(timestamp),
    });
    if signer.email.is_none() {
        if let Some(map) = body.as_object_mut() {
            map.remove("email");
        }
    }
    Ok(Json(body).into_response())
}

pub async fn add_personal_document(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path((id, signer_id)): Path<(String, String)>,
    request: Request,
) -> QResult {
    let fields = Fields::read_json(request, state.body_limit).await?;
    state.get(&tenant, &id)?.signer(&signer_id)?;
    state.script(&tenant, &id, "personal_document.add").await?;
    let document = request::parse_personal_document(&fields.values, state.engine().now(&tenant))?;
    let added = state.add_personal_document(&tenant, &id, &signer_id, document)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "created_at": timestamp(added.created_at) })),
    )
        .into_response())
}

pub async fn face(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path((id, signer_id)): Path<(String, String)>,
) -> QResult {
    state.script(&tenant, &id, "signer.face").await?;
    let envelope = state.get(&tenant, &id)?;
    let signer = envelope.signer(&signer_id)?;
    if signer.signed_at.is_none() {
        return Err(QError::not_found(
            "FACE_IMAGE_NOT_FOUND",
            format!("Signer {signer_id} has no face image yet: it is taken when they sign"),
            format!("O signatário {signer_id} ainda não tem imagem do rosto"),
        ));
    }
    let url = state.file_url(&tenant, &id, FileKind::Face(signer_id), "jpeg");
    Ok(Json(json!({ "face_image_url": url })).into_response())
}

pub async fn personal_documents(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path((id, signer_id)): Path<(String, String)>,
) -> QResult {
    state
        .script(&tenant, &id, "signer.personal_document")
        .await?;
    let envelope = state.get(&tenant, &id)?;
    let signer = envelope.signer(&signer_id)?;
    if signer.personal_documents.is_empty() {
        return Err(QError::not_found(
            "PERSONAL_DOCUMENT_NOT_FOUND",
            format!("Signer {signer_id} has no identification document"),
            format!("O signatário {signer_id} não tem documento de identificação"),
        ));
    }
    let url = |front: bool| {
        signer
            .personal_documents
            .iter()
            .find(|d| d.template.is_front() == front)
            .map(|d| {
                let kind = if front {
                    FileKind::Front(signer_id.clone())
                } else {
                    FileKind::Back(signer_id.clone())
                };
                state.file_url(&tenant, &id, kind, &d.file_type)
            })
    };
    Ok(Json(json!({
        "document_front_url": url(true),
        "document_back_url": url(false),
    }))
    .into_response())
}
