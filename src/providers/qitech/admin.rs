//! Admin calls and pages under `/_signsim/qitech`: the webhook set-up support would do,
//! the signer's act (JSON for tests, a page behind `signature_url` for people), the file
//! URLs the API hands out, and a receiver that is always down.

use super::model::{CheckOverrides, ModelError};
use super::service::signing::{SignInput, Signed};
use super::wire::webhook::{EndpointForm, HookConfig};
use super::wire::QError;
use super::{QiTech, SLUG};
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

/// `{api_key, url, signature_key, endpoint?}`: where and how the `envelope_completed`
/// webhook of that key goes. `endpoint` says what the HMAC's `endpoint` is: `path`
/// (default) or `url`.
async fn configure_webhook(
    State(state): State<Arc<QiTech>>,
    AdminBody(fields): AdminBody,
) -> AdminResult<Json<Value>> {
    let api_key = fields.required("api_key", "EXAMPLE_API_KEY")?;
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
        "api_key": api_key,
        "url": config.url,
        "endpoint": endpoint.as_str(),
        "signed_endpoint": config.endpoint(),
    });
    state.set_webhook(&api_key, config);
    Ok(Json(body))
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
    match sign(&state, &id, &signer_id, &fields).await {
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
    }
}

/// The tenant of a signer act: the `api_key` a test gives, or the owner of the signing
/// link the page was opened from (which must be this signer's).
fn act_tenant(state: &QiTech, id: &str, signer_id: &str, fields: &Fields) -> AdminResult<String> {
    if let Some(api_key) = fields.text("api_key")? {
        return Ok(api_key);
    }
    let Some(code) = fields.text("link")? else {
        return fields.required("api_key", "EXAMPLE_API_KEY");
    };
    state
        .link_target(&code)
        .filter(|(_, target)| target.envelope == id && target.signer == signer_id)
        .map(|(tenant, _)| tenant)
        .ok_or_else(|| AdminError::not_found("this signature link does not exist"))
}

async fn sign(
    state: &QiTech,
    id: &str,
    signer_id: &str,
    fields: &Fields,
) -> Result<Signed, NotSigned> {
    let tenant = act_tenant(state, id, signer_id, fields)?;
    let input = SignInput {
        cpf: fields.text("cpf")?,
        token: fields.text("token")?,
        checks: check_overrides(fields)?,
    };
    let applied = state
        .script(&tenant, id, "sign")
        .await
        .map_err(|e| NotSigned::Scripted(e.into_response()))?;
    Ok(state
        .sign(&tenant, id, signer_id, input, &applied)
        .map_err(refusal)?)
}

/// A model error as the admin call reports it: the status QI Tech would answer, and its
/// description.
fn refusal(error: ModelError) -> AdminError {
    match QError::from(error) {
        QError::Api {
            status,
            description,
            ..
        } => AdminError::new(status, description),
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

/// The signer opens the link: the authentication token is sent, the form shown.
async fn signing_page(State(state): State<Arc<QiTech>>, Path(code): Path<String>) -> Response {
    let Some((tenant, target)) = state.link_target(&code) else {
        return not_a_link();
    };
    let Ok((envelope, signer)) = state.open_link(&tenant, &target) else {
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
        action = escape(&format!(
            "/_signsim/{SLUG}/envelopes/{}/signers/{}/sign",
            target.envelope, target.signer
        )),
        code = escape(&code),
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
    if state.engine().now() > link.expires_at {
        return (
            StatusCode::FORBIDDEN,
            "AccessDenied: Request has expired (links are valid for 24 hours)",
        )
            .into_response();
    }
    match state.file(&tenant, &link) {
        Some((bytes, content_type)) => {
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "NoSuchKey: the file does not exist").into_response(),
    }
}
/// What the resource page links for an envelope: each original and each dossier, by a
/// file URL valid for 24 hours (as the API's own URLs), and each signer's signing page.
pub fn resource_links(state: Arc<QiTech>) -> crate::providers::LinksFn {
    use super::service::files::FileKind;
    Arc::new(move |tenant: &str, id: &str| {
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
        crate::providers::ResourceLinks {
            documents: links,
            acts,
        }
    })
}
