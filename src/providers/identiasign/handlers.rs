//! The API calls under `/api`: read and check the request, run the model, render
//! IdentiaSign's shapes. Every field error is a 400 that names the field.

use super::model::service::{later, EntityConfig, Filter, Handed, Label, SignerChange};
use super::model::{self, Contact, Document, Nat, Process, Signer, Status};
use super::wire::{self, Body, IError, IResult, Session};
use super::{IdentiaSign, ENTITY, SLUG};
use crate::engine::jwt::Claims;
use crate::engine::outbox::Channel;
use crate::wire::{Fields, RequestedScenario};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// How long an access token is valid, on the virtual clock.
pub const TOKEN_SECONDS: i64 = 3600;
/// `expire` when the call gives none: 30 days, as the docs say.
pub const DEFAULT_EXPIRE_SECONDS: u64 = 30 * 24 * 3600;
/// Longest `expire` or `link_expire` accepted: ten years.
pub const MAX_EXPIRE_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// `limit` when the call gives none, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
pub const MAX_FILES: usize = 20;
pub const MAX_SIGNERS: usize = 50;
const MAX_TEXT: usize = 2000;

// ---------------------------------------------------------------------------------------
// Login

pub async fn login(
    State(state): State<Arc<IdentiaSign>>,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> IResult {
    let refused = || IError::not_found("Credenciales incorrectas o inexistentes");
    let text = |name: &str| fields.text(name).ok().flatten();
    let (Some(username), Some(clientname), Some(password)) =
        (text("username"), text("clientname"), text("password"))
    else {
        return Err(refused());
    };
    let engine = state.engine();
    let chosen = engine
        .scenarios
        .choose(SLUG, requested.as_deref(), |field| match field {
            "username" => Some(username.clone()),
            "clientname" => Some(clientname.clone()),
            _ => None,
        })
        .map_err(IError::bad_request)?;
    let session = format!("login:{clientname}");
    if let Some(scenario) = chosen {
        state.bind(&username, &session, scenario.clone());
        state.bind(&username, ENTITY, scenario);
    }
    state.script(&username, &session, "login").await?;
    if let Some(expected) = state.config(&username).password {
        if expected != password {
            return Err(refused());
        }
    }
    let issued_at = engine.now().unix_timestamp();
    let mut extra = Map::new();
    extra.insert("clientname".into(), json!(clientname));
    let token = engine.jwt.mint(&Claims {
        sub: username.clone(),
        iat: issued_at,
        exp: issued_at.saturating_add(TOKEN_SECONDS),
        jti: engine.ids.uuid(),
        extra,
    });
    engine.record(
        SLUG,
        &username,
        &session,
        "login",
        format!("token issued to {clientname}"),
    );
    Ok(Json(json!({
        "access_token": token,
        "token_type": wire::SCHEME,
        "expires_in": TOKEN_SECONDS,
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------
// Field readers

/// Seconds in `1..=MAX_EXPIRE_SECONDS`.
fn seconds_field(fields: &Fields, name: &str) -> Result<Option<u64>, IError> {
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
fn short_text(fields: &Fields, name: &str) -> Result<Option<String>, IError> {
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
        Some(Value::String(text)) => serde_json::from_str(text)
            .map(Some)
            .map_err(|e| IError::field(name, format!("JSON inválido ({e})"))),
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

/// The PDFs: `pdfFiles` parts of a multipart body, or base64 text in a JSON or form body.
fn pdf_files(fields: &Fields) -> Result<Vec<(String, Bytes)>, IError> {
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
        if let Err(reason) = crate::pki::check_pdf(bytes) {
            return Err(IError::field(
                &format!("pdfFiles[{i}]"),
                format!("no es un PDF legible: {reason}"),
            ));
        }
    }
    Ok(files)
}

/// `labels`: a JSON list of names, each created before with the labels API.
fn labels(state: &IdentiaSign, tenant: &str, fields: &Fields) -> Result<Vec<String>, IError> {
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
        if !state.label_exists(tenant, name) {
            return Err(IError::field(
                "labels",
                format!("la etiqueta '{name}' no existe"),
            ));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

fn url_callback(fields: &Fields) -> Result<Option<String>, IError> {
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

/// `msg`: the link, or (the March 2026 form) one `{link, nat_dni}` per signer.
fn msg(config: &EntityConfig, handed: &Handed) -> Value {
    if config.msg_list {
        handed
            .per_signer
            .iter()
            .map(|(key, link)| json!({ "link": link, "nat_dni": key }))
            .collect()
    } else {
        json!(handed.link)
    }
}

// ---------------------------------------------------------------------------------------
// Signature processes

pub async fn create(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> IResult {
    let tenant = session.tenant;
    let config = state.config(&tenant);
    let files = pdf_files(&fields)?;
    let signers = match json_field(&fields, "signers")? {
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
            .map(|(i, s)| parse_signer(s, i, files.len(), &config))
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
    let sign_order = fields.flag("signOrder")?.unwrap_or(false);
    let expire = seconds_field(&fields, "expire")?.unwrap_or(DEFAULT_EXPIRE_SECONDS);
    let link_expire = seconds_field(&fields, "link_expire")?.unwrap_or(expire);
    let first_name = files
        .first()
        .map(|(name, _)| name.clone())
        .unwrap_or_default();
    let description = short_text(&fields, "description")?.unwrap_or(first_name);
    let url_callback = url_callback(&fields)?;
    let labels = labels(&state, &tenant, &fields)?;

    // The blank signature page goes at the end of each document, as the docs say.
    let blank = crate::pki::text_pdf("", &[]);
    let engine = state.engine();
    let mut documents = Vec::new();
    for (i, (name, bytes)) in files.into_iter().enumerate() {
        let bad = |e: crate::pki::PkiError| IError::field(&format!("pdfFiles[{i}]"), e);
        let with_page = crate::pki::append_pages(&bytes, &blank).map_err(bad)?;
        let pages = crate::pki::page_count(&with_page).map_err(bad)?;
        documents.push(Document {
            id: engine.ids.hex(8),
            name,
            bytes: Bytes::from(with_page),
            pages,
        });
    }

    let id = format!("{}:{}", engine.ids.hex(16), engine.ids.hex(8));
    let now = engine.now();
    let process = Process {
        id: id.clone(),
        seq: state.next_seq(),
        description,
        sign_order,
        created_at: now,
        expires_at: later(now, expire),
        url_callback,
        labels,
        status: Status::Pending,
        signers,
        documents,
        links: Vec::new(),
        creator: session.clientname,
    };
    // The header wins; else the first signer whose data a scenario's `match` fits.
    let mut chosen = None;
    for signer in &process.signers {
        chosen = engine
            .scenarios
            .choose(SLUG, requested.as_deref(), |field| match field {
                "description" => Some(process.description.clone()),
                "doc_id" => Some(signer.doc_id.clone()),
                "contact" => signer.contact.as_ref().map(|c| c.value.clone()),
                _ => None,
            })
            .map_err(IError::bad_request)?;
        if chosen.is_some() {
            break;
        }
    }
    if let Some(scenario) = chosen {
        state.bind(&tenant, &id, scenario);
    }
    let applied = state.script(&tenant, &id, "create").await?;
    let handed = state.create(&tenant, process, link_expire, &applied)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "msg": msg(&config, &handed) })),
    )
        .into_response())
}

fn process_id(fields: &Fields) -> Result<String, IError> {
    fields
        .text("process_id")?
        .ok_or_else(|| IError::missing("process_id"))
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

pub async fn modify(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    Body(fields): Body,
) -> IResult {
    let tenant = session.tenant;
    let id = process_id(&fields)?;
    let process = state.get(&tenant, &id)?;
    let description = short_text(&fields, "description")?;
    let changes = match json_field(&fields, "signers")? {
        None => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| signer_change(v, i, process.documents.len()))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(IError::field("signers", "se esperaba una lista")),
    };
    state.script(&tenant, &id, "modify").await?;
    state.modify(&tenant, &id, description, changes)?;
    Ok(Json(json!({ "msg": "Proceso de firma actualizado" })).into_response())
}

/// The query of a listing, as name-value pairs.
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn limit(value: Option<&String>) -> Result<usize, IError> {
    match value {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                IError::field(
                    "limit",
                    format!("se esperaba un entero entre 1 y {MAX_LIMIT}"),
                )
            }),
    }
}

/// `last_item`: the JSON object a partial listing returned.
fn last_item(value: Option<&String>) -> Result<Option<Map<String, Value>>, IError> {
    let Some(raw) = value else { return Ok(None) };
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(object)) => Ok(Some(object)),
        _ => Err(IError::field(
            "last_item",
            "se esperaba el objeto JSON de una búsqueda parcial",
        )),
    }
}

/// Binds a scenario named by header on a listing to the entity.
fn bind_requested(
    state: &IdentiaSign,
    tenant: &str,
    requested: Option<&str>,
) -> Result<(), IError> {
    if requested.is_none() {
        return Ok(());
    }
    let chosen = state
        .engine()
        .scenarios
        .choose(SLUG, requested, |_| None)
        .map_err(IError::bad_request)?;
    if let Some(scenario) = chosen {
        state.bind(tenant, ENTITY, scenario);
    }
    Ok(())
}

pub async fn list(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    RequestedScenario(requested): RequestedScenario,
    RawQuery(raw): RawQuery,
) -> IResult {
    let tenant = session.tenant;
    let pairs = query_pairs(raw.as_deref());
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let rendered = |process: &Process| {
        let urls: Vec<Option<String>> = (0..process.documents.len())
            .map(|i| state.file_url(&tenant, process, i))
            .collect();
        wire::process(process, &urls)
    };
    if let Some(id) = param("process_id").filter(|id| !id.trim().is_empty()) {
        let process = state
            .get(&tenant, id.trim())
            .map_err(|_| IError::not_found("No se encontraron procesos de firma"))?;
        return Ok(Json(json!({
            "signatureProcesses": [rendered(&process)],
            "last_item": null,
        }))
        .into_response());
    }
    let limit = limit(param("limit"))?;
    let date = |name: &str| match param(name) {
        None => Ok(None),
        Some(raw) => wire::parse_creation(raw)
            .map(Some)
            .ok_or_else(|| IError::field(name, "use el formato AAAAMMDDThh:mm:ss+00:00")),
    };
    let mut filter = Filter {
        start: date("creation_start")?,
        end: date("creation_end")?,
        ..Filter::default()
    };
    if let Some(status) = param("status") {
        filter.status = Some(Status::parse(status.trim()).ok_or_else(|| {
            IError::field(
                "status",
                format!("use uno de {}", model::STATUS_NAMES.join(", ")),
            )
        })?);
    }
    if let Some(item) = last_item(param("last_item"))? {
        let id = item
            .get("processId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let process = state
            .get(&tenant, id)
            .map_err(|_| IError::field("last_item", "no corresponde a un proceso de firma"))?;
        filter.after = Some(process.seq);
    }
    bind_requested(&state, &tenant, requested.as_deref())?;
    let applied = state.script(&tenant, ENTITY, "list").await?;
    // A scenario's page cap makes pages partial even under the limit.
    let cap = applied.page_size.map_or(limit, |size| {
        limit.min(usize::try_from(size).unwrap_or(limit)).max(1)
    });
    let page = state.list(&tenant, &filter, cap);
    if page.processes.is_empty() {
        return Err(IError::not_found("No se encontraron procesos de firma"));
    }
    let last = match (page.more, page.processes.last()) {
        (true, Some(process)) => wire::last_item(process),
        _ => Value::Null,
    };
    let status = if page.more {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let body = json!({
        "signatureProcesses": page.processes.iter().map(rendered).collect::<Vec<_>>(),
        "last_item": last,
    });
    Ok((status, Json(body)).into_response())
}

pub async fn reject(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    Body(fields): Body,
) -> IResult {
    let tenant = session.tenant;
    let id = process_id(&fields)?;
    state.get(&tenant, &id)?;
    state.script(&tenant, &id, "reject").await?;
    state.reject(&tenant, &id, None)?;
    Ok(Json(json!({ "msg": "Proceso de firma rechazado" })).into_response())
}

pub async fn notify(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    Body(fields): Body,
) -> IResult {
    let tenant = session.tenant;
    let id = process_id(&fields)?;
    let link_expire = seconds_field(&fields, "link_expire")?;
    let process = state.get(&tenant, &id)?;
    if process.status != Status::Pending {
        return Err(IError::bad_request(format!(
            "El proceso de firma está {}: no se puede notificar",
            process.status
        )));
    }
    let applied = state.script(&tenant, &id, "notify").await?;
    // By default the link lasts as long as the process.
    let remaining = (process.expires_at - state.engine().now()).whole_seconds();
    let link_expire = link_expire.unwrap_or_else(|| u64::try_from(remaining).unwrap_or(1).max(1));
    let handed = state.hand_out(&tenant, &id, link_expire, applied.deliver)?;
    Ok(Json(json!({ "msg": msg(&state.config(&tenant), &handed) })).into_response())
}

// ---------------------------------------------------------------------------------------
// Labels

fn label_json(label: &Label) -> Value {
    let mut out = json!({ "label": label.label, "usr_id": label.usr_id });
    if let (Some(description), Some(map)) = (&label.description, out.as_object_mut()) {
        map.insert("description".into(), json!(description));
    }
    out
}

pub async fn list_labels(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    RequestedScenario(requested): RequestedScenario,
    RawQuery(raw): RawQuery,
) -> IResult {
    let tenant = session.tenant;
    let pairs = query_pairs(raw.as_deref());
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let limit = limit(param("limit"))?;
    let after = match last_item(param("last_item"))? {
        None => None,
        Some(item) => Some(
            item.get("label")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| IError::field("last_item", "falta 'label'"))?,
        ),
    };
    bind_requested(&state, &tenant, requested.as_deref())?;
    let applied = state.script(&tenant, ENTITY, "labels.list").await?;
    let cap = applied.page_size.map_or(limit, |size| {
        limit.min(usize::try_from(size).unwrap_or(limit)).max(1)
    });
    // Descending order: resume with the names below the last one returned.
    let remaining: Vec<Label> = state
        .labels(&tenant)
        .into_iter()
        .filter(|l| after.as_ref().is_none_or(|after| l.label < *after))
        .collect();
    let more = remaining.len() > cap;
    let page: Vec<&Label> = remaining.iter().take(cap).collect();
    let last = match (more, page.last()) {
        (true, Some(label)) => json!({ "label": label.label, "usr_id": label.usr_id }),
        _ => Value::Null,
    };
    let status = if more {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let body = json!({
        "labels": page.into_iter().map(label_json).collect::<Vec<_>>(),
        "last_item": last,
    });
    Ok((status, Json(body)).into_response())
}

fn label_name(fields: &Fields) -> Result<String, IError> {
    let name = fields
        .text("label")?
        .ok_or_else(|| IError::missing("label"))?;
    if name.chars().count() > 100 {
        return Err(IError::field("label", "máximo 100 caracteres"));
    }
    Ok(name)
}

pub async fn put_label(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    Body(fields): Body,
) -> IResult {
    let label = label_name(&fields)?;
    let description = short_text(&fields, "description")?;
    let created = state.put_label(
        &session.tenant,
        Label {
            label,
            usr_id: session.clientname,
            description,
        },
    );
    let msg = if created {
        "Etiqueta creada"
    } else {
        "Etiqueta modificada"
    };
    Ok(Json(json!({ "msg": msg })).into_response())
}

pub async fn delete_label(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    Body(fields): Body,
) -> IResult {
    let label = label_name(&fields)?;
    if !state.delete_label(&session.tenant, &label) {
        return Err(IError::field(
            "label",
            format!("la etiqueta '{label}' no existe"),
        ));
    }
    Ok(Json(json!({ "msg": "Etiqueta eliminada" })).into_response())
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
