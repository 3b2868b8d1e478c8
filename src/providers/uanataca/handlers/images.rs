//! Images (PNG rubrics for visible signatures) and metadata (data signed into the
//! signature as an attribute), kept per tenant like the optimizer keeps them on disk.

use crate::engine::store::Resettable;
use crate::pki::MAX_ATTRIBUTE_VALUE;
use crate::providers::uanataca::model::{png_size, Image, Metadata};
use crate::providers::uanataca::wire::{invalid_json, ok, Body, Path, UError, UResult};
use crate::providers::uanataca::Uanataca;
use crate::wire::Tenant;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use base64::Engine as _;
use serde_json::{json, Map};
use std::sync::Arc;
use time::macros::format_description;

pub async fn upload(
    State(state): State<Arc<Uanataca>>,
    Tenant(tenant): Tenant,
    Body(fields): Body,
) -> UResult {
    let file = fields
        .file("image")
        .ok_or_else(|| UError::bad_request("Missing required parameter: 'image'"))?;
    let size = png_size(&file.bytes).ok_or_else(|| {
        tracing::warn!(filename = %file.filename, "image refused: only PNG images can be used");
        UError::unsupported(format!("Image file type not supported: {}", file.filename))
    })?;
    let uid = state.oneshot.engine().ids.uuid();
    state.images.insert(
        &tenant,
        uid.clone(),
        Image {
            bytes: file.bytes.clone(),
            filename: file.filename.clone(),
            uploaded_at: state.oneshot.engine().now(),
            size,
        },
    );
    Ok(ok(uid))
}

pub async fn retrieve(
    State(state): State<Arc<Uanataca>>,
    Path(uid): Path<String>,
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
) -> UResult {
    state
        .images
        .remove(&tenant, &uid)
        .ok_or_else(|| UError::not_found(format!("Image with uid {uid} not found on disk")))?;
    Ok(ok("Image deleted"))
}

pub async fn list(State(state): State<Arc<Uanataca>>, Tenant(tenant): Tenant) -> UResult {
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

pub async fn delete_all(State(state): State<Arc<Uanataca>>, Tenant(tenant): Tenant) -> UResult {
    state.images.reset(Some(&tenant));
    Ok(ok("Images deleted successfully"))
}

pub async fn upload_metadata(
    State(state): State<Arc<Uanataca>>,
    Tenant(tenant): Tenant,
    Body(fields): Body<{ invalid_json::CODED }>,
) -> UResult {
    let (Some(encoded), Some(oid)) = (fields.text("metadata")?, fields.text("metadata_oid")?)
    else {
        tracing::info!("metadata refused: metadata and metadata_oid are both required");
        return Err(UError::bad_request("Missing required parameters"));
    };
    let valid_oid = oid.split('.').count() >= 2
        && oid
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    if !valid_oid {
        return Err(UError::bad_request(format!(
            "Invalid metadata_oid '{oid}': expected a dotted OID such as 1.3.6.1.4.1.47289.100.2.9"
        )));
    }
    // The docs' examples wrap base64 at 76 columns.
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| UError::bad_request(format!("metadata must be base64: {e}")))?;
    if decoded.len() > MAX_ATTRIBUTE_VALUE {
        return Err(UError::bad_request(format!(
            "metadata is {} bytes once decoded; at most {MAX_ATTRIBUTE_VALUE} fit in a signature",
            decoded.len()
        )));
    }
    let uid = state.oneshot.engine().ids.hex(16);
    state.metadata.insert(
        &tenant,
        uid.clone(),
        Metadata {
            oid,
            encoded,
            decoded,
        },
    );
    Ok(ok(json!({ "metadata": uid })))
}

fn metadata_not_found() -> UError {
    UError::not_found("Metadata not found on disk")
}

pub async fn list_metadata(State(state): State<Arc<Uanataca>>, Tenant(tenant): Tenant) -> UResult {
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
    Tenant(tenant): Tenant,
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
    Tenant(tenant): Tenant,
) -> UResult {
    state
        .metadata
        .remove(&tenant, &uid)
        .ok_or_else(metadata_not_found)?;
    Ok(ok("Metadata successfully deleted"))
}

pub async fn delete_all_metadata(
    State(state): State<Arc<Uanataca>>,
    Tenant(tenant): Tenant,
) -> UResult {
    state.metadata.reset(Some(&tenant));
    Ok(ok("All metadata deleted"))
}
