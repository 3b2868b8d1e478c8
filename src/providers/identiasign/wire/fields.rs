//! Readers of the body fields of the process and label calls, each checking one field
//! and naming it in its 400.

use super::IError;
use crate::engine::outbox::Channel;
use crate::providers::identiasign::model::{
    self, Contact, EntityConfig, Nat, Signer, SignerChange,
};
use crate::wire::Fields;
use bytes::Bytes;
use serde_json::{Map, Value};

/// `expire` when the call gives none: 30 days, as the docs say.
pub const DEFAULT_EXPIRE_SECONDS: u64 = 30 * 24 * 3600;
/// Longest `expire` or `link_expire` accepted: ten years.
pub const MAX_EXPIRE_SECONDS: u64 = 10 * 365 * 24 * 3600;
const MAX_FILES: usize = 20;
const MAX_SIGNERS: usize = 50;
const MAX_TEXT: usize = 2000;

/// Seconds in `1..=MAX_EXPIRE_SECONDS`.
pub fn seconds_field(fields: &Fields, name: &str) -> Result<Option<u64>, IError> {
    let Some(raw) = fields.text(name)? else {
        return Ok(None);
    };
    raw.parse::<u64>()
        .ok()
        .filter(|s| (1..=MAX_EXPIRE_SECONDS).contains(s))
        .map(Some)
        .ok_or_else(|| {
            IError::field(
                name,
                format!("se esperaban segundos entre 1 y {MAX_EXPIRE_SECONDS}"),
            )
        })
}

/// Free text, at most `MAX_TEXT` characters.
pub fn short_text(fields: &Fields, name: &str) -> Result<Option<String>, IError> {
    let value = fields.text(name)?;
    if value.as_ref().is_some_and(|v| v.chars().count() > MAX_TEXT) {
        return Err(IError::field(name, format!("máximo {MAX_TEXT} caracteres")));
    }
    Ok(value)
}

/// A member that is JSON, sent as JSON or as JSON text (a multipart or form field).
fn json_field(fields: &Fields, name: &str) -> Result<Option<Value>, IError> {
    match fields.values.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => serde_json::from_str(text).map(Some).map_err(|e| {
            let at = format!("línea {}, columna {}", e.line(), e.column());
            IError::field(name, format!("JSON inválido ({at})"))
        }),
        Some(other) => Ok(Some(other.clone())),
    }
}

fn member_text(
    object: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, IError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
        Some(_) => Err(IError::field(path, "se esperaba un texto")),
    }
}

/// `(+|-)HH:MM`, a real offset.
fn valid_tz(tz: &str) -> bool {
    let bytes = tz.as_bytes();
    let two = |at: usize| -> Option<u8> {
        let pair = tz.get(at..at + 2)?;
        pair.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| pair.parse().ok())
            .flatten()
    };
    bytes.len() == 6
        && matches!(bytes.first(), Some(b'+' | b'-'))
        && bytes.get(3) == Some(&b':')
        && two(1).is_some_and(|h| h <= 14)
        && two(4).is_some_and(|m| m <= 59)
}

/// `contactInfo`: `{type: email|whatsapp, value, tz?}`.
fn contact(value: &Value, path: &str) -> Result<Contact, IError> {
    let object = value
        .as_object()
        .ok_or_else(|| IError::field(path, "se esperaba un objeto"))?;
    let at = |key: &str| format!("{path}.{key}");
    let kind =
        member_text(object, "type", &at("type"))?.ok_or_else(|| IError::missing(&at("type")))?;
    let channel = match kind.as_str() {
        "email" => Channel::Email,
        "whatsapp" => Channel::Whatsapp,
        _ => return Err(IError::field(&at("type"), "use email o whatsapp")),
    };
    let value =
        member_text(object, "value", &at("value"))?.ok_or_else(|| IError::missing(&at("value")))?;
    let valid = match channel {
        Channel::Whatsapp => value
            .strip_prefix('+')
            .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())),
        _ => {
            value.len() <= 254
                && !value.contains(char::is_whitespace)
                && value
                    .split_once('@')
                    .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
        }
    };
    if !valid {
        let what = match channel {
            Channel::Whatsapp => "use + y el código de país seguido solo de números (+51987654321)",
            _ => "se esperaba un correo electrónico",
        };
        return Err(IError::field(&at("value"), what));
    }
    let tz = member_text(object, "tz", &at("tz"))?.unwrap_or_else(|| "-05:00".into());
    if !valid_tz(&tz) {
        return Err(IError::field(&at("tz"), "use el formato (+|-)HH:MM"));
    }
    Ok(Contact {
        channel,
        value,
        tz,
        notified: false,
    })
}

/// `stampPositions`: file index → page → position; indexes must name uploaded files.
fn stamp_positions(value: &Value, path: &str, files: usize) -> Result<Map<String, Value>, IError> {
    let object = value.as_object().ok_or_else(|| {
        IError::field(
            path,
            "se esperaba un objeto {\"<índice de archivo>\": {...}}",
        )
    })?;
    for (key, positions) in object {
        let index = key.parse::<usize>().ok().filter(|i| *i < files);
        if index.is_none() {
            return Err(IError::field(
                path,
                format!(
                    "'{key}' no es el índice de un archivo (0 a {})",
                    files.saturating_sub(1)
                ),
            ));
        }
        if !positions.is_object() {
            return Err(IError::field(
                &format!("{path}.{key}"),
                "se esperaba un objeto",
            ));
        }
    }
    Ok(object.clone())
}

/// `signers[index]` of a new process.
fn parse_signer(
    value: &Value,
    index: usize,
    files: usize,
    config: &EntityConfig,
) -> Result<Signer, IError> {
    let path = format!("signers[{index}]");
    let at = |key: &str| format!("{path}.{key}");
    let object = value
        .as_object()
        .ok_or_else(|| IError::field(&path, "se esperaba un objeto"))?;
    let nat_text =
        member_text(object, "nat", &at("nat"))?.ok_or_else(|| IError::missing(&at("nat")))?;
    let nat = Nat::parse(&nat_text).ok_or_else(|| {
        IError::field(
            &at("nat"),
            format!("use uno de {}", model::NAT_NAMES.join(", ")),
        )
    })?;
    if config.refused_nats.contains(&nat) {
        return Err(IError::field(
            &at("nat"),
            format!("el tipo de ID {} no está contratado", nat.as_str()),
        ));
    }
    let doc_id = member_text(object, "doc_id", &at("doc_id"))?
        .ok_or_else(|| IError::missing(&at("doc_id")))?;
    if !nat.valid(&doc_id) {
        return Err(IError::field(
            &at("doc_id"),
            format!("formato de {} esperado: {}", nat.as_str(), nat.example()),
        ));
    }
    let signature_type = member_text(object, "signatureType", &at("signatureType"))?
        .unwrap_or_else(|| "advanced".into());
    if signature_type != "advanced" {
        return Err(IError::field(
            &at("signatureType"),
            "solo se permite advanced",
        ));
    }
    let sign_challenges = match object.get("signChallenges") {
        None | Some(Value::Null) => vec!["facial".to_owned()],
        Some(Value::Array(list)) => list
            .iter()
            .map(|c| match c.as_str() {
                Some("facial") => Ok("facial".to_owned()),
                _ => Err(IError::field(
                    &at("signChallenges"),
                    "solo se permite facial",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(IError::field(
                &at("signChallenges"),
                "se esperaba una lista",
            ))
        }
    };
    let stamp_positions = match object.get("stampPositions") {
        None | Some(Value::Null) => Map::new(),
        Some(value) => stamp_positions(value, &at("stampPositions"), files)?,
    };
    let contact = match object.get("contactInfo") {
        None | Some(Value::Null) => None,
        Some(value) => Some(contact(value, &at("contactInfo"))?),
    };
    let alias = member_text(object, "signerAlias", &at("signerAlias"))?;
    Ok(Signer {
        nat,
        doc_id,
        alias,
        signature_type,
        sign_challenges,
        stamp_positions,
        contact,
        facial: None,
        act: None,
        link: None,
    })
}

/// `signers` of a new process: a list of 1 to `MAX_SIGNERS` signers, none twice; `files`
/// is how many documents the process has.
pub fn signers(
    fields: &Fields,
    files: usize,
    config: &EntityConfig,
) -> Result<Vec<Signer>, IError> {
    let signers = match json_field(fields, "signers")? {
        None => return Err(IError::missing("signers")),
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(IError::field("signers", "se necesita al menos un firmante"))
        }
        Some(Value::Array(list)) if list.len() > MAX_SIGNERS => {
            return Err(IError::field(
                "signers",
                format!("máximo {MAX_SIGNERS} firmantes"),
            ))
        }
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, s)| parse_signer(s, i, files, config))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(IError::field("signers", "se esperaba una lista")),
    };
    for (i, signer) in signers.iter().enumerate() {
        if signers.iter().take(i).any(|s| s.key() == signer.key()) {
            return Err(IError::field(
                "signers",
                format!("el firmante {} está repetido", signer.key()),
            ));
        }
    }
    Ok(signers)
}

/// `signers` of a modify call: the changes, each `update` or `remove` (none when absent).
pub fn signer_changes(fields: &Fields, files: usize) -> Result<Vec<SignerChange>, IError> {
    match json_field(fields, "signers")? {
        None => Ok(Vec::new()),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| signer_change(v, i, files))
            .collect(),
        Some(_) => Err(IError::field("signers", "se esperaba una lista")),
    }
}

/// `process_id`, which names the process a call is about.
pub fn process_id(fields: &Fields) -> Result<String, IError> {
    fields
        .text("process_id")?
        .ok_or_else(|| IError::missing("process_id"))
}

/// Most processes one reject call names.
pub const MAX_REJECTED: usize = 100;

/// The `process_id`s of a reject call, "uno o varios procesos", in every reading a client
/// sends: the field repeated (multipart or URL-encoded, as `process_id` or `process_id[]`),
/// a JSON list (a JSON body's member, or one field's text as `signers` is sent), or one id.
/// In the order given, each once; at least one and at most `MAX_REJECTED`.
pub fn process_ids(fields: &Fields) -> Result<Vec<String>, IError> {
    const NAMES: [&str; 2] = ["process_id", "process_id[]"];
    let mut given: Vec<Value> = fields
        .repeated
        .iter()
        .filter(|(name, _)| NAMES.contains(&name.as_str()))
        .map(|(_, text)| Value::String(text.clone()))
        .collect();
    if given.is_empty() {
        for name in NAMES {
            match fields.values.get(name) {
                Some(Value::Array(list)) => given.extend(list.iter().cloned()),
                Some(value) => given.push(value.clone()),
                None => {}
            }
        }
    }
    let mut ids: Vec<String> = Vec::new();
    let mut add = |value: &Value| -> Result<(), IError> {
        let id = match value {
            Value::Null => return Ok(()),
            Value::String(text) => text.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(IError::field(
                    "process_id",
                    "se esperaba un identificador o una lista de identificadores",
                ))
            }
        };
        if id.is_empty() || ids.contains(&id) {
            return Ok(());
        }
        if ids.len() >= MAX_REJECTED {
            return Err(IError::field(
                "process_id",
                format!("máximo {MAX_REJECTED} procesos de firma por llamada"),
            ));
        }
        ids.push(id);
        Ok(())
    };
    for value in &given {
        // One field's text may be a JSON list of ids.
        let listed = value
            .as_str()
            .map(str::trim)
            .filter(|text| text.starts_with('['))
            .map(serde_json::from_str::<Vec<Value>>);
        match listed {
            Some(Ok(list)) => list.iter().try_for_each(&mut add)?,
            Some(Err(_)) => {
                return Err(IError::field(
                    "process_id",
                    "se esperaba una lista JSON de identificadores",
                ))
            }
            None => add(value)?,
        }
    }
    if ids.is_empty() {
        return Err(IError::missing("process_id"));
    }
    Ok(ids)
}

/// One change of `signers` in a modify call.
fn signer_change(value: &Value, index: usize, files: usize) -> Result<SignerChange, IError> {
    let path = format!("signers[{index}]");
    let at = |key: &str| format!("{path}.{key}");
    let object = value
        .as_object()
        .ok_or_else(|| IError::field(&path, "se esperaba un objeto"))?;
    let nat = member_text(object, "nat", &at("nat"))?.ok_or_else(|| IError::missing(&at("nat")))?;
    let doc_id = member_text(object, "doc_id", &at("doc_id"))?
        .ok_or_else(|| IError::missing(&at("doc_id")))?;
    let key = format!("{nat}:{doc_id}");
    match member_text(object, "action", &at("action"))?.as_deref() {
        Some("remove") => Ok(SignerChange::Remove { key }),
        Some("update") => Ok(SignerChange::Update {
            key,
            alias: member_text(object, "signerAlias", &at("signerAlias"))?,
            stamp_positions: match object.get("stampPositions") {
                None | Some(Value::Null) => None,
                Some(v) => Some(stamp_positions(v, &at("stampPositions"), files)?),
            },
            contact: match object.get("contactInfo") {
                None | Some(Value::Null) => None,
                Some(v) => Some(contact(v, &at("contactInfo"))?),
            },
        }),
        Some(_) => Err(IError::field(&at("action"), "use update o remove")),
        None => Err(IError::missing(&at("action"))),
    }
}

/// The PDFs: `pdfFiles` parts of a multipart body, or base64 text in a JSON or form body.
pub fn pdf_files(fields: &Fields) -> Result<Vec<(String, Bytes)>, IError> {
    let mut files: Vec<(String, Bytes)> = fields
        .files
        .iter()
        .filter(|f| f.field == "pdfFiles" || f.field == "pdfFiles[]")
        .map(|f| (f.filename.clone(), f.bytes.clone()))
        .collect();
    if files.is_empty() {
        let encoded: Vec<String> = match json_field(fields, "pdfFiles").unwrap_or(None) {
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or(()))
                .collect::<Result<_, _>>()
                .map_err(|_| IError::field("pdfFiles", "se esperaban archivos PDF"))?,
            _ => fields.text("pdfFiles")?.into_iter().collect(),
        };
        for (i, text) in encoded.iter().enumerate() {
            let bytes = crate::wire::checks::decode_base64(text).ok_or_else(|| {
                IError::field(&format!("pdfFiles[{i}]"), "no es un archivo PDF ni base64")
            })?;
            files.push((format!("documento-{}.pdf", i.saturating_add(1)), bytes));
        }
    }
    if files.is_empty() {
        return Err(IError::missing("pdfFiles"));
    }
    if files.len() > MAX_FILES {
        return Err(IError::field(
            "pdfFiles",
            format!("máximo {MAX_FILES} archivos"),
        ));
    }
    for (i, (_, bytes)) in files.iter().enumerate() {
        if let Err(error) = crate::pki::check_pdf(bytes) {
            return Err(IError::field(
                &format!("pdfFiles[{i}]"),
                format!("no es un PDF legible: {}", super::pdf_problem(&error)),
            ));
        }
    }
    Ok(files)
}

/// `labels`: a JSON list of names, each created before with the labels API (`exists`).
pub fn labels(fields: &Fields, exists: impl Fn(&str) -> bool) -> Result<Vec<String>, IError> {
    let list = match json_field(fields, "labels") {
        Ok(Some(Value::Array(list))) => list,
        Ok(None) => return Ok(Vec::new()),
        // A single name, as a form may send it.
        _ => match fields.text("labels")? {
            Some(name) => vec![Value::String(name)],
            None => return Ok(Vec::new()),
        },
    };
    let mut names = Vec::new();
    for value in list {
        let name = value
            .as_str()
            .ok_or_else(|| IError::field("labels", "se esperaba una lista de nombres"))?;
        if !exists(name) {
            return Err(IError::field(
                "labels",
                format!("la etiqueta '{name}' no existe"),
            ));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// `label`: a label's name, at most 100 characters.
pub fn label_name(fields: &Fields) -> Result<String, IError> {
    let name = fields
        .text("label")?
        .ok_or_else(|| IError::missing("label"))?;
    if name.chars().count() > 100 {
        return Err(IError::field("label", "máximo 100 caracteres"));
    }
    Ok(name)
}

pub fn url_callback(fields: &Fields) -> Result<Option<String>, IError> {
    let Some(url) = fields.text("urlCallback")? else {
        return Ok(None);
    };
    match url::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(Some(url)),
        _ => Err(IError::field(
            "urlCallback",
            "se esperaba una URL http(s) absoluta",
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_zones_are_real_offsets() {
        assert!(super::valid_tz("-05:00"));
        assert!(super::valid_tz("+14:00"));
        assert!(!super::valid_tz("+15:00"));
        assert!(!super::valid_tz("05:00"));
        assert!(!super::valid_tz("-5:00"));
        assert!(!super::valid_tz("-05:60"));
        assert!(!super::valid_tz("-0ñ:00"));
    }
}
