//! The service every listener serves: it picks the provider by the path's first segment
//! (its [`Route`]), asks the provider's [`admission`] whether the call may go on, hands
//! the call to that provider's router with the prefix taken off, and logs and journals
//! the call when the answer is ready.
//!
//! This does by hand what `Router::nest` plus a `Router::layer` middleware did, because on
//! the hot path the difference is most of the simulator's own cost: `nest` clones a boxed
//! service per layer and per level and rewrites the URI through two wrappers, and a
//! `from_fn` layer boxes and clones again (callgrind, `GET /uanataca/api/v1/hello`: about
//! 13,000 instructions of 41,000 a request went to routing and layering). The provider
//! routers are unchanged: they still see their real paths and answer their own 404s.

pub mod admission;
pub mod inflight;
pub mod shield;

use crate::engine::journal::{ActedFor, JournalEntry};
use crate::engine::quota::{Full, Meter};
use crate::engine::tenant::Tenant;
use crate::engine::Engine;
use crate::wire::admin::AdminError;
use crate::{access_log, wire};
use admission::Admission;
use axum::body::Body;
use axum::extract::Request;
use axum::http::uri::{PathAndQuery, Uri};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use inflight::BodyMeter;
use shield::Shield;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower_service::Service;

/// One provider as the dispatch service calls it: its slug (the first path segment), what
/// a call passes first, and its router at its real paths.
#[derive(Clone)]
pub struct Route {
    pub slug: &'static str,
    pub admission: Arc<dyn Admission>,
    pub router: Router,
}

/// A listener's service: cheap to clone (a few `Arc`s), as hyper clones it per connection.
#[derive(Clone)]
pub struct Dispatch {
    engine: Arc<Engine>,
    /// Each provider at its real paths, by slug: its admission and its router.
    routes: Arc<[Route]>,
    /// Everything that is not a provider: the admin API, the pages, `/`.
    rest: Router,
    /// Set for a provider's own listener: every call goes to that provider, unprefixed.
    only: Option<&'static str>,
    /// The checks every call passes first and the headers every answer gets.
    shield: Arc<Shield>,
}

impl Dispatch {
    /// The main listener: `/<slug>/...` to each provider, the rest to `rest`.
    pub fn new(
        engine: Arc<Engine>,
        routes: Vec<Route>,
        rest: Router,
        shield: Arc<Shield>,
    ) -> Dispatch {
        Dispatch {
            engine,
            routes: routes.into(),
            rest,
            only: None,
            shield,
        }
    }

    /// A listener for one provider at its exact real paths.
    pub fn single(engine: Arc<Engine>, route: Route, shield: Arc<Shield>) -> Dispatch {
        Dispatch {
            engine,
            rest: route.router.clone(),
            only: Some(route.slug),
            routes: vec![route].into(),
            shield,
        }
    }

    /// `Err`: the answer refusing a call the shield stops before admission: a host the
    /// simulator does not serve (421), a tenant header that is not text (400), a
    /// cross-site browser request that would change the simulator (403). A provider's
    /// call is refused in its shape when its admission gives one.
    fn shielded(&self, route: Option<&Route>, request: &Request) -> Result<(), Box<Response>> {
        let refuse = |status: StatusCode, message: &str| -> Box<Response> {
            Box::new(match route {
                Some(route) => route.admission.refuse(status, message, request),
                None => crate::wire::admin::AdminError::new(status, message).into_response(),
            })
        };
        if let Err(host) = self.shield.hosts.check(request) {
            let message = format!(
                "this simulator does not serve the host '{}' (Host header): it answers to \
                 {}, any IP address, and the names of --public-url, --tls-name, --host and \
                 --listen; to serve this one, start it with --allow-host {} \
                 (SIGNSIM_ALLOW_HOSTS)",
                host.escape_debug(),
                self.shield.hosts.listed(),
                shield::host_part(host).escape_debug(),
            );
            return Err(refuse(StatusCode::MISDIRECTED_REQUEST, &message));
        }
        if let Some(message) = shield::tenant_header(request) {
            return Err(refuse(StatusCode::BAD_REQUEST, message));
        }
        if route.is_none() {
            if let Some(why) = shield::cross_site(request, &self.shield.public_authority) {
                return Err(refuse(StatusCode::FORBIDDEN, why));
            }
        }
        Ok(())
    }

    /// The meter that bodies being read count on (`inflight::meter_body`).
    pub fn meter(&self) -> &Arc<Meter> {
        &self.engine.meter
    }

    /// The answer to a call refused at a storage cap: in the provider's shape, the admin
    /// API's (`{"error"}`) for the rest.
    fn refuse_full(route: Option<&Route>, full: &Full, request: &Request) -> Response {
        match route {
            Some(route) => route.admission.refuse_full(full, request),
            None => axum::response::IntoResponse::into_response(AdminError::new(
                admission::storage_status(full),
                full.to_string(),
            )),
        }
    }

    /// The provider `request` is for (`None`: the rest) and the request as its router
    /// must see it.
    fn pick_route(&self, mut request: Request) -> (Option<&Route>, Request) {
        if self.only.is_some() {
            return (self.routes.first(), request);
        }
        let path = request.uri().path();
        let first = first_segment(path);
        let Some(route) = self.routes.iter().find(|r| r.slug == first) else {
            return (None, request);
        };
        let slug = route.slug;
        // `/uanataca/api/v1/hello` → `/api/v1/hello`; `/uanataca` → `/`. A URI that cannot
        // be rebuilt (it always can: a suffix of a valid path is valid) goes on unchanged
        // and meets the provider's 404.
        let inner = &path[1 + slug.len()..];
        let inner = if inner.is_empty() { "/" } else { inner };
        let rebuilt = match request.uri().query() {
            Some(query) => PathAndQuery::try_from(format!("{inner}?{query}")),
            None => PathAndQuery::try_from(inner),
        };
        if let Ok(path_and_query) = rebuilt {
            let mut parts = request.uri().clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
        (Some(route), request)
    }
}

/// `uanataca` for `/uanataca/api/v1/hello`; empty for `/` and `//uanataca` (exactly one
/// leading slash is taken off: `pick_route` slices the prefix by that length).
fn first_segment(path: &str) -> &str {
    let rest = path.strip_prefix('/').unwrap_or(path);
    rest.split('/').next().unwrap_or("")
}

/// A call's answer being made.
pub type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl Service<Request> for Dispatch {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Answer {
        self.handle(request)
    }
}

impl Dispatch {
    /// Answers one call (the service's `call`, by shared reference: the serve loop calls it
    /// without cloning the service per request).
    pub fn handle(&self, request: Request) -> Answer {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let query = request.uri().query().map(str::to_owned);
        let (route, request) = self.pick_route(request);
        let slug = route.map(|r| r.slug);
        let mut router = route.map_or_else(|| self.rest.clone(), |r| r.router.clone());
        // The shield, then the in-flight meter, then admission come before the router: a
        // refused call never reaches a handler.
        let shielded = self.shielded(route, &request);
        let tenant = match shielded {
            Ok(()) => route.and_then(|r| Some(Tenant::new(r.slug, r.admission.tenant(&request)?))),
            Err(_) => None,
        };
        // A body over the memory cap (`inflight`): refused before it is read, or, for a body
        // of unknown length, answered with the same refusal when it was cut off.
        let metered = request.extensions().get::<BodyMeter>().cloned();
        let admitted = shielded.and_then(|()| match (&metered, route) {
            (Some(BodyMeter::Refused(full)), _) => {
                Err(Box::new(Dispatch::refuse_full(route, full, &request)))
            }
            (_, Some(route)) => route.admission.admit(tenant.as_ref(), &request),
            (_, None) => Ok(()),
        });
        // What a cut-off refusal is answered from once the request is gone (chunked only).
        let cut = match metered {
            Some(BodyMeter::Cut(cut)) => Some((cut, route.cloned(), request.uri().clone())),
            _ => None,
        };
        let engine = self.engine.clone();
        let shield = self.shield.clone();
        Box::pin(async move {
            let header_tenant = request
                .headers()
                .get(&wire::TENANT_HEADER_NAME)
                .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
                .map(str::to_owned);
            let response = match admitted {
                Ok(()) => match router.call(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                },
                Err(refusal) => *refusal,
            };
            let mut response = match cut {
                Some((cut, route, uri)) => match cut.get() {
                    Some(full) => {
                        let mut head = Request::new(Body::empty());
                        *head.uri_mut() = uri;
                        Dispatch::refuse_full(route.as_ref(), full, &head)
                    }
                    None => response,
                },
                None => response,
            };
            shield::secure(&mut response, &path, &shield.open);
            let elapsed = started.elapsed();
            let status = response.status().as_u16();
            access_log::request(method.as_str(), &path, status, elapsed);
            // The journal does not record reads of itself, which would drown what a test
            // looks for.
            if path != "/_signsim/requests" {
                // A provider's calls are journaled under its slug and tenant, an admin act
                // under whom it acted for, the rest under their first segment
                // (`_signsim`).
                let acted = response.extensions().get::<ActedFor>().map(|a| a.0.clone());
                let tenant = tenant.or(acted);
                let at = match &tenant {
                    Some(tenant) => engine.now(tenant),
                    None => engine.clock.now(),
                };
                let (provider, tenant) = match tenant {
                    Some(Tenant { provider, name }) => (provider, Some(name)),
                    None => (
                        slug.unwrap_or_else(|| first_segment(&path)).to_owned(),
                        header_tenant,
                    ),
                };
                engine.journal.record(JournalEntry {
                    seq: 0,
                    at,
                    provider,
                    tenant,
                    method: method.to_string(),
                    path,
                    query,
                    status,
                    duration_ms: elapsed.as_secs_f64() * 1000.0,
                });
            }
            Ok(response)
        })
    }
}

/// Lets tests and tools call the service without a listener.
impl Dispatch {
    pub async fn oneshot(mut self, request: Request<Body>) -> Response {
        match self.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_segment_takes_off_one_slash() {
        assert_eq!(super::first_segment("/uanataca/api/v1/hello"), "uanataca");
        assert_eq!(super::first_segment("/uanataca"), "uanataca");
        assert_eq!(super::first_segment("/"), "");
        assert_eq!(super::first_segment("//uanataca/x"), "");
        assert_eq!(super::first_segment("*"), "*");
    }
}
