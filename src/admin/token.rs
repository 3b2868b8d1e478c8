//! `--admin-token`: in a shared sandbox, who may look inside the simulator and steer it.
//!
//! With a token, every call and page under `/_signsim` asks for it: a client sends
//! `Authorization: Bearer <token>` or `X-Signsim-Admin-Token: <token>` and otherwise gets
//! 401 in the admin error shape; a browser gets a login form that sets a cookie (HttpOnly,
//! SameSite=Strict, holding a digest of the token, not the token) and goes back to the
//! page it asked for. The providers' own surfaces are not affected.
//!
//! Left open: `/_signsim/health` (container health checks carry no secrets),
//! `/_signsim/ca.pem` (a public certificate, needed to trust `--tls` before anything
//! else), and every path a provider registered with `Context::open_paths`: the pages and
//! downloads its links open, where those pages post, its always-down receiver. Whoever
//! holds such a link was meant to open it, as with the real provider; its unguessable code
//! is the credential.

use crate::ui::{escape, page, wants_page};
use crate::wire::admin::AdminError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The header a client may send instead of `Authorization: Bearer`.
pub const TOKEN_HEADER: &str = "x-signsim-admin-token";
/// The cookie the login form sets.
pub const COOKIE: &str = "signsim_admin";
/// Where the login form posts.
pub const LOGIN_PATH: &str = "/_signsim/login";

/// A login form is a token and a path: anything longer is not one.
const LOGIN_BODY_LIMIT: usize = 16 * 1024;

/// What the admin pages are guarded with: the token (as digests) and the open paths.
pub struct AdminGuard {
    /// Digest of the token: requests are compared by digest, so the comparison takes the
    /// same time whatever the guess (no early exit on the first differing byte of the
    /// secret itself).
    token_digest: [u8; 32],
    /// The cookie's value: a digest of the token under another label, so the cookie never
    /// carries the token itself.
    cookie_value: String,
    /// Open path patterns, split into segments (`{x}` matches any one segment).
    open: Vec<Vec<String>>,
    /// The cookie is `Secure` when the simulator serves https.
    secure: bool,
}

fn digest(label: &str, token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    hasher.update([0]);
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

/// Equal without an early exit.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl AdminGuard {
    pub fn new(token: &str, open_paths: &[String], secure: bool) -> AdminGuard {
        let mut open: Vec<Vec<String>> = ["/_signsim/health", "/_signsim/ca.pem"]
            .iter()
            .map(|p| segments(p))
            .collect();
        open.extend(open_paths.iter().map(|p| segments(p)));
        AdminGuard {
            token_digest: digest("token", token),
            cookie_value: hex::encode(digest("cookie", token)),
            open,
            secure,
        }
    }

    fn token_ok(&self, candidate: &str) -> bool {
        same(&digest("token", candidate), &self.token_digest)
    }

    fn is_open(&self, path: &str) -> bool {
        let path: Vec<&str> = path.split('/').collect();
        self.open.iter().any(|pattern| {
            pattern.len() == path.len()
                && pattern.iter().zip(&path).all(|(want, got)| {
                    if want.starts_with('{') {
                        !got.is_empty()
                    } else {
                        want == got
                    }
                })
        })
    }

    /// Whether the request carries the token (a header) or the login cookie.
    fn admitted(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| self.token_ok(t.trim()));
        let own_header = headers
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| self.token_ok(t.trim()));
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| {
                name == COOKIE && same(value.as_bytes(), self.cookie_value.as_bytes())
            });
        bearer || own_header || cookie
    }

    fn set_cookie(&self) -> String {
        format!(
            "{COOKIE}={}; Path=/_signsim; HttpOnly; SameSite=Strict{}",
            self.cookie_value,
            if self.secure { "; Secure" } else { "" }
        )
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').map(str::to_owned).collect()
}

fn is_admin_path(path: &str) -> bool {
    path == "/_signsim" || path.starts_with("/_signsim/")
}

/// The middleware: lets through what is not admin, what is open and who is admitted;
/// serves the login form; turns everyone else away.
pub async fn guard(State(guard): State<Arc<AdminGuard>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !is_admin_path(&path) || guard.is_open(&path) {
        return next.run(request).await;
    }
    if path == LOGIN_PATH {
        return login(&guard, request).await;
    }
    if guard.admitted(request.headers()) {
        return next.run(request).await;
    }
    if wants_page(request.headers()) {
        // After logging in, a GET goes back where it was; a form posted without the
        // cookie (it expired with the browser session) goes back to the dashboard.
        let back = if request.method() == Method::GET {
            request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str().to_owned())
                .unwrap_or_else(|| "/_signsim".to_owned())
        } else {
            "/_signsim".to_owned()
        };
        return login_page(&back, None);
    }
    let mut refused = AdminError::new(
        StatusCode::UNAUTHORIZED,
        "this simulator asks for its admin token on /_signsim: send \
         'Authorization: Bearer <token>' or 'X-Signsim-Admin-Token: <token>' \
         (the value of --admin-token / SIGNSIM_ADMIN_TOKEN)",
    )
    .into_response();
    refused.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"signsim admin\""),
    );
    refused
}

/// `GET /_signsim/login` shows the form; `POST` checks the token and sets the cookie.
async fn login(guard: &AdminGuard, request: Request) -> Response {
    if request.method() != Method::POST {
        return login_page("/_signsim", None);
    }
    let bytes = match axum::body::to_bytes(request.into_body(), LOGIN_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return AdminError::new(StatusCode::PAYLOAD_TOO_LARGE, "a login form is small")
                .into_response()
        }
    };
    let mut token = String::new();
    let mut back = "/_signsim".to_owned();
    for (name, value) in url::form_urlencoded::parse(&bytes) {
        match name.as_ref() {
            "token" => token = value.into_owned(),
            "back" => back = value.into_owned(),
            _ => {}
        }
    }
    let back = safe_back(&back);
    if !guard.token_ok(token.trim()) {
        return login_page(&back, Some("That is not the admin token."));
    }
    let mut response = (StatusCode::SEE_OTHER, Body::empty()).into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&back) {
        headers.insert(header::LOCATION, location);
    }
    if let Ok(cookie) = HeaderValue::from_str(&guard.set_cookie()) {
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Only a path of this simulator's admin pages: never another site (an open redirect).
fn safe_back(back: &str) -> String {
    let plain = back
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '\\' && c != '"');
    if plain && is_admin_path(back.split(['?', '#']).next().unwrap_or("")) {
        back.to_owned()
    } else {
        "/_signsim".to_owned()
    }
}

fn login_page(back: &str, failed: Option<&str>) -> Response {
    let note = failed
        .map(|why| format!("<p class=\"note\">{}</p>", escape(why)))
        .unwrap_or_default();
    let body = format!(
        r#"{note}<p>This simulator is shared: its admin pages ask for the admin token
(<code>--admin-token</code>, <code>SIGNSIM_ADMIN_TOKEN</code>).</p>
<form method="post" action="{LOGIN_PATH}">
<input type="hidden" name="back" value="{back}">
<label>Admin token <input name="token" type="password" required autofocus></label>
<button type="submit">Log in</button>
</form>"#,
        back = escape(back),
    );
    (StatusCode::UNAUTHORIZED, page("Log in", &body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_patterns_match_one_segment_each() {
        let guard = AdminGuard::new("t", &["/_signsim/qitech/s/{code}".to_owned()], false);
        assert!(guard.is_open("/_signsim/qitech/s/abc"));
        assert!(guard.is_open("/_signsim/health"));
        assert!(!guard.is_open("/_signsim/qitech/s/"));
        assert!(!guard.is_open("/_signsim/qitech/s/abc/more"));
        assert!(!guard.is_open("/_signsim/outbox"));
    }

    #[test]
    fn back_stays_on_the_admin_pages() {
        assert_eq!(safe_back("/_signsim/inbox?x=1"), "/_signsim/inbox?x=1");
        assert_eq!(safe_back("https://evil.test/"), "/_signsim");
        assert_eq!(safe_back("//evil.test/_signsim"), "/_signsim");
        assert_eq!(safe_back("/_signsimx"), "/_signsim");
    }
}
