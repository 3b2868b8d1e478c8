//! Which file a retrieve or download call names: `{pk, type, uid}`.

use super::request::body_pk;
use super::SError;
use crate::wire::Fields;

/// Which file a retrieve or download call names: `{pk, type, uid}`.
pub struct Wanted {
    pub pk: u64,
    pub uid: String,
    pub signed: bool,
}

pub fn wanted(fields: &Fields) -> Result<Wanted, SError> {
    let kind = fields.text("type")?;
    let uid = fields.text("uid")?;
    let missing: Vec<&str> = [
        ("pk", fields.text("pk")?.is_none()),
        ("type", kind.is_none()),
        ("uid", uid.is_none()),
    ]
    .into_iter()
    .filter(|(_, absent)| *absent)
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Err(SError::bad_request(format!(
            "Missing required parameters: {}",
            missing.join(", ")
        )));
    }
    let signed = match kind.as_deref().unwrap_or_default() {
        "original" => false,
        "signed" => true,
        other => {
            return Err(SError::bad_request(format!(
                "Invalid type '{other}': use original or signed"
            )))
        }
    };
    Ok(Wanted {
        pk: body_pk(fields)?,
        uid: uid.unwrap_or_default(),
        signed,
    })
}
