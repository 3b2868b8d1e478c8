//! Admin calls and pages under `/_signsim/qitech`: the webhook set-up support would do,
//! the signer's act (JSON for tests, a page behind `signature_url` for people), the file
//! URLs the API hands out, and a receiver that is always down.
//!
//! Each call that names an envelope or a key says whose it is (`ActedFor`, for the
//! journal) once it knows: the body's `api_key`, or the owner of the link it came by.
//! A signer act answers 404 for an unknown envelope, signer or link, 409 when the
//! envelope's state does not allow it (not out for signature, or the signer already
//! signed), and 410 for the same refusals through the signing page's link: that link
//! expired with its envelope or was used, as the page itself says with 410.

use super::model::{CheckOverrides, ModelError};
use super::service::signing::{LinkTarget, SignInput, Signed};
use super::wire::webhook::{EndpointForm, HookConfig};
use super::wire::QError;
use super::{QiTech, SLUG};
use crate::engine::journal::ActedFor;
use crate::engine::tenant::Tenant;
use crate::ui::{escape, page, Caller};
use crate::wire::admin::{AdminBody, AdminError, AdminResult, Path};
use crate::wire::Fields;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

/// What the signing and file links open, where the signing page posts, and the
/// always-down receiver the simulator delivers to: open with `--admin-token` (see
/// `Context::open_paths`).
pub const OPEN_PATHS: &[&str] = &[
    "/s/{code}",
    "/envelopes/{id}/signers/{signer}/sign",
    "/files/{name}",
    "/receiver-down",
];

pub fn router(state: Arc<QiTech>) -> Router {
    Router::new()
        .route("/webhook", post(configure_webhook))
        .route("/envelopes/{id}/signers/{signer_id}/sign", post(sign_call))
        .route("/s/{code}", get(signing_page))
        .route("/files/{name}", get(file))
        .route("/receiver-down", post(crate::wire::admin::receiver_down))
        .with_state(state)
}

/// `response`, journaled as an act for `tenant`.
fn acted_for(mut response: Response, tenant: Tenant) -> Response {
    response.extensions_mut().insert(ActedFor(tenant));
    response
}

/// `{api_key, url, signature_key, endpoint?}`: where and how the `envelope_completed`
/// webhook of that key goes. `endpoint` says what the HMAC's `endpoint` is: `path`
/// (default) or `url`.
async fn configure_webhook(
    State(state): State<Arc<QiTech>>,
    AdminBody(fields): AdminBody,
) -> Response {
    let api_key = match fields.required("api_key", "EXAMPLE_API_KEY") {
        Ok(api_key) => api_key,
        Err(error) => return error.into_response(),
    };
    let tenant = Tenant::new(SLUG, api_key);
    let response = match set_up_webhook(&state, &tenant, &fields) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    };
    acted_for(response, tenant)
}

/// The rest of `configure_webhook`, once the key is read.
fn set_up_webhook(state: &QiTech, tenant: &Tenant, fields: &Fields) -> AdminResult<Value> {
    let url = fields.required("url", "https://example.com/hooks/qitech")?;
    if url::Url::parse(&url).is_err() {
        return Err(AdminError::bad_request(format!(
            "'url' must be an absolute URL, not {url}"
        )));
    }
    let signature_key = fields.required("signature_key", "a-shared-secret")?;
    let endpoint = match fields.text("endpoint")? {
        None => EndpointForm::Path,
        Some(given) => EndpointForm::parse(&given).ok_or_else(|| {
            AdminError::bad_request(format!("'endpoint' must be path or url, not {given}"))
        })?,
    };
    let config = HookConfig {
        url,
        signature_key,
        endpoint,
    };
    let body = json!({
        "status": "ok",
        "api_key": tenant.name,
        "url": config.url,
        "endpoint": endpoint.as_str(),
        "signed_endpoint": config.endpoint(),
    });
    state.set_webhook(tenant, config);
    Ok(body)
}

/// The identity-check results a sign call gives, checked; unset ones are left to the
/// scenario.
fn check_overrides(fields: &Fields) -> AdminResult<CheckOverrides> {
    let score = |key: &str| -> AdminResult<Option<i64>> {
        let Some(raw) = fields.text(key)? else {
            return Ok(None);
        };
        let score = raw.parse().ok().filter(|s| (0..=100).contains(s));
        score.map(Some).ok_or_else(|| {
            AdminError::bad_request(format!(
                "'{key}' must be a whole number from 0 to 100, not {raw}"
            ))
        })
    };
    let one_of = |key: &str, allowed: [&str; 2]| -> AdminResult<Option<String>> {
        match fields.text(key)? {
            Some(raw) if !allowed.contains(&raw.as_str()) => Err(AdminError::bad_request(format!(
                "'{key}' must be {} or {}",
                allowed[0], allowed[1]
            ))),
            given => Ok(given),
        }
    };
    Ok(CheckOverrides {
        face_validation_available: fields.flag("face_validation_available")?,
        fraud_base_flag: fields.flag("fraud_base_flag")?,
        face_validation_score: score("face_validation_score")?,
        liveness: one_of("liveness", ["live", "spoof"])?,
        face_match_score: score("face_match_score")?,
        document_check: one_of("document_check", ["pass", "fail"])?,
    })
}

/// Why a signer act did not happen: an admin error, or what the envelope's scenario
/// scripted for `sign`, which goes back exactly as the scenario wrote it.
enum NotSigned {
    Refused(AdminError),
    Scripted(Response),
}

impl<E: Into<AdminError>> From<E> for NotSigned {
    fn from(error: E) -> NotSigned {
        NotSigned::Refused(error.into())
    }
}

/// `{api_key | link, cpf?, token?, face_validation_available?, fraud_base_flag?,
/// face_validation_score?, liveness?, face_match_score?, document_check?}`: the signer
/// signs. Tests name the tenant by `api_key`; the signing page's form posts here with the
/// `link` it was opened from instead, so the key never shows in the page.
async fn sign_call(
    State(state): State<Arc<QiTech>>,
    Path((id, signer_id)): Path<(String, String)>,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    let actor = match act_tenant(&state, &id, &signer_id, &fields) {
        Ok(actor) => actor,
        Err(error) => return caller.failed(error),
    };
    let response = match sign(&state, &actor, &id, &signer_id, &fields).await {
        Ok(signed) => {
            let envelope_status = if signed.completed {
                "completed"
            } else {
                "submitted"
            };
            let json = json!({
                "status": "signed",
                "envelope_status": envelope_status,
                "signer_id": signed.signer.id,
                "signed_at": signed.signer.signed_at.map(super::wire::render::timestamp),
            });
            let done = if signed.completed {
                "Everyone has signed: the envelope is completed."
            } else {
                "Waiting for the other signers."
            };
            let html = format!("<p>Thank you, {}. {done}</p>", escape(&signed.signer.name));
            caller.done(json, "Signed", &html)
        }
        Err(NotSigned::Refused(error)) => caller.failed(error),
        Err(NotSigned::Scripted(response)) => response,
    };
    acted_for(response, actor.tenant)
}

/// Who makes a signer act: a test naming the tenant by `api_key`, or the signer through
/// the signing page's form, whose `link` names it.
struct Actor {
    tenant: Tenant,
    by_link: bool,
}

/// The tenant of a signer act: the `api_key` a test gives, or the owner of the signing
/// link the page was opened from (which must be this signer's).
fn act_tenant(state: &QiTech, id: &str, signer_id: &str, fields: &Fields) -> AdminResult<Actor> {
    let code = match fields.text("link")? {
        Some(code) if fields.text("api_key")?.is_none() => code,
        // The key a test gives wins; with neither, the error asks for the key.
        _ => {
            let api_key = fields.required("api_key", "EXAMPLE_API_KEY")?;
            return Ok(Actor {
                tenant: Tenant::new(SLUG, api_key),
                by_link: false,
            });
        }
    };
    state
        .link_target(&code)
        .filter(|(_, target)| target.envelope == id && target.signer == signer_id)
        .map(|(tenant, _)| Actor {
            tenant,
            by_link: true,
        })
        .ok_or_else(|| AdminError::not_found("this signature link does not exist"))
}

async fn sign(
    state: &QiTech,
    actor: &Actor,
    id: &str,
    signer_id: &str,
    fields: &Fields,
) -> Result<Signed, NotSigned> {
    let tenant = &actor.tenant;
    let input = SignInput {
        cpf: fields.text("cpf")?,
        token: fields.text("token")?,
        checks: check_overrides(fields)?,
    };
    let applied = state
        .script(tenant, id, "sign")
        .await
        .map_err(|e| NotSigned::Scripted(e.into_response()))?;
    Ok(state
        .sign(tenant, id, signer_id, input, &applied)
        .map_err(|error| refusal(error, actor.by_link))?)
}

/// Why a signer act was refused, by the admin API's rule: when the envelope is no longer
/// out for signature or the signer already signed, 409 for a test naming the key (the
/// state does not allow the act) and 410 through the signing page's link (the link
/// expired or was used, as the page says when opened). The other refusals keep the status
/// QI Tech would answer (400 for a wrong CPF or token, 404 for an unknown envelope or
/// signer).
fn refusal(error: ModelError, by_link: bool) -> AdminError {
    let override_status = match &error {
        ModelError::NotSignable(_) | ModelError::AlreadySigned if by_link => Some(StatusCode::GONE),
        ModelError::NotSignable(_) | ModelError::AlreadySigned => Some(StatusCode::CONFLICT),
        _ => None,
    };
    match QError::from(error) {
        QError::Api {
            status,
            description,
            ..
        } => AdminError::new(override_status.unwrap_or(status), description),
        QError::Scripted(_) => AdminError::conflict("the scenario refused the signature"),
    }
}

fn not_a_link() -> Response {
    (
        StatusCode::NOT_FOUND,
        page(
            "Link not found",
            "<p>This signature link does not exist (or the simulator was reset).</p>",
        ),
    )
        .into_response()
}

/// The signer opens the link: the authentication token is sent, the form shown. The
/// link's owner is the tenant it acts for.
async fn signing_page(State(state): State<Arc<QiTech>>, Path(code): Path<String>) -> Response {
    let Some((tenant, target)) = state.link_target(&code) else {
        return not_a_link();
    };
    let response = signing_form(&state, &tenant, &code, &target);
    acted_for(response, tenant)
}

/// The page behind link `code` of `tenant`: the form, or why the link no longer signs.
fn signing_form(state: &QiTech, tenant: &Tenant, code: &str, target: &LinkTarget) -> Response {
    let Ok((envelope, signer)) = state.open_link(tenant, target) else {
        return not_a_link();
    };
    let title = format!("Sign: {}", envelope.subject);
    // A used or expired link says so, with 410 Gone.
    if signer.signed_at.is_some() {
        let body = "<p class=\"note\">You have already signed these documents.</p>";
        return (StatusCode::GONE, page(&title, body)).into_response();
    }
    if envelope.status != super::model::Status::Submitted {
        let body = format!(
            "<p class=\"note\">This envelope is <strong>{}</strong>: it can no longer be signed.</p>",
            envelope.status
        );
        return (StatusCode::GONE, page(&title, &body)).into_response();
    }
    let documents: String = envelope
        .documents
        .iter()
        .map(|d| format!("<li>{}</li>", escape(&d.name)))
        .collect();
    let sent_to = signer
        .address(signer.authentication_submission_method)
        .unwrap_or_default();
    let body = format!(
        r#"<p>{name}, you are asked to sign:</p>
<ul>{documents}</ul>
<p class="note">An authentication token was sent by {method} to {sent_to}
(read it from <a href="/_signsim/outbox?provider={SLUG}">the outbox</a>).</p>
<form method="post" action="{action}">
<input type="hidden" name="link" value="{code}">
<label>CPF <input name="cpf" required placeholder="111.111.111-11"></label>
<label>Authentication token <input name="token" required inputmode="numeric"></label>
<fieldset><legend>Face check</legend>
<input type="hidden" name="face_validation_available" value="false">
<label><input type="checkbox" name="face_validation_available" value="true" checked> face found and validated</label>
<label>Face validation score <input name="face_validation_score" type="number" min="0" max="100" value="90"></label>
<input type="hidden" name="fraud_base_flag" value="false">
<label><input type="checkbox" name="fraud_base_flag" value="true"> face is in the fraud base</label>
<label>Liveness <select name="liveness"><option>live</option><option>spoof</option></select></label>
</fieldset>
<fieldset><legend>Document check</legend>
<label>Result <select name="document_check"><option>pass</option><option>fail</option></select></label>
<label>Face match score <input name="face_match_score" type="number" min="0" max="100" value="85"></label>
</fieldset>
<button type="submit">Sign</button>
</form>"#,
        // The ids are the client's: each is one encoded segment (and ids that no
        // encoding keeps one segment, `.` and `..`, are refused at creation).
        action = escape(&format!(
            "/_signsim/{SLUG}/envelopes/{}/signers/{}/sign",
            crate::ui::path_segment(&target.envelope),
            crate::ui::path_segment(&target.signer)
        )),
        code = escape(code),
        name = escape(&signer.name),
        method = signer.authentication_submission_method.as_str(),
        sent_to = escape(&sent_to),
    );
    page(&title, &body).into_response()
}

/// A dossier, identification image or face photo, while its URL is valid.
async fn file(State(state): State<Arc<QiTech>>, Path(name): Path<String>) -> Response {
    let token = name.split('.').next().unwrap_or("");
    let Some((tenant, link)) = state.file_link(token) else {
        return (StatusCode::NOT_FOUND, "NoSuchKey: the file does not exist").into_response();
    };
    // The URL lives 24 hours of its tenant's clock.
    let response = if state.engine().now(&tenant) > link.expires_at {
        (
            StatusCode::FORBIDDEN,
            "AccessDenied: Request has expired (links are valid for 24 hours)",
        )
            .into_response()
    } else {
        match state.file(&tenant, &link) {
            Some((bytes, content_type)) => {
                ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
            }
            None => (StatusCode::NOT_FOUND, "NoSuchKey: the file does not exist").into_response(),
        }
    };
    acted_for(response, tenant)
}
/// What the resource page links for an envelope: each original and each dossier, by a
/// file URL valid for 24 hours (as the API's own URLs), and each signer's signing page.
pub fn resource_links(state: Arc<QiTech>) -> crate::ui::LinksFn {
    use super::service::files::FileKind;
    Arc::new(move |name: &str, id: &str| {
        let tenant = &Tenant::new(SLUG, name);
        let Ok(envelope) = state.get(tenant, id) else {
            return Default::default();
        };
        let mut links = Vec::new();
        for document in &envelope.documents {
            let url =
                state.page_file_url(tenant, id, FileKind::Original(document.id.clone()), "pdf");
            links.push((format!("original: {}", document.name), url));
        }
        for dossier in &envelope.dossiers {
            let name = envelope
                .documents
                .iter()
                .find(|d| d.id == dossier.document_id)
                .map_or(dossier.document_id.as_str(), |d| d.name.as_str());
            let url = state.page_file_url(
                tenant,
                id,
                FileKind::Dossier(dossier.document_id.clone()),
                "pdf",
            );
            links.push((format!("signed dossier: {name}"), url));
        }
        let acts = envelope
            .signers
            .iter()
            .filter_map(|signer| {
                let code = signer.link_code.as_deref()?;
                let label = format!("signing page of {} (signature_url)", signer.name);
                Some((label, state.signature_url(code)))
            })
            .collect();
        crate::ui::ResourceLinks {
            documents: links,
            acts,
        }
    })
}
