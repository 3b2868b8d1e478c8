//! The images and metadata calls' fields: a PNG rubric, and metadata (a dotted OID and
//! base64 data that must fit in a signed attribute).

use super::UError;
use crate::pki::MAX_ATTRIBUTE_VALUE;
use crate::providers::uanataca::model::{png_size, Metadata};
use crate::wire::{Fields, Upload};
use base64::Engine as _;

/// The uploaded `image`, a PNG, with its width and height.
pub fn read_image(fields: &Fields) -> Result<(&Upload, (u32, u32)), UError> {
    let file = fields
        .file("image")
        .ok_or_else(|| UError::bad_request("Missing required parameter: 'image'"))?;
    let size = png_size(&file.bytes).ok_or_else(|| {
        tracing::warn!(filename = %file.filename, "image refused: only PNG images can be used");
        UError::unsupported(format!("Image file type not supported: {}", file.filename))
    })?;
    Ok((file, size))
}

/// The metadata call's `metadata` and `metadata_oid`.
pub fn read_metadata(fields: &Fields) -> Result<Metadata, UError> {
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
    Ok(Metadata {
        oid,
        encoded,
        decoded,
    })
}
