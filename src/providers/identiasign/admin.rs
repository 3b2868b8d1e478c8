//! Admin calls and pages under `/_signsim/identiasign`: an entity's configuration, the
//! signer's acts (JSON for tests, a page behind `msg` for people), the document URLs the
//! listing hands out, and a callback receiver that is always down.
//!
//! Each call that names an entity's process (by the body's `username`, or by a link whose
//! owner is the entity) files its answer under that entity with `ActedFor`, so that the
//! journal lists it with the entity's own calls, and the entity's reset forgets it.
//! Statuses follow the admin API's one rule: 404 for an unknown process, signer or link,
//! 409 when the process's or signer's state does not allow the act, 410 for a signing link
//! that expired or was used.

use super::model::{EntityConfig, FileLink, LinkTarget, ModelError, Nat, Process, Signer, Status};
use super::{IdentiaSign, SLUG};
use crate::engine::journal::ActedFor;
use crate::engine::rfc3339;
use crate::engine::tenant::Tenant;
use crate::ui::{escape, page, Caller};
use crate::wire::admin::{AdminBody, AdminError, AdminResult, Path, Query};
use crate::wire::Fields;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What the signer and file links open, where the signer page posts (an act there needs
/// the link's code, in its path), and the always-down receiver the simulator delivers
/// to: open with `--admin-token` (see `Context::open_paths`). The acts under
/// `/processes/{id}/signers/...`, which also take the entity's `username` alone, are admin
/// calls: under `--admin-token` they need the token, so that nobody acts for a signer by
/// naming the entity.
pub const OPEN_PATHS: &[&str] = &[
    "/ui/signature_processes/{link}",
    "/processes/{id}/links/{code}",
    "/files/{token}",
    "/receiver-down",
];

pub fn router(state: Arc<IdentiaSign>) -> Router {
    Router::new()
        .route("/config", post(configure))
        .route("/processes/{id}/signers/{signer}/sign", post(sign_call))
        .route(
            "/processes/{id}/signers/{signer}/fail-facial",
            post(fail_facial_call),
        )
        .route("/processes/{id}/signers/{signer}/reject", post(reject_call))
        .route("/processes/{id}/links/{code}", post(act_by_link))
        .route("/ui/signature_processes/{link}", get(signing_page))
        .route("/files/{token}", get(file))
        .route("/receiver-down", post(crate::wire::admin::receiver_down))
        .with_state(state)
}

/// Files `response` under the entity an act was for, when it is known (see the module's
/// doc).
fn acted_for(mut response: Response, tenant: Option<&Tenant>) -> Response {
    if let Some(tenant) = tenant {
        response.extensions_mut().insert(ActedFor(tenant.clone()));
    }
    response
}

/// `{username, msg_form?: "link"|"list", refused_nats?: [...], password?}`: what an entity
/// has contracted and set up.
async fn configure(
    State(state): State<Arc<IdentiaSign>>,
    AdminBody(fields): AdminBody,
) -> Response {
    let username = match fields.required("username", "entidad.pe") {
        Ok(username) => username,
        Err(refused) => return refused.into_response(),
    };
    let tenant = Tenant::new(SLUG, username);
    let answer = configure_entity(&state, &tenant, &fields).map(Json);
    acted_for(answer.into_response(), Some(&tenant))
}

fn configure_entity(state: &IdentiaSign, tenant: &Tenant, fields: &Fields) -> AdminResult<Value> {
    let mut config = state.config(tenant);
    if let Some(form) = fields.text("msg_form")? {
        config.msg_list = match form.as_str() {
            "link" => false,
            "list" => true,
            _ => {
                return Err(AdminError::bad_request(format!(
                    "'msg_form' must be link or list, not {form}"
                )))
            }
        };
    }
    if let Some(refused) = refused_nats(fields)? {
        config.refused_nats = refused;
    }
    if fields.values.contains_key("password") {
        config.password = fields.text("password")?;
    }
    let body = describe(&tenant.name, &config);
    state.set_config(tenant, config);
    Ok(body)
}

/// `refused_nats`: a list (or comma-separated text) of the starred ID types.
fn refused_nats(fields: &Fields) -> AdminResult<Option<Vec<Nat>>> {
    let names: Vec<String> = match fields.values.get("refused_nats") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
        Some(Value::String(text)) => text
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(_) => {
            return Err(AdminError::bad_request(
                "'refused_nats' must be a list such as [\"CHL\", \"PERCE\"]",
            ))
        }
    };
    names
        .iter()
        .map(|name| match Nat::parse(name) {
            Some(Nat::Per) => Err(AdminError::bad_request(
                "PER is always contracted; refuse CHL, PERPASS or PERCE",
            )),
            Some(nat) => Ok(nat),
            None => Err(AdminError::bad_request(format!(
                "'{name}' is not one of CHL, PERPASS, PERCE"
            ))),
        })
        .collect::<AdminResult<Vec<_>>>()
        .map(Some)
}

fn describe(username: &str, config: &EntityConfig) -> Value {
    json!({
        "username": username,
        "msg_form": if config.msg_list { "list" } else { "link" },
        "refused_nats": config.refused_nats.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        "password_required": config.password.is_some(),
    })
}

/// A model error as the admin calls report it.
fn refusal(error: ModelError) -> AdminError {
    let message = match super::wire::IError::from(error.clone()) {
        super::wire::IError::Api { msg, .. } => msg,
        super::wire::IError::Scripted(_) => "refused by the scenario".to_owned(),
    };
    let status = match error {
        ModelError::ProcessNotFound(_) | ModelError::SignerNotFound(_) => StatusCode::NOT_FOUND,
        // The process's or the signer's state does not allow the act.
        ModelError::WrongStatus { .. }
        | ModelError::AlreadyActed(_)
        | ModelError::OutOfOrder { .. }
        | ModelError::SignedSignerRemoved(_)
        | ModelError::Concurrent => StatusCode::CONFLICT,
        ModelError::FacialFailed => StatusCode::UNPROCESSABLE_ENTITY,
        ModelError::Pdf(_) => StatusCode::INTERNAL_SERVER_ERROR,
        ModelError::NoSignersLeft => StatusCode::BAD_REQUEST,
    };
    AdminError::new(status, message)
}

/// A refused act, with the entity it was for when that is known by then.
type Refused = (Option<Tenant>, AdminError);

/// The tenant of a signer's act: the `username` a test gives, or the owner of the signing
/// link the page was opened from. A link must lead to this process and signer, and still
/// be open: a link that expired (or whose process did) or was used (the signer has
/// answered, or the process is no longer pending) is gone, 410, as its page says.
fn act_tenant(
    state: &IdentiaSign,
    id: &str,
    signer: &str,
    fields: &Fields,
) -> Result<Tenant, Refused> {
    let unknown = |e: AdminError| (None, e);
    if let Some(username) = fields.text("username").map_err(|e| unknown(e.into()))? {
        return Ok(Tenant::new(SLUG, username));
    }
    let Some(code) = fields.text("link").map_err(|e| unknown(e.into()))? else {
        return Err(unknown(AdminError::bad_request(
            "missing 'username' (e.g. \"username\": \"entidad.pe\")",
        )));
    };
    let (tenant, target) = state
        .link_target(&code)
        .ok_or_else(|| unknown(AdminError::not_found("this signing link does not exist")))?;
    let refused = |e: AdminError| (Some(tenant.clone()), e);
    if target.process != id || target.signer.as_deref().is_some_and(|s| s != signer) {
        return Err(refused(AdminError::not_found(
            "this signing link is not this signer's",
        )));
    }
    let process = state.get(&tenant, id).map_err(|e| refused(refusal(e)))?;
    let now = state.engine().now(&tenant);
    if process.status == Status::Expired || !process.link_open(&code, now) {
        return Err(refused(AdminError::gone("this signing link has expired")));
    }
    let answered = process.signer(signer).is_ok_and(|s| s.act.is_some());
    if process.status != Status::Pending || answered {
        return Err(refused(AdminError::gone(format!(
            "this signing link was used: the process is {}",
            process.status
        ))));
    }
    Ok(tenant)
}

/// What a signer did, for the JSON answer and the page.
fn acted(process: &Process, signer: &str, status: &str) -> (Value, String) {
    let json = json!({
        "status": status,
        "process_id": process.id,
        "process_status": process.status.as_str(),
        "signer": signer,
    });
    let html = match status {
        "signed" if process.status == Status::Signed => {
            "<p>Firmado. Todos los firmantes han firmado: el proceso está firmado.</p>".to_owned()
        }
        "signed" => "<p>Firmado. Falta la firma de otros firmantes.</p>".to_owned(),
        "facial_failed" => {
            "<p>La validación facial no fue superada. Puede intentarlo de nuevo.</p>".to_owned()
        }
        _ => "<p>Ha rechazado el proceso de firma.</p>".to_owned(),
    };
    (json, html)
}

/// Which act a signer call is.
#[derive(Clone, Copy)]
enum Act {
    Sign,
    FailFacial,
    Reject,
}

/// The act itself, on the process of `tenant`.
async fn act(
    state: &IdentiaSign,
    tenant: &Tenant,
    id: &str,
    signer: &str,
    act: Act,
) -> Result<(Value, String, String), Response> {
    let refused = |e: AdminError| e.into_response();
    if !signer.contains(':') {
        return Err(refused(AdminError::bad_request(
            "name the signer as {nat}:{doc_id}, e.g. PER:12345678",
        )));
    }
    state.get(tenant, id).map_err(|e| refused(refusal(e)))?;
    let status = match act {
        Act::Sign => {
            let applied = state
                .script(tenant, id, "sign")
                .await
                .map_err(IntoResponse::into_response)?;
            // A scenario's `values = { facial = "fail" }` makes the challenge fail.
            let passes = applied.values.get("facial").and_then(Value::as_str) != Some("fail");
            state
                .sign(tenant, id, signer, passes)
                .map_err(|e| refused(refusal(e)))?;
            "signed"
        }
        Act::FailFacial => {
            match state.sign(tenant, id, signer, false) {
                Err(ModelError::FacialFailed) => {}
                Err(other) => return Err(refused(refusal(other))),
                Ok(_) => {}
            }
            "facial_failed"
        }
        Act::Reject => {
            state
                .reject(tenant, id, Some(signer))
                .map_err(|e| refused(refusal(e)))?;
            "rejected"
        }
    };
    let process = state.get(tenant, id).map_err(|e| refused(refusal(e)))?;
    let (mut json, html) = acted(&process, signer, status);
    if let (Some(map), Ok(s)) = (json.as_object_mut(), process.signer(signer)) {
        if let Some((_, at)) = s.act {
            map.insert("at".into(), json!(rfc3339(at)));
        }
    }
    Ok((json, "IdentiaSign".to_owned(), html))
}

/// A signer's act, answered as JSON or a page (`Caller`), filed under the entity it was
/// for.
async fn respond(
    state: &IdentiaSign,
    id: &str,
    signer: &str,
    caller: Caller,
    fields: Fields,
    which: Act,
) -> Response {
    let (tenant, outcome) = match act_tenant(state, id, signer, &fields) {
        Ok(tenant) => {
            let outcome = act(state, &tenant, id, signer, which).await;
            (Some(tenant), outcome)
        }
        Err((tenant, refused)) => (tenant, Err(refused.into_response())),
    };
    let response = match outcome {
        Ok((json, title, html)) => caller.done(json, &title, &html),
        Err(response) if caller == Caller::Browser => {
            // A browser gets a page that says what went wrong, with the same status.
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error").or(v.get("msg")).cloned())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "the act was not done".to_owned());
            caller.failed(AdminError::new(status, message))
        }
        Err(response) => response,
    };
    acted_for(response, tenant.as_ref())
}

/// `{username | link}`: the signer passes the facial challenge and signs.
async fn sign_call(
    State(state): State<Arc<IdentiaSign>>,
    Path((id, signer)): Path<(String, String)>,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    respond(&state, &id, &signer, caller, fields, Act::Sign).await
}

/// `{username | link}`: the signer fails the facial challenge (and may try again).
async fn fail_facial_call(
    State(state): State<Arc<IdentiaSign>>,
    Path((id, signer)): Path<(String, String)>,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    respond(&state, &id, &signer, caller, fields, Act::FailFacial).await
}

/// `{username | link}`: the signer rejects the process.
async fn reject_call(
    State(state): State<Arc<IdentiaSign>>,
    Path((id, signer)): Path<(String, String)>,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    respond(&state, &id, &signer, caller, fields, Act::Reject).await
}

/// `POST /processes/{id}/links/{code}` `{act: "sign" | "fail-facial" | "reject",
/// signer?}`: what the signing page's forms post, through the link they were opened from.
/// A signer's own link names its signer; the process's shared link needs `signer`
/// (`{nat}:{doc_id}`, the `signerId` challenge's answer).
async fn act_by_link(
    State(state): State<Arc<IdentiaSign>>,
    Path((id, code)): Path<(String, String)>,
    caller: Caller,
    AdminBody(mut fields): AdminBody,
) -> Response {
    let which = match fields.text("act") {
        Ok(Some(act)) if act == "sign" => Act::Sign,
        Ok(Some(act)) if act == "fail-facial" => Act::FailFacial,
        Ok(Some(act)) if act == "reject" => Act::Reject,
        Ok(_) => {
            return caller.failed(AdminError::bad_request(
                "'act' must be sign, fail-facial or reject",
            ))
        }
        Err(error) => return caller.failed(error.into()),
    };
    let own = state
        .link_target(&code)
        .and_then(|(_, target)| target.signer);
    let signer = match (own, fields.text("signer")) {
        (_, Err(error)) => return caller.failed(error.into()),
        (_, Ok(Some(signer))) | (Some(signer), Ok(None)) => signer,
        (None, Ok(None)) => {
            return caller.failed(AdminError::bad_request(
                "name the signer: 'signer' as {nat}:{doc_id}, e.g. PER:12345678",
            ))
        }
    };
    // The link is the credential: whatever else the form carried, the act is by link.
    fields.values.remove("username");
    fields.values.insert("link".to_owned(), Value::String(code));
    respond(&state, &id, &signer, caller, fields, which).await
}

fn not_a_link() -> Response {
    (
        StatusCode::NOT_FOUND,
        page(
            "Enlace no encontrado",
            "<p>Este enlace de firma no existe (o el simulador fue reiniciado).</p>",
        ),
    )
        .into_response()
}

/// The page behind `msg`: the documents, then the signer's choices. The process's shared
/// link first asks who is signing (the `signerId` read challenge); a signer's own link goes
/// straight to their choices.
async fn signing_page(
    State(state): State<Arc<IdentiaSign>>,
    Path(link): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some((id, code)) = link.split_once('.') else {
        return not_a_link();
    };
    let Some((tenant, target)) = state.link_target(code) else {
        return not_a_link();
    };
    let page = if target.process == id {
        signing_page_of(&state, &tenant, target, code, &query)
    } else {
        not_a_link()
    };
    acted_for(page, Some(&tenant))
}

/// The signing page of link `code` of `tenant`, which leads to `target`.
fn signing_page_of(
    state: &IdentiaSign,
    tenant: &Tenant,
    target: LinkTarget,
    code: &str,
    query: &HashMap<String, String>,
) -> Response {
    let id = target.process.as_str();
    let Ok(process) = state.get(tenant, id) else {
        return not_a_link();
    };
    let title = format!("Firma: {}", process.description);
    if process.status == Status::Expired || !process.link_open(code, state.engine().now(tenant)) {
        let body = "<p>Este enlace de firma ha <strong>expirado</strong>. Pida uno nuevo a quien le envió los documentos.</p>";
        return (StatusCode::GONE, page("Enlace expirado", body)).into_response();
    }
    let documents: String = process
        .documents
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let url = state.file_url(tenant, &process, i).unwrap_or_default();
            format!(
                "<li><a href=\"{}\">{}</a> ({} páginas)</li>",
                escape(&url),
                escape(&d.name),
                d.pages
            )
        })
        .collect();
    let head = format!("<p>Documentos:</p><ul>{documents}</ul>");
    // A concluded process's link is used: it says so, with 410 Gone.
    if process.status != Status::Pending {
        let body = format!(
            "{head}<p class=\"note\">Este proceso de firma está <strong>{}</strong>: ya no se \
             puede firmar con este enlace.</p>",
            escape(process.status.as_str())
        );
        return (StatusCode::GONE, page(&title, &body)).into_response();
    }
    let chosen = target.signer.or_else(|| query.get("signer").cloned());
    let Some(signer) = chosen.and_then(|key| process.signer(&key).ok().cloned()) else {
        return page(&title, &format!("{head}{}", who_form(&process))).into_response();
    };
    let forms = signer_forms(&process, &signer, code);
    // A signer who has answered has used the link: it says so, with 410 Gone.
    let status = if signer.act.is_some() {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    (status, page(&title, &format!("{head}{forms}"))).into_response()
}

/// The `signerId` challenge: who is signing.
fn who_form(process: &Process) -> String {
    let options: String = process
        .signers
        .iter()
        .filter(|s| s.act.is_none())
        .map(|s| {
            let key = escape(&s.key());
            format!("<option value=\"{key}\">{key}</option>")
        })
        .collect();
    format!(
        r#"<form method="get">
<label>Su documento de identidad <select name="signer">{options}</select></label>
<button type="submit">Continuar</button>
</form>"#
    )
}

/// Sign (passing the facial challenge), fail the facial challenge, or reject: each form
/// posts to the admin call of that act, with the link it was opened from.
fn signer_forms(process: &Process, signer: &Signer, code: &str) -> String {
    let key = signer.key();
    if let Some((act, _)) = signer.act {
        return format!(
            "<p class=\"note\">{} ya ha respondido ({}): este enlace ya fue usado.</p>",
            escape(&key),
            escape(act.as_str())
        );
    }
    let who = match &signer.alias {
        Some(alias) => format!("{} ({})", escape(alias), escape(&key)),
        None => escape(&key),
    };
    let waiting = match process.next_in_order() {
        Some(first) if process.sign_order && first.key() != key => format!(
            "<p class=\"note\">Firma en orden: {} debe firmar antes.</p>",
            escape(&first.key())
        ),
        _ => String::new(),
    };
    // Every form posts through the link (`act_by_link`): the code is the credential.
    let action = escape(&format!(
        "/_signsim/{SLUG}/processes/{}/links/{}",
        crate::ui::path_segment(&process.id),
        crate::ui::path_segment(code)
    ));
    let hidden = |act: &str| {
        format!(
            "<input type=\"hidden\" name=\"act\" value=\"{act}\">\
             <input type=\"hidden\" name=\"signer\" value=\"{}\">",
            escape(&key)
        )
    };
    format!(
        r#"<p>Firmante: {who}</p>{waiting}
<form method="post" action="{action}">{sign}
<p>Validación facial: mire a la cámara.</p>
<button type="submit">Superar la validación facial y firmar</button>
</form>
<form method="post" action="{action}">{fail}
<button type="submit">No superar la validación facial</button>
</form>
<form method="post" action="{action}">{reject}
<button type="submit">Rechazar</button>
</form>"#,
        sign = hidden("sign"),
        fail = hidden("fail-facial"),
        reject = hidden("reject"),
    )
}

/// A document while its URL is valid (120 s of its entity's virtual clock). It fails as
/// the storage it stands for does (403 once expired, 404 unknown), not in the admin API's
/// shape (the README's conventions say so).
async fn file(State(state): State<Arc<IdentiaSign>>, Path(token): Path<String>) -> Response {
    let Some((tenant, link)) = state.file_link(&token) else {
        return (StatusCode::NOT_FOUND, "NoSuchKey: the file does not exist").into_response();
    };
    acted_for(document(&state, &tenant, &link), Some(&tenant))
}

fn document(state: &IdentiaSign, tenant: &Tenant, link: &FileLink) -> Response {
    if state.engine().now(tenant) >= link.expires_at {
        return (
            StatusCode::FORBIDDEN,
            "AccessDenied: Request has expired (document links are valid for 120 seconds)",
        )
            .into_response();
    }
    match state.file(tenant, link) {
        Some((bytes, name)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{}\"", ascii_name(&name)),
                ),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "NoSuchKey: the file does not exist").into_response(),
    }
}

/// A file name that fits in a header: printable ASCII without quotes or backslashes.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What the resource page links for a process: its documents (signed in place as the
/// signers sign) and the signing pages behind `msg`, one per signer.
pub fn resource_links(state: Arc<IdentiaSign>) -> crate::ui::LinksFn {
    Arc::new(move |name: &str, id: &str| {
        let tenant = &Tenant::new(SLUG, name);
        let Ok(process) = state.get(tenant, id) else {
            return Default::default();
        };
        let signatures = process.signers.iter().filter(|s| s.signed()).count();
        let documents = process
            .documents
            .iter()
            .enumerate()
            .filter_map(|(index, document)| {
                let url = state.page_file_url(tenant, &process, index)?;
                let label = match signatures {
                    0 => format!("original: {}", document.name),
                    n if process.status == Status::Signed => {
                        format!("signed: {} ({n} signatures)", document.name)
                    }
                    n => format!("partly signed: {} ({n} signatures so far)", document.name),
                };
                Some((label, url))
            })
            .collect();
        let acts = process
            .signers
            .iter()
            .filter_map(|signer| {
                let code = signer.link.as_deref()?;
                let who = match &signer.alias {
                    Some(alias) => format!("{alias} ({})", signer.key()),
                    None => signer.key(),
                };
                let label = format!("signing page of {who} (msg)");
                Some((label, state.signing_url(&process.id, code)))
            })
            .collect();
        crate::ui::ResourceLinks { documents, acts }
    })
}
