//! `POST /sign/envelope/{id}/document`: a PDF added to an envelope not yet sent.

use crate::providers::qitech::handlers::ApiKey;
use crate::providers::qitech::wire::render::timestamp;
use crate::providers::qitech::wire::{request, Path, QResult};
use crate::providers::qitech::QiTech;
use crate::wire::Fields;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::sync::Arc;

pub async fn add_document(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path(id): Path<String>,
    request: Request,
) -> QResult {
    let fields = Fields::read_json(request, state.body_limit).await?;
    state.get(&tenant, &id)?;
    state.script(&tenant, &id, "document.add").await?;
    let engine = state.engine();
    let document =
        request::parse_document(&fields.values, engine.now(&tenant), || engine.ids.uuid())?;
    let added = state.add_document(&tenant, &id, document)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": added.id, "created_at": timestamp(added.created_at) })),
    )
        .into_response())
}
