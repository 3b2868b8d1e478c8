//! The API calls under `/sign/envelope`: parse and check the request, run the model,
//! render QI Tech's shapes.

use super::model::service::FileKind;
use super::model::{self, Document, Envelope, PersonalDocument, Phone, Signer, Status, Template};
use super::wire::{self, timestamp, Path, QError, QResult};
use super::{ApiKey, QiTech, MAX_FILE_BYTES, SLUG};
use crate::engine::outbox::Channel;
use crate::wire::{Fields, RequestedScenario};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use time::macros::format_description;
use time::Date;

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
        id: required(object, "id", &at("id"))?,
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

fn parse_envelope(state: &QiTech, values: &Map<String, Value>) -> Result<Envelope, QError> {
    let now = state.engine().now();
    let id = required(values, "id", "id")?;
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

/// What a scenario's `match` may test, taken from one signer (or the envelope).
fn match_field(envelope: &Envelope, signer: &Signer, field: &str) -> Option<String> {
    match field {
        "subject" => Some(envelope.subject.clone()),
        "name" => Some(signer.name.clone()),
        "email" => signer.email.clone(),
        "phone" => signer.phone.as_ref().map(Phone::e164),
        "document_number" => Some(signer.document_number.clone()),
        _ => None,
    }
}

pub async fn create(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    RequestedScenario(requested): RequestedScenario,
    request: Request,
) -> QResult {
    let fields = Fields::read_json(request, state.body_limit).await?;
    let envelope = parse_envelope(&state, &fields.values)?;
    if state.envelopes.contains(&tenant, &envelope.id) {
        return Err(model::ModelError::DuplicateEnvelope(envelope.id).into());
    }
    let engine = state.engine();
    // The header wins; else the first signer whose data a scenario's `match` fits.
    let mut scenario = None;
    for signer in &envelope.signers {
        scenario = engine
            .scenarios
            .choose(SLUG, requested.as_deref(), |f| {
                match_field(&envelope, signer, f)
            })
            .map_err(|e| QError::invalid(e, "Cenário desconhecido"))?;
        if scenario.is_some() {
            break;
        }
    }
    let id = envelope.id.clone();
    engine.assign_scenario(SLUG, &tenant, &id, scenario);
    state.script(&tenant, &id, "envelope.create").await?;
    state.create(&tenant, envelope)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "status": "created" })),
    )
        .into_response())
}

pub async fn get_envelope(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path(id): Path<String>,
) -> QResult {
    state.script(&tenant, &id, "envelope.get").await?;
    let envelope = state.get(&tenant, &id)?;
    let body = wire::envelope(&envelope, |s| {
        s.link_code.as_deref().map(|c| state.signature_url(c))
    });
    Ok(Json(body).into_response())
}

pub async fn patch(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path(id): Path<String>,
    request: Request,
) -> QResult {
    let fields = Fields::read_json(request, state.body_limit).await?;
    let status = one_of(
        required(&fields.values, "status", "status")?,
        &["submitted", "canceled"],
        "status",
    )?;
    // Unknown envelopes are reported before scenarios run.
    state.get(&tenant, &id)?;
    if status == "submitted" {
        let applied = state.script(&tenant, &id, "envelope.submit").await?;
        state.submit(&tenant, &id, &applied)?;
    } else {
        state.script(&tenant, &id, "envelope.cancel").await?;
        state.cancel(&tenant, &id)?;
    }
    Ok(Json(json!({ "status": status })).into_response())
}

pub async fn add_document(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path(id): Path<String>,
    request: Request,
) -> QResult {
    let fields = Fields::read_json(request, state.body_limit).await?;
    state.get(&tenant, &id)?;
    state.script(&tenant, &id, "document.add").await?;
    let values = &fields.values;
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
    let document_id = match text(values, "id", "id")? {
        Some(given) => given,
        None => state.engine().ids.uuid(),
    };
    let added = state.add_document(
        &tenant,
        &id,
        Document {
            id: document_id,
            name,
            bytes,
            created_at: state.engine().now(),
        },
    )?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": added.id, "created_at": timestamp(added.created_at) })),
    )
        .into_response())
}

/// The first bytes a file of `file_type` starts with.
fn looks_like(file_type: &str, bytes: &[u8]) -> bool {
    match file_type {
        "png" => bytes.starts_with(b"\x89PNG"),
        "pdf" => bytes.starts_with(b"%PDF-"),
        _ => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
    }
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
    let values = &fields.values;
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
    let added = state.add_personal_document(
        &tenant,
        &id,
        &signer_id,
        PersonalDocument {
            template,
            file_type,
            bytes,
            created_at: state.engine().now(),
        },
    )?;
    state.engine().record(
        SLUG,
        &tenant,
        &id,
        "document",
        format!("{} added for signer {signer_id}", added.template.as_str()),
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({ "created_at": timestamp(added.created_at) })),
    )
        .into_response())
}

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

pub async fn report(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path(id): Path<String>,
) -> QResult {
    state.script(&tenant, &id, "report").await?;
    let envelope = state.get(&tenant, &id)?;
    let status = wire::report_status(&envelope);
    let reports: Vec<Value> = if status == "available" {
        envelope
            .dossiers
            .iter()
            .map(|d| {
                let kind = FileKind::Dossier(d.document_id.clone());
                json!({ "id": d.document_id, "url": state.file_url(&tenant, &id, kind, "pdf") })
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(
        Json(json!({ "id": envelope.id, "status": status, "documents_reports": reports }))
            .into_response(),
    )
}

pub async fn document_report(
    State(state): State<Arc<QiTech>>,
    ApiKey(tenant): ApiKey,
    Path((id, document_id)): Path<(String, String)>,
) -> QResult {
    state.script(&tenant, &id, "document.report").await?;
    let envelope = state.get(&tenant, &id)?;
    if !envelope.documents.iter().any(|d| d.id == document_id) {
        return Err(model::ModelError::DocumentNotFound(document_id).into());
    }
    let dossier = envelope
        .dossiers
        .iter()
        .find(|d| d.document_id == document_id)
        .filter(|_| wire::report_status(&envelope) == "available");
    let body = match dossier {
        Some(d) => json!({
            "id": document_id,
            "status": "available",
            "document_report_url":
                state.file_url(&tenant, &id, FileKind::Dossier(document_id.clone()), "pdf"),
            "document_report": base64::engine::general_purpose::STANDARD.encode(&d.bytes),
        }),
        None => json!({
            "id": document_id,
            "status": "unavailable",
            "document_report_url": null,
            "document_report": null,
        }),
    };
    Ok(Json(body).into_response())
}
