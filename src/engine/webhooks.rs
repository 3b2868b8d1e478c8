//! The webhook dispatcher: deliveries are scheduled on the virtual clock, POSTed, retried
//! with exponential backoff on connection errors, timeouts and non-2xx answers, and every
//! attempt is recorded. Deliveries for one resource go out in order: a later one waits until
//! the earlier one has succeeded or run out of attempts.
//!
//! Providers decide the URL, headers (signatures, auth) and body; nothing here knows them.
//!
//! Receivers may be `https://`: what their certificates may chain to is built beside this
//! file, in [`webhook_trust`]. No redirect is followed: a 3xx is the receiver's answer (not
//! 2xx, so retried like any other). With `--webhook-allow`, a delivery to a host outside
//! the list is not attempted: it is recorded as refused and not retried (waiting does not
//! change the list); see [`webhook_allow`].
//!
//! The attempt log keeps each failure's cause as the client reports it ("connection
//! refused", a timeout, a certificate error): it is what a developer needs to fix a
//! receiver, and it is admin-only under `--admin-token` (it does tell whoever reads it
//! which host:port answered, so it is not shown to tenants).

use super::bounded::{newest_first, Page, Paging};
use super::clock::Clock;
use super::events::{Event, Events};
use super::tenant::Tenants;
use super::webhook_allow::{self, AllowList};
use super::webhook_trust::{self, TrustError};
use bytes::Bytes;
use rustls::RootCertStore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use time::{Duration, OffsetDateTime};

/// How failed deliveries are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled before each later one.
    pub first_backoff: Duration,
    /// How long one attempt may take before it counts as failed.
    pub timeout: std::time::Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            first_backoff: Duration::seconds(1),
            timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// What a provider asks to deliver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookRequest {
    #[serde(with = "super::state::blob::slug")]
    pub provider: super::state::blob::Slug,
    pub tenant: String,
    /// The resource the event is about; deliveries for one resource keep their order.
    pub resource: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(with = "super::state::blob")]
    pub body: Bytes,
}

/// One recorded attempt, as `GET /_signsim/webhooks` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    pub delivery: String,
    pub attempt: u32,
    pub provider: String,
    pub tenant: String,
    pub resource: String,
    pub url: String,
    pub headers: serde_json::Map<String, Value>,
    /// The body as JSON when it is JSON, else as text.
    pub body: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub response_status: Option<u16>,
    pub error: Option<String>,
    pub delivered: bool,
    /// Its place in the attempt log, numbered as recorded: the cursor of a page
    /// (`Webhooks::attempts_page`). Not part of the JSON.
    #[serde(skip)]
    pub seq: u64,
}

struct Pending {
    id: String,
    request: Arc<WebhookRequest>,
    /// Attempts made so far.
    attempts: u32,
    due: OffsetDateTime,
    in_flight: bool,
}

pub struct Webhooks {
    policy: RetryPolicy,
    clock: Arc<Clock>,
    events: Arc<Events>,
    /// The simulator's CA and `--webhook-ca`: what the client trusts besides the system.
    roots: RootCertStore,
    /// `--webhook-allow`: where deliveries may go.
    allow: AllowList,
    /// A client that trusts `roots` alone, made at start (so a client that cannot be made
    /// is a start-up error); used should adding the system's roots ever fail.
    fallback: reqwest::Client,
    /// Made on the first delivery, not at start: reading the system's roots costs a few
    /// milliseconds, most of a start, and many runs never send a webhook.
    client: OnceLock<reqwest::Client>,
    pending: Mutex<Vec<Pending>>,
    attempts: Mutex<std::collections::VecDeque<Attempt>>,
    /// The `seq` of the last attempt recorded.
    last_attempt: std::sync::atomic::AtomicU64,
    /// Every request ever scheduled, by delivery id, for redelivery.
    sent: dashmap::DashMap<String, Arc<WebhookRequest>>,
    /// Bumped by every attempt recorded: what a reader waiting for one watches
    /// ([`Webhooks::wait_attempts`]).
    recorded: tokio::sync::watch::Sender<u64>,
}

impl Webhooks {
    /// `roots` are the certificates an https receiver may chain to besides the system's
    /// (see [`webhook_trust::https_roots`]).
    pub fn new(
        policy: RetryPolicy,
        clock: Arc<Clock>,
        events: Arc<Events>,
        roots: RootCertStore,
        allow: AllowList,
    ) -> Result<Webhooks, TrustError> {
        // Built once here to fail at start, not at the first delivery: a client that cannot
        // be made would fail every https delivery with no visible cause.
        let fallback = webhook_trust::http_client(policy.timeout, roots.clone(), &allow)?;
        Ok(Webhooks {
            policy,
            clock,
            events,
            roots,
            allow,
            fallback,
            client: OnceLock::new(),
            pending: Mutex::new(Vec::new()),
            attempts: Mutex::new(std::collections::VecDeque::new()),
            last_attempt: std::sync::atomic::AtomicU64::new(0),
            sent: dashmap::DashMap::new(),
            recorded: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Queues a delivery due at `due` (virtual time) under the id `id`.
    pub fn schedule(&self, id: String, request: WebhookRequest, due: OffsetDateTime) {
        let request = Arc::new(request);
        self.sent.insert(id.clone(), request.clone());
        lock(&self.pending).push(Pending {
            id,
            request,
            attempts: 0,
            due,
            in_flight: false,
        });
    }

    /// Sends delivery `id` again, as a new delivery `new_id`; false if `id` is unknown.
    pub fn redeliver(&self, id: &str, new_id: String, now: OffsetDateTime) -> bool {
        let Some(request) = self.sent.get(id).map(|r| r.value().clone()) else {
            return false;
        };
        self.schedule(new_id, (*request).clone(), now);
        true
    }

    /// What delivery `id` asked for, if it is known.
    pub fn request(&self, id: &str) -> Option<Arc<WebhookRequest>> {
        self.sent.get(id).map(|r| r.value().clone())
    }

    /// The attempts of `tenants`' deliveries (about `resource` alone, when given), oldest
    /// first.
    pub fn attempts(&self, tenants: &Tenants, resource: Option<&str>) -> Vec<Attempt> {
        lock(&self.attempts)
            .iter()
            .filter(|a| picked(a, tenants, resource))
            .cloned()
            .collect()
    }

    /// [`Webhooks::attempts`]; when there are none, waits up to `wait` for the first one
    /// to be recorded (then answers what there is, maybe still none). Woken by each
    /// attempt recorded, never polling; the attempts' lock is not held while waiting.
    pub async fn wait_attempts(
        &self,
        tenants: &Tenants,
        resource: Option<&str>,
        wait: std::time::Duration,
    ) -> Vec<Attempt> {
        // Subscribed before the first look, so an attempt recorded between the look and
        // the wait is not missed: it marks the counter changed.
        let mut recorded = self.recorded.subscribe();
        recorded.borrow_and_update();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let attempts = self.attempts(tenants, resource);
            if !attempts.is_empty() {
                return attempts;
            }
            match tokio::time::timeout_at(deadline, recorded.changed()).await {
                Ok(Ok(())) => {}
                _ => return self.attempts(tenants, resource),
            }
        }
    }

    /// The newest `paging.limit` attempts of `tenants`' deliveries (about `resource`
    /// alone, when given) older than `paging.before`, newest first, walked from the
    /// newest end.
    pub fn attempts_page(
        &self,
        tenants: &Tenants,
        resource: Option<&str>,
        paging: Paging,
    ) -> Page<Attempt> {
        let attempts = lock(&self.attempts);
        let end = paging
            .before
            .map_or(attempts.len(), |b| attempts.partition_point(|a| a.seq < b));
        newest_first(
            attempts.range(..end.min(attempts.len())),
            paging.limit,
            |a| a.seq,
            |a| picked(a, tenants, resource),
        )
    }

    /// Forgets `tenants`' deliveries: pending ones, attempts, and what redelivery needs.
    /// An attempt in flight meanwhile records nothing when it ends (`finish`).
    pub fn reset(&self, tenants: &Tenants) {
        let keep = |r: &WebhookRequest| !tenants.contains(r.provider, &r.tenant);
        lock(&self.pending).retain(|p| keep(&p.request));
        lock(&self.attempts).retain(|a| !tenants.contains(&a.provider, &a.tenant));
        lock(&self.attempts).shrink_to_fit();
        self.sent.retain(|_, r| keep(r));
        self.sent.shrink_to_fit();
    }

    /// When `request`'s tenant's clock says it is.
    fn now_of(&self, request: &WebhookRequest) -> OffsetDateTime {
        self.clock.now_of(request.provider, &request.tenant)
    }

    /// Starts every delivery that is due and first in line for its resource; returns the
    /// tasks, which the ticker leaves to run and a clock advance waits for.
    pub fn dispatch_due(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let due: Vec<(String, Arc<WebhookRequest>, u32)> = {
            let mut pending = lock(&self.pending);
            let mut seen = HashSet::new();
            let mut due = Vec::new();
            for entry in pending.iter_mut() {
                let key = (
                    entry.request.provider,
                    entry.request.tenant.clone(),
                    entry.request.resource.clone(),
                );
                // Only the oldest pending delivery of a resource may go.
                if !seen.insert(key) || entry.in_flight || entry.due > self.now_of(&entry.request) {
                    continue;
                }
                entry.in_flight = true;
                due.push((
                    entry.id.clone(),
                    entry.request.clone(),
                    // Saturating: a restored count may be anything a state file says.
                    entry.attempts.saturating_add(1),
                ));
            }
            due
        };
        due.into_iter()
            .map(|(id, request, attempt)| {
                let webhooks = self.clone();
                tokio::spawn(async move {
                    let outcome = webhooks.post(&request).await;
                    webhooks.finish(&id, &request, attempt, outcome);
                })
            })
            .collect()
    }

    /// How long until the next delivery of the tenants `within` picks may go, each on its tenant's clock
    /// (zero when one may go now); `None` when none is waiting. A delivery behind an
    /// earlier one of its resource waits for that one, so only the first in line counts.
    pub fn next_due_where(&self, within: &dyn Fn(&str, &str) -> bool) -> Option<Duration> {
        let pending = lock(&self.pending);
        let mut seen = HashSet::new();
        pending
            .iter()
            .filter(|p| {
                let r = &p.request;
                seen.insert((r.provider, r.tenant.clone(), r.resource.clone()))
                    && !p.in_flight
                    && within(r.provider, &r.tenant)
            })
            .map(|p| p.due - self.now_of(&p.request))
            .min()
            .map(|wait| wait.max(Duration::ZERO))
    }

    /// Whether a delivery of the tenants `within` picks is being attempted now.
    pub fn in_flight_where(&self, within: &dyn Fn(&str, &str) -> bool) -> bool {
        lock(&self.pending)
            .iter()
            .any(|p| p.in_flight && within(p.request.provider, &p.request.tenant))
    }

    async fn post(&self, request: &WebhookRequest) -> Outcome {
        // An address in the URL is connected to as it is: judged here. A name is judged by
        // the client's resolver, on the addresses it then connects to.
        if let Ok(url) = url::Url::parse(&request.url) {
            if let Some(host) = url.host_str() {
                if let Err(refused) = self.allow.check_host(host) {
                    return Outcome::Refused(refused.to_string());
                }
            }
        }
        let mut call = self.client().post(&request.url).body(request.body.clone());
        for (name, value) in &request.headers {
            call = call.header(name, value);
        }
        match call.send().await {
            Ok(response) => Outcome::Answered(response.status().as_u16()),
            Err(e) => match webhook_allow::refusal(&e) {
                Some(refused) => Outcome::Refused(refused.to_string()),
                None if e.is_timeout() => {
                    Outcome::Failed(format!("timed out after {:?}", self.policy.timeout))
                }
                None if e.is_connect() => {
                    Outcome::Failed(format!("connection failed: {}", chain(&e)))
                }
                None => Outcome::Failed(chain(&e)),
            },
        }
    }

    fn finish(&self, id: &str, request: &WebhookRequest, attempt: u32, outcome: Outcome) {
        let now = self.now_of(request);
        let delivered =
            matches!(outcome, Outcome::Answered(status) if (200..300).contains(&status));
        let refused = matches!(outcome, Outcome::Refused(_));
        let (response_status, error) = match outcome {
            Outcome::Answered(status) => (
                Some(status),
                (!delivered).then(|| format!("answered {status}")),
            ),
            Outcome::Failed(e) | Outcome::Refused(e) => (None, Some(e)),
        };
        let result = match (&response_status, &error) {
            (Some(status), _) => format!("answered {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no answer".to_owned(),
        };
        tracing::info!(
            "webhook {id} attempt {attempt} to {}: {result}",
            request.url
        );
        // Under the pending lock until recorded, so a reset cannot land between the check
        // and the records: a delivery its tenant's reset forgot records nothing.
        let mut pending = lock(&self.pending);
        let Some(index) = pending.iter().position(|p| p.id == id) else {
            return;
        };
        self.events.push(Event {
            at: now,
            provider: request.provider.to_owned(),
            tenant: request.tenant.clone(),
            id: request.resource.clone(),
            kind: "webhook".to_owned(),
            text: format!("webhook attempt {attempt} to {} {result}", request.url),
            from: None,
            to: None,
            seq: 0,
        });
        let attempt_record = Attempt {
            delivery: id.to_owned(),
            attempt,
            provider: request.provider.to_owned(),
            tenant: request.tenant.clone(),
            resource: request.resource.clone(),
            url: request.url.clone(),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                .collect(),
            body: serde_json::from_slice(&request.body).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&request.body).into_owned())
            }),
            at: now,
            response_status,
            error,
            delivered,
            seq: 0,
        };
        let mut attempts = lock(&self.attempts);
        let seq = self
            .last_attempt
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .saturating_add(1);
        super::bounded::push_bounded(
            &mut attempts,
            Attempt {
                seq,
                ..attempt_record
            },
        );
        drop(attempts);
        self.recorded
            .send_modify(|count| *count = count.wrapping_add(1));
        if delivered || refused || attempt >= self.policy.max_attempts {
            pending.remove(index);
        } else {
            let entry = &mut pending[index];
            entry.attempts = attempt;
            entry.in_flight = false;
            // Checked: `--webhook-backoff` is the user's number, and 2^16 times a large
            // one is past any date.
            let factor = 2i32.pow(attempt.saturating_sub(1).min(16));
            let backoff = self
                .policy
                .first_backoff
                .checked_mul(factor)
                .unwrap_or(Duration::MAX);
            entry.due = super::arith::later(now, backoff);
        }
    }
}

/// Whether `attempt` is one of `tenants`' and, when `resource` is given, about it.
fn picked(attempt: &Attempt, tenants: &Tenants, resource: Option<&str>) -> bool {
    tenants.contains(&attempt.provider, &attempt.tenant)
        && resource.is_none_or(|resource| attempt.resource == resource)
}

/// How one attempt ended.
enum Outcome {
    /// The receiver answered with this status (a 3xx too: redirects are not followed).
    Answered(u16),
    /// No answer: the connection, TLS or the timeout failed.
    Failed(String),
    /// Not attempted: `--webhook-allow` does not allow the receiver's host.
    Refused(String),
}

/// An error with its causes: reqwest's own message ("error sending request") hides the
/// one that matters, such as the receiver's certificate being from an unknown issuer.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Wrappers now and then repeat their cause's text; say it once.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl Webhooks {
    /// The delivery client: the system's roots and `roots`. Should adding the system's roots
    /// fail, deliveries go on with `roots` alone.
    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            let all = webhook_trust::with_system_roots(&self.roots);
            webhook_trust::http_client(self.policy.timeout, all, &self.allow)
                .unwrap_or_else(|_| self.fallback.clone())
        })
    }
}

/// A pending delivery as the state file keeps it. One in flight when the state was saved
/// is saved as not yet answered: after a restart it is sent again, so a receiver may see it
/// twice (as it may from any webhook sender that crashes mid-delivery).
#[derive(Serialize, Deserialize)]
struct SavedPending {
    id: String,
    request: Arc<WebhookRequest>,
    attempts: u32,
    due: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    pending: Vec<SavedPending>,
    attempts: Vec<Attempt>,
    sent: Vec<(String, Arc<WebhookRequest>)>,
}

impl super::persist::Persist for Webhooks {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        let pending = lock(&self.pending)
            .iter()
            .map(|p| SavedPending {
                id: p.id.clone(),
                request: p.request.clone(),
                attempts: p.attempts,
                due: p.due,
            })
            .collect();
        Box::new(Saved {
            pending,
            attempts: lock(&self.attempts).iter().cloned().collect(),
            sent: self
                .sent
                .iter()
                .map(|entry| (entry.key().clone(), entry.value().clone()))
                .collect(),
        })
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Saved = super::persist::parse(json)?;
        *lock(&self.pending) = saved
            .pending
            .into_iter()
            .map(|p| Pending {
                id: p.id,
                request: p.request,
                attempts: p.attempts,
                due: p.due,
                in_flight: false,
            })
            .collect();
        // Numbered afresh: a cursor names an attempt of this run only.
        let attempts: std::collections::VecDeque<Attempt> = saved
            .attempts
            .into_iter()
            .zip(1u64..)
            .map(|(attempt, seq)| Attempt { seq, ..attempt })
            .collect();
        self.last_attempt.store(
            attempts.back().map_or(0, |a| a.seq),
            std::sync::atomic::Ordering::Relaxed,
        );
        *lock(&self.attempts) = attempts;
        self.sent.clear();
        for (id, request) in saved.sent {
            self.sent.insert(id, request);
        }
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
