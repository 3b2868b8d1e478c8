//! The signature process calls: create (`PUT`), modify (`POST`), list (`GET`), reject
//! (`DELETE`) and notify.

use crate::engine::add_seconds;
use crate::engine::documents;
use crate::providers::identiasign::model::{next, Document, EntityConfig, Event, Process, Status};
use crate::providers::identiasign::service::{Filter, Handed};
use crate::providers::identiasign::wire::fields::{self, DEFAULT_EXPIRE_SECONDS};
use crate::providers::identiasign::wire::paging::{self, ProcessQuery};
use crate::providers::identiasign::wire::{self, Body, IError, IResult, Session};
use crate::providers::identiasign::{IdentiaSign, ENTITY, SLUG};
use crate::wire::RequestedScenario;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

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

pub async fn create(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    RequestedScenario(requested): RequestedScenario,
    Body(fields): Body,
) -> IResult {
    let tenant = session.tenant;
    let config = state.config(&tenant);
    let files = fields::pdf_files(&fields)?;
    let signers = fields::signers(&fields, files.len(), &config)?;
    let sign_order = fields.flag("signOrder")?.unwrap_or(false);
    let expire = fields::seconds_field(&fields, "expire")?.unwrap_or(DEFAULT_EXPIRE_SECONDS);
    let link_expire = fields::seconds_field(&fields, "link_expire")?.unwrap_or(expire);
    let first_name = files
        .first()
        .map(|(name, _)| name.clone())
        .unwrap_or_default();
    let description = fields::short_text(&fields, "description")?.unwrap_or(first_name);
    let url_callback = fields::url_callback(&fields)?;
    let labels = fields::labels(&fields, |name| state.label_exists(&tenant, name))?;

    // The blank signature page goes at the end of each document, as the docs say.
    let blank = crate::pki::text_pdf("", &[]);
    let engine = state.engine();
    let mut documents = Vec::new();
    for (i, (name, bytes)) in files.into_iter().enumerate() {
        let bad = |e: crate::pki::PkiError| {
            IError::field(&format!("pdfFiles[{i}]"), wire::pdf_problem(&e))
        };
        let with_page = crate::pki::append_pages(&bytes, &blank).map_err(bad)?;
        let pages = crate::pki::page_count(&with_page).map_err(bad)?;
        documents.push(Document {
            id: engine.ids.hex(8),
            name,
            bytes: documents::keep_vec(with_page),
            pages,
        });
    }

    let id = format!("{}:{}", engine.ids.hex(16), engine.ids.hex(8));
    let now = engine.now(&tenant);
    let process = Process {
        id: id.clone(),
        seq: state.next_seq(),
        description,
        sign_order,
        created_at: now,
        expires_at: add_seconds(now, expire),
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
            .map_err(|_| state.unknown_scenario(requested.as_deref()))?;
        if chosen.is_some() {
            break;
        }
    }
    engine.assign_scenario(&tenant, &id, chosen);
    let applied = state.script(&tenant, &id, "create").await?;
    let handed = state.create(&tenant, process, link_expire, &applied)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "msg": msg(&config, &handed) })),
    )
        .into_response())
}

pub async fn modify(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    Body(fields): Body,
) -> IResult {
    let tenant = session.tenant;
    let id = fields::process_id(&fields)?;
    let process = state.get(&tenant, &id)?;
    let description = fields::short_text(&fields, "description")?;
    let changes = fields::signer_changes(&fields, process.documents.len())?;
    state.script(&tenant, &id, "modify").await?;
    state.modify(&tenant, &id, description, changes)?;
    Ok(Json(json!({ "msg": "Proceso de firma actualizado" })).into_response())
}

pub async fn list(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    RequestedScenario(requested): RequestedScenario,
    RawQuery(raw): RawQuery,
) -> IResult {
    let tenant = session.tenant;
    let rendered = |process: &Process| {
        let urls: Vec<Option<String>> = (0..process.documents.len())
            .map(|i| state.file_url(&tenant, process, i))
            .collect();
        wire::process(process, &urls)
    };
    let (limit, start, end, status, after) = match paging::process_query(raw.as_deref())? {
        ProcessQuery::One(id) => {
            let process = state
                .get(&tenant, &id)
                .map_err(|_| IError::not_found("No se encontraron procesos de firma"))?;
            return Ok(paging::page(
                "signatureProcesses",
                &[process],
                false,
                rendered,
                wire::process_last_item,
            ));
        }
        ProcessQuery::Page {
            limit,
            start,
            end,
            status,
            after,
        } => (limit, start, end, status, after),
    };
    let mut filter = Filter {
        start,
        end,
        status,
        after: None,
    };
    if let Some(id) = after {
        let process = state
            .get(&tenant, &id)
            .map_err(|_| IError::field("last_item", "no corresponde a un proceso de firma"))?;
        filter.after = Some(process.seq);
    }
    state.assign_entity_scenario(&tenant, requested.as_deref())?;
    let applied = state.script(&tenant, ENTITY, "list").await?;
    // A scenario's page cap makes pages partial even under the limit.
    let size = paging::page_size(limit, applied.page_size);
    let page = state.list(&tenant, &filter, size);
    if page.processes.is_empty() {
        return Err(IError::not_found("No se encontraron procesos de firma"));
    }
    Ok(paging::page(
        "signatureProcesses",
        &page.processes,
        page.more,
        rendered,
        wire::process_last_item,
    ))
}

/// Rejects "uno o varios procesos" (`fields::process_ids`), all or none: when one of them
/// is unknown (404) or in a state that cannot be rejected (403) none is, and the answer
/// names each one in the way, so that no process is ever left out in silence.
pub async fn reject(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    Body(fields): Body,
) -> IResult {
    let tenant = session.tenant;
    let ids = fields::process_ids(&fields)?;
    if let [id] = ids.as_slice() {
        state.get(&tenant, id)?;
        state.script(&tenant, id, "reject").await?;
        state.reject(&tenant, id, None)?;
        return Ok(Json(json!({ "msg": "Proceso de firma rechazado" })).into_response());
    }
    let mut unknown = Vec::new();
    let mut blocked = Vec::new();
    for id in &ids {
        match state.get(&tenant, id) {
            Ok(process) if next(process.status, Event::Reject).is_none() => {
                blocked.push(format!("{id} ({})", process.status));
            }
            Ok(_) => {}
            Err(_) => unknown.push(id.as_str()),
        }
    }
    if !unknown.is_empty() {
        return Err(IError::not_found(format!(
            "Procesos de firma no encontrados: {}; ninguno fue rechazado",
            unknown.join(", ")
        )));
    }
    if !blocked.is_empty() {
        return Err(IError::forbidden(format!(
            "El estado de estos procesos de firma no permite rechazarlos: {}; ninguno fue \
             rechazado",
            blocked.join(", ")
        )));
    }
    for id in &ids {
        state.script(&tenant, id, "reject").await?;
    }
    // Checked above; one a signer concluded in between is named with those rejected.
    let mut rejected = Vec::new();
    let mut refused = Vec::new();
    for id in &ids {
        match state.reject(&tenant, id, None) {
            Ok(()) => rejected.push(id.as_str()),
            Err(error) => refused.push(format!("{id} ({})", IError::from(error).msg())),
        }
    }
    if !refused.is_empty() {
        let done = if rejected.is_empty() {
            "ninguno fue rechazado".to_owned()
        } else {
            format!("sí fueron rechazados: {}", rejected.join(", "))
        };
        return Err(IError::forbidden(format!(
            "No se pudieron rechazar: {}; {done}",
            refused.join(", ")
        )));
    }
    Ok(Json(json!({
        "msg": format!("Procesos de firma rechazados: {}", rejected.join(", "))
    }))
    .into_response())
}

pub async fn notify(
    State(state): State<Arc<IdentiaSign>>,
    session: Session,
    Body(fields): Body,
) -> IResult {
    let tenant = session.tenant;
    let id = fields::process_id(&fields)?;
    let link_expire = fields::seconds_field(&fields, "link_expire")?;
    let process = state.get(&tenant, &id)?;
    if process.status != Status::Pending {
        return Err(IError::bad_request(format!(
            "El proceso de firma está {}: no se puede notificar",
            process.status
        )));
    }
    let applied = state.script(&tenant, &id, "notify").await?;
    // By default the link lasts as long as the process.
    let remaining = (process.expires_at - state.engine().now(&tenant)).whole_seconds();
    let link_expire = link_expire.unwrap_or_else(|| u64::try_from(remaining).unwrap_or(1).max(1));
    let handed = state.hand_out(&tenant, &id, link_expire, applied.deliver)?;
    Ok(Json(json!({ "msg": msg(&state.config(&tenant), &handed) })).into_response())
}
