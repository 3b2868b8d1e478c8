//! Admin calls and pages under `/_signsim/qitech`: the webhook set-up support would do,
//! the signer's act (JSON for tests, a page behind `signature_url` for people), the file
//! URLs the API hands out, and a receiver that is always down.

use super::model::service::{SignInput, Signed};
use super::wire::webhook::{EndpointForm, HookConfig};
use super::{QiTech, SLUG};
use crate::admin::Path;
use crate::ui::{escape, page};
use crate::wire::Fields;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::sync::Arc;

const ADMIN_BODY_LIMIT: usize = 1024 * 1024;

pub fn router(state: Arc<QiTech>) -> Router {
    Router::new()
        .route("/webhook", post(configure_webhook))
        .route("/envelopes/{id}/signers/{signer_id}/sign", post(sign_call))
        .route("/s/{code}", get(signing_page).post(signing_form))
        .route("/files/{name}", get(file))
        .route("/receiver-down", post(receiver_down))
        .with_state(state)
}

/// Boxed: a response is large and errors travel through every `?`.
type Failed = Box<Response>;

fn admin_error(status: StatusCode, message: impl Into<String>) -> Failed {
    Box::new((status, Json(json!({ "error": message.into() }))).into_response())
}

async fn read(request: Request) -> Result<Fields, Failed> {
    Fields::read(request, ADMIN_BODY_LIMIT)
        .await
        .map_err(|e| admin_error(StatusCode::BAD_REQUEST, e.to_string()))
}

fn field(fields: &Fields, name: &str) -> Result<Option<String>, Failed> {
    fields
        .text(name)
        .map_err(|e| admin_error(StatusCode::BAD_REQUEST, e.to_string()))
}

fn needed(fields: &Fields, name: &str, example: &str) -> Result<String, Failed> {
    field(fields, name)?.ok_or_else(|| {
        admin_error(
            StatusCode::BAD_REQUEST,
            format!("missing '{name}' (e.g. \"{name}\": \"{example}\")"),
        )
    })
}

/// `{api_key, url, signature_key, endpoint?}`: where and how the `envelope_completed`
/// webhook of that key goes. `endpoint` says what the HMAC's `endpoint` is: `path`
/// (default) or `url`.
async fn configure_webhook(State(state): State<Arc<QiTech>>, request: Request) -> Response {
    let result = async {
        let fields = read(request).await?;
        let api_key = needed(&fields, "api_key", "EXAMPLE_API_KEY")?;
        let url = needed(&fields, "url", "https://example.com/hooks/qitech")?;
        if url::Url::parse(&url).is_err() {
            return Err(admin_error(
                StatusCode::BAD_REQUEST,
                format!("'url' must be an absolute URL, not {url}"),
            ));
        }
        let signature_key = needed(&fields, "signature_key", "a-shared-secret")?;
        let endpoint = match field(&fields, "endpoint")? {
            None => EndpointForm::Path,
            Some(given) => EndpointForm::parse(&given).ok_or_else(|| {
                admin_error(
                    StatusCode::BAD_REQUEST,
                    format!("'endpoint' must be path or url, not {given}"),
                )
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
        Ok(Json(body).into_response())
    }
    .await;
    result.unwrap_or_else(|e: Failed| *e)
}

/// The identity-check values of a sign call, checked; unset ones are left to the scenario.
fn sign_values(fields: &Fields) -> Result<Map<String, Value>, String> {
    let mut values = Map::new();
    for key in ["face_validation_score", "face_match_score"] {
        if let Some(raw) = fields.text(key).map_err(|e| e.to_string())? {
            let score: i64 = raw
                .parse()
                .ok()
                .filter(|s| (0..=100).contains(s))
                .ok_or_else(|| {
                    format!("'{key}' must be a whole number from 0 to 100, not {raw}")
                })?;
            values.insert(key.into(), json!(score));
        }
    }
    for key in ["face_validation_available", "fraud_base_flag"] {
        if let Some(flag) = fields.flag(key).map_err(|e| e.to_string())? {
            values.insert(key.into(), json!(flag));
        }
    }
    for (key, allowed) in [
        ("liveness", ["live", "spoof"]),
        ("document_check", ["pass", "fail"]),
    ] {
        if let Some(raw) = fields.text(key).map_err(|e| e.to_string())? {
            if !allowed.contains(&raw.as_str()) {
                return Err(format!("'{key}' must be {} or {}", allowed[0], allowed[1]));
            }
            values.insert(key.into(), json!(raw));
        }
    }
    Ok(values)
}

/// Runs the signature with the envelope's scenario; a scripted answer comes back as is.
async fn sign(
    state: &QiTech,
    tenant: &str,
    id: &str,
    signer_id: &str,
    input: SignInput,
) -> Result<Signed, Failed> {
    let applied = state
        .script(tenant, id, "sign")
        .await
        .map_err(|e| Box::new(e.into_response()))?;
    state
        .sign(tenant, id, signer_id, input, &applied)
        .map_err(|e| Box::new(super::wire::QError::from(e).into_response()))
}

/// `{api_key, cpf?, token?, face_validation_available?, fraud_base_flag?,
/// face_validation_score?, liveness?, face_match_score?, document_check?}`.
async fn sign_call(
    State(state): State<Arc<QiTech>>,
    Path((id, signer_id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let result = async {
        let fields = read(request).await?;
        let api_key = needed(&fields, "api_key", "EXAMPLE_API_KEY")?;
        let values = sign_values(&fields).map_err(|e| admin_error(StatusCode::BAD_REQUEST, e))?;
        let input = SignInput {
            cpf: field(&fields, "cpf")?,
            token: field(&fields, "token")?,
            values,
        };
        let signed = sign(&state, &api_key, &id, &signer_id, input).await?;
        let envelope_status = if signed.completed {
            "completed"
        } else {
            "submitted"
        };
        Ok(Json(json!({
            "status": "signed",
            "envelope_status": envelope_status,
            "signer_id": signed.signer.id,
            "signed_at": signed.signer.signed_at.map(super::wire::timestamp),
        }))
        .into_response())
    }
    .await;
    result.unwrap_or_else(|e: Failed| *e)
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
    if signer.signed_at.is_some() {
        return page(&title, "<p>You have already signed these documents.</p>").into_response();
    }
    if envelope.status != super::model::Status::Submitted {
        let body = format!(
            "<p>This envelope is <strong>{}</strong>: it can no longer be signed.</p>",
            envelope.status
        );
        return page(&title, &body).into_response();
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
<form method="post">
<label>CPF <input name="cpf" required placeholder="111.111.111-11"></label>
<label>Authentication token <input name="token" required inputmode="numeric"></label>
<fieldset><legend>Face check</legend>
<label><input type="checkbox" name="face_validation_available" value="true" checked> face found and validated</label>
<label>Face validation score <input name="face_validation_score" type="number" min="0" max="100" value="90"></label>
<label><input type="checkbox" name="fraud_base_flag" value="true"> face is in the fraud base</label>
<label>Liveness <select name="liveness"><option>live</option><option>spoof</option></select></label>
</fieldset>
<fieldset><legend>Document check</legend>
<label>Result <select name="document_check"><option>pass</option><option>fail</option></select></label>
<label>Face match score <input name="face_match_score" type="number" min="0" max="100" value="85"></label>
</fieldset>
<button type="submit">Sign</button>
</form>"#,
        name = escape(&signer.name),
        method = signer.authentication_submission_method.as_str(),
        sent_to = escape(&sent_to),
    );
    page(&title, &body).into_response()
}

/// The page's form: the same signature as the admin call, with CPF and token required.
async fn signing_form(
    State(state): State<Arc<QiTech>>,
    Path(code): Path<String>,
    request: Request,
) -> Response {
    let Some((tenant, target)) = state.link_target(&code) else {
        return not_a_link();
    };
    let again = |message: String| {
        let body = format!(
            r#"<p class="note">{}</p><p><a href="">Back to the form</a> (a new token is sent).</p>"#,
            escape(&message)
        );
        (StatusCode::BAD_REQUEST, page("Not signed", &body)).into_response()
    };
    let fields = match Fields::read(request, ADMIN_BODY_LIMIT).await {
        Ok(fields) => fields,
        Err(e) => return again(e.to_string()),
    };
    let mut values = match sign_values(&fields) {
        Ok(values) => values,
        Err(e) => return again(e),
    };
    // Unticked boxes are not posted: here they mean false.
    for key in ["face_validation_available", "fraud_base_flag"] {
        values.entry(key).or_insert(json!(false));
    }
    let text = |name: &str| fields.text(name).ok().flatten();
    let (Some(cpf), Some(token)) = (text("cpf"), text("token")) else {
        return again("Type your CPF and the authentication token.".into());
    };
    let input = SignInput {
        cpf: Some(cpf),
        token: Some(token),
        values,
    };
    match sign(&state, &tenant, &target.envelope, &target.signer, input).await {
        Ok(signed) => {
            let done = if signed.completed {
                "Everyone has signed: the envelope is completed."
            } else {
                "Waiting for the other signers."
            };
            page(
                "Signed",
                &format!("<p>Thank you, {}. {done}</p>", escape(&signed.signer.name)),
            )
            .into_response()
        }
        Err(response) => {
            let response = *response;
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let reason = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["description"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("the service answered {status}"));
            again(reason)
        }
    }
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

/// The receiver the `webhook-receiver-down` scenario aims deliveries at.
async fn receiver_down() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "receiver down (scenario webhook-receiver-down)",
    )
        .into_response()
}
