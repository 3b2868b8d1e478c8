//! The pages for developers, built from the engine alone so that no provider renders its
//! own: the dashboard (resources with their status, the virtual clock, the scenarios) and
//! one page per resource with its documents, the pages where a person plays its end user,
//! and one timeline of everything that happened to it.
//!
//! A resource is whatever a provider records events for, named `(provider, tenant, id)`;
//! its status is what its latest `status` event says. The timeline merges, in time order:
//! its events, the journal's calls whose path names it, the outbox's messages about it and
//! the webhook attempts for it (status code, body, a redeliver button).

use super::{escape, page, pager, query_value, resource_path};
use super::{LinksFn, ResourceLinks};
use crate::engine::bounded::{Page, PageQuery, Paging};
use crate::engine::events::{EventFilter, Resource};
use crate::engine::tenant::Tenants;
use crate::engine::{rfc3339, Engine};
use crate::wire::admin::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;
use time::OffsetDateTime;

/// Resources on one page of the dashboard; an "older" link leads to the next.
pub const PAGE_SIZE: usize = 50;

/// What the pages are built from: the engine and each provider's `LinksFn`.
pub struct Pages {
    pub engine: Arc<Engine>,
    pub slugs: Vec<&'static str>,
    pub links: Vec<(&'static str, LinksFn)>,
}

impl Pages {
    fn links(&self, provider: &str, tenant: &str, id: &str) -> ResourceLinks {
        self.links
            .iter()
            .find(|(slug, _)| *slug == provider)
            .map(|(_, links)| links(tenant, id))
            .unwrap_or_default()
    }
}

/// The dashboard at `/` and the resource pages, mounted under `/_signsim`.
pub fn router(pages: Arc<Pages>) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/resources/{provider}/{tenant}/{id}", get(resource))
        .with_state(pages)
}

/// The dashboard's filter; an empty field (as a form sends it) filters nothing.
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    provider: Option<String>,
    tenant: Option<String>,
    /// The "older" link's cursor: resources changed before it.
    before: Option<String>,
}

fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The start page: resources newest first, filterable by provider and tenant; the clock
/// and a form to advance it; the scenarios; where everything else is.
pub async fn dashboard(
    State(pages): State<Arc<Pages>>,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let engine = &pages.engine;
    let provider = given(query.provider);
    let tenant = given(query.tenant);
    if let Some(unknown) = provider.as_deref().filter(|p| !pages.slugs.contains(p)) {
        let body = format!(
            "<p class=\"note\">No provider is called {}; the providers are {}.</p>\
             <p><a href=\"/_signsim\">Back to the dashboard</a></p>",
            escape(unknown),
            pages.slugs.join(", ")
        );
        return (StatusCode::BAD_REQUEST, page("Unknown provider", &body)).into_response();
    }
    let paging = PageQuery {
        limit: None,
        before: query.before,
    }
    .paging(PAGE_SIZE);
    let before = match paging {
        Ok(paging) => paging.and_then(|p| p.before),
        Err(message) => {
            let body = format!(
                "<p class=\"note\">{}</p><p><a href=\"/_signsim\">Back to the dashboard</a></p>",
                escape(&message)
            );
            return (StatusCode::BAD_REQUEST, page("Not a page", &body)).into_response();
        }
    };
    let resources = engine.events.resources_page(
        &EventFilter {
            provider: provider.clone(),
            tenant: tenant.clone(),
            id: None,
        },
        Paging {
            limit: PAGE_SIZE,
            before,
        },
    );
    let mut html = String::new();
    html.push_str(
        "<p>Local stand-in for e-signature and identity-verification providers. \
         <a href=\"/_signsim/inbox\">Inbox</a> · \
         <a href=\"/_signsim/requests\">request journal</a> · \
         <a href=\"/_signsim/webhooks\">webhooks</a> · \
         <a href=\"/_signsim/events\">events</a> · \
         <a href=\"/_signsim/scenarios\">scenarios</a> · \
         <a href=\"/_signsim/ca.pem\">root CA</a></p>\n",
    );
    html.push_str(&filter_form(
        &pages.slugs,
        provider.as_deref(),
        tenant.as_deref(),
    ));
    html.push_str(&resources_table(
        &resources,
        provider.as_deref(),
        tenant.as_deref(),
        before.is_some(),
    ));
    html.push_str(&clock_section(engine));
    html.push_str(&storage_section(engine));
    html.push_str(&scenarios_section(engine));
    page("signsim dashboard", &html).into_response()
}

fn clock_section(engine: &Engine) -> String {
    let offset = engine.clock.offset_seconds();
    let own: String = engine
        .clock
        .tenants()
        .iter()
        .map(|(provider, name, seconds)| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{seconds}</td></tr>",
                escape(provider),
                escape(name),
                escape(&rfc3339(engine.clock.now_of(provider, name)))
            )
        })
        .collect();
    let own = if own.is_empty() {
        String::new()
    } else {
        format!(
            "<p>Tenants with a clock of their own (moved with <code>{{\"tenant\": ...}}</code>):</p>\
             <table id=\"tenant-clocks\"><tr><th>Provider</th><th>Tenant</th><th>Now</th>\
             <th>Seconds ahead</th></tr>{own}</table>\n"
        )
    };
    let quick: String = [
        ("+1 hour", 3600),
        ("+1 day", 86_400),
        ("+30 days", 2_592_000),
    ]
    .iter()
    .map(|(label, seconds)| {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/_signsim/clock/advance\">\
                 <button name=\"seconds\" value=\"{seconds}\">{label}</button></form>"
        )
    })
    .collect();
    format!(
        "<h2>Clock</h2>\n<p>Simulated now: <b id=\"clock-now\">{now}</b> \
         ({offset} s ahead of real time). Moving it fires due expiries, timers and webhooks.</p>\n\
         <form class=\"bar\" id=\"clock-form\" method=\"post\" action=\"/_signsim/clock/advance\">\
         <label>Advance by (seconds) <input name=\"seconds\" type=\"number\" min=\"0\" \
         value=\"3600\" required></label><button type=\"submit\">Advance</button></form>\n\
         <p>{quick}</p>\n{own}",
        now = escape(&rfc3339(engine.clock.now())),
    )
}

/// What is stored against the caps, the largest tenants, and the retention period.
fn storage_section(engine: &Engine) -> String {
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0));
    let caps = engine.meter.caps();
    let retention = match engine.retention {
        Some(period) => format!(
            "finished resources are forgotten {} s after they finish (<code>--retention</code>)",
            period.whole_seconds()
        ),
        None => "off: resources are kept until a reset (<code>--retention</code>)".to_owned(),
    };
    let rows: String = engine
        .meter
        .tenants()
        .iter()
        .take(10)
        .map(|(tenant, used)| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&tenant.provider),
                escape(&tenant.name),
                mb(*used)
            )
        })
        .collect();
    format!(
        "<h2>Storage</h2>\n<p id=\"storage\">{used} stored of {max} \
         (<code>--max-memory-mb</code>); at most {tenant_max} a tenant \
         (<code>--max-tenant-mb</code>). Retention: {retention}.</p>\n\
         <table><tr><th>Provider</th><th>Tenant</th><th>Stored</th></tr>{rows}</table>\n",
        used = mb(engine.meter.total()),
        max = mb(caps.process_bytes),
        tenant_max = mb(caps.tenant_bytes),
    )
}

fn filter_form(slugs: &[&str], provider: Option<&str>, tenant: Option<&str>) -> String {
    let mut options = String::from("<option value=\"\">all</option>");
    for slug in slugs {
        let selected = if provider == Some(*slug) {
            " selected"
        } else {
            ""
        };
        options.push_str(&format!("<option{selected}>{}</option>", escape(slug)));
    }
    format!(
        "<h2>Resources</h2>\n<form class=\"bar\" method=\"get\" action=\"/_signsim\">\
         <label>Provider <select name=\"provider\">{options}</select></label>\
         <label>Tenant <input name=\"tenant\" value=\"{tenant}\" placeholder=\"any\"></label>\
         <button type=\"submit\">Filter</button></form>\n",
        tenant = escape(tenant.unwrap_or("")),
    )
}

/// One page of resources, with links to the newest page (when this is not it) and to the
/// next, older one (when there is one), keeping the filter.
fn resources_table(
    resources: &Page<Resource>,
    provider: Option<&str>,
    tenant: Option<&str>,
    paged: bool,
) -> String {
    let filter: String = [("provider", provider), ("tenant", tenant)]
        .iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name}={}&", query_value(v))))
        .collect();
    let nav = pager("/_signsim", &filter, paged, resources.older);
    if resources.entries.is_empty() {
        let none = if paged {
            "No older resources."
        } else {
            "No resources yet: create a request, envelope, process or verification through a \
             provider's API."
        };
        return format!("<p class=\"note\">{none}</p>{nav}\n");
    }
    let mut rows = String::new();
    for r in &resources.entries {
        rows.push_str(&format!(
            "<tr><td><a href=\"{href}\">{id}</a></td><td>{provider}</td><td>{tenant}</td>\
             <td class=\"status\">{status}</td><td>{updated}</td><td class=\"wide\">{last}</td></tr>\n",
            href = escape(&resource_path(&r.provider, &r.tenant, &r.id)),
            id = escape(&r.id),
            provider = escape(&r.provider),
            tenant = escape(&r.tenant),
            status = escape(&r.status),
            updated = escape(&rfc3339(r.updated_at)),
            last = escape(&r.last),
        ));
    }
    format!(
        "<div class=\"scroll\"><table id=\"resources\"><tr><th>id</th><th>provider</th>\
         <th>tenant</th><th>status</th><th>last change</th><th>last event</th></tr>\n\
         {rows}</table></div>{nav}\n"
    )
}

fn scenarios_section(engine: &Engine) -> String {
    let mut scenarios = engine.scenarios.list();
    scenarios.sort_by(|a, b| (&a.provider, &a.name).cmp(&(&b.provider, &b.name)));
    let mut rows = String::new();
    for s in &scenarios {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&s.provider),
            escape(&s.name),
            escape(&s.description),
            escape(&s.source),
        ));
    }
    format!(
        "<h2>Scenarios</h2>\n<details><summary>{} loaded (choose one with the provider's \
         scenario header or a <code>match</code>)</summary><div class=\"scroll\"><table>\
         <tr><th>provider</th><th>name</th><th>what it does</th><th>from</th></tr>\n{rows}\
         </table></div></details>\n",
        scenarios.len()
    )
}

/// One line of a resource's timeline.
struct Item {
    at: OffsetDateTime,
    html: String,
}

/// `GET /_signsim/resources/{provider}/{tenant}/{id}`: a resource's data, documents, the
/// pages to act as its end user, and its timeline. Reloads itself every few seconds.
pub async fn resource(
    State(pages): State<Arc<Pages>>,
    Path((provider, tenant, id)): Path<(String, String, String)>,
) -> Response {
    let engine = &pages.engine;
    let events = engine.events.list(&EventFilter {
        provider: Some(provider.clone()),
        tenant: Some(tenant.clone()),
        id: Some(id.clone()),
    });
    let attempts = engine.webhooks.attempts(
        &Tenants {
            provider: Some(provider.clone()),
            name: Some(tenant.clone()),
        },
        Some(&id),
    );
    if events.is_empty() && attempts.is_empty() {
        let body = format!(
            "<p class=\"note\">Nothing is known about {} {} of tenant {} (or the simulator was \
             reset).</p><p><a href=\"/_signsim\">Back to the dashboard</a></p>",
            escape(&provider),
            escape(&id),
            escape(&tenant)
        );
        return (StatusCode::NOT_FOUND, page("Resource not found", &body)).into_response();
    }
    let summary = engine
        .events
        .resources(&EventFilter {
            provider: Some(provider.clone()),
            tenant: Some(tenant.clone()),
            id: None,
        })
        .into_iter()
        .find(|r| r.id == id);
    let links = pages.links(&provider, &tenant, &id);

    let mut items: Vec<Item> = Vec::new();
    for event in &events {
        // The dispatcher's own lines; the attempts below say the same with the body.
        if event.kind == "webhook" {
            continue;
        }
        items.push(Item {
            at: event.at,
            html: format!(
                "<span class=\"tag event\">{}</span> {}",
                escape(&event.kind),
                escape(&event.text)
            ),
        });
    }
    for entry in engine
        .journal
        .list(&Default::default())
        .into_iter()
        .filter(|e| {
            call_touches(
                &e.path,
                &e.provider,
                e.tenant.as_deref(),
                &provider,
                &tenant,
                &id,
            )
        })
    {
        let query = entry
            .query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let started =
            entry.at - time::Duration::seconds_f64((entry.duration_ms / 1000.0).clamp(0.0, 3600.0));
        items.push(Item {
            at: started,
            html: format!(
                "<span class=\"tag call\">call</span> <code>{} {}{}</code> → {}",
                escape(&entry.method),
                escape(&entry.path),
                escape(&query),
                entry.status
            ),
        });
    }
    let mut acts = links.acts.clone();
    for message in engine
        .outbox
        .list(&Default::default())
        .into_iter()
        .filter(|m| m.is_about(&provider, &tenant, &id))
    {
        let otp = message
            .otp
            .as_deref()
            .map(|otp| format!(" · OTP <b class=\"otp\">{}</b>", escape(otp)))
            .unwrap_or_default();
        let link = match message.link.as_deref() {
            Some(link) => {
                if !acts.iter().any(|(_, url)| url == link) {
                    acts.push((format!("link sent to {}", message.to), link.to_owned()));
                }
                format!(" · <a href=\"{0}\">{0}</a>", escape(link))
            }
            None => String::new(),
        };
        items.push(Item {
            at: message.at,
            html: format!(
                "<span class=\"tag message\">{}</span> to {}: {}{otp}{link}",
                message.channel.as_str(),
                escape(&message.to),
                escape(&message.text)
            ),
        });
    }
    let back = resource_path(&provider, &tenant, &id);
    for attempt in &attempts {
        let outcome = match (attempt.response_status, &attempt.error) {
            (Some(status), _) => format!("answered <b>{status}</b>"),
            (None, Some(error)) => format!("failed: {}", escape(error)),
            (None, None) => "no answer".to_owned(),
        };
        let class = if attempt.delivered {
            "webhook"
        } else {
            "webhook failed"
        };
        let body = serde_json::to_string_pretty(&attempt.body).unwrap_or_default();
        items.push(Item {
            at: attempt.at,
            html: format!(
                "<span class=\"tag {class}\">webhook</span> attempt {n} to {url} {outcome}{delivered}\
                 <details><summary>body</summary><pre>{body}</pre></details>\
                 <form class=\"inline\" method=\"post\" action=\"{action}\">\
                 <input type=\"hidden\" name=\"back\" value=\"{back}\">\
                 <button type=\"submit\">Redeliver</button></form>",
                n = attempt.attempt,
                url = escape(&attempt.url),
                delivered = if attempt.delivered { " · delivered" } else { "" },
                body = escape(&body),
                action = escape(&format!(
                    "/_signsim/webhooks/{}/redeliver",
                    query_value(&attempt.delivery)
                )),
                back = escape(&back),
            ),
        });
    }
    // Stable: what happened at one instant keeps the order it was gathered in.
    items.sort_by_key(|item| item.at);

    let status = summary.as_ref().map_or("", |s| s.status.as_str());
    let mut html = format!(
        "<meta http-equiv=\"refresh\" content=\"5\">\
         <dl class=\"fields\"><dt>provider</dt><dd>{provider_html}</dd>\
         <dt>tenant</dt><dd>{tenant_html}</dd><dt>id</dt><dd>{id_html}</dd>\
         <dt>status</dt><dd class=\"status\" id=\"status\">{status}</dd>{times}</dl>\n\
         <p class=\"note\">Also as JSON: <a href=\"{events}\">events</a> · \
         <a href=\"/_signsim/webhooks\">webhooks</a> · <a href=\"{outbox}\">outbox</a></p>\n",
        provider_html = escape(&provider),
        tenant_html = escape(&tenant),
        id_html = escape(&id),
        status = escape(status),
        times = summary
            .as_ref()
            .map(|s| format!(
                "<dt>first seen</dt><dd>{}</dd><dt>last change</dt><dd>{}</dd>",
                escape(&rfc3339(s.created_at)),
                escape(&rfc3339(s.updated_at))
            ))
            .unwrap_or_default(),
        events = escape(&format!(
            "/_signsim/events?provider={}&tenant={}&id={}",
            query_value(&provider),
            query_value(&tenant),
            query_value(&id)
        )),
        outbox = escape(&format!(
            "/_signsim/outbox?provider={}&tenant={}",
            query_value(&provider),
            query_value(&tenant)
        )),
    );
    html.push_str(&link_list(
        "Act as the end user",
        "act",
        &acts,
        "No page to open for this resource.",
    ));
    html.push_str(&link_list(
        "Documents",
        "documents",
        &links.documents,
        "No documents yet.",
    ));
    html.push_str("<h2>Timeline</h2>\n<ol class=\"timeline\" id=\"timeline\">\n");
    for item in &items {
        html.push_str(&format!(
            "<li><time>{}</time>{}</li>\n",
            escape(&rfc3339(item.at)),
            item.html
        ));
    }
    html.push_str("</ol>\n");
    let title = format!("{provider} {id}");
    page(&title, &html).into_response()
}

fn link_list(title: &str, id: &str, links: &[(String, String)], empty: &str) -> String {
    if links.is_empty() {
        return format!("<h2>{title}</h2>\n<p class=\"note\">{empty}</p>\n");
    }
    let items: String = links
        .iter()
        .map(|(label, url)| {
            format!(
                "<li><a href=\"{}\" target=\"_blank\">{}</a></li>",
                escape(url),
                escape(label)
            )
        })
        .collect();
    format!("<h2>{title}</h2>\n<ul id=\"{id}\">{items}</ul>\n")
}

/// Whether a journal entry is a call about resource `id`: a call of its provider and
/// tenant (its API calls, and the admin and page acts journaled under whom they acted
/// for) with `id` as a whole segment of the path. A call of another tenant that names
/// the same id is not about it.
fn call_touches(
    path: &str,
    entry_provider: &str,
    entry_tenant: Option<&str>,
    provider: &str,
    tenant: &str,
    id: &str,
) -> bool {
    let ours = entry_provider == provider && entry_tenant == Some(tenant);
    ours && path
        .split('/')
        .any(|segment| segment == id || segment == query_value(id))
}

#[cfg(test)]
mod tests {
    #[test]
    fn calls_touch_a_resource_by_a_whole_segment() {
        let touches = super::call_touches;
        assert!(touches(
            "/qitech/sign/envelope/e1",
            "qitech",
            Some("k"),
            "qitech",
            "k",
            "e1"
        ));
        assert!(!touches(
            "/qitech/sign/envelope/e10",
            "qitech",
            Some("k"),
            "qitech",
            "k",
            "e1"
        ));
        assert!(!touches(
            "/qitech/sign/envelope/e1",
            "qitech",
            Some("j"),
            "qitech",
            "k",
            "e1"
        ));
        assert!(touches(
            "/_signsim/qitech/envelopes/e1/signers/1/sign",
            "qitech",
            Some("k"),
            "qitech",
            "k",
            "e1"
        ));
        // Journaled without the tenant it acted for: nobody's.
        assert!(!touches(
            "/_signsim/qitech/envelopes/e1/signers/1/sign",
            "_signsim",
            None,
            "qitech",
            "k",
            "e1"
        ));
        assert!(!touches(
            "/_signsim/resources/qitech/k/e1",
            "_signsim",
            None,
            "qitech",
            "k",
            "e1"
        ));
    }
}
