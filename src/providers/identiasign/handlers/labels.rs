//! The label calls: list (descending, paged with `last_item`), create or change, delete.

use crate::providers::identiasign::model::Label;
use crate::providers::identiasign::wire::fields::{label_name, short_text};
use crate::providers::identiasign::wire::paging::{self, LabelQuery};
use crate::providers::identiasign::wire::{Body, IError, IResult, Session};
use crate::providers::identiasign::{IdentiaSign, ENTITY};
use crate::wire::RequestedScenario;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

fn label_json(label: &Label) -> Value {
    let mut out = json!({ "label": label.label, "usr_id": label.usr_id });
    if let (Some(description), Some(map)) = (&label.description, out.as_object_mut()) {
        map.insert("description".into(), json!(description));
    }
    out
}

/// The `last_item` of a partial label listing: where to resume.
fn label_last_item(label: &Label) -> Value {
    json!({ "label": label.label, "usr_id": label.usr_id })
}

pub async fn list_labels(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    RequestedScenario(requested): RequestedScenario,
    RawQuery(raw): RawQuery,
) -> IResult {
    let tenant = session.tenant;
    let LabelQuery { limit, after } = paging::label_query(raw.as_deref())?;
    state.assign_entity_scenario(&tenant, requested.as_deref())?;
    let applied = state.script(&tenant, ENTITY, "labels.list").await?;
    let size = paging::page_size(limit, applied.page_size);
    // Descending order: resume with the names below the last one returned.
    let mut remaining: Vec<Label> = state
        .labels(&tenant)
        .into_iter()
        .filter(|l| after.as_ref().is_none_or(|after| l.label < *after))
        .collect();
    let more = remaining.len() > size;
    remaining.truncate(size);
    Ok(paging::page(
        "labels",
        &remaining,
        more,
        label_json,
        label_last_item,
    ))
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
