//! The pages people open under `/_signsim`: small server-rendered HTML, no scripts needed,
//! each form posting to the same admin calls the tests use. Here, what every page shares
//! (the page around a body, escaping, [`Caller`]: page or JSON); [`pages`], the dashboard
//! and one page per resource; [`inbox`], the messages "sent". The pages a provider's links
//! open (signing, biometric checks) are the provider's own, built with these helpers.
//!
//! One rule tells a page from a JSON call: a request whose `Accept` lists `text/html` came
//! from a browser (a link opened, a form posted) and gets a page; anything else (a test,
//! curl, a script) gets JSON. The same admin call serves both.

pub mod inbox;
pub mod open;
pub mod pages;

use crate::wire::admin::AdminError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use std::sync::LazyLock;

/// Whether the caller is a browser that wants a page (see the module's rule).
pub fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Who called an admin call that people reach from a page: it answers each in its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Browser,
    Client,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, Self::Rejection> {
        Ok(if wants_page(&parts.headers) {
            Caller::Browser
        } else {
            Caller::Client
        })
    }
}

impl Caller {
    /// A success: `json` for a client, a page titled `title` around `html` for a browser.
    pub fn done(self, json: Value, title: &str, html: &str) -> Response {
        match self {
            Caller::Client => axum::Json(json).into_response(),
            Caller::Browser => page(title, html).into_response(),
        }
    }

    /// A failure: the admin error for a client; for a browser, a page saying what went
    /// wrong, with the same status code.
    pub fn failed(self, error: AdminError) -> Response {
        match self {
            Caller::Client => error.into_response(),
            Caller::Browser => {
                let body = format!(
                    "<p class=\"note\">{}</p><p>Go back to try again.</p>",
                    escape(&error.message)
                );
                (error.status, page("Not done", &body)).into_response()
            }
        }
    }

    /// `done` or `failed`, whichever `result` is.
    pub fn answer(self, result: Result<(Value, String, String), AdminError>) -> Response {
        match result {
            Ok((json, title, html)) => self.done(json, &title, &html),
            Err(error) => self.failed(error),
        }
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            // Bidi controls would reorder what follows them on the page (a name that
            // reads as another, `exe.pdf` as `fdp.exe`): shown as their code instead.
            '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}' => escaped.push_str(&format!("&lt;U+{:04X}&gt;", u32::from(c))),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The "newest" and "older" links of a paged page at `base` (`/_signsim/inbox`): `kept`
/// is the filter the links keep, already encoded (`a=1&b=2&`); "newest" shows on a page
/// other than the first (`paged`), "older" when there is an `older` cursor. Empty when
/// neither applies.
pub fn pager(base: &str, kept: &str, paged: bool, older: Option<u64>) -> String {
    let mut links = Vec::new();
    if paged {
        let newest = match kept.trim_end_matches('&') {
            "" => base.to_owned(),
            query => format!("{base}?{query}"),
        };
        links.push(format!(
            "<a id=\"newest\" href=\"{}\">newest</a>",
            escape(&newest)
        ));
    }
    if let Some(older) = older {
        let href = format!("{base}?{kept}before={older}");
        links.push(format!(
            "<a id=\"older\" href=\"{}\">older</a>",
            escape(&href)
        ));
    }
    if links.is_empty() {
        String::new()
    } else {
        format!("<p class=\"pager\">{}</p>", links.join(" · "))
    }
}

/// Percent-encodes `text` for a URL's query value: everything but letters, digits and
/// `-._~`, so a tenant such as `a/b&c #2` stays one value.
pub fn query_value(text: &str) -> String {
    percent_encode(text, b"")
}

/// Percent-encodes `text` for one path segment of a URL: everything but letters, digits,
/// `-._~` and `:` (RFC 3986 allows `:` in a segment, and IdentiaSign's documented links
/// carry it raw; every URL built here starts with `/` or a scheme, where it means
/// nothing), so `a/b?c#d` stays one segment. A segment of only dots is still read as
/// `.`/`..` by URL parsers, encoded or not: providers refuse such ids where they are made.
pub fn path_segment(text: &str) -> String {
    percent_encode(text, b":")
}

fn percent_encode(text: &str, also_kept: &[u8]) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || also_kept.contains(&byte)
        {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Where the page of a resource is (`pages` serves it; a provider's pages link to it).
pub fn resource_path(provider: &str, tenant: &str, id: &str) -> String {
    format!(
        "/_signsim/resources/{}/{}/{}",
        path_segment(provider),
        path_segment(tenant),
        path_segment(id)
    )
}

/// The one stylesheet every page carries, inline: the Content-Security-Policy admits it
/// by its hash ([`content_security_policy`]), so no other style runs. Long unbroken
/// values (ids, tokens, URLs) break anywhere, so none overflows a phone-width page.
const STYLE: &str = r#"body { font-family: system-ui, sans-serif; overflow-wrap: anywhere; max-width: 64rem; margin: 1rem auto; padding: 0 .75rem; color: #222; line-height: 1.4; }
header { font-size: .85rem; color: #666; border-bottom: 1px solid #ddd; margin-bottom: 1rem; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
header a { color: #36c; }
h1 { font-size: 1.5rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin-top: 1.5rem; }
form { margin: 1rem 0; }
form.inline { display: inline; margin: 0; }
form.bar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
form.bar label { margin: 0; }
label { display: block; margin: .5rem 0 .2rem; }
input, select, button { font-size: 1rem; padding: .4rem; max-width: 100%; }
button { margin-right: .5rem; cursor: pointer; }
.note { background: #f5f5f5; padding: .5rem; border-radius: 4px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { white-space: nowrap; }
td.wide { min-width: 12rem; }
.status { font-weight: bold; }
.tag { display: inline-block; font-size: .75rem; padding: 0 .35rem; border-radius: 3px; background: #eee; color: #333; }
.tag.event { background: #e3efff; } .tag.call { background: #eee; } .tag.message { background: #fff3d6; }
.tag.webhook { background: #e4f6e4; } .tag.failed { background: #fde2e2; }
ol.timeline { list-style: none; padding: 0; }
ol.timeline li { border-left: 3px solid #ccd; padding: .3rem .6rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
ol.timeline time { color: #666; font-size: .8rem; display: block; }
pre { background: #f7f7f7; padding: .5rem; overflow-x: auto; font-size: .8rem; white-space: pre-wrap; overflow-wrap: anywhere; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.fields dt { color: #666; } dl.fields dd { margin: 0; overflow-wrap: anywhere; }
.otp { user-select: all; }
"#;

tokio::task_local! {
    /// Set (by the admin token's guard) while a page is made for someone logged in with
    /// the admin token: the page's header then has a "log out" button.
    pub static SIGNED_IN: bool;
}

/// Where the "log out" button posts (`admin::token` forgets the session there).
pub const LOGOUT_PATH: &str = "/_signsim/logout";

/// A whole page around `body` (already HTML; escape what comes from users).
pub fn page(title: &str, body: &str) -> Html<String> {
    let logout = if SIGNED_IN.try_with(|signed_in| *signed_in).unwrap_or(false) {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"{LOGOUT_PATH}\">\
             <button type=\"submit\">log out</button></form>"
        )
    } else {
        String::new()
    };
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · signsim</title>
<style>{STYLE}</style>
</head>
<body>
<header><span>signsim — simulated page, not the real provider</span>
<a href="/_signsim">dashboard</a> <a href="/_signsim/inbox">inbox</a>{logout}</header>
<h1>{title}</h1>
{body}
</body>
</html>
"#,
        title = escape(title),
    ))
}

/// The Content-Security-Policy of every page: nothing but the one inline stylesheet
/// (by its hash: no script, no other style), forms posting to this origin only, no
/// `<base>`. `framable`: whether another site may frame the page (the pages the links
/// open) or not (`frame-ancestors 'none'`: the admin pages). Made once.
pub fn content_security_policy(framable: bool) -> HeaderValue {
    static POLICIES: LazyLock<[HeaderValue; 2]> = LazyLock::new(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
        let base = format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; \
             form-action 'self'; base-uri 'none'"
        );
        [
            HeaderValue::from_str(&format!("{base}; frame-ancestors 'none'"))
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
            HeaderValue::from_str(&base)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        ]
    });
    POLICIES[usize::from(framable)].clone()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            super::escape("a\u{202E}b\u{2066}"),
            "a&lt;U+202E&gt;b&lt;U+2066&gt;"
        );
    }
}

/// What the resource page links for one resource, each as `(label, url)`: its documents
/// (originals, signed files, dossiers, certificates; opened in the browser) and the pages
/// where a person plays its end user (signing, video, biometric pages).
#[derive(Debug, Default, Clone)]
pub struct ResourceLinks {
    pub documents: Vec<(String, String)>,
    pub acts: Vec<(String, String)>,
}

/// A provider's `ResourceLinks` for a tenant and resource id (as its events name it). A
/// provider registers one with `providers::Context::resource_links`; without one its resource pages
/// show the timeline and the outbox's links only.
pub type LinksFn = std::sync::Arc<dyn Fn(&str, &str) -> ResourceLinks + Send + Sync>;
