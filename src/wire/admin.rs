//! What every admin call under `/_signsim` shares on the wire, the providers' own admin
//! calls included: one error shape, `{"error": "..."}` with a 4xx, one body limit, and
//! extractors whose rejections answer in that shape.

use super::{BodyError, Fields, WrongType};
use crate::engine::Engine;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Admin bodies are small: settings, outcomes, scenario files.
pub const ADMIN_BODY_LIMIT: usize = 1024 * 1024;

/// An admin call's failure: `{"error": message}` with `status`.
#[derive(Debug, Clone)]
pub struct AdminError {
    pub status: StatusCode,
    pub message: String,
}

pub type AdminResult<T = Response> = Result<T, AdminError>;

impl AdminError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> AdminError {
        AdminError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::NOT_FOUND, message)
    }

    /// The resource exists but is in a state where the act is not possible.
    pub fn conflict(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::CONFLICT, message)
    }

    /// A link that worked once and no longer does (expired, already used).
    pub fn gone(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::GONE, message)
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        (self.status, Json(body)).into_response()
    }
}

impl From<BodyError> for AdminError {
    fn from(error: BodyError) -> AdminError {
        let status = match error {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        AdminError::new(status, error.to_string())
    }
}

impl From<WrongType> for AdminError {
    fn from(error: WrongType) -> AdminError {
        AdminError::bad_request(error.to_string())
    }
}

impl From<QueryRejection> for AdminError {
    fn from(rejection: QueryRejection) -> AdminError {
        AdminError::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for AdminError {
    fn from(rejection: PathRejection) -> AdminError {
        AdminError::bad_request(rejection.body_text())
    }
}

/// Path parameters of admin calls; a segment that is not valid UTF-8 answers in the admin
/// JSON error shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AdminError))]
pub struct Path<T>(pub T);

/// Query parameters of admin calls; one that does not parse answers in the same shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AdminError))]
pub struct Query<T>(pub T);

/// The fields of an admin call's body, however they come: JSON (with or without a
/// Content-Type), a page's form, or multipart; at most `ADMIN_BODY_LIMIT` bytes.
pub struct AdminBody(pub Fields);

impl<S: Send + Sync> FromRequest<S> for AdminBody {
    type Rejection = AdminError;

    async fn from_request(request: Request, _: &S) -> Result<AdminBody, AdminError> {
        Ok(AdminBody(Fields::read(request, ADMIN_BODY_LIMIT).await?))
    }
}

impl Fields {
    /// A text field an admin call cannot do without; the error names it with an example.
    pub fn required(&self, name: &str, example: &str) -> Result<String, AdminError> {
        self.text(name)?.ok_or_else(|| {
            AdminError::bad_request(format!("missing '{name}' (e.g. \"{name}\": \"{example}\")"))
        })
    }
}

/// A webhook receiver that is always down: the "receiver down" scenarios of every provider
/// aim deliveries at `/_signsim/<slug>/receiver-down`, which answers 503, so the
/// dispatcher's retries and the delivery log can be seen without a server of one's own.
pub async fn receiver_down() -> (StatusCode, &'static str) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "receiver down: a scenario aims deliveries here to show them failing",
    )
}

/// A filter's `provider`, checked: a slug nothing serves (a typo, `qi` for `qitech`) is a
/// 400 naming the known ones, so that a test never waits on a filter that matches nothing.
pub fn known_provider(engine: &Engine, provider: Option<&str>) -> Result<(), AdminError> {
    let Some(provider) = provider else {
        return Ok(());
    };
    let known: Vec<&str> = engine.scenarios.specs().iter().map(|s| s.slug).collect();
    if known.contains(&provider) {
        return Ok(());
    }
    Err(AdminError::bad_request(format!(
        "unknown provider '{provider}'; the providers are {}",
        known.join(", ")
    )))
}

/// The longest an admin call waits (`?wait=`): long enough for any retry a test plays in
/// real time, short enough that a forgotten wait does not hold a connection for long.
pub const MAX_WAIT_SECONDS: f64 = 60.0;

/// `?wait=SECONDS` of the calls that wait for something to arrive: 0 to
/// [`MAX_WAIT_SECONDS`], decimals allowed; `None` when not given.
pub fn wait_seconds(text: Option<&str>) -> Result<Option<std::time::Duration>, AdminError> {
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    let seconds = text
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=MAX_WAIT_SECONDS).contains(s))
        .ok_or_else(|| {
            AdminError::bad_request(format!(
                "'wait' is how many seconds to wait for the first one, 0 to {MAX_WAIT_SECONDS} \
                 (decimals allowed, e.g. wait=2.5), not '{text}'"
            ))
        })?;
    // In range and finite, checked above: the conversion cannot fail.
    Ok(std::time::Duration::try_from_secs_f64(seconds).ok())
}
