//! What the dispatch service checks on every call before a provider or the admin API sees
//! it, and adds to every answer: the browser-facing defences of a simulator that a web
//! page on another site (or a DNS name rebound to it) must not steer.
//!
//! - [`Hosts`]: the `Host` names the simulator serves (DNS rebinding gives a hostile page a
//!   name of its own for our address; it cannot give it one of ours).
//! - [`cross_site`]: a state-changing admin call the browser says comes from another site.
//! - [`tenant_header`]: an `X-Signsim-Tenant` that is not text.
//! - [`secure`]: the security headers of every answer.
//!
//! Each check compares bytes against what was worked out at start: nothing is allocated
//! for a call that passes.

use crate::ui::open::OpenPaths;
use crate::wire;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::response::Response;

/// Everything the checks compare with, worked out at start.
#[derive(Debug, Clone)]
pub struct Shield {
    pub hosts: Hosts,
    /// `host[:port]` of the public URL (what the links use): a page there is this
    /// simulator's own, behind a proxy that rewrites `Host`.
    pub public_authority: String,
    /// The pages another site may frame.
    pub open: OpenPaths,
}

impl Shield {
    /// From the public URL, the open paths and the host names served.
    pub fn new(public_url: &str, open: OpenPaths, hosts: Hosts) -> Shield {
        let public_authority = url::Url::parse(public_url)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_owned();
                Some(match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_default();
        Shield {
            hosts,
            public_authority,
            open,
        }
    }

    /// Any host, no public URL: for tools and tests that call the service directly.
    pub fn open() -> Shield {
        Shield {
            hosts: Hosts::any(),
            public_authority: String::new(),
            open: OpenPaths::default(),
        }
    }
}

/// The `Host` names the simulator serves, besides `localhost` and any IP address (a
/// rebinding attack always uses a name): the host of the public URL, each TLS name, the
/// address it listens on and each `--allow-host`. `*` serves any; `*.example.test` any
/// name under `example.test`.
#[derive(Debug, Clone)]
pub struct Hosts {
    names: Vec<String>,
    /// `.example.test` of each `*.example.test`.
    suffixes: Vec<String>,
    any: bool,
}

impl Hosts {
    /// `names` as given (case does not matter; a `*` among them serves any name).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Hosts {
        let mut hosts = Hosts {
            names: vec!["localhost".to_owned()],
            suffixes: Vec::new(),
            any: false,
        };
        for name in names {
            let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
            let name = name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            if name == "*" {
                hosts.any = true;
            } else if let Some(suffix) = name.strip_prefix('*') {
                if suffix.starts_with('.') && suffix.len() > 1 {
                    hosts.suffixes.push(suffix.to_owned());
                }
            } else if !name.is_empty() && !hosts.names.contains(&name) {
                hosts.names.push(name);
            }
        }
        hosts
    }

    /// Any `Host`.
    pub fn any() -> Hosts {
        Hosts {
            names: Vec::new(),
            suffixes: Vec::new(),
            any: true,
        }
    }

    /// `Err(host)`: the call names a host the simulator does not serve. A call with no
    /// host at all (HTTP/1.0) passes: no browser sends one. It runs on every call, so it
    /// works on the bytes: no UTF-8 check, no address parsing, no allocation.
    pub fn check<'r>(&self, request: &'r Request) -> Result<(), &'r str> {
        if self.any {
            return Ok(());
        }
        let raw = match request.uri().authority() {
            Some(authority) => authority.as_str().as_bytes(),
            None => match request.headers().get(header::HOST) {
                Some(host) => host.as_bytes(),
                None => return Ok(()),
            },
        };
        let host = host_bytes(raw);
        if host.is_empty() || is_address(host) {
            return Ok(());
        }
        let host = host.strip_suffix(b".").unwrap_or(host);
        let under = |suffix: &String| {
            host.len() > suffix.len()
                && host
                    .get(host.len() - suffix.len()..)
                    .is_some_and(|end| end.eq_ignore_ascii_case(suffix.as_bytes()))
        };
        if self
            .names
            .iter()
            .any(|name| name.as_bytes().eq_ignore_ascii_case(host))
            || self.suffixes.iter().any(under)
        {
            Ok(())
        } else {
            // A Host that is not text is no name we serve; `\u{0}` stands for it.
            Err(std::str::from_utf8(raw).unwrap_or("\u{0}"))
        }
    }

    /// The names served by name, for the refusal's message.
    pub fn listed(&self) -> String {
        self.names
            .iter()
            .cloned()
            .chain(self.suffixes.iter().map(|suffix| format!("*{suffix}")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The request's `host[:port]`: the URI's authority (HTTP/2, absolute form), else `Host`.
fn authority(request: &Request) -> Option<&str> {
    if let Some(authority) = request.uri().authority() {
        return Some(authority.as_str());
    }
    let host = request.headers().get(header::HOST)?;
    // A Host that is not text is no name we serve; `\u{0}` never matches one.
    Some(host.to_str().unwrap_or("\u{0}"))
}

/// `host` of `host`, `host:port`, `[v6]:port`; a bare IPv6 address whole.
pub fn host_part(authority: &str) -> &str {
    std::str::from_utf8(host_bytes(authority.as_bytes())).unwrap_or(authority)
}

/// [`host_part`] on bytes.
fn host_bytes(authority: &[u8]) -> &[u8] {
    if let Some(rest) = authority.strip_prefix(b"[") {
        let end = rest.iter().position(|&b| b == b']').unwrap_or(rest.len());
        return rest.get(..end).unwrap_or(rest);
    }
    match authority.iter().rposition(|&b| b == b':') {
        // A second colon: a bare IPv6 address, whole.
        Some(at) if authority.get(..at).is_some_and(|head| head.contains(&b':')) => authority,
        Some(at) => authority.get(..at).unwrap_or(authority),
        None => authority,
    }
}

/// Whether `host` (from [`host_bytes`]) is an address rather than a name: an IPv6 address
/// (a name never holds a colon) or dotted digits, which browsers read as an IPv4 address
/// and never look up in DNS, so no rebinding can hide behind one.
fn is_address(host: &[u8]) -> bool {
    host.contains(&b':') || host.iter().all(|&b| b.is_ascii_digit() || b == b'.')
}

/// Whether a path is the admin API's or its pages'.
pub fn is_admin_path(path: &str) -> bool {
    path == "/_signsim" || path.starts_with("/_signsim/")
}

/// `Some(why)`: a state-changing call (not GET, HEAD, OPTIONS) to `/_signsim` that the
/// browser says another site made: `Sec-Fetch-Site` other than `same-origin` or `none`,
/// or, from a browser that does not send it, an `Origin` (`null` included) that is neither
/// the request's own host nor the public URL's.
/// Calls without those headers (curl, test clients, SDKs) pass: only browsers send them,
/// and only browsers can be made to call by another site.
pub fn cross_site(request: &Request, public_authority: &str) -> Option<&'static str> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || !is_admin_path(request.uri().path())
    {
        return None;
    }
    let headers = request.headers();
    // The browser's own word, when it gives it, decides: under our `Referrer-Policy:
    // no-referrer` a browser sends `Origin: null` even on a form posted by our own page,
    // with `Sec-Fetch-Site: same-origin` beside it.
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.as_bytes();
        if site.eq_ignore_ascii_case(b"same-origin") || site.eq_ignore_ascii_case(b"none") {
            return None;
        }
        return Some(
            "refused: the browser says this request comes from another site \
             (Sec-Fetch-Site: cross-site or same-site); a page on another site may not \
             change the simulator. Call it from a script or test client, or from its own pages",
        );
    }
    // Browsers without fetch metadata: their `Origin`.
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("null");
    let own = authority(request).unwrap_or("");
    let from = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let same = from.is_some_and(|from| {
        (!own.is_empty() && from.eq_ignore_ascii_case(own))
            || (!public_authority.is_empty() && from.eq_ignore_ascii_case(public_authority))
    });
    (!same).then_some(
        "refused: this request comes from a page of another origin (Origin), a cross-site \
         request; a page on another site may not change the simulator. Call it from a \
         script or test client, or from its own pages",
    )
}

/// `Some(message)`: an `X-Signsim-Tenant` that is not UTF-8 text or holds control
/// characters (it would otherwise silently name the default tenant).
pub fn tenant_header(request: &Request) -> Option<&'static str> {
    let value = request.headers().get(&wire::TENANT_HEADER_NAME)?;
    match std::str::from_utf8(value.as_bytes()) {
        Ok(text) if !text.chars().any(char::is_control) => None,
        _ => Some(
            "X-Signsim-Tenant must be UTF-8 text without control characters: it names \
             the tenant (e.g. X-Signsim-Tenant: team-a)",
        ),
    }
}

/// Adds the security headers: `nosniff` and `no-referrer` (link codes live in URLs) on
/// every answer; on a page, the Content-Security-Policy, and, unless the page is one the
/// links open (an app may embed it), no framing by another site.
pub fn secure(response: &mut Response, path: &str, open: &OpenPaths) {
    let page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if page {
        let framable = open.matches(path);
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            crate::ui::content_security_policy(framable),
        );
        if !framable {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn with_host(host: &str) -> Request {
        Request::builder()
            .uri("/x")
            .header("host", host)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn hosts_by_name_and_any_address() {
        let hosts = Hosts::new(["signsim", "Example.test.", "*.Internal"]);
        for ok in [
            "localhost",
            "LOCALHOST:8800",
            "localhost.",
            "127.0.0.1:8800",
            "10.1.2.3",
            "[::1]:8800",
            "::1",
            "signsim:8800",
            "example.TEST",
            "a.internal:8800",
            "b.c.INTERNAL",
        ] {
            assert!(hosts.check(&with_host(ok)).is_ok(), "{ok}");
        }
        for refused in [
            "evil.test",
            "localhost.evil.test:80",
            "signsim.evil",
            "127.0.0.1.nip.io",
            "internal",
            "evilinternal",
        ] {
            assert!(hosts.check(&with_host(refused)).is_err(), "{refused}");
        }
        assert!(Hosts::new(["*"]).check(&with_host("evil.test")).is_ok());
    }

    #[test]
    fn cross_site_by_fetch_metadata_or_origin() {
        let post = |headers: &[(&str, &str)]| {
            let mut builder = Request::builder()
                .method("POST")
                .uri("/_signsim/reset")
                .header("host", "127.0.0.1:8800");
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            builder.body(Body::empty()).unwrap()
        };
        let public = "sim.example:443";
        assert!(cross_site(&post(&[]), public).is_none());
        assert!(cross_site(&post(&[("sec-fetch-site", "same-origin")]), public).is_none());
        // What Chromium sends for our own form under `Referrer-Policy: no-referrer`.
        let own_form = [("sec-fetch-site", "same-origin"), ("origin", "null")];
        assert!(cross_site(&post(&own_form), public).is_none());
        let forged = [
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://127.0.0.1:8800"),
        ];
        assert!(cross_site(&post(&forged), public).is_some());
        assert!(cross_site(&post(&[("origin", "http://127.0.0.1:8800")]), public).is_none());
        assert!(cross_site(&post(&[("origin", "https://sim.example:443")]), public).is_none());
        assert!(cross_site(&post(&[("sec-fetch-site", "cross-site")]), public).is_some());
        assert!(cross_site(&post(&[("sec-fetch-site", "same-site")]), public).is_some());
        assert!(cross_site(&post(&[("origin", "null")]), public).is_some());
        assert!(cross_site(&post(&[("origin", "http://127.0.0.1:9999")]), public).is_some());
    }
}
