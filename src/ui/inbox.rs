//! The inbox at `/_signsim/inbox`: the outbox as a page for people, every SMS, e-mail and
//! WhatsApp message the providers would have sent, with its OTP and its link. The JSON of
//! the same messages is the admin API's `/_signsim/outbox`.

use super::pages::Pages;
use super::{escape, page, pager, query_value};
use crate::engine::bounded::{PageQuery, Paging};
use crate::engine::outbox::{Channel, OutboxFilter};
use crate::engine::rfc3339;
use crate::wire::admin::{AdminError, Query};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;

/// The inbox, mounted under `/_signsim`.
pub fn router(pages: Arc<Pages>) -> Router {
    Router::new().route("/inbox", get(inbox)).with_state(pages)
}

/// The inbox's filter, as its form sends it: an empty field filters nothing.
#[derive(Debug, Default, Deserialize)]
struct InboxQuery {
    provider: Option<String>,
    channel: Option<String>,
    to: Option<String>,
    tenant: Option<String>,
    /// The "older" link's cursor.
    before: Option<String>,
}

/// Messages on one page of the inbox; an "older" link leads to the next.
pub const PAGE_SIZE: usize = 50;

/// The outbox as a page for people: every message "sent", newest first, filterable by
/// provider, channel and recipient, with its OTP and a clickable link. Reloads itself
/// every few seconds.
async fn inbox(
    State(pages): State<Arc<Pages>>,
    Query(query): Query<InboxQuery>,
) -> Result<Response, AdminError> {
    let engine = &pages.engine;
    let given = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let channel_text = given(query.channel);
    let channel = match channel_text.as_deref() {
        None => None,
        Some(text) => Some(Channel::parse(text).ok_or_else(|| {
            AdminError::bad_request(format!(
                "channel must be sms, email or whatsapp, not {text}"
            ))
        })?),
    };
    let filter = OutboxFilter {
        provider: given(query.provider),
        to: given(query.to),
        channel,
        tenant: given(query.tenant),
    };
    crate::wire::admin::known_provider(engine, filter.provider.as_deref())?;
    let before = PageQuery {
        limit: None,
        before: query.before,
    }
    .paging(PAGE_SIZE)
    .map_err(AdminError::bad_request)?
    .and_then(|p| p.before);
    let messages = engine.outbox.page(
        &filter,
        Paging {
            limit: PAGE_SIZE,
            before,
        },
    );
    let mut rows = String::new();
    for message in &messages.entries {
        let link = message
            .link
            .as_deref()
            .map(|l| format!("<a href=\"{0}\">{0}</a>", escape(l)))
            .unwrap_or_default();
        let otp = message
            .otp
            .as_deref()
            .map(|otp| {
                // Clicking the OTP selects it, ready to copy into the signer's page.
                format!("<span class=\"otp\"><b>{}</b></span>", escape(otp))
            })
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&rfc3339(message.at)),
            escape(&message.provider),
            message.channel.as_str(),
            escape(&message.to),
            escape(&message.text),
            otp,
            link,
        ));
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"7\">Nothing sent yet.</td></tr>");
    }
    let mut providers = String::from("<option value=\"\">all</option>");
    for &slug in &pages.slugs {
        let selected = if filter.provider.as_deref() == Some(slug) {
            " selected"
        } else {
            ""
        };
        providers.push_str(&format!("<option{selected}>{slug}</option>"));
    }
    let mut channels = String::from("<option value=\"\">all</option>");
    for c in [Channel::Sms, Channel::Email, Channel::Whatsapp] {
        let selected = if channel == Some(c) { " selected" } else { "" };
        channels.push_str(&format!("<option{selected}>{}</option>", c.as_str()));
    }
    // The filter again, for the links to the newest and to the older page.
    let kept: String = [
        ("provider", filter.provider.as_deref()),
        ("channel", channel.map(Channel::as_str)),
        ("tenant", filter.tenant.as_deref()),
        ("to", filter.to.as_deref()),
    ]
    .iter()
    .filter_map(|(name, value)| value.map(|v| format!("{name}={}&", query_value(v))))
    .collect();
    let nav = pager("/_signsim/inbox", &kept, before.is_some(), messages.older);
    let body = format!(
        "<meta http-equiv=\"refresh\" content=\"3\">\
         <p class=\"note\">Every SMS, e-mail and WhatsApp message the providers would have sent, \
         newest first (also as JSON at <a href=\"/_signsim/outbox\">/_signsim/outbox</a>).</p>\
         <form class=\"bar\" method=\"get\" action=\"/_signsim/inbox\">\
         <label>Provider <select name=\"provider\">{providers}</select></label>\
         <label>Channel <select name=\"channel\">{channels}</select></label>\
         <label>Tenant <input name=\"tenant\" value=\"{tenant}\" placeholder=\"any\"></label>\
         <label>Recipient <input name=\"to\" value=\"{to}\" placeholder=\"any\"></label>\
         <button type=\"submit\">Filter</button></form>\
         <div class=\"scroll\"><table id=\"inbox\"><tr><th>at</th><th>provider</th><th>channel</th>\
         <th>to</th><th>text</th><th>OTP</th><th>link</th></tr>{rows}</table></div>{nav}",
        to = escape(filter.to.as_deref().unwrap_or("")),
        tenant = escape(filter.tenant.as_deref().unwrap_or("")),
    );
    Ok(page("Inbox", &body).into_response())
}
