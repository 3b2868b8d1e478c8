//! IdentiaSign's partial listings, for processes and labels alike: a listing answers at
//! most `limit` items (fewer under a scenario's page cap). When more remain it answers
//! 206 Partial Content with `last_item`, its last item's marker, which the next call sends
//! back to resume after it; the last page answers 200 with `last_item: null`. The
//! listing's query is read here too.

use super::IError;
use crate::providers::identiasign::model::{Status, STATUS_NAMES};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// `limit` when the call gives none, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// What `GET /api/signature_processes` asks for.
pub enum ProcessQuery {
    /// `process_id`: that one process (the other parameters are not read).
    One(String),
    /// A page of the processes created between `start` and `end` in `status`, resuming
    /// after the process `after` (the `processId` of a `last_item`).
    Page {
        limit: usize,
        start: Option<OffsetDateTime>,
        end: Option<OffsetDateTime>,
        status: Option<Status>,
        after: Option<String>,
    },
}

/// Reads a process listing's query.
pub fn process_query(raw: Option<&str>) -> Result<ProcessQuery, IError> {
    let pairs = query_pairs(raw);
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    if let Some(id) = param("process_id").filter(|id| !id.trim().is_empty()) {
        return Ok(ProcessQuery::One(id.trim().to_owned()));
    }
    let limit = parse_limit(param("limit"))?;
    let date = |name: &str| match param(name) {
        None => Ok(None),
        Some(raw) => super::parse_creation(raw)
            .map(Some)
            .ok_or_else(|| IError::field(name, "use el formato AAAAMMDDThh:mm:ss+00:00")),
    };
    let start = date("creation_start")?;
    let end = date("creation_end")?;
    let status = match param("status") {
        None => None,
        Some(status) => Some(Status::parse(status.trim()).ok_or_else(|| {
            IError::field("status", format!("use uno de {}", STATUS_NAMES.join(", ")))
        })?),
    };
    // A `last_item` without a `processId` names no process: refused as one that is gone.
    let after = parse_last_item(param("last_item"))?.map(|item| {
        item.get("processId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    });
    Ok(ProcessQuery::Page {
        limit,
        start,
        end,
        status,
        after,
    })
}

/// What `GET /api/labels` asks for: a page resuming after the label named `after` (the
/// `label` of a `last_item`).
pub struct LabelQuery {
    pub limit: usize,
    pub after: Option<String>,
}

/// Reads a label listing's query.
pub fn label_query(raw: Option<&str>) -> Result<LabelQuery, IError> {
    let pairs = query_pairs(raw);
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let limit = parse_limit(param("limit"))?;
    let after = match parse_last_item(param("last_item"))? {
        None => None,
        Some(item) => Some(
            item.get("label")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| IError::field("last_item", "falta 'label'"))?,
        ),
    };
    Ok(LabelQuery { limit, after })
}

/// The query of a listing, as name-value pairs.
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The query's `limit`: `1..=MAX_LIMIT`, `DEFAULT_LIMIT` when absent.
fn parse_limit(value: Option<&String>) -> Result<usize, IError> {
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

/// The query's `last_item`: the JSON object a partial listing answered.
fn parse_last_item(value: Option<&String>) -> Result<Option<Map<String, Value>>, IError> {
    let Some(raw) = value else { return Ok(None) };
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(object)) => Ok(Some(object)),
        _ => Err(IError::field(
            "last_item",
            "se esperaba el objeto JSON de una búsqueda parcial",
        )),
    }
}

/// How many items a page holds: the call's `limit`, cut by a scenario's page cap
/// (`page_size`), at least one.
pub fn page_size(limit: usize, scenario_cap: Option<u32>) -> usize {
    scenario_cap.map_or(limit, |size| {
        limit.min(usize::try_from(size).unwrap_or(limit)).max(1)
    })
}

/// One page of a listing, the items under `list`: 206 with the `last_item` of its last
/// item when `more` remain after it, else 200 with `last_item: null`. The one place that
/// decides between the two.
pub fn page<T>(
    list: &str,
    items: &[T],
    more: bool,
    render: impl Fn(&T) -> Value,
    last_item: impl Fn(&T) -> Value,
) -> Response {
    let resume = match (more, items.last()) {
        (true, Some(last)) => last_item(last),
        _ => Value::Null,
    };
    let status = if more {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut body = Map::new();
    body.insert(list.to_owned(), items.iter().map(render).collect());
    body.insert("last_item".to_owned(), resume);
    (status, Json(Value::Object(body))).into_response()
}
