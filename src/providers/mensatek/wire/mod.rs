//! Mensatek's wire conventions: parameters by case-insensitive name from a JSON or
//! URL-encoded body, HTTP Basic `APIUser:APIToken`, and answers in the format `Resp` asks
//! for (JSON, XML, TXT, or the legacy plain form), errors included: HTTP 200 with a
//! negative `Res`. `verification.rs` reads `VerificarIdentidad`'s parameters, `report.rs`
//! writes the status reports.

pub mod report;
pub mod verification;

use crate::engine::tenant::Tenant;
use crate::wire::{BodyError, Fields};
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use serde_json::{Map, Value};

/// `Res` of a successful call, as the guide's examples show it.
pub const RES_OK: &str = "10";

/// The parameters of a call, by lower-cased name (names are case-insensitive).
#[derive(Debug, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    /// Reads a JSON object or a URL-encoded form (a multipart body is read too).
    pub async fn read(request: Request, limit: usize) -> Result<Params, BodyError> {
        let fields = Fields::read(request, limit).await?;
        Ok(Params(
            fields
                .values
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
        ))
    }

    /// A parameter as text (numbers are given as text); blank counts as absent. An array or
    /// object answers -3.
    pub fn text(&self, name: &str) -> Result<Option<String>, MError> {
        match self.0.get(&name.to_ascii_lowercase()) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(MError::invalid(format!("Invalid value for {name}"))),
        }
    }

    /// The answer format the call asks for.
    pub fn format(&self) -> Format {
        match self.0.get("resp") {
            Some(Value::String(s)) => Format::parse(s),
            _ => Format::Legacy,
        }
    }
}

/// What every call starts with: its parameters, the answer format it asks for (`Resp`),
/// and its tenant (the API user).
pub struct Call {
    pub params: Params,
    pub format: Format,
    pub tenant: Tenant,
}

impl Call {
    /// Reads the parameters, then takes the tenant its credentials name (`super::ApiUser`).
    /// A body that cannot be read answers -3 in the legacy form (its `Resp` is unknown);
    /// missing credentials answer -1 in the format asked for.
    pub async fn read(
        request: Request,
        credentials: Option<Tenant>,
        limit: usize,
    ) -> Result<Call, Response> {
        let params = Params::read(request, limit)
            .await
            .map_err(|e| MError::from(e).reply().render(Format::Legacy))?;
        let format = params.format();
        let tenant = credentials.ok_or_else(|| MError::Auth.reply().render(format))?;
        Ok(Call {
            params,
            format,
            tenant,
        })
    }
}

/// `Resp`: the answer's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
    Txt,
    /// No `Resp` (or one the API does not know): the answer of older API versions.
    Legacy,
}

impl Format {
    pub fn parse(text: &str) -> Format {
        match text.trim().to_ascii_uppercase().as_str() {
            "JSON" => Format::Json,
            "XML" => Format::Xml,
            "TXT" => Format::Txt,
            _ => Format::Legacy,
        }
    }
}

/// The API user (the tenant's name) of a Basic header whose user and token are both
/// non-empty. The handler checks it after reading `Resp`, so that -1 comes in the format
/// asked for.
pub fn api_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, token) = decoded.split_once(':')?;
    (!user.is_empty() && !token.is_empty()).then(|| user.to_owned())
}

/// One answer: `Res` and the other values, in order, all as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply(pub Vec<(&'static str, String)>);

impl Reply {
    pub fn ok(values: Vec<(&'static str, String)>) -> Reply {
        let mut all = vec![("Res", RES_OK.to_owned())];
        all.extend(values);
        Reply(all)
    }

    /// Renders it in `format`.
    pub fn render(&self, format: Format) -> Response {
        match format {
            Format::Json => {
                let object: Map<String, Value> = self
                    .0
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
                    .collect();
                let body = Value::Array(vec![Value::Object(object)]).to_string();
                typed("application/json", body)
            }
            Format::Xml => typed("application/xml; charset=utf-8", xml(&self.0)),
            Format::Txt => typed("text/plain; charset=utf-8", txt(&self.0)),
            Format::Legacy => typed("text/plain; charset=utf-8", txt(&self.legacy())),
        }
    }

    /// Older API versions left out the credits (`Cred`); `GetCreditos` answered `Saldo`
    /// with a decimal comma instead.
    fn legacy(&self) -> Vec<(&'static str, String)> {
        let credits_only = self.0.len() == 2 && self.0.iter().any(|(k, _)| *k == "Cred");
        if credits_only && self.0.first().is_some_and(|(_, v)| v == RES_OK) {
            let cred = self.get("Cred").unwrap_or_default();
            return vec![("Saldo", format!("{cred},00")), ("Res", "1".to_owned())];
        }
        self.0
            .iter()
            .filter(|(k, _)| *k != "Cred")
            .cloned()
            .collect()
    }

    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }
}

fn typed(content_type: &'static str, body: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// `Key:Value;`, one a line.
fn txt(values: &[(&'static str, String)]) -> String {
    values.iter().map(|(k, v)| format!("{k}:{v};\n")).collect()
}

/// `<?xml version="1.0"?><result><Res>10</Res>...</result>`, written by quick-xml (which
/// escapes the values).
fn xml(values: &[(&'static str, String)]) -> String {
    let mut writer = Writer::new(Vec::new());
    let written: std::io::Result<()> = (|| {
        writer.write_event(Event::Decl(BytesDecl::new("1.0", None, None)))?;
        writer
            .create_element("result")
            .write_inner_content(|inner| {
                for (key, value) in values {
                    inner
                        .create_element(*key)
                        .write_text_content(BytesText::new(value))?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    if written.is_err() {
        // Writing to a Vec cannot fail; keep the answer well formed if it ever did.
        return "<?xml version=\"1.0\"?><result><Res>-3</Res></result>".to_owned();
    }
    String::from_utf8_lossy(&writer.into_inner()).into_owned()
}

/// An error answer: a negative `Res`, HTTP 200, in the call's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MError {
    /// -1: no or malformed Basic credentials.
    Auth,
    /// -2: the balance does not cover the call.
    Credits { balance: u64 },
    /// -3: a parameter is missing or wrong.
    Invalid(String),
    /// -5: the certificate is not generated yet.
    NotCertified,
    /// -50: no such verification (so no such file).
    FileNotFound,
}

/// The guide's text for -5, word for word.
pub const NOT_CERTIFIED_TEXT: &str = "The certificate is not yet generated. Please wait until you receive the certification confirmation before trying again.";

impl MError {
    pub fn invalid(text: impl Into<String>) -> MError {
        MError::Invalid(text.into())
    }

    pub fn missing(name: &str) -> MError {
        MError::Invalid(format!("Missing parameter {name}"))
    }

    pub fn reply(&self) -> Reply {
        let pair = |res: &str, key: &'static str, value: String| {
            Reply(vec![("Res", res.to_owned()), (key, value)])
        };
        match self {
            MError::Auth => Reply(vec![("Res", "-1".to_owned())]),
            MError::Credits { balance } => pair("-2", "Cred", balance.to_string()),
            MError::Invalid(text) => pair("-3", "Error", text.clone()),
            MError::NotCertified => pair("-5", "Error", NOT_CERTIFIED_TEXT.to_owned()),
            MError::FileNotFound => pair("-50", "Error", "File not found".to_owned()),
        }
    }
}

impl From<BodyError> for MError {
    fn from(error: BodyError) -> MError {
        MError::Invalid(match error {
            BodyError::TooLarge { limit } => format!("Request too large: at most {limit} bytes"),
            _ => "The parameters could not be read: send a JSON object or a form".to_owned(),
        })
    }
}

impl From<super::model::ModelError> for MError {
    fn from(error: super::model::ModelError) -> MError {
        use super::model::ModelError;
        match error {
            ModelError::NotFound(_) => MError::FileNotFound,
            ModelError::NotEnoughCredits { balance } => MError::Credits { balance },
            ModelError::CertificateNotReady => MError::NotCertified,
            ModelError::WrongStatus { status, .. } => {
                MError::Invalid(format!("The request is in status {}", status.code()))
            }
        }
    }
}

/// Why a call did not do its work: a negative `Res`, or a scenario's scripted answer,
/// which goes back exactly as the scenario wrote it.
pub enum Refusal {
    Api(MError),
    Scripted(Response),
}

impl<E: Into<MError>> From<E> for Refusal {
    fn from(error: E) -> Refusal {
        Refusal::Api(error.into())
    }
}

impl Refusal {
    /// The answer in the call's `format`.
    pub fn render(self, format: Format) -> Response {
        match self {
            Refusal::Api(error) => error.reply().render(format),
            Refusal::Scripted(response) => response,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_and_keeps_order() {
        let body = xml(&[("Res", "-3".into()), ("Error", "a < b & c".into())]);
        assert_eq!(
            body,
            "<?xml version=\"1.0\"?><result><Res>-3</Res><Error>a &lt; b &amp; c</Error></result>"
        );
    }

    #[test]
    fn legacy_drops_credits_and_answers_saldo() {
        let sent = Reply::ok(vec![("ID", "1".into()), ("Cred", "9".into())]);
        assert_eq!(txt(&sent.legacy()), "Res:10;\nID:1;\n");
        let credits = Reply::ok(vec![("Cred", "14970".into())]);
        assert_eq!(txt(&credits.legacy()), "Saldo:14970,00;\nRes:1;\n");
    }

    #[test]
    fn basic_credentials_need_user_and_token() {
        let mut headers = HeaderMap::new();
        let basic = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        headers.insert(header::AUTHORIZATION, basic("user:tok").parse().unwrap());
        assert_eq!(api_user(&headers).as_deref(), Some("user"));
        headers.insert(header::AUTHORIZATION, basic("user:").parse().unwrap());
        assert_eq!(api_user(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(api_user(&headers), None);
    }
}
