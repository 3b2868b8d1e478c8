//! The sign call's visible-signature options (`options`, `use_signature_text`,
//! `signature_format`) and `metadata`, read into the model's `SignOptions`.

use super::UError;
use crate::engine::tenant::Tenant;
use crate::engine::timefmt;
use crate::pki::SignedAttribute;
use crate::providers::shared::oneshot::{
    SignOptions, SignatureRequest, SignatureText, VisibleSignature,
};
use crate::providers::uanataca::service::Uanataca;
use crate::wire::Fields;
use axum::http::StatusCode;
use serde_json::{Map, Value};

/// The status line the docs write for the sign call's missing document and image.
const NOT_FOUND_LOWER: &str = "404 Not found";

impl Uanataca {
    /// Reads the options of a sign call on `request`. Errors follow the docs: per-document
    /// problems come as an object keyed by document uid.
    pub(crate) fn sign_options(
        &self,
        tenant: &Tenant,
        fields: &Fields,
        request: &SignatureRequest,
    ) -> Result<SignOptions, UError> {
        let mut options = SignOptions::default();
        if fields.flag("use_signature_text")?.unwrap_or(true) {
            options.text = Some(signature_text(fields.values.get("signature_format"))?);
        }
        if let Some(uid) = fields.text("metadata")? {
            let metadata = self
                .metadata
                .get(tenant, &uid)
                .ok_or_else(|| UError::not_found("Metadata not found on disk"))?;
            options.attributes.push(SignedAttribute {
                oid: metadata.oid,
                value: metadata.decoded,
            });
        }
        let per_document = match fields.values.get("options") {
            None | Some(Value::Null) => return Ok(options),
            Some(Value::Object(per_document)) => per_document,
            Some(_) => {
                return Err(UError::bad_request(
                    "Invalid value for 'options': expected an object keyed by document uid",
                ))
            }
        };
        let missing: Vec<&str> = per_document
            .keys()
            .filter(|uid| request.document(uid).is_none())
            .map(String::as_str)
            .collect();
        // The docs' words: one document `404 Not found` with `folders:<uid>`, several
        // `404 Not Found` with `folders: <uid>, <uid>`.
        match missing.as_slice() {
            [] => {}
            [uid] => {
                return Err(UError::worded(
                    StatusCode::NOT_FOUND,
                    NOT_FOUND_LOWER,
                    format!("The following documents are not found in Request's folders:{uid}"),
                ))
            }
            _ => {
                return Err(UError::not_found(format!(
                    "The following documents are not found in Request's folders: {}",
                    missing.join(", ")
                )))
            }
        }
        let mut problems = Map::new();
        let mut missing_images = Map::new();
        for (uid, spec) in per_document {
            match self.visible_signature(tenant, uid, spec) {
                Ok(visible) => options.visible.push((uid.clone(), visible)),
                Err(Problem::Invalid(message)) => {
                    problems.insert(uid.clone(), Value::String(message));
                }
                Err(Problem::MissingImage(message)) => {
                    missing_images.insert(uid.clone(), Value::String(message));
                }
            }
        }
        if !problems.is_empty() {
            return Err(UError::bad_request(problems));
        }
        if !missing_images.is_empty() {
            return Err(UError::worded(
                StatusCode::NOT_FOUND,
                NOT_FOUND_LOWER,
                missing_images,
            ));
        }
        Ok(options)
    }

    fn visible_signature(
        &self,
        tenant: &Tenant,
        uid: &str,
        spec: &Value,
    ) -> Result<VisibleSignature, Problem> {
        let invalid = |message: String| Problem::Invalid(message);
        let Value::Object(spec) = spec else {
            return Err(invalid(format!(
                "Options for file {uid} must be an object with position and page"
            )));
        };
        let position = spec.get("position").ok_or_else(|| {
            invalid(format!(
                "Missing required parameter 'position' for file {uid}"
            ))
        })?;
        let rect = rectangle(position).ok_or_else(|| {
            invalid(format!(
                "Invalid position {position} for file {uid}: expected \"x1, y1, x2, y2\" in points, with x1 < x2 and y1 < y2"
            ))
        })?;
        let page = spec
            .get("page")
            .ok_or_else(|| invalid(format!("Missing required parameter 'page' for file {uid}")))?;
        let page = match page {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .and_then(|p| u32::try_from(p).ok())
        .ok_or_else(|| {
            invalid(format!(
                "Invalid page {page} for file {uid}: expected a page number from 0"
            ))
        })?;
        let image = match spec.get("image") {
            None | Some(Value::Null) => None,
            Some(Value::String(image_uid)) => Some(
                self.images
                    .get(tenant, image_uid)
                    .ok_or_else(|| {
                        Problem::MissingImage(format!(
                            "The image {image_uid} cannot be found on disk"
                        ))
                    })?
                    .bytes,
            ),
            Some(other) => {
                return Err(invalid(format!(
                    "Invalid image {other} for file {uid}: expected an image uid"
                )))
            }
        };
        Ok(VisibleSignature { page, rect, image })
    }
}

enum Problem {
    Invalid(String),
    MissingImage(String),
}

/// `"x1, y1, x2, y2"` (numbers, maybe floats) or a list of four numbers.
fn rectangle(position: &Value) -> Option<[f64; 4]> {
    let numbers: Vec<f64> = match position {
        Value::String(text) => text
            .split(',')
            .map(|part| part.trim().parse::<f64>().ok())
            .collect::<Option<_>>()?,
        Value::Array(items) => items.iter().map(Value::as_f64).collect::<Option<_>>()?,
        _ => return None,
    };
    let [x1, y1, x2, y2]: [f64; 4] = numbers.try_into().ok()?;
    let finite = [x1, y1, x2, y2].iter().all(|n| n.is_finite() && *n >= 0.0);
    (finite && x1 < x2 && y1 < y2).then_some([x1, y1, x2, y2])
}

fn signature_text(format: Option<&Value>) -> Result<SignatureText, UError> {
    let mut text = SignatureText::default();
    let format = match format {
        None | Some(Value::Null) => return Ok(text),
        Some(Value::Object(format)) => format,
        Some(_) => {
            return Err(UError::bad_request(
                "Invalid value for 'signature_format': expected an object with text_format, date_format, timezone",
            ))
        }
    };
    match format.get("text_format") {
        None | Some(Value::Null) => {}
        Some(Value::String(line)) => text.lines = vec![line.clone()],
        Some(Value::Array(lines)) => {
            text.lines = lines
                .iter()
                .map(|line| line.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    UError::bad_request(
                        "Invalid value for 'text_format': expected a list of strings",
                    )
                })?;
        }
        Some(_) => {
            return Err(UError::bad_request(
                "Invalid value for 'text_format': expected a list of strings",
            ))
        }
    }
    if let Some(date_format) = format.get("date_format").and_then(Value::as_str) {
        text.date_format = date_format.to_owned();
    }
    if let Some(zone) = format.get("timezone").and_then(Value::as_str) {
        if !timefmt::is_known_zone(zone) {
            return Err(UError::bad_request(format!(
                "Unknown timezone '{zone}': use an IANA time zone name such as Europe/Madrid or America/Santiago, or an offset such as +01:00"
            )));
        }
        text.timezone = zone.to_owned();
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn positions_as_clients_send_them() {
        assert_eq!(
            rectangle(&json!("10, 20, 110, 70")),
            Some([10.0, 20.0, 110.0, 70.0])
        );
        assert_eq!(
            rectangle(&json!("10.5,20,110,70.25")),
            Some([10.5, 20.0, 110.0, 70.25])
        );
        assert_eq!(rectangle(&json!([1, 2, 3, 4])), Some([1.0, 2.0, 3.0, 4.0]));
        assert_eq!(rectangle(&json!("110, 20, 10, 70")), None);
        assert_eq!(rectangle(&json!("1, 2, 3")), None);
        assert_eq!(rectangle(&json!(5)), None);
    }
}
