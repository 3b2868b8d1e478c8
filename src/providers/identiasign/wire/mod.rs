//! IdentiaSign's wire shapes: the error body `{"msg": "..."}`, the `jwt-bearer` credential,
//! the body reader, processes and labels as the API writes them, and its dates.

pub mod callback;
pub mod fields;
pub mod paging;

use super::model::{ModelError, Process, Signer};
use super::{IdentiaSign, SLUG};
use crate::engine::tenant::Tenant;
use crate::wire::{BodyError, Fields, WrongType};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use time::OffsetDateTime;

/// An error in IdentiaSign's shape, or a scenario's scripted answer as it is.
#[derive(Debug)]
pub enum IError {
    Api { status: StatusCode, msg: String },
    Scripted(Box<Response>),
}

pub type IResult = Result<Response, IError>;

impl IError {
    pub fn new(status: StatusCode, msg: impl Into<String>) -> IError {
        IError::Api {
            status,
            msg: msg.into(),
        }
    }

    pub fn bad_request(msg: impl Into<String>) -> IError {
        IError::new(StatusCode::BAD_REQUEST, msg)
    }

    /// A 400 naming the field and what is wrong with it.
    pub fn field(field: &str, what: impl std::fmt::Display) -> IError {
        IError::bad_request(format!("Parámetro '{field}' inválido: {what}"))
    }

    pub fn missing(field: &str) -> IError {
        IError::bad_request(format!("Parámetro '{field}' requerido"))
    }

    pub fn unauthorized(msg: impl Into<String>) -> IError {
        IError::new(StatusCode::UNAUTHORIZED, msg)
    }

    pub fn not_found(msg: impl Into<String>) -> IError {
        IError::new(StatusCode::NOT_FOUND, msg)
    }

    pub fn forbidden(msg: impl Into<String>) -> IError {
        IError::new(StatusCode::FORBIDDEN, msg)
    }

    /// The `msg` it answers (a scripted answer's is the scenario's own).
    pub fn msg(&self) -> &str {
        match self {
            IError::Api { msg, .. } => msg,
            IError::Scripted(_) => "respuesta del escenario",
        }
    }
}

impl IntoResponse for IError {
    fn into_response(self) -> Response {
        match self {
            IError::Api { status, msg } => (status, Json(json!({ "msg": msg }))).into_response(),
            IError::Scripted(response) => *response,
        }
    }
}

/// The shared body reader's errors, in Spanish (its own texts are English: they are not
/// passed on).
impl From<BodyError> for IError {
    fn from(error: BodyError) -> IError {
        let what = match error {
            BodyError::TooLarge { limit } => {
                return IError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("El cuerpo de la solicitud supera el límite de {limit} bytes"),
                )
            }
            BodyError::InvalidJson(reason) => match json_position(&reason) {
                Some((line, column)) => {
                    format!("no es JSON válido (línea {line}, columna {column})")
                }
                None => "no es JSON válido".to_owned(),
            },
            BodyError::NotAnObject => "se esperaba un objeto JSON".to_owned(),
            BodyError::Multipart(_) => "no se pudo leer el cuerpo multipart/form-data".to_owned(),
        };
        IError::bad_request(format!("Cuerpo de la solicitud inválido: {what}"))
    }
}

/// The line and column of serde_json's "... at line 1 column 13".
fn json_position(reason: &str) -> Option<(u64, u64)> {
    let (_, at) = reason.rsplit_once(" at line ")?;
    let (line, column) = at.split_once(" column ")?;
    Some((line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// A field of the wrong JSON type; the shared reader names the type in English.
impl From<WrongType> for IError {
    fn from(error: WrongType) -> IError {
        let expected = match error.expected {
            "a boolean" => "un booleano (true o false)",
            "a string" => "un texto",
            _ => "otro tipo de valor",
        };
        IError::field(&error.field, format!("se esperaba {expected}"))
    }
}

/// Why a PDF cannot be taken or signed, in Spanish (the PDF reader's reasons are English).
pub fn pdf_problem(error: &crate::pki::PkiError) -> String {
    use crate::pki::PkiError;
    let known: &[(&str, &str)] = &[
        (
            "no %PDF- header",
            "no es un archivo PDF (falta la cabecera %PDF-)",
        ),
        (
            "no %%EOF marker",
            "falta el marcador %%EOF (¿archivo truncado?)",
        ),
        (
            "no startxref",
            "falta startxref antes de %%EOF (¿archivo truncado?)",
        ),
        ("no pages", "el documento no tiene páginas"),
        (
            "damaged cross-reference",
            "tabla de referencias cruzadas dañada: vuelva a guardar el documento",
        ),
        ("cannot parse", "no se pudo leer su estructura"),
    ];
    match error {
        PkiError::UnsupportedPdf(_) => {
            "los PDF cifrados no se pueden firmar: quite el cifrado".to_owned()
        }
        PkiError::InvalidPdf(reason) => known
            .iter()
            .find(|(english, _)| reason.contains(english))
            .map_or("PDF dañado o no admitido", |(_, spanish)| spanish)
            .to_owned(),
        _ => "error interno al procesar el PDF".to_owned(),
    }
}

impl From<ModelError> for IError {
    fn from(error: ModelError) -> IError {
        match error {
            ModelError::ProcessNotFound(id) => {
                IError::not_found(format!("Proceso de firma {id} no encontrado"))
            }
            ModelError::SignerNotFound(key) => {
                IError::bad_request(format!("Firmante {key} no existe en el proceso de firma"))
            }
            ModelError::WrongStatus { status, .. } => IError::forbidden(format!(
                "El estado del proceso de firma ({status}) no permite esta operación"
            )),
            ModelError::AlreadyActed(key) => {
                IError::forbidden(format!("El firmante {key} ya firmó o rechazó"))
            }
            ModelError::OutOfOrder { waiting } => IError::forbidden(format!(
                "Firma en orden: el firmante {waiting} debe firmar antes"
            )),
            ModelError::FacialFailed => IError::forbidden("La validación facial no fue superada"),
            ModelError::SignedSignerRemoved(key) => IError::forbidden(format!(
                "El firmante {key} ya firmó y no puede ser eliminado"
            )),
            ModelError::Concurrent => IError::new(
                StatusCode::CONFLICT,
                "Otra firma se registró al mismo tiempo: intente de nuevo",
            ),
            ModelError::NoSignersLeft => {
                IError::bad_request("Un proceso de firma necesita al menos un firmante")
            }
            ModelError::Pdf(reason) => IError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("No se pudo firmar el documento: {reason}"),
            ),
        }
    }
}

/// Who is calling: the entity (`username`, the tenant) and the client name of the token.
pub struct Session {
    pub tenant: Tenant,
    pub clientname: String,
}

/// The scheme the docs name: `Authorization: jwt-bearer aa.bb.cc`.
pub const SCHEME: &str = "jwt-bearer";

impl FromRequestParts<Arc<IdentiaSign>> for Session {
    type Rejection = IError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<IdentiaSign>,
    ) -> Result<Session, IError> {
        session(state, &parts.headers)
    }
}

/// The session of a call's `Authorization: jwt-bearer <token>`; 401 when there is none
/// it accepts.
///
/// A token's `exp` is judged on its entity's clock (the one it was minted on), so one
/// entity's clock advance expires its own tokens and no other's.
pub fn session(state: &IdentiaSign, headers: &axum::http::HeaderMap) -> Result<Session, IError> {
    let presented = presented(state, bearer(headers)?)?;
    let now = state.engine().now(&presented.tenant);
    if presented.exp.is_some_and(|exp| now.unix_timestamp() >= exp) {
        return Err(IError::unauthorized("Token expirado"));
    }
    Ok(Session {
        tenant: presented.tenant,
        clientname: presented.clientname,
    })
}

/// The entity a call's token names, expired or not: whom the journal files the call under
/// (an entity's call with its expired token is still its call), and whose storage caps it
/// meets.
pub fn entity(state: &IdentiaSign, headers: &axum::http::HeaderMap) -> Option<Tenant> {
    let token = bearer(headers).ok()?;
    presented(state, token)
        .ok()
        .map(|presented| presented.tenant)
}

/// The token of `Authorization: jwt-bearer <token>`.
fn bearer(headers: &axum::http::HeaderMap) -> Result<&str, IError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    if header.is_empty() {
        return Err(IError::unauthorized(
            "Falta el encabezado Authorization: jwt-bearer <access_token>",
        ));
    }
    header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(SCHEME))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            IError::unauthorized("Encabezado Authorization inválido: use jwt-bearer <token>")
        })
}

/// What a token says, before its expiry is judged.
struct Presented {
    tenant: Tenant,
    clientname: String,
    /// Its `exp` (Unix seconds), if it has one.
    exp: Option<i64>,
}

/// The claim of the tokens a login mints when the entity has a password: which password
/// the login checked, as `password_tag` makes it.
pub const PASSWORD_CLAIM: &str = "pwd";

/// What a token minted after a login with `password` carries in `PASSWORD_CLAIM`: a tag
/// keyed by the simulator's JWT key, so that it cannot be made (or the password guessed
/// from it) without that key.
pub fn password_tag(state: &IdentiaSign, tenant: &Tenant, password: &str) -> String {
    let data = format!("identiasign-password\0{}\0{password}", tenant.name);
    state.engine().jwt.tag(data.as_bytes())
}

/// The claims of a token this simulator signed; else those of a token the user holds for
/// the real service. That one cannot be verified here, so a well-formed JWT is accepted as
/// it is (refusing it would make a client fail here that works against the real service),
/// its entity its `username` (or `sub`) claim, else the token itself, and its own `exp`
/// judged like ours; but never one whose `alg` is `none` (`foreign_claims`).
///
/// An entity with a password (`POST /_signsim/identiasign/config`) takes only tokens this
/// simulator signed after a login with that password: a foreign token (forged, or ours with
/// its payload changed, which no longer verifies) could name it without knowing it.
fn presented(state: &IdentiaSign, token: &str) -> Result<Presented, IError> {
    let refused = || IError::unauthorized("Token inválido para esta entidad");
    if let Ok(claims) = state.engine().jwt.verify(token) {
        let tenant = Tenant::new(SLUG, claims.sub.clone());
        if let Some(password) = state.config(&tenant).password {
            let expected = password_tag(state, &tenant, &password);
            let carried = claims.extra.get(PASSWORD_CLAIM).and_then(Value::as_str);
            if carried != Some(expected.as_str()) {
                return Err(refused());
            }
        }
        return Ok(Presented {
            clientname: claims
                .extra
                .get("clientname")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            tenant,
            exp: Some(claims.exp),
        });
    }
    let claims = crate::engine::jwt::foreign_claims(token)
        .ok_or_else(|| IError::unauthorized("Token inválido: no es un JWT"))?;
    let text = |key: &str| claims.get(key).and_then(Value::as_str).map(str::to_owned);
    let name = text("username")
        .or_else(|| text("sub"))
        .unwrap_or_else(|| token.to_owned());
    let tenant = Tenant::new(SLUG, name);
    if state.config(&tenant).password.is_some() {
        return Err(refused());
    }
    Ok(Presented {
        tenant,
        clientname: text("clientname").unwrap_or_default(),
        exp: claims.get("exp").and_then(Value::as_i64),
    })
}

/// The call's fields (multipart, JSON or URL-encoded) under the body limit; a body that
/// cannot be read answers in IdentiaSign's shape.
pub struct Body(pub Fields);

impl FromRequest<Arc<IdentiaSign>> for Body {
    type Rejection = IError;

    async fn from_request(request: Request, state: &Arc<IdentiaSign>) -> Result<Body, IError> {
        Ok(Body(Fields::read(request, state.body_limit).await?))
    }
}

/// `2024-12-20T15:10:31+00:00`, the listing's dates.
pub fn date(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]+00:00"
        ))
        .unwrap_or_default()
}

/// `AAAAMMDDThh:mm:ss+00:00`, the listing's `creation_start` and `creation_end`. A `+`
/// sent unencoded in a query arrives as a space, and is read as the `+` it was.
pub fn parse_creation(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim_start();
    let fixed = match text.len().checked_sub(6) {
        Some(at) if text.as_bytes().get(at) == Some(&b' ') => {
            format!("{}+{}", text.get(..at)?, text.get(at + 1..)?)
        }
        _ => text.to_owned(),
    };
    OffsetDateTime::parse(
        &fixed,
        time::macros::format_description!(
            "[year][month][day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
        ),
    )
    .ok()
}

/// A signer as the listing shows it.
pub fn signer(signer: &Signer) -> Value {
    let mut out = Map::new();
    if let Some(contact) = &signer.contact {
        out.insert(
            "contactInfo".into(),
            json!({
                "notified": contact.notified,
                "type": contact.channel.as_str(),
                "tz": contact.tz,
                "value": contact.value,
            }),
        );
    }
    out.insert("doc_id".into(), json!(signer.doc_id));
    out.insert("nat".into(), json!(signer.nat.as_str()));
    out.insert("signChallenges".into(), json!(challenges(signer)));
    out.insert("signatureType".into(), json!(signer.signature_type));
    if let Some(alias) = &signer.alias {
        out.insert("signerAlias".into(), json!(alias));
    }
    out.insert(
        "stampPositions".into(),
        Value::Object(signer.stamp_positions.clone()),
    );
    Value::Object(out)
}

/// The challenges as the API reports them: those asked for, then the act of signing.
pub fn challenges(signer: &Signer) -> Vec<String> {
    let mut all = signer.sign_challenges.clone();
    all.push("signAction".into());
    all
}

/// One process as the listing shows it; `urls` are its documents' download URLs.
pub fn process(process: &Process, urls: &[Option<String>]) -> Value {
    let documents: Vec<Value> = process
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut doc = json!({ "id": d.id, "name": d.name, "pages": d.pages });
            if let (Some(Some(url)), Some(map)) = (urls.get(i), doc.as_object_mut()) {
                map.insert("url".into(), json!(url));
            }
            doc
        })
        .collect();
    json!({
        "date": date(process.created_at),
        "description": process.description,
        "documents": documents,
        "expire": date(process.expires_at),
        "id": process.id,
        "labels": process.labels,
        "readChallenges": ["signerId"],
        "sign_order": process.sign_order,
        "signers": process.signers.iter().map(signer).collect::<Vec<_>>(),
        "signers_search": process.signers.iter().map(Signer::key).collect::<Vec<_>>(),
        "status": process.status.as_str(),
        "urlCallback": process.url_callback.clone().unwrap_or_default(),
    })
}

/// The `last_item` of a partial process listing: where to resume.
pub fn process_last_item(process: &Process) -> Value {
    json!({ "processId": process.id, "date": date(process.created_at) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_dates_read_the_documented_form() {
        let at = parse_creation("20241220T15:10:31+00:00").unwrap();
        assert_eq!(date(at), "2024-12-20T15:10:31+00:00");
        assert_eq!(parse_creation("20241220T15:10:31 00:00"), Some(at));
        assert!(parse_creation("2024-12-20T15:10:31+00:00").is_none());
        assert!(parse_creation("20241220T15:10:31+99:00").is_none());
        assert!(parse_creation("").is_none());
        assert!(parse_creation("ñññññññ").is_none());
    }

    #[test]
    fn json_errors_keep_their_position_only() {
        let reason = "EOF while parsing a value at line 1 column 13";
        assert_eq!(json_position(reason), Some((1, 13)));
        assert_eq!(json_position("expected value"), None);
        assert_eq!(json_position("at line x column 2"), None);
    }
}
