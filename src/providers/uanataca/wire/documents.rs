//! The documents calls' fields: the files an upload carries (PDFs, or the hash flow's
//! `hashfile`), each checked before it reaches the request, and the `{type}` path segment.

use super::{hashfile, UError};
use crate::providers::shared::oneshot::{DocumentKind, NewDocument, MAX_DOCUMENTS};
use crate::wire::checks::is_pdf;
use crate::wire::Fields;

/// The documents an upload to request `pk` carries: at least one, at most
/// `MAX_DOCUMENTS`, each a PDF that can be signed or a valid hashfile.
pub fn read_uploads(fields: Fields, pk: u64) -> Result<Vec<NewDocument>, UError> {
    if fields.files.is_empty() {
        return Err(UError::bad_request(
            "Missing required parameter: 'file' (send the PDF as a multipart file part)",
        ));
    }
    if fields.files.len() > MAX_DOCUMENTS {
        return Err(UError::bad_request(format!(
            "Maximum number of document reached for Request {pk}"
        )));
    }
    let mut uploads = Vec::with_capacity(fields.files.len());
    for file in fields.files {
        // The hash flow uploads a JSON `hashfile` instead of a PDF.
        if file.field == "hashfile" {
            let kind = hashfile::parse(&file.bytes).map_err(|reason| {
                UError::bad_request(format!("Invalid hashfile {}: {reason}", file.filename))
            })?;
            uploads.push(NewDocument {
                kind,
                key: file.field,
                filename: file.filename,
                bytes: file.bytes,
            });
            continue;
        }
        if !is_pdf(&file.bytes) {
            tracing::warn!(
                filename = %file.filename,
                content_type = file.content_type.as_deref().unwrap_or("unknown type"),
                "document refused: only PDF documents can be signed"
            );
            return Err(UError::unsupported(format!(
                "Unsupported file type: {}",
                file.filename
            )));
        }
        // A file that only starts like a PDF is refused now, not when the OTP is spent.
        if let Err(reason) = crate::pki::check_pdf(&file.bytes) {
            return Err(UError::bad_request(format!(
                "Cannot upload document {}: {reason}",
                file.filename
            )));
        }
        uploads.push(NewDocument {
            kind: DocumentKind::Pdf,
            key: file.field,
            filename: file.filename,
            bytes: file.bytes,
        });
    }
    Ok(uploads)
}

/// `original` or `signed`, the `{type}` path segment.
pub fn signed_kind(kind: &str) -> Result<bool, UError> {
    match kind {
        "original" => Ok(false),
        "signed" => Ok(true),
        other => Err(UError::bad_request(format!(
            "Invalid document type '{other}': use original or signed"
        ))),
    }
}
