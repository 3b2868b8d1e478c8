//! Wire helpers every provider's HTTP layer shares: the lenient body reader ([`Fields`],
//! whatever the Content-Type says; each provider turns [`BodyError`] into its own error
//! shape), the `X-Signsim-Tenant` header ([`tenant_from_headers`]; the provider that
//! reads it makes its `engine::tenant::Tenant`), the `X-Signsim-Scenario` header
//! ([`RequestedScenario`]), and [`act_out`], which plays a scenario's effects
//! on the HTTP answer (latency, a broken connection, a scripted status).
//!
//! Beside them: [`admin`], what every admin call shares on the wire (its error shape,
//! extractors, body limit), and [`checks`], field checks (phones, e-mails, countries,
//! file types). Who may call at all (tenant, storage caps) is not read here: that is the
//! dispatch service's `admission`.

pub mod admin;
pub mod checks;

use crate::engine::scenarios::{Applied, Disconnect};
use crate::engine::Engine;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value};

/// Header that names the tenant for providers whose real API has no credentials.
pub const TENANT_HEADER: &str = "x-signsim-tenant";
/// [`TENANT_HEADER`] as a header name: a lookup by it skips parsing the name per call.
pub static TENANT_HEADER_NAME: axum::http::HeaderName =
    axum::http::HeaderName::from_static(TENANT_HEADER);

/// Header that chooses a scenario for the resource the call creates.
pub const SCENARIO_HEADER: &str = "x-signsim-scenario";

/// The scenario named by `X-Signsim-Scenario`, if any.
fn scenario_from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get(SCENARIO_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Extracts the scenario named by `X-Signsim-Scenario` on a call that creates a resource.
#[derive(Debug, Clone)]
pub struct RequestedScenario(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestedScenario {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestedScenario(scenario_from_headers(&parts.headers)))
    }
}

/// The tenant named by `X-Signsim-Tenant` (UTF-8), or the default one. A value that is
/// not text never gets here: the dispatch service refuses it first (400).
pub fn tenant_from_headers(headers: &HeaderMap) -> String {
    headers
        .get(&TENANT_HEADER_NAME)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(crate::engine::DEFAULT_TENANT)
        .to_owned()
}

/// A file part of a multipart body.
#[derive(Debug, Clone)]
pub struct Upload {
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// The fields of a body however the client sent them: multipart, JSON (with or without a
/// Content-Type) or URL-encoded form. Text parts and JSON members land in `values`, where
/// a name sent twice keeps its last value; `repeated` keeps them all.
#[derive(Debug, Default)]
pub struct Fields {
    pub values: Map<String, Value>,
    pub files: Vec<Upload>,
    /// Every text part of a multipart body and every pair of a URL-encoded one, in the
    /// order sent, a name sent twice twice (`process_id=a&process_id=b`); empty for JSON.
    pub repeated: Vec<(String, String)>,
}

#[derive(Debug)]
pub enum BodyError {
    TooLarge { limit: usize },
    InvalidJson(String),
    NotAnObject,
    Multipart(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge { limit } => {
                write!(f, "Request body too large: the limit is {} bytes", limit)
            }
            BodyError::InvalidJson(e) => write!(f, "Could not parse JSON body - {e}"),
            BodyError::NotAnObject => {
                f.write_str("Could not parse JSON body - expected a JSON object")
            }
            BodyError::Multipart(e) => write!(f, "Could not parse multipart body - {e}"),
        }
    }
}

/// The field had a value of the wrong JSON type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongType {
    pub field: String,
    pub expected: &'static str,
}

impl std::fmt::Display for WrongType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Invalid value for '{}': expected {}",
            self.field, self.expected
        )
    }
}

impl Fields {
    /// Reads the whole body, at most `limit` bytes.
    pub async fn read(request: Request, limit: usize) -> Result<Fields, BodyError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let declared_length = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared_length.is_some_and(|length| length > limit) {
            return Err(BodyError::TooLarge { limit });
        }
        if content_type.starts_with("multipart/form-data") {
            return read_multipart(request, limit).await;
        }
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| BodyError::TooLarge { limit })?;
        // `curl -d @params.json` labels JSON as a form: look at the bytes, not the label.
        let looks_like_json = bytes.trim_ascii_start().starts_with(b"{");
        if content_type.starts_with("application/x-www-form-urlencoded") && !looks_like_json {
            return Ok(form_fields(&bytes));
        }
        json_fields(&bytes)
    }

    /// Reads a body that must be a JSON object whatever its Content-Type says, for
    /// providers that accept JSON only (a form or multipart body is refused as not JSON).
    pub async fn read_json(request: Request, limit: usize) -> Result<Fields, BodyError> {
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| BodyError::TooLarge { limit })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Fields::default());
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(values)) => Ok(Fields {
                values,
                ..Fields::default()
            }),
            Ok(_) => Err(BodyError::NotAnObject),
            Err(e) => Err(BodyError::InvalidJson(e.to_string())),
        }
    }

    /// A text value; numbers and booleans are accepted and given as text (clients send
    /// `"registration_authority": 139`; phone numbers are read by `phone`). Blank text counts
    /// as absent.
    pub fn text(&self, name: &str) -> Result<Option<String>, WrongType> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(WrongType {
                field: name.to_owned(),
                expected: "a string",
            }),
        }
    }

    /// A phone number as text, for `checks::international_phone`: a JSON number (clients
    /// send `"mobile_phone_number": 34600123123`) cannot carry the `+`, so its digits are read
    /// as the number with its country code (`+34600123123`); text is taken as `text` takes it.
    pub fn phone(&self, name: &str) -> Result<Option<String>, WrongType> {
        match self.values.get(name) {
            Some(Value::Number(n)) => Ok(Some(format!("+{n}"))),
            _ => self.text(name),
        }
    }

    /// A boolean given as `true`, `"true"`, `1`, `"1"`, `"yes"` (and their opposites).
    pub fn flag(&self, name: &str) -> Result<Option<bool>, WrongType> {
        let wrong = || WrongType {
            field: name.to_owned(),
            expected: "a boolean",
        };
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(0) => Ok(Some(false)),
                Some(1) => Ok(Some(true)),
                _ => Err(wrong()),
            },
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" | "" => Ok(Some(false)),
                _ => Err(wrong()),
            },
            Some(_) => Err(wrong()),
        }
    }

    pub fn file(&self, field: &str) -> Option<&Upload> {
        self.files.iter().find(|f| f.field == field)
    }
}

async fn read_multipart(request: Request, limit: usize) -> Result<Fields, BodyError> {
    let (parts, body) = request.into_parts();
    // Bound the stream here as well: a chunked body has no Content-Length to check.
    let body = Body::new(http_body_util::Limited::new(body, limit));
    let request = Request::from_parts(parts, body);
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| BodyError::Multipart(e.body_text()))?;
    let mut fields = Fields::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(e, limit)),
        };
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
        match filename {
            // A file is what a provider stores: it moves to documents' memory now, once.
            Some(filename) => fields.files.push(Upload {
                field: name,
                filename,
                content_type,
                bytes: crate::engine::documents::keep(bytes),
            }),
            None => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                fields.repeated.push((name.clone(), text.clone()));
                fields.values.insert(name, Value::String(text));
            }
        }
    }
    Ok(fields)
}

fn multipart_error(error: axum::extract::multipart::MultipartError, limit: usize) -> BodyError {
    if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        BodyError::TooLarge { limit }
    } else {
        BodyError::Multipart(error.body_text())
    }
}

fn json_fields(bytes: &[u8]) -> Result<Fields, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Fields::default());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(values)) => Ok(Fields {
            values,
            ..Fields::default()
        }),
        Ok(_) => Err(BodyError::NotAnObject),
        // Not JSON: some clients post a form without saying so.
        Err(e) if looks_like_form(bytes) => {
            let fields = form_fields(bytes);
            if fields.values.is_empty() {
                Err(BodyError::InvalidJson(e.to_string()))
            } else {
                Ok(fields)
            }
        }
        Err(e) => Err(BodyError::InvalidJson(e.to_string())),
    }
}

fn looks_like_form(bytes: &[u8]) -> bool {
    !bytes.starts_with(b"{") && !bytes.starts_with(b"[") && bytes.contains(&b'=')
}

fn form_fields(bytes: &[u8]) -> Fields {
    let repeated: Vec<(String, String)> = url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let values = repeated
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Fields {
        values,
        files: Vec::new(),
        repeated,
    }
}

/// Acts out the HTTP side of scenario effects: waits the scripted latency, then breaks the
/// connection or answers the scripted status and body (which the scenario writes in the
/// provider's own error shape). `Ok` means the call proceeds normally.
pub async fn act_out(engine: &Engine, applied: &Applied) -> Result<(), Response> {
    if let Some(latency) = engine.latency(applied.latency_ms) {
        tokio::time::sleep(latency).await;
    }
    if let Some(kind) = applied.disconnect {
        return Err(disconnect(kind));
    }
    if let Some(respond) = &applied.respond {
        let status =
            StatusCode::from_u16(respond.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Err((status, axum::Json(respond.body.clone())).into_response());
    }
    Ok(())
}

/// A body that fails, after `prefix` when there is one; hyper then drops the connection.
/// Failing before any byte makes hyper drop the connection before the status line too.
/// After the prefix it waits a moment, so that hyper flushes what it has before the cut.
struct Broken {
    prefix: Option<Bytes>,
    pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        if let Some(prefix) = self.prefix.take() {
            self.pause = Some(Box::pin(tokio::time::sleep(
                std::time::Duration::from_millis(20),
            )));
            return Poll::Ready(Some(Ok(http_body::Frame::data(prefix))));
        }
        if let Some(pause) = self.pause.as_mut() {
            if std::future::Future::poll(pause.as_mut(), cx).is_pending() {
                return Poll::Pending;
            }
        }
        Poll::Ready(Some(Err(std::io::Error::other(
            "scenario: connection broken",
        ))))
    }
}

/// An answer that never completes: `Reset` sends a 200's head and the start of a JSON
/// body, then cuts the connection; `Empty` closes it before a single byte.
fn disconnect(kind: Disconnect) -> Response {
    let prefix = (kind == Disconnect::Reset).then(|| Bytes::from_static(b"{\"status\": "));
    let mut response = Response::new(Body::new(Broken {
        prefix,
        pause: None,
    }));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_without_content_type_is_read() {
        let fields = json_fields(br#"{"secret": 123456, "use_async": "true"}"#).unwrap();
        assert_eq!(fields.text("secret").unwrap().as_deref(), Some("123456"));
        assert_eq!(fields.flag("use_async").unwrap(), Some(true));
    }

    #[test]
    fn wrong_types_are_reported() {
        let fields = json_fields(br#"{"given_name": {"a": 1}}"#).unwrap();
        assert!(fields.text("given_name").is_err());
        assert!(json_fields(b"[1,2]").is_err());
        assert!(json_fields(b"{nope").is_err());
    }

    #[test]
    fn unlabelled_form_is_read() {
        let fields = json_fields(b"secret=123456&x=1").unwrap();
        assert_eq!(fields.text("secret").unwrap().as_deref(), Some("123456"));
    }
}
