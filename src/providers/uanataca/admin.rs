//! What the person does behind `videoid_link`: an admin call for tests and a page for
//! people, both ending the video identification as a success, incomplete or an error;
//! and the downloads the resource page links (documents, the certificate).
//!
//! The person's page is `/lcmpl/videoid/{code}` (what `videoid_link` hands out, shaped
//! like the real service's link): the unguessable code names the request and its tenant,
//! and the page shows that request only. The admin paths name a request by number and
//! its tenant in the query (`?tenant=`, `default` without one; `complete` also takes the
//! body's `tenant` or `X-Signsim-Tenant`): always a Uanataca tenant, and each answer says
//! so (`ActedFor`) for the journal. Request numbers are sequential, so those paths are
//! admin calls: under `--admin-token` they need the token.

use super::service::{Uanataca, SLUG};
use super::wire::{parse_pk, tenant_named, tenant_of};
use crate::engine::journal::ActedFor;
use crate::engine::tenant::Tenant;
use crate::providers::shared::oneshot::{
    DocumentKind, OneShotError, PersonPatch, SignatureRequest, Status, VideoOutcome,
};
use crate::ui::{escape, page, Caller};
use crate::wire::admin::{AdminBody, AdminError, AdminResult, Path, Query};
use crate::wire::Fields;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::PT_PT;
use fake::Fake;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// What the video link (`videoid_link`) opens, and where its page posts: open with
/// `--admin-token` (see `Context::open_paths`).
pub const OPEN_PATHS: &[&str] = &["/lcmpl/videoid/{code}", "/lcmpl/videoid/{code}/complete"];

/// Mounted under `/_signsim/uanataca`.
pub fn router(state: Arc<Uanataca>) -> Router {
    Router::new()
        .route("/videoid/{pk}", get(video_page))
        .route("/videoid/{pk}/complete", post(complete))
        .route("/lcmpl/videoid/{code}", get(video_page_by_code))
        .route("/lcmpl/videoid/{code}/complete", post(complete_by_code))
        .route("/requests/{pk}/documents/{uid}", get(document))
        .route("/requests/{pk}/certificate", get(certificate))
        .with_state(state)
}

/// `?tenant=&signed=true`: what `document` serves.
#[derive(Deserialize)]
struct DocumentQuery {
    tenant: Option<String>,
    #[serde(default)]
    signed: bool,
}

/// `response`, journaled as an act for `tenant` (`ActedFor`): the admin paths name a
/// request's tenant only in their query or body.
fn acted_for(mut response: Response, tenant: Tenant) -> Response {
    response.extensions_mut().insert(ActedFor(tenant));
    response
}

/// Request `pk` of `tenant`: 404 when `tenant` has none (another surface's request of
/// the same number and name is another tenant's, so it is not found either).
fn request_in(state: &Uanataca, tenant: &Tenant, pk: &str) -> AdminResult<SignatureRequest> {
    parse_pk(pk)
        .and_then(|pk| state.oneshot.get(tenant, pk).ok())
        .ok_or_else(|| {
            AdminError::not_found(format!("no request {pk} in tenant '{}'", tenant.name))
        })
}

/// `GET /_signsim/uanataca/requests/{pk}/documents/{uid}?tenant=&signed=`: a document of
/// a request, original or signed, shown in the browser (the resource page links it).
async fn document(
    State(state): State<Arc<Uanataca>>,
    Path((pk, uid)): Path<(String, String)>,
    Query(query): Query<DocumentQuery>,
) -> Response {
    let tenant = tenant_named(query.tenant);
    let answer = document_of(&state, &tenant, &pk, &uid, query.signed).into_response();
    acted_for(answer, tenant)
}

fn document_of(
    state: &Uanataca,
    tenant: &Tenant,
    pk: &str,
    uid: &str,
    signed: bool,
) -> AdminResult {
    let found = request_in(state, tenant, pk)?;
    let document = found
        .document(uid)
        .ok_or_else(|| AdminError::not_found(format!("request {pk} has no document {uid}")))?;
    // A signature not made yet is a file that does not exist (yet): 404, as for any
    // download of nothing.
    let bytes = if signed {
        document
            .signed
            .clone()
            .ok_or_else(|| AdminError::not_found(format!("document {uid} is not signed yet")))?
    } else {
        document.original.clone()
    };
    let content_type = match (&document.kind, signed) {
        (DocumentKind::Pdf, _) => "application/pdf",
        (_, true) => "application/pkcs7-signature",
        (_, false) => "application/octet-stream",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// `GET /_signsim/uanataca/requests/{pk}/certificate?tenant=`: the request's single-use
/// certificate (DER), once it is issued.
async fn certificate(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Response {
    let tenant = tenant_named(query.tenant);
    let answer = certificate_of(&state, &tenant, &pk).into_response();
    acted_for(answer, tenant)
}

fn certificate_of(state: &Uanataca, tenant: &Tenant, pk: &str) -> AdminResult {
    let certificate = request_in(state, tenant, pk)?
        .certificate
        .ok_or_else(|| AdminError::not_found(format!("request {pk} has no certificate yet")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        certificate.der,
    )
        .into_response())
}

/// What the resource page links for a request: its documents, certificate and, for a
/// video identification, the page behind `videoid_link`.
pub fn resource_links(state: Arc<Uanataca>) -> crate::ui::LinksFn {
    Arc::new(move |name: &str, id: &str| {
        let tenant = Tenant::new(SLUG, name);
        let Some(found) = parse_pk(id).and_then(|pk| state.oneshot.get(&tenant, pk).ok()) else {
            return Default::default();
        };
        let tenant_query = crate::ui::query_value(name);
        let base = format!("/_signsim/{}/requests/{}", SLUG, found.pk);
        let mut links = Vec::new();
        for document in &found.documents {
            let url = format!(
                "{base}/documents/{}?tenant={tenant_query}",
                crate::ui::path_segment(&document.uid)
            );
            links.push((format!("original: {}", document.filename), url.clone()));
            if document.signed.is_some() {
                links.push((
                    format!("signed: {}", document.filename),
                    format!("{url}&signed=true"),
                ));
            }
        }
        if found.certificate.is_some() {
            links.push((
                "certificate (DER)".to_owned(),
                format!("{base}/certificate?tenant={tenant_query}"),
            ));
        }
        let mut acts = Vec::new();
        if found.video.is_some() {
            acts.push((
                "video identification page (videoid_link)".to_owned(),
                state.videoid_link(&tenant, found.pk),
            ));
        }
        crate::ui::ResourceLinks {
            documents: links,
            acts,
        }
    })
}

#[derive(Deserialize)]
struct TenantQuery {
    tenant: Option<String>,
}

/// `GET /_signsim/uanataca/videoid/{pk}?tenant=`: the page `videoid_link` opens. 404 for
/// an unknown request (or one without video identification), 410 once the person went
/// through the video: the link is used.
async fn video_page(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Response {
    let tenant = tenant_named(query.tenant);
    let action = format!(
        "/_signsim/{SLUG}/videoid/{}/complete?tenant={}",
        crate::ui::path_segment(&pk),
        crate::ui::query_value(&tenant.name)
    );
    let answer = video_page_of(&state, &tenant, &pk, &action);
    acted_for(answer, tenant)
}

fn no_such_video() -> Response {
    (
        StatusCode::NOT_FOUND,
        page("Video identification", "<p>No such request.</p>"),
    )
        .into_response()
}

/// `GET /_signsim/uanataca/lcmpl/videoid/{code}`: the page `videoid_link` opens, for the
/// request its code names (404 for an unknown code); its form posts to the same link.
async fn video_page_by_code(
    State(state): State<Arc<Uanataca>>,
    Path(code): Path<String>,
) -> Response {
    let Some((tenant, pk)) = state.videoid_target(&code) else {
        return no_such_video();
    };
    let action = format!(
        "/_signsim/{SLUG}/lcmpl/videoid/{}/complete",
        crate::ui::path_segment(&code)
    );
    let answer = video_page_of(&state, &tenant, &pk.to_string(), &action);
    acted_for(answer, tenant)
}

/// The Video ID page of request `pk` of `tenant`, its form posting to `action`.
fn video_page_of(state: &Uanataca, tenant: &Tenant, pk: &str, action: &str) -> Response {
    let found = match request_in(state, tenant, pk) {
        Ok(found) if found.video.is_some() => found,
        _ => return no_such_video(),
    };
    if found.status != Status::VideoPending {
        let body = format!(
            "<p class=\"note\">Request {} is <b>{}</b>: this video identification is over.</p>",
            found.pk, found.status
        );
        return (StatusCode::GONE, page("Video identification", &body)).into_response();
    }
    let action = escape(action);
    let body = format!(
        r#"<p class="note">Request {pk} · {phone} · {email} · status <b>{status}</b></p>
<p>Pretend to go through the video identification. The request moves to VIDEOREVIEW,
VIDEOINCOMPLETE or VIDEOERROR and the webhook is sent.</p>
<form method="post" action="{action}">
<button name="outcome" value="review">Complete the video</button>
<button name="outcome" value="incomplete">Leave it incomplete</button>
<button name="outcome" value="error">Fail</button>
</form>"#,
        pk = found.pk,
        phone = escape(&found.person.mobile_phone_number),
        email = escape(&found.person.email),
        status = found.status,
    );
    page("Video identification", &body).into_response()
}

/// `{"outcome": "review" | "incomplete" | "error", "tenant"?}`: the person finishes the
/// video identification. The page's form posts here too and gets a page back. The
/// tenant is the query's `tenant`, else the body's, else `X-Signsim-Tenant`. 404 for an
/// unknown request or one without video identification, 409 when the video is over
/// (reviewed, failed, refused...).
async fn complete(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Query(query): Query<TenantQuery>,
    headers: HeaderMap,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    let tenant = match query.tenant {
        Some(name) => Tenant::new(SLUG, name),
        None => match fields.text("tenant") {
            Ok(Some(name)) => Tenant::new(SLUG, name),
            Ok(None) => tenant_of(&headers),
            Err(e) => return caller.failed(e.into()),
        },
    };
    let answer = completed(
        caller,
        &tenant,
        complete_video(&state, &tenant, &pk, &fields),
    );
    acted_for(answer, tenant)
}

/// `POST /_signsim/uanataca/lcmpl/videoid/{code}/complete` `{"outcome"}`: what the page's
/// form posts, to the request its code names (404 for an unknown code).
async fn complete_by_code(
    State(state): State<Arc<Uanataca>>,
    Path(code): Path<String>,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    let Some((tenant, pk)) = state.videoid_target(&code) else {
        return caller.failed(AdminError::not_found(
            "this video identification link does not exist",
        ));
    };
    let done = complete_video(&state, &tenant, &pk.to_string(), &fields);
    let answer = completed(caller, &tenant, done);
    acted_for(answer, tenant)
}

/// The answer to a finished video: JSON, or a page linking the request's timeline.
fn completed(caller: Caller, tenant: &Tenant, done: AdminResult<(u64, Status)>) -> Response {
    caller.answer(done.map(|(pk, status)| {
        let json = json!({ "status": "ok", "request": pk, "request_status": status.as_str() });
        let html = format!(
            "<p>Done: request {pk} is now <b>{status}</b>.</p><p><a href=\"{}\">See the \
             request's timeline</a></p>",
            escape(&crate::ui::resource_path(
                SLUG,
                &tenant.name,
                &pk.to_string()
            ))
        );
        (json, "Video identification".to_owned(), html)
    }))
}

fn complete_video(
    state: &Uanataca,
    tenant: &Tenant,
    pk: &str,
    fields: &Fields,
) -> AdminResult<(u64, Status)> {
    let outcome = match fields.text("outcome")?.as_deref() {
        Some("review") => VideoOutcome::Review,
        Some("incomplete") => VideoOutcome::Incomplete,
        Some("error") => VideoOutcome::Error,
        other => {
            let given = other.map_or("nothing".to_owned(), |o| format!("'{o}'"));
            return Err(AdminError::bad_request(format!(
                "outcome must be review, incomplete or error, not {given}"
            )));
        }
    };
    let found = request_in(state, tenant, pk)?;
    // A successful video reads the identity document: fill in what nobody gave yet.
    let patch = if outcome == VideoOutcome::Review {
        state.document_reading(&found.person)
    } else {
        PersonPatch::default()
    };
    state
        .oneshot
        .video_outcome(tenant, found.pk, outcome, patch)
        .map(|status| (found.pk, status))
        .map_err(|error| match error {
            OneShotError::RequestNotFound(_) => {
                AdminError::not_found(format!("no request {pk} in tenant '{}'", tenant.name))
            }
            OneShotError::NotVideo => {
                AdminError::not_found(format!("request {pk} has no video identification"))
            }
            OneShotError::WrongStatus { status, .. } => AdminError::conflict(format!(
                "cannot complete the video of request {pk}: it is {status}"
            )),
            other => AdminError::conflict(format!("cannot complete the video: {other:?}")),
        })
}

impl Uanataca {
    /// Plausible data "read" from the identity document, for the fields still empty.
    fn document_reading(&self, person: &crate::providers::shared::oneshot::Person) -> PersonPatch {
        let engine = self.oneshot.engine();
        let (given, first, second) = engine.ids.with_rng(|rng| {
            (
                FirstName(PT_PT).fake_with_rng::<String, _>(rng),
                LastName(PT_PT).fake_with_rng::<String, _>(rng),
                LastName(PT_PT).fake_with_rng::<String, _>(rng),
            )
        });
        let empty = |value: &str| value.trim().is_empty();
        PersonPatch {
            given_name: empty(&person.given_name).then_some(given),
            surname_1: empty(&person.surname_1).then_some(first),
            surname_2: person.surname_2.is_none().then_some(second),
            serial_number: empty(&person.serial_number).then(|| self.fake_serial_number()),
            ..PersonPatch::default()
        }
    }
}
