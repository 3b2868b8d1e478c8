//! What the person does behind `videoid_link`: an admin call for tests and a page for
//! people, both ending the video identification as a success, incomplete or an error.

use super::handlers::videoid::videoid_link;
use super::{parse_pk, Uanataca};
use crate::providers::shared::oneshot::{PersonPatch, Status, VideoOutcome};
use crate::ui::{escape, page, Caller};
use crate::wire::admin::{AdminBody, AdminError, AdminResult, Path, Query};
use crate::wire::{tenant_from_headers, Fields};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::PT_PT;
use fake::Fake;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Mounted under `/_signsim/uanataca`.
pub fn router(state: Arc<Uanataca>) -> Router {
    Router::new()
        .route("/videoid/{pk}", get(video_page))
        .route("/videoid/{pk}/complete", post(complete))
        .with_state(state)
}

#[derive(Deserialize)]
struct TenantQuery {
    tenant: Option<String>,
}

async fn video_page(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Query(query): Query<TenantQuery>,
) -> Response {
    let tenant = query
        .tenant
        .unwrap_or_else(|| crate::engine::DEFAULT_TENANT.to_owned());
    let Some(found) = parse_pk(&pk).and_then(|pk| state.oneshot.get(&tenant, pk).ok()) else {
        return (
            StatusCode::NOT_FOUND,
            page("Video identification", "<p>No such request.</p>"),
        )
            .into_response();
    };
    let action = escape(&format!(
        "/_signsim/uanataca/videoid/{}/complete?tenant={tenant}",
        found.pk
    ));
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
/// video identification. The page's form posts here too and gets a page back.
async fn complete(
    State(state): State<Arc<Uanataca>>,
    Path(pk): Path<String>,
    Query(query): Query<TenantQuery>,
    headers: HeaderMap,
    caller: Caller,
    AdminBody(fields): AdminBody,
) -> Response {
    let tenant = match query.tenant {
        Some(tenant) => tenant,
        None => match fields.text("tenant") {
            Ok(tenant) => tenant.unwrap_or_else(|| tenant_from_headers(&headers)),
            Err(e) => return caller.failed(e.into()),
        },
    };
    caller.answer(
        complete_video(&state, &tenant, &pk, &fields).map(|(pk, status)| {
            let json = json!({ "status": "ok", "request": pk, "request_status": status.as_str() });
            let html = format!(
                "<p>Done: request {pk} is now <b>{status}</b>.</p><p><a href=\"{}\">Back</a></p>",
                escape(&videoid_link(&state, &tenant, pk))
            );
            (json, "Video identification".to_owned(), html)
        }),
    )
}

fn complete_video(
    state: &Uanataca,
    tenant: &str,
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
    let found = parse_pk(pk)
        .and_then(|pk| state.oneshot.get(tenant, pk).ok())
        .ok_or_else(|| AdminError::not_found(format!("no request {pk} in tenant '{tenant}'")))?;
    // A successful video reads the identity document: fill in what nobody gave yet.
    let patch = if outcome == VideoOutcome::Review {
        state.document_reading(&found.person)
    } else {
        PersonPatch::default()
    };
    let status = state
        .oneshot
        .video_outcome(tenant, found.pk, outcome, patch)
        .map_err(|e| AdminError::conflict(format!("cannot complete the video: {e:?}")))?;
    Ok((found.pk, status))
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
