//! The built-in webhook receiver over HTTP: `ANY /_signsim/capture/{name}` (and any path
//! below it) records the request and answers 200, or what the URL asks for
//! (`?status=CODE`, `?fail_first=N`), so a provider's retries can be seen; `GET
//! /_signsim/captures/{name}?wait=SECONDS` reads the captures back, waiting for the first;
//! `DELETE` forgets them. The store is the engine's ([`crate::engine::captures`]).
//!
//! The receiver is open under `--admin-token` (a webhook sender does not hold the token:
//! `ui::open::ALWAYS_OPEN`); reading back is an admin call like any other.

use crate::engine::captures::Capture;
use crate::engine::{rfc3339, Engine};
use crate::wire::admin::{wait_seconds, AdminError, Path, Query, ADMIN_BODY_LIMIT};
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// The longest name: enough for a test's id and a counter.
const MAX_NAME: usize = 100;
/// The most requests `?fail_first=` may fail: more than any sender retries.
const MAX_FAIL_FIRST: u64 = 1_000_000;

/// The receiver and its reads, mounted under `/_signsim`.
pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/capture/{name}", any(capture))
        .route("/capture/{name}/{*rest}", any(capture))
        .route("/captures/{name}", get(list).delete(forget))
        .with_state(engine)
}

/// The `{name}` of a capture path (a deeper `{*rest}` is part of the recorded path only).
#[derive(Deserialize)]
struct Named {
    name: String,
}

/// A name of 1 to [`MAX_NAME`] letters, digits, `.`, `_` or `-`: it goes into URLs and
/// test output as it is.
fn checked(name: &str) -> Result<(), AdminError> {
    let fits = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if fits {
        return Ok(());
    }
    Err(AdminError::bad_request(format!(
        "a capture name is 1 to {MAX_NAME} of A-Z, a-z, 0-9, '.', '_' and '-' \
         (e.g. /_signsim/capture/test-42), not '{}'",
        name.escape_debug()
    )))
}

/// What the receiver's URL asks it to answer: `?status=CODE` (200-599) and
/// `?fail_first=N` (500 to the name's first N requests).
struct Answering {
    status: StatusCode,
    fail_first: u64,
}

fn answering(query: Option<&str>) -> Result<Answering, AdminError> {
    let mut answering = Answering {
        status: StatusCode::OK,
        fail_first: 0,
    };
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "status" => {
                answering.status = value
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|code| (200..=599).contains(code))
                    .and_then(|code| StatusCode::from_u16(code).ok())
                    .ok_or_else(|| {
                        AdminError::bad_request(format!(
                            "'status' is the code the receiver answers, 200 to 599 \
                             (e.g. ?status=503), not '{value}'"
                        ))
                    })?;
            }
            "fail_first" => {
                answering.fail_first = value
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= MAX_FAIL_FIRST)
                    .ok_or_else(|| {
                        AdminError::bad_request(format!(
                            "'fail_first' is how many of this name's first requests are \
                             answered 500, 0 to {MAX_FAIL_FIRST} (e.g. ?fail_first=2), \
                             not '{value}'"
                        ))
                    })?;
            }
            _ => {}
        }
    }
    Ok(answering)
}

/// Records the request under its name and answers `{"captured": true}` with 200, or
/// 500 while `?fail_first=` lasts, or `?status=`.
async fn capture(
    State(engine): State<Arc<Engine>>,
    named: Result<Path<Named>, AdminError>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AdminError> {
    let Path(Named { name }) = named?;
    checked(&name)?;
    let answering = answering(uri.query())?;
    let body = axum::body::to_bytes(body, ADMIN_BODY_LIMIT)
        .await
        .map_err(|_| {
            AdminError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the receiver keeps bodies of at most {ADMIN_BODY_LIMIT} bytes"),
            )
        })?;
    let request = engine.captures.count_request(&name);
    engine.captures.record(
        &name,
        Capture {
            method: method.to_string(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers: header_list(&headers),
            body,
            at: time::OffsetDateTime::now_utc(),
        },
    );
    let status = if request <= answering.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        answering.status
    };
    Ok(match status {
        // No body is allowed with these.
        StatusCode::NO_CONTENT | StatusCode::RESET_CONTENT | StatusCode::NOT_MODIFIED => {
            status.into_response()
        }
        _ => (status, Json(json!({ "captured": true }))).into_response(),
    })
}

/// Header names lower-case (as `HeaderMap` keeps them), a repeated one's values joined
/// with `, `, a value that is not text read as Latin-1 would have it (lossily).
fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match list.iter_mut().find(|(known, _)| known == name.as_str()) {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            None => list.push((name.as_str().to_owned(), value)),
        }
    }
    list
}

fn as_json(capture: &Capture) -> Value {
    let headers: serde_json::Map<String, Value> = capture
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let mut value = json!({
        "method": capture.method,
        "path": capture.path,
        "query": capture.query,
        "headers": headers,
        "at": rfc3339(capture.at),
    });
    match std::str::from_utf8(&capture.body) {
        Ok(text) => value["body"] = json!(text),
        Err(_) => {
            value["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&capture.body));
            value["body_encoding"] = json!("base64");
        }
    }
    value
}

#[derive(Deserialize)]
struct WaitQuery {
    wait: Option<String>,
}

/// `name`'s captures, oldest first; with `?wait=`, waits that long for the first.
async fn list(
    State(engine): State<Arc<Engine>>,
    named: Result<Path<Named>, AdminError>,
    Query(query): Query<WaitQuery>,
) -> Result<Json<Value>, AdminError> {
    let Path(Named { name }) = named?;
    checked(&name)?;
    let captures = match wait_seconds(query.wait.as_deref())? {
        Some(wait) => engine.captures.wait_list(&name, wait).await,
        None => engine.captures.list(&name),
    };
    Ok(Json(Value::Array(captures.iter().map(as_json).collect())))
}

/// Forgets `name`'s captures and its count of requests (`?fail_first=` starts over).
async fn forget(
    State(engine): State<Arc<Engine>>,
    named: Result<Path<Named>, AdminError>,
) -> Result<StatusCode, AdminError> {
    let Path(Named { name }) = named?;
    checked(&name)?;
    engine.captures.delete(&name);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_answers_are_checked() {
        assert!(checked("test-42_a.b").is_ok());
        assert!(checked("").is_err());
        assert!(checked("a b").is_err());
        assert!(checked(&"a".repeat(MAX_NAME + 1)).is_err());
        assert!(answering(Some("status=503&fail_first=2")).is_ok());
        assert!(answering(Some("status=199")).is_err());
        assert!(answering(Some("status=600")).is_err());
        assert!(answering(Some("fail_first=-1")).is_err());
        assert!(answering(None).is_ok());
    }
}
