//! Reading and checking the bodies of QI Tech's API calls: each field's type and form,
//! the limits on files, and the parsed result as the model's data (`parse_envelope`,
//! `parse_document`, `parse_personal_document`, `requested_status`). Errors answer in QI
//! Tech's shape, naming the field (`signers[0].phone.number`).

use super::QError;
use crate::engine::outbox::Channel;
use crate::providers::qitech::model::{
    self, Document, Envelope, PersonalDocument, Phone, Signer, Status, Template,
};
use serde_json::{Map, Value};
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// Largest identification document or document, decoded (the manual's 10 MB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// A text member of `object`; numbers are taken as text, blank text counts as absent.
/// `path` names the member in errors (`signers[0].phone.number`).
fn text(object: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, QError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        // Whole numbers only: a float would come back as "1.2e+29".
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Some(_) => Err(QError::invalid(
            format!("Invalid value for '{path}': expected a string"),
            format!("Valor inválido para '{path}': esperado um texto"),
        )),
    }
}

fn required(object: &Map<String, Value>, key: &str, path: &str) -> Result<String, QError> {
    text(object, key, path)?.ok_or_else(|| QError::missing(path))
}

/// A required id the client chooses (envelope, signer, document). Ids become path
/// segments of the API's own URLs and of the simulator's pages and links, where they are
/// percent-encoded; what encoding cannot neutralise is refused: `.` and `..` (URL parsers
/// read them as "here" and "up" even when encoded) and control characters (which parsers
/// strip or refuse). Blank ids are already absent (`text`).
fn client_id(object: &Map<String, Value>, key: &str, path: &str) -> Result<String, QError> {
    let id = required(object, key, path)?;
    checked_id(id, path)
}

fn checked_id(id: String, path: &str) -> Result<String, QError> {
    if id == "." || id == ".." || id.chars().any(char::is_control) {
        return Err(QError::invalid(
            format!(
                "Invalid value {id:?} for '{path}': an id cannot be '.' or '..' or contain \
                 control characters"
            ),
            format!(
                "Valor {id:?} inválido para '{path}': um id não pode ser '.' ou '..' nem ter \
                 caracteres de controle"
            ),
        ));
    }
    Ok(id)
}

fn one_of(value: String, allowed: &[&str], path: &str) -> Result<String, QError> {
    if allowed.contains(&value.as_str()) {
        Ok(value)
    } else {
        Err(QError::invalid(
            format!(
                "Invalid value '{value}' for '{path}': use one of {}",
                allowed.join(", ")
            ),
            format!(
                "Valor '{value}' inválido para '{path}': use {}",
                allowed.join(", ")
            ),
        ))
    }
}

fn date(value: &str, path: &str) -> Result<Date, QError> {
    Date::parse(value, format_description!("[year]-[month]-[day]")).map_err(|_| {
        QError::invalid(
            format!("Invalid date '{value}' for '{path}': use the format YYYY-MM-DD"),
            format!("Data '{value}' inválida para '{path}': use o formato AAAA-MM-DD"),
        )
    })
}

/// Decodes `document_b64` (standard alphabet, whitespace ignored), at most 10 MB.
fn decode(b64: &str, path: &str) -> Result<bytes::Bytes, QError> {
    let bytes = crate::wire::checks::decode_base64(b64).ok_or_else(|| {
        QError::invalid(
            format!("'{path}' is not valid base64"),
            format!("'{path}' não é um base64 válido"),
        )
    })?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(QError::invalid(
            format!(
                "'{path}' is {} bytes: the maximum size is 10 MB",
                bytes.len()
            ),
            "O tamanho máximo do arquivo é 10 MB",
        ));
    }
    Ok(bytes)
}

fn channel(object: &Map<String, Value>, key: &str, path: &str) -> Result<Channel, QError> {
    let value = one_of(
        required(object, key, path)?.to_ascii_lowercase(),
        &["email", "sms", "whatsapp"],
        path,
    )?;
    Channel::parse(&value).ok_or_else(|| QError::missing(path))
}

fn parse_signer(value: &Value, index: usize) -> Result<Signer, QError> {
    let at = |key: &str| format!("signers[{index}].{key}");
    let object = value.as_object().ok_or_else(|| {
        QError::invalid(
            format!("Invalid value for 'signers[{index}]': expected an object"),
            format!("Valor inválido para 'signers[{index}]': esperado um objeto"),
        )
    })?;
    let email = text(object, "email", &at("email"))?;
    if let Some(email) = &email {
        if !email.contains('@') {
            return Err(QError::invalid(
                format!("Invalid e-mail '{email}' for '{}'", at("email")),
                format!("E-mail '{email}' inválido para '{}'", at("email")),
            ));
        }
    }
    let phone = match object.get("phone") {
        None | Some(Value::Null) => None,
        Some(Value::Object(phone)) => {
            // Each part is digits (a leading + on the dial code is tolerated).
            let part = |key: &str| {
                let path = at(&format!("phone.{key}"));
                let value = required(phone, key, &path)?;
                let digits = value.trim_start_matches('+');
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(QError::invalid(
                        format!("Invalid value '{value}' for '{path}': expected digits"),
                        format!("Valor '{value}' inválido para '{path}': esperados dígitos"),
                    ));
                }
                Ok(value)
            };
            Some(Phone {
                international_dial_code: part("international_dial_code")?,
                area_code: part("area_code")?,
                number: part("number")?,
            })
        }
        Some(_) => {
            return Err(QError::invalid(
                format!("Invalid value for '{}': expected an object", at("phone")),
                format!("Valor inválido para '{}': esperado um objeto", at("phone")),
            ))
        }
    };
    if email.is_none() && phone.is_none() {
        return Err(QError::invalid(
            format!(
                "Signer {index} needs an email or a phone ('{}' or '{}')",
                at("email"),
                at("phone")
            ),
            format!("O signatário {index} precisa de email ou telefone"),
        ));
    }
    let birthdate = required(object, "birthdate", &at("birthdate"))?;
    date(&birthdate, &at("birthdate"))?;
    let document_number = required(object, "document_number", &at("document_number"))?;
    if model::digits(&document_number).len() != 11 {
        return Err(QError::invalid(
            format!(
                "Invalid CPF '{document_number}' for '{}': 11 digits, e.g. 111.111.111-11",
                at("document_number")
            ),
            format!(
                "CPF '{document_number}' inválido para '{}'",
                at("document_number")
            ),
        ));
    }
    let document_submission_method = channel(
        object,
        "document_submission_method",
        &at("document_submission_method"),
    )?;
    let authentication_submission_method = channel(
        object,
        "authentication_submission_method",
        &at("authentication_submission_method"),
    )?;
    let signer = Signer {
        id: client_id(object, "id", &at("id"))?,
        name: required(object, "name", &at("name"))?,
        email,
        birthdate,
        document_number,
        phone,
        document_submission_method,
        authentication_submission_method,
        link_code: None,
        token: None,
        signed_at: None,
        checks: None,
        personal_documents: Vec::new(),
    };
    // A method needs the address it sends to.
    for (method, key) in [
        (document_submission_method, "document_submission_method"),
        (
            authentication_submission_method,
            "authentication_submission_method",
        ),
    ] {
        if signer.address(method).is_none() {
            let needs = if method == Channel::Email {
                "email"
            } else {
                "phone"
            };
            return Err(QError::invalid(
                format!(
                    "'{}' is {} but the signer has no {needs}",
                    at(key),
                    method.as_str()
                ),
                format!(
                    "'{}' é {} mas o signatário não tem {needs}",
                    at(key),
                    method.as_str()
                ),
            ));
        }
    }
    Ok(signer)
}

/// The body of `POST /sign/envelope`, checked: a new envelope in status `created` as of
/// `now`.
pub fn parse_envelope(
    now: OffsetDateTime,
    values: &Map<String, Value>,
) -> Result<Envelope, QError> {
    let id = client_id(values, "id", "id")?;
    let subject = required(values, "subject", "subject")?;
    let expiration = required(values, "expiration_date", "expiration_date")?;
    let expiration_date = date(&expiration, "expiration_date")?;
    let expires_at = model::deadline(expiration_date);
    if expires_at <= now {
        return Err(QError::invalid(
            format!("expiration_date {expiration} has already passed"),
            format!("A expiration_date {expiration} já passou"),
        ));
    }
    let signers = match values.get("signers") {
        None | Some(Value::Null) => return Err(QError::missing("signers")),
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(QError::invalid(
                "'signers' must list at least one signer",
                "'signers' deve ter ao menos um signatário",
            ))
        }
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, s)| parse_signer(s, i))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(QError::invalid(
                "Invalid value for 'signers': expected a list",
                "Valor inválido para 'signers': esperado uma lista",
            ))
        }
    };
    for (i, signer) in signers.iter().enumerate() {
        if signers[..i].iter().any(|s| s.id == signer.id) {
            return Err(QError::invalid(
                format!("Signer id '{}' is repeated in this envelope", signer.id),
                format!("O id de signatário '{}' está repetido", signer.id),
            ));
        }
    }
    Ok(Envelope {
        id,
        subject,
        expiration_date,
        expires_at,
        status: Status::Created,
        signers,
        documents: Vec::new(),
        dossiers: Vec::new(),
        created_at: now,
        completed_at: None,
    })
}

/// The status `PATCH /sign/envelope/{id}` asks for: `submitted` or `canceled`.
pub fn requested_status(values: &Map<String, Value>) -> Result<String, QError> {
    one_of(
        required(values, "status", "status")?,
        &["submitted", "canceled"],
        "status",
    )
}

/// The body of `POST /sign/envelope/{id}/document`, checked: a readable PDF of at most
/// 10 MB. Its id is the one given, else `new_id()` (drawn only once the body is good).
pub fn parse_document(
    values: &Map<String, Value>,
    now: OffsetDateTime,
    new_id: impl FnOnce() -> String,
) -> Result<Document, QError> {
    let b64 = required(values, "document_b64", "document_b64")?;
    let name = required(values, "name", "name")?;
    one_of(
        required(values, "document_type", "document_type")?.to_ascii_lowercase(),
        &["pdf"],
        "document_type",
    )?;
    let bytes = decode(&b64, "document_b64")?;
    if let Err(reason) = crate::pki::check_pdf(&bytes) {
        return Err(QError::invalid(
            format!("'document_b64' is not a readable PDF: {reason}"),
            "'document_b64' não é um PDF válido",
        ));
    }
    let id = match text(values, "id", "id")? {
        Some(given) => checked_id(given, "id")?,
        None => new_id(),
    };
    Ok(Document {
        id,
        name,
        bytes,
        created_at: now,
    })
}

/// The first bytes a file of `file_type` starts with.
fn looks_like(file_type: &str, bytes: &[u8]) -> bool {
    match file_type {
        "png" => bytes.starts_with(b"\x89PNG"),
        "pdf" => bytes.starts_with(b"%PDF-"),
        _ => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
    }
}

/// The body of `POST .../signer/{signer_id}/personal_document`, checked: a template the
/// API analyses and a file of the type it says (`jpeg` unless told).
pub fn parse_personal_document(
    values: &Map<String, Value>,
    now: OffsetDateTime,
) -> Result<PersonalDocument, QError> {
    let b64 = required(values, "document_b64", "document_b64")?;
    let template = one_of(
        required(values, "template", "template")?,
        model::TEMPLATE_NAMES,
        "template",
    )?;
    let template = Template::parse(&template).ok_or_else(|| QError::missing("template"))?;
    let file_type = match text(values, "file_type", "file_type")? {
        None => "jpeg".to_owned(),
        Some(given) => {
            let given = given.to_ascii_lowercase();
            let given = if given == "jpg" { "jpeg".into() } else { given };
            one_of(given, &["jpeg", "png", "pdf"], "file_type")?
        }
    };
    let bytes = decode(&b64, "document_b64")?;
    if !looks_like(&file_type, &bytes) {
        return Err(QError::invalid(
            format!(
                "'document_b64' is not a {file_type} file (template {})",
                template.as_str()
            ),
            format!("'document_b64' não é um arquivo {file_type}"),
        ));
    }
    Ok(PersonalDocument {
        template,
        file_type,
        bytes,
        created_at: now,
    })
}
