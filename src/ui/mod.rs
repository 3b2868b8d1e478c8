//! The pages people open from the links providers "send" (signing links, biometric
//! links): small server-rendered HTML, no scripts needed, each form posting to the same
//! admin calls the tests use.
//!
//! One rule tells a page from a JSON call: a request whose `Accept` lists `text/html` came
//! from a browser (a link opened, a form posted) and gets a page; anything else (a test,
//! curl, a script) gets JSON. The same admin call serves both.

use crate::wire::admin::AdminError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

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
            c => escaped.push(c),
        }
    }
    escaped
}

/// A whole page around `body` (already HTML; escape what comes from users).
pub fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · signsim</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
header {{ font-size: .85rem; color: #666; border-bottom: 1px solid #ddd; margin-bottom: 1rem; }}
form {{ margin: 1rem 0; }}
label {{ display: block; margin: .5rem 0 .2rem; }}
input, select, button {{ font-size: 1rem; padding: .4rem; }}
button {{ margin-right: .5rem; }}
.note {{ background: #f5f5f5; padding: .5rem; border-radius: 4px; }}
table {{ border-collapse: collapse; font-size: .85rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
</style>
</head>
<body>
<header>signsim — simulated page, not the real provider</header>
<h1>{title}</h1>
{body}
</body>
</html>
"#,
        title = escape(title),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
