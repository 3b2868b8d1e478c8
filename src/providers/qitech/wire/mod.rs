//! QI Tech's wire: here the error body `{"title", "description", "translation", "code"}`
//! every failure answers with (`QError`, and how body, path and model errors become one);
//! the API key in `api_key`, request bodies read and checked in `request`, the JSON
//! renderings of envelopes and signers in `render`, the signed webhook's body in `webhook`.
//! The wire reads the model; the model never reads the wire.

pub mod api_key;
pub mod render;
pub mod request;
pub mod webhook;

use super::model::{Event, ModelError};
use crate::wire::{BodyError, WrongType};
use axum::extract::rejection::PathRejection;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error in QI Tech's shape, or a scenario's scripted answer as it is.
#[derive(Debug)]
pub enum QError {
    Api {
        status: StatusCode,
        title: &'static str,
        description: String,
        translation: String,
        code: &'static str,
    },
    Scripted(Box<Response>),
}

pub type QResult = Result<Response, QError>;

/// Path parameters; a segment that is not valid UTF-8 answers in QI Tech's error body.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(QError))]
pub struct Path<T>(pub T);

impl From<PathRejection> for QError {
    fn from(rejection: PathRejection) -> QError {
        QError::invalid(
            rejection.body_text(),
            "URL inválida: um parâmetro do caminho não é UTF-8 válido",
        )
    }
}

impl QError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        description: impl Into<String>,
        translation: impl Into<String>,
    ) -> QError {
        QError::Api {
            status,
            title,
            description: description.into(),
            translation: translation.into(),
            code,
        }
    }

    /// 400 for a field: `description` in English, `translation` in Portuguese.
    pub fn invalid(description: impl Into<String>, translation: impl Into<String>) -> QError {
        QError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "Bad Request",
            description,
            translation,
        )
    }

    pub fn missing(field: &str) -> QError {
        QError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_FIELD",
            "Bad Request",
            format!("Missing required field: {field}"),
            format!("Campo obrigatório ausente: {field}"),
        )
    }

    pub fn unauthenticated(description: impl Into<String>) -> QError {
        QError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "QI Unauthenticated",
            description,
            "Não autenticado: envie a API Key no header Authorization",
        )
    }

    pub fn not_found(
        code: &'static str,
        description: impl Into<String>,
        translation: impl Into<String>,
    ) -> QError {
        QError::new(
            StatusCode::NOT_FOUND,
            code,
            "Not Found",
            description,
            translation,
        )
    }
}

impl IntoResponse for QError {
    fn into_response(self) -> Response {
        match self {
            QError::Api {
                status,
                title,
                description,
                translation,
                code,
            } => (
                status,
                Json(json!({
                    "title": title,
                    "description": description,
                    "translation": translation,
                    "code": code,
                })),
            )
                .into_response(),
            QError::Scripted(response) => *response,
        }
    }
}

impl From<BodyError> for QError {
    fn from(error: BodyError) -> QError {
        match error {
            BodyError::TooLarge { limit } => QError::invalid(
                format!("Request body too large: the limit is {limit} bytes"),
                format!("Corpo da requisição muito grande: o limite é {limit} bytes"),
            ),
            other => QError::new(
                StatusCode::NOT_ACCEPTABLE,
                "INVALID_JSON",
                "Not Acceptable",
                format!("The request body is not valid JSON: {other}"),
                "O corpo da requisição não é um JSON válido",
            ),
        }
    }
}

impl From<WrongType> for QError {
    fn from(error: WrongType) -> QError {
        QError::invalid(
            error.to_string(),
            format!("Valor inválido para '{}'", error.field),
        )
    }
}

impl From<ModelError> for QError {
    fn from(error: ModelError) -> QError {
        let bad = |code, description: String, translation: String| {
            QError::new(
                StatusCode::BAD_REQUEST,
                code,
                "Bad Request",
                description,
                translation,
            )
        };
        match error {
            ModelError::EnvelopeNotFound(id) => QError::not_found(
                "ENVELOPE_NOT_FOUND",
                format!("Envelope {id} not found"),
                format!("Envelope {id} não encontrado"),
            ),
            ModelError::SignerNotFound(id) => QError::not_found(
                "SIGNER_NOT_FOUND",
                format!("Signer {id} not found in this envelope"),
                format!("Signatário {id} não encontrado neste envelope"),
            ),
            ModelError::DocumentNotFound(id) => QError::not_found(
                "DOCUMENT_NOT_FOUND",
                format!("Document {id} not found in this envelope"),
                format!("Documento {id} não encontrado neste envelope"),
            ),
            ModelError::DuplicateEnvelope(id) => QError::new(
                StatusCode::CONFLICT,
                "DUPLICATE_ENVELOPE_ID",
                "Conflict",
                format!("An envelope with id {id} already exists"),
                format!("Já existe um envelope com o id {id}"),
            ),
            ModelError::DuplicateDocument(id) => QError::new(
                StatusCode::CONFLICT,
                "DUPLICATE_DOCUMENT_ID",
                "Conflict",
                format!("A document with id {id} already exists in this envelope"),
                format!("Já existe um documento com o id {id} neste envelope"),
            ),
            ModelError::WrongStatus { status, event } => bad(
                "INVALID_STATUS_TRANSITION",
                format!("Envelope in status {status} cannot be {}", target(event)),
                format!("Envelope com status {status} não pode ser {}", alvo(event)),
            ),
            ModelError::NotEditable(status) => bad(
                "ENVELOPE_NOT_EDITABLE",
                format!("Envelope in status {status} cannot be changed"),
                format!("Envelope com status {status} não pode ser alterado"),
            ),
            ModelError::NotSignable(status) => bad(
                "ENVELOPE_NOT_SIGNABLE",
                format!("Envelope in status {status} cannot be signed"),
                format!("Envelope com status {status} não pode ser assinado"),
            ),
            ModelError::NoDocuments => bad(
                "ENVELOPE_WITHOUT_DOCUMENTS",
                "The envelope has no documents: add at least one before submitting".into(),
                "O envelope não tem documentos: adicione ao menos um antes de enviar".into(),
            ),
            ModelError::DeadlinePassed => bad(
                "ENVELOPE_EXPIRATION_DATE_PASSED",
                "The envelope's expiration_date has passed".into(),
                "A expiration_date do envelope já passou".into(),
            ),
            ModelError::AlreadySigned => bad(
                "SIGNER_ALREADY_SIGNED",
                "This signer has already signed".into(),
                "Este signatário já assinou".into(),
            ),
            ModelError::CpfMismatch => bad(
                "CPF_MISMATCH",
                "The CPF typed does not match the signer's document_number".into(),
                "O CPF informado não corresponde ao document_number do signatário".into(),
            ),
            ModelError::TokenInvalid => bad(
                "INVALID_AUTHENTICATION_TOKEN",
                "The authentication token is wrong or was not sent".into(),
                "O token de autenticação está incorreto ou não foi enviado".into(),
            ),
            ModelError::NotAvailable(what) => bad(
                "NOT_AVAILABLE",
                format!("{what} is not available yet"),
                format!("{what} ainda não está disponível"),
            ),
            ModelError::Dossier(reason) => QError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "DOSSIER_GENERATION_FAILED",
                "Internal Server Error",
                format!("The dossier could not be generated: {reason}"),
                "Não foi possível gerar o dossiê",
            ),
        }
    }
}

fn target(event: Event) -> &'static str {
    match event {
        Event::Submit => "submitted",
        Event::Cancel => "canceled",
        Event::Complete => "completed",
        Event::Expire => "expired",
    }
}

fn alvo(event: Event) -> &'static str {
    match event {
        Event::Submit => "enviado",
        Event::Cancel => "cancelado",
        Event::Complete => "concluído",
        Event::Expire => "expirado",
    }
}
