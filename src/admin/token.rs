//! `--admin-token`: in a shared sandbox, who may look inside the simulator and steer it.
//!
//! With a token, every call and page under `/_signsim` asks for it: a client sends
//! `Authorization: Bearer <token>` or `X-Signsim-Admin-Token: <token>` and otherwise gets
//! 401 in the admin error shape; a browser gets a login form that sets a cookie (HttpOnly,
//! SameSite=Strict, a random session id the server keeps for 12 hours, `Max-Age` saying
//! so; `POST /_signsim/logout` forgets it) and goes back to the page it asked for. The
//! providers' own surfaces are not affected.
//!
//! Wrong tokens are counted per client address: past [`GUESS_LIMIT`] within
//! [`GUESS_WINDOW`], the client is answered 429 (`Retry-After`) whatever it sends, until
//! the window has passed. A right token costs nothing more.
//!
//! Left open: `/_signsim/health` (container health checks; without the token it says
//! status, version and uptime only, as tenant names are credentials),
//! `/_signsim/ca.pem` (a public certificate, needed to trust `--tls` before anything
//! else), and every path a provider registered with `Context::open_paths`: the pages and
//! downloads its links open, where those pages post, its always-down receiver. Whoever
//! holds such a link was meant to open it, as with the real provider; its unguessable code
//! is the credential.

use crate::ui::open::OpenPaths;
use crate::ui::{escape, page, wants_page, LOGOUT_PATH, SIGNED_IN};
use crate::wire::admin::AdminError;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The header a client may send instead of `Authorization: Bearer`.
pub const TOKEN_HEADER: &str = "x-signsim-admin-token";
/// The cookie the login form sets.
pub const COOKIE: &str = "signsim_admin";
/// Where the login form posts.
pub const LOGIN_PATH: &str = "/_signsim/login";
/// The one open path whose answer depends on the token: health says more to the admin.
const HEALTH_PATH: &str = "/_signsim/health";

/// A login form is a token and a path: anything longer is not one.
const LOGIN_BODY_LIMIT: usize = 16 * 1024;

/// How long a login lasts: a working day. The cookie says so too (`Max-Age`).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Sessions kept at once; past it, the oldest is forgotten (its browser logs in again).
const MAX_SESSIONS: usize = 1024;

/// Wrong tokens a client may send within [`GUESS_WINDOW`] before it is refused (429)
/// until the window has passed: plenty for a person mistyping, nothing for a guesser.
pub const GUESS_LIMIT: u32 = 10;
/// The window of [`GUESS_LIMIT`], from a client's first wrong token.
pub const GUESS_WINDOW: Duration = Duration::from_secs(10);
/// Clients whose failures are remembered at once; past it, the oldest window goes.
const MAX_GUESSERS: usize = 4096;

/// Marks a call to `/_signsim/health` made without the token, when there is one: health
/// then says status, version and uptime only.
#[derive(Debug, Clone, Copy)]
pub struct Guest;

/// What the admin pages are guarded with: the token (as a digest), the open paths, the
/// login sessions and the count of wrong guesses.
pub struct AdminGuard {
    /// Digest of the token: requests are compared by digest, so the comparison takes the
    /// same time whatever the guess (no early exit on the first differing byte of the
    /// secret itself).
    token_digest: [u8; 32],
    open: OpenPaths,
    /// The cookie is `Secure` when the simulator serves https.
    secure: bool,
    sessions: Mutex<Sessions>,
    guesses: Mutex<Guesses>,
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Login sessions: a random id (the cookie's value) to when it was made. The table keys
/// are digests of the ids, so a lookup's timing says nothing about a stored id.
#[derive(Default)]
struct Sessions(HashMap<[u8; 32], Instant>);

impl Sessions {
    /// A new session; its id, for the cookie.
    fn open(&mut self, now: Instant) -> String {
        let id = hex::encode(rand::rng().random::<[u8; 32]>());
        self.0
            .retain(|_, made| now.saturating_duration_since(*made) < SESSION_LIFETIME);
        if self.0.len() >= MAX_SESSIONS {
            let oldest = self
                .0
                .iter()
                .min_by_key(|(_, made)| **made)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.0.remove(&oldest);
            }
        }
        self.0.insert(digest("session", &id), now);
        id
    }

    fn valid(&self, id: &str, now: Instant) -> bool {
        self.0
            .get(&digest("session", id))
            .is_some_and(|made| now.saturating_duration_since(*made) < SESSION_LIFETIME)
    }

    fn close(&mut self, id: &str) {
        self.0.remove(&digest("session", id));
    }
}

/// Wrong tokens by client address (`None`: calls whose address is not known share one
/// count): when the window began and how many within it.
struct Guesses {
    window: Duration,
    by_client: HashMap<Option<IpAddr>, (Instant, u32)>,
}

impl Guesses {
    /// `Some(wait)`: the client is refused for `wait` more.
    fn refused(&self, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let (began, failures) = self.by_client.get(&client)?;
        let passed = now.saturating_duration_since(*began);
        (*failures >= GUESS_LIMIT && passed < self.window)
            .then(|| self.window.saturating_sub(passed))
    }

    fn failed(&mut self, client: Option<IpAddr>, now: Instant) {
        let window = self.window;
        let over = |began: &Instant| now.saturating_duration_since(*began) >= window;
        if !self.by_client.contains_key(&client) && self.by_client.len() >= MAX_GUESSERS {
            self.by_client.retain(|_, (began, _)| !over(began));
            if self.by_client.len() >= MAX_GUESSERS {
                let oldest = self
                    .by_client
                    .iter()
                    .min_by_key(|(_, (began, _))| *began)
                    .map(|(client, _)| *client);
                if let Some(oldest) = oldest {
                    self.by_client.remove(&oldest);
                }
            }
        }
        let entry = self.by_client.entry(client).or_insert((now, 0));
        if over(&entry.0) {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// What a request's credentials come to.
enum Check {
    Admitted,
    /// No token and no session: not a guess.
    Missing,
    Wrong,
    /// Too many wrong tokens from this client: wait this long.
    Throttled(Duration),
}

impl AdminGuard {
    pub fn new(token: &str, open: OpenPaths, secure: bool, guess_window: Duration) -> AdminGuard {
        AdminGuard {
            token_digest: digest("token", token),
            open,
            secure,
            sessions: Mutex::new(Sessions::default()),
            guesses: Mutex::new(Guesses {
                window: guess_window,
                by_client: HashMap::new(),
            }),
        }
    }

    fn token_ok(&self, candidate: &str) -> bool {
        same(&digest("token", candidate), &self.token_digest)
    }

    /// A token checked against the count of wrong guesses: a throttled client is refused
    /// before its token is looked at, so guessing right while throttled tells it nothing.
    fn check_token(&self, candidates: &[&str], client: Option<IpAddr>) -> Check {
        let now = Instant::now();
        if let Some(wait) = lock(&self.guesses).refused(client, now) {
            return Check::Throttled(wait);
        }
        if candidates.iter().any(|t| self.token_ok(t.trim())) {
            Check::Admitted
        } else {
            lock(&self.guesses).failed(client, now);
            Check::Wrong
        }
    }

    /// Whether the request carries the token (a header) or a login session's cookie. A
    /// session id is not throttled: 256 random bits are not guessed, and a browser that
    /// kept a cookie from before a restart must not lock its person out.
    fn check(&self, request: &Request) -> Check {
        let headers = request.headers();
        if session_of(headers).is_some_and(|id| lock(&self.sessions).valid(id, Instant::now())) {
            return Check::Admitted;
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let own = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok());
        let candidates: Vec<&str> = bearer.into_iter().chain(own).collect();
        if candidates.is_empty() {
            return Check::Missing;
        }
        self.check_token(&candidates, client_of(request))
    }

    fn set_cookie(&self, session: &str) -> String {
        format!(
            "{COOKIE}={session}; Path=/_signsim; Max-Age={}; HttpOnly; SameSite=Strict{}",
            SESSION_LIFETIME.as_secs(),
            if self.secure { "; Secure" } else { "" }
        )
    }

    fn clear_cookie(&self) -> String {
        format!(
            "{COOKIE}=; Path=/_signsim; Max-Age=0; HttpOnly; SameSite=Strict{}",
            if self.secure { "; Secure" } else { "" }
        )
    }
}

/// The session id the request's cookie carries, if any.
fn session_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The client's address, when the listener recorded it.
fn client_of(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

fn is_admin_path(path: &str) -> bool {
    path == "/_signsim" || path.starts_with("/_signsim/")
}

/// 429 with `Retry-After`, in the admin shape.
fn throttled(wait: Duration) -> Response {
    let seconds = wait.as_secs().saturating_add(1);
    let mut response = AdminError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "too many wrong admin tokens from this address: try again in {seconds} s \
             (at most {GUESS_LIMIT} wrong tokens are answered per window)"
        ),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The middleware: lets through what is not admin, what is open and who is admitted;
/// serves the login form and logs out; turns everyone else away.
pub async fn guard(
    State(guard): State<Arc<AdminGuard>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if !is_admin_path(path) {
        return next.run(request).await;
    }
    if path == HEALTH_PATH {
        // Open, but it says more to the admin (tenant names are credentials).
        match guard.check(&request) {
            Check::Admitted => {}
            Check::Throttled(wait) => return throttled(wait),
            Check::Missing | Check::Wrong => {
                request.extensions_mut().insert(Guest);
            }
        }
        return next.run(request).await;
    }
    if guard.open.matches(path) {
        return next.run(request).await;
    }
    if path == LOGIN_PATH {
        return login(&guard, request).await;
    }
    if path == LOGOUT_PATH {
        return logout(&guard, request, next).await;
    }
    match guard.check(&request) {
        Check::Admitted => return SIGNED_IN.scope(true, next.run(request)).await,
        Check::Throttled(wait) => return throttled(wait),
        Check::Missing | Check::Wrong => {}
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

/// `POST /_signsim/logout`: forgets the cookie's session and clears the cookie; the admin
/// router's route answers (as it does without a token).
async fn logout(guard: &AdminGuard, request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        if let Some(id) = session_of(request.headers()) {
            lock(&guard.sessions).close(id);
        }
    }
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().is_redirection() {
        if let Ok(cookie) = HeaderValue::from_str(&guard.clear_cookie()) {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
    }
    response
}

/// `GET /_signsim/login` shows the form; `POST` checks the token and sets the cookie.
async fn login(guard: &AdminGuard, request: Request) -> Response {
    if request.method() != Method::POST {
        return login_page("/_signsim", None);
    }
    let client = client_of(&request);
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
    match guard.check_token(&[&token], client) {
        Check::Admitted => {}
        Check::Throttled(wait) => return throttled(wait),
        Check::Missing | Check::Wrong => {
            return login_page(&back, Some("That is not the admin token."))
        }
    }
    let session = lock(&guard.sessions).open(Instant::now());
    let mut response = (StatusCode::SEE_OTHER, Body::empty()).into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&back) {
        headers.insert(header::LOCATION, location);
    }
    if let Ok(cookie) = HeaderValue::from_str(&guard.set_cookie(&session)) {
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
    fn guesses_are_bounded_and_counted_per_client() {
        let mut guesses = Guesses {
            window: GUESS_WINDOW,
            by_client: HashMap::new(),
        };
        let now = Instant::now();
        let one = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..GUESS_LIMIT {
            assert!(guesses.refused(one, now).is_none());
            guesses.failed(one, now);
        }
        assert!(guesses.refused(one, now).is_some());
        assert!(guesses.refused(None, now).is_none());
        assert!(guesses.refused(one, now + GUESS_WINDOW).is_none());
        for i in 0..(MAX_GUESSERS as u32 + 10) {
            guesses.failed(Some(IpAddr::from(i.to_be_bytes())), now);
        }
        assert!(guesses.by_client.len() <= MAX_GUESSERS);
    }

    #[test]
    fn sessions_expire_and_are_bounded() {
        let mut sessions = Sessions::default();
        let now = Instant::now();
        let id = sessions.open(now);
        assert!(sessions.valid(&id, now));
        assert!(!sessions.valid(&id, now + SESSION_LIFETIME));
        assert!(!sessions.valid("nope", now));
        for _ in 0..(MAX_SESSIONS + 5) {
            sessions.open(now);
        }
        assert!(sessions.0.len() <= MAX_SESSIONS);
        sessions.close(&id);
        assert!(!sessions.valid(&id, now));
    }

    #[test]
    fn back_stays_on_the_admin_pages() {
        assert_eq!(safe_back("/_signsim/inbox?x=1"), "/_signsim/inbox?x=1");
        assert_eq!(safe_back("https://evil.test/"), "/_signsim");
        assert_eq!(safe_back("//evil.test/_signsim"), "/_signsim");
        assert_eq!(safe_back("/_signsimx"), "/_signsim");
    }
}
