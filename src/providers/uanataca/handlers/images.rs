//! Images (PNG rubrics for visible signatures) and metadata (data signed into the
//! signature as an attribute), kept per tenant like the optimizer keeps them on disk.

use crate::engine::store::Resettable;
use crate::engine::tenant::Tenants;
use crate::providers::uanataca::model::Image;
use crate::providers::uanataca::service::Uanataca;
use crate::providers::uanataca::wire::images::{read_image, read_metadata};
use crate::providers::uanataca::wire::{
    invalid_json, ok, Body, Path, TenantHeader, UError, UResult,
};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{json, Map};
use std::sync::Arc;
use time::macros::format_description;

pub async fn upload(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body,
) -> UResult {
    let (file, size) = read_image(&fields)?;
    let uid = state.oneshot.engine().ids.uuid();
    state.images.insert(
        &tenant,
        uid.clone(),
        Image {
            bytes: file.bytes.clone(),
            filename: file.filename.clone(),
            uploaded_at: state.oneshot.engine().now(&tenant),
            size,
        },
    );
    Ok(ok(uid))
}

pub async fn retrieve(
    State(state): State<Arc<Uanataca>>,
    Path(uid): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let image = state
        .images
        .get(&tenant, &uid)
        .ok_or_else(|| UError::not_found(format!("Image with uid {uid} not found")))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], image.bytes).into_response())
}

pub async fn delete(
    State(state): State<Arc<Uanataca>>,
    Path(uid): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    state
        .images
        .remove(&tenant, &uid)
        .ok_or_else(|| UError::not_found(format!("Image with uid {uid} not found on disk")))?;
    Ok(ok("Image deleted"))
}

pub async fn list(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let date =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");
    let mut images = state.images.entries(&tenant);
    images.sort_by_key(|(_, image)| image.uploaded_at);
    let mut details = Map::new();
    for (uid, image) in images {
        details.insert(
            uid,
            json!({
                "upload_date": image.uploaded_at.format(date).unwrap_or_default(),
                "ext": ".png",
                "size": [image.size.0, image.size.1],
                "mime": "image/png",
                "filename": image.filename,
            }),
        );
    }
    Ok(ok(details))
}

pub async fn delete_all(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    state.images.reset(&Tenants::only(&tenant));
    Ok(ok("Images deleted successfully"))
}

pub async fn upload_metadata(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body<{ invalid_json::CODED }>,
) -> UResult {
    let metadata = read_metadata(&fields)?;
    let uid = state.oneshot.engine().ids.hex(16);
    state.metadata.insert(&tenant, uid.clone(), metadata);
    Ok(ok(json!({ "metadata": uid })))
}

fn metadata_not_found() -> UError {
    UError::not_found("Metadata not found on disk")
}

pub async fn list_metadata(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let entries = state.metadata.entries(&tenant);
    if entries.is_empty() {
        return Err(metadata_not_found());
    }
    let details: Map<String, serde_json::Value> = entries
        .into_iter()
        .map(|(uid, m)| (uid, json!({ "oid": m.oid, "metadata": m.encoded })))
        .collect();
    Ok(ok(details))
}

pub async fn get_metadata(
    State(state): State<Arc<Uanataca>>,
    Path(uid): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    let m = state
        .metadata
        .get(&tenant, &uid)
        .ok_or_else(metadata_not_found)?;
    Ok(ok(json!({ "oid": m.oid, "metadata": m.encoded })))
}

pub async fn delete_metadata(
    State(state): State<Arc<Uanataca>>,
    Path(uid): Path<String>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    state
        .metadata
        .remove(&tenant, &uid)
        .ok_or_else(metadata_not_found)?;
    Ok(ok("Metadata successfully deleted"))
}

pub async fn delete_all_metadata(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    state.metadata.reset(&Tenants::only(&tenant));
    Ok(ok("All metadata deleted"))
}
