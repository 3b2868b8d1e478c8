//! The provider-agnostic engine: the [`Engine`] every provider is built over, and its
//! parts. Providers build their state machines on top of these pieces; nothing in here
//! knows any provider's paths, field names or status strings, nor the app above it: the
//! providers it serves are handed to [`Engine::new`] as their scenario specs.
//!
//! - Time: [`clock`] (the virtual clock), [`arith`] (saturating time arithmetic, the only
//!   kind: [`later`], [`add_seconds`]), [`timers`] (work due later on that clock),
//!   [`timefmt`] (dates as text).
//! - What providers keep: [`store`] (tenant-scoped stores that a reset clears),
//!   [`links`] (things reached by an unguessable link alone), [`quota`] (memory caps and
//!   retention), [`ids`] (seeded ids, OTPs, numbers), [`secrets`] (link codes, file
//!   tokens: seeded only without `--admin-token`), [`jwt`] (the tokens logins hand out).
//! - What happened: [`events`] (each resource's timeline), [`outbox`] (messages "sent"),
//!   [`journal`] (HTTP calls), [`bounded`] (how those logs stay bounded), [`webhooks`]
//!   (delivery), [`webhook_trust`] (what https receivers may chain to) and
//!   [`webhook_allow`] (where they may be, `--webhook-allow`), [`captures`] (the built-in
//!   receiver's memory: what was sent to `/_signsim/capture/{name}`).
//! - Behaviour: [`scenarios`] (scripted behaviour from TOML), [`transitions`] (the
//!   state-machine table lookup), [`acts`] (what every provider does alike: give a resource
//!   its scenario, script a transition, record a typed status change).
//! - Surviving a restart: [`persist`] (the `Persist` trait every part implements),
//!   [`state`] (the file, the keys, counters), [`sections`] (the engine's parts and
//!   stores by section name).
//!
//! The PKI ([`crate::pki`]) sits below the engine: [`pki_setup`] hands it the seed and
//! the clock's reach, each act hands it the time, and the engine saves its generator.

pub mod acts;
pub mod arith;
pub mod bounded;
pub mod captures;
pub mod clock;
pub mod documents;
pub mod events;
pub mod ids;
pub mod indexed;
pub mod journal;
pub mod jwt;
pub mod links;
pub mod memory;
pub mod outbox;
pub mod persist;
pub mod quota;
pub mod scenarios;
pub mod secrets;
pub mod sections;
pub mod state;
pub mod store;
pub mod tenant;
pub mod timefmt;
pub mod timers;
pub mod transitions;
pub mod webhook_allow;
pub mod webhook_trust;
pub mod webhooks;

// What providers and the app call as `engine::later` etc.: the time arithmetic and the
// admin API's time format, each defined once in its own file.
pub use arith::{add_seconds, later, seconds, FAR_FUTURE};
pub use timefmt::rfc3339;

use crate::pki::{self, CaSource, KeyType, Pki, PkiError};
use clock::Clock;
use events::Events;
use ids::Ids;
use journal::Journal;
use outbox::{Message, Outbox, Outgoing};
use persist::Persist;
use quota::{Caps, Meter, Stored};
use scenarios::{ProviderSpec, Scenarios};
use secrets::Secrets;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::hash::Hash;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use store::{Resettable, TenantStore};
use tenant::{Tenant, Tenants};
use time::OffsetDateTime;
use timers::Timers;
use tokio::sync::Notify;
use webhook_trust::TrustError;
use webhooks::{RetryPolicy, WebhookRequest, Webhooks};

/// The tenant a provider uses when the caller gives no credential that names one.
pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub seed: Option<u64>,
    /// Whether secrets (link codes, file tokens, the JWT secret, certificate keys) follow
    /// `seed` too: yes for one developer's repeatable tests, no under `--admin-token`
    /// (`Config`/`main` set it), where a seed must not make them computable offline.
    pub secrets_follow_seed: bool,
    /// Where the root CA is kept between runs; a fresh CA per start when `None`.
    pub ca_dir: Option<PathBuf>,
    pub webhook_retry: RetryPolicy,
    /// Scenario applied to resources that no header or `match` chooses one for.
    pub default_scenario: Option<String>,
    /// Where people reach this simulator: the base of every link it hands out.
    pub public_url: String,
    /// PEM certificates that https webhook receivers may chain to, besides the system's
    /// roots and the simulator's own CA (`--webhook-ca`).
    pub webhook_ca: Option<PathBuf>,
    /// Where webhooks may go (`--webhook-allow`): host names and networks; empty, anywhere.
    pub webhook_allow: Vec<webhook_allow::Allowed>,
    /// What a tenant and the whole process may store (`--max-tenant-mb`, `--max-memory-mb`).
    pub caps: Caps,
    /// How long finished resources are kept before they are forgotten, on the virtual
    /// clock (`--retention`); `None` keeps them until a reset.
    pub retention: Option<time::Duration>,
    /// The CA and JWT secret of a saved state (`--state-file`), used instead of new ones.
    pub keys: Option<state::Keys>,
    /// The key type of signer certificates (`--key-type`); the CA and TSA stay P-256.
    pub key_type: KeyType,
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot set up the PKI: {0}")]
    Pki(#[from] PkiError),
    #[error(transparent)]
    WebhookTrust(#[from] TrustError),
}

impl EngineConfig {
    /// The seed secrets are made from: `seed` while they follow it, else none (the
    /// operating system's randomness).
    pub fn secret_seed(&self) -> Option<u64> {
        self.seed.filter(|_| self.secrets_follow_seed)
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            seed: None,
            secrets_follow_seed: true,
            ca_dir: None,
            webhook_retry: RetryPolicy::default(),
            default_scenario: None,
            public_url: "http://127.0.0.1:8800".into(),
            webhook_ca: None,
            webhook_allow: Vec::new(),
            caps: Caps::default(),
            retention: None,
            keys: None,
            key_type: KeyType::default(),
        }
    }
}

pub struct Engine {
    pub clock: Arc<Clock>,
    pub ids: Ids,
    /// Link codes, file tokens and the key of derived tokens (`secrets`).
    pub secrets: Secrets,
    pub outbox: Outbox,
    pub journal: Journal,
    pub events: Arc<Events>,
    pub timers: Timers,
    pub webhooks: Arc<Webhooks>,
    /// What the built-in receiver got; not per tenant, not saved, cleared by a full reset.
    pub captures: captures::Captures,
    pub scenarios: Scenarios,
    pub pki: Pki,
    /// Signs and checks the JWTs that providers' logins hand out.
    pub jwt: jwt::Jwt,
    /// What each tenant stores, against the caps.
    pub meter: Arc<Meter>,
    pub retention: Option<time::Duration>,
    /// When the retention sweep last ran (real time), so the tick runs it once a second.
    last_sweep: Mutex<Option<std::time::Instant>>,
    /// Held while a clock advance plays time forward: the ticker leaves timers and
    /// webhooks to it meanwhile, so each fires at its own due time (`advance`).
    playing: tokio::sync::Mutex<()>,
    /// When this engine was made (real time), for `/_signsim/health`.
    pub started: std::time::Instant,
    /// Kept to be saved with the state (`state::Keys`).
    jwt_secret: [u8; 32],
    /// The seed bytes the PKI's generator must not be restored at: `--seed`'s, when
    /// secrets do not follow it (`restore`).
    seeded_generator: Option<[u8; 32]>,
    public_url: String,
    /// Every store by its section name in the state file.
    stores: Mutex<Vec<(String, Arc<dyn Kept>)>>,
    /// When the state was last saved (`--state-file`).
    pub saves: state::Saves,
    /// Wakes the ticker early (the clock moved, a webhook was queued).
    wake: Arc<Notify>,
}

/// The JWT signing key: from the seed when secrets follow one (so tokens repeat), else
/// random. It does not draw from `ids`, so adding it left every seeded id where it was.
fn jwt_secret(seed: Option<u64>) -> [u8; 32] {
    use rand::{RngCore, SeedableRng};
    let mut secret = [0u8; 32];
    match seed {
        Some(seed) => rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ 0x6a77_7400_6a77_7400)
            .fill_bytes(&mut secret),
        None => rand::rng().fill_bytes(&mut secret),
    }
    secret
}

/// Whether the keys of a saved state are the ones `config.seed` makes (the JWT secret tells:
/// it is made from the seed alone) while secrets must not follow it: a state saved by a
/// seeded run without `--admin-token`, restarted with one. Such keys were computable
/// offline and are not kept.
fn keys_from_seed(config: &EngineConfig) -> bool {
    match (&config.keys, config.seed) {
        (Some(keys), Some(seed)) if !config.secrets_follow_seed => {
            keys.jwt_secret() == Some(jwt_secret(Some(seed)))
        }
        _ => false,
    }
}

/// What the PKI is made from: the CA a saved state keeps, else the one in `--ca-dir`, else
/// a new one; its generator seeded like the ids' (`ids::seed_bytes`), so `--seed` repeats
/// the certificates, unless secrets do not follow the seed (`--admin-token`: keys are
/// secrets, the generator is the system's then); and the clock's reach, which its certificates must outlast. Public
/// for the `signsim ca` commands, which must make the CA `serve` makes.
pub fn pki_setup(config: &EngineConfig) -> pki::Setup<'_> {
    let ca = match &config.keys {
        Some(keys) => CaSource::Pem {
            cert: &keys.ca_cert_pem,
            key: &keys.ca_key_pem,
        },
        None => config
            .ca_dir
            .as_deref()
            .map_or(CaSource::New, CaSource::Dir),
    };
    pki::Setup {
        seed: ids::seed_bytes(config.secret_seed()),
        ca,
        key_type: config.key_type,
        reach: clock::MAX_OFFSET,
    }
}

/// How often the ticker looks for due timers and webhooks when nothing wakes it.
const TICK: std::time::Duration = std::time::Duration::from_millis(50);

impl Engine {
    /// `specs` are what each provider exposes to scenario files.
    pub fn new(config: &EngineConfig, specs: Vec<ProviderSpec>) -> Result<Engine, EngineError> {
        // The providers a state file may name are the ones the engine is made for.
        state::blob::slug::know(specs.iter().map(|spec| spec.slug));
        let clock = Arc::new(Clock::default());
        let events = Arc::new(Events::default());
        if config.seed.is_some() && !config.secrets_follow_seed {
            tracing::warn!(
                "--seed with --admin-token: the seed still fixes ids and OTPs, but no secret \
                 (link codes, file tokens, the JWT secret and certificate keys are random)"
            );
        }
        let unseeded;
        let config = if keys_from_seed(config) {
            tracing::warn!(
                "the state file's keys came from --seed (saved without --admin-token): new \
                 ones are made, so tokens and certificates issued before the restart no \
                 longer check"
            );
            unseeded = EngineConfig {
                keys: None,
                ..config.clone()
            };
            &unseeded
        } else {
            config
        };
        let pki = Pki::setup(pki_setup(config))?;
        let jwt_secret = config
            .keys
            .as_ref()
            .and_then(state::Keys::jwt_secret)
            .unwrap_or_else(|| jwt_secret(config.secret_seed()));
        let ids = Ids::new(config.seed);
        let secrets = Secrets::new(&ids, config.secret_seed(), config.secrets_follow_seed);
        // The CA is trusted for webhooks so that a receiver can present a certificate
        // `pki.issue_server` made, the same CA people already trust for signatures.
        let roots = webhook_trust::https_roots(pki.ca_der(), config.webhook_ca.as_deref())?;
        Ok(Engine {
            webhooks: Arc::new(Webhooks::new(
                config.webhook_retry.clone(),
                clock.clone(),
                events.clone(),
                roots,
                webhook_allow::AllowList::new(config.webhook_allow.clone()),
            )?),
            clock,
            events,
            captures: captures::Captures::default(),
            scenarios: Scenarios::new(specs, config.default_scenario.clone()),
            ids,
            secrets,
            seeded_generator: config
                .seed
                .filter(|_| !config.secrets_follow_seed)
                .map(|seed| ids::seed_bytes(Some(seed))),
            outbox: Outbox::default(),
            journal: Journal::default(),
            timers: Timers::default(),
            pki,
            jwt: jwt::Jwt::new(&jwt_secret),
            jwt_secret,
            meter: Arc::new(Meter::new(config.caps)),
            retention: config.retention,
            last_sweep: Mutex::new(None),
            playing: tokio::sync::Mutex::new(()),
            started: std::time::Instant::now(),
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            stores: Mutex::new(Vec::new()),
            saves: state::Saves::default(),
            wake: Arc::new(Notify::new()),
        })
    }

    /// Starts the ticker that fires due timers and webhook deliveries. Needs a Tokio
    /// runtime; stops when the engine is dropped.
    pub fn start(self: &Arc<Self>) {
        let engine = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(strong) = engine.upgrade() else {
                    break;
                };
                strong.tick();
                let wake = strong.wake.clone();
                drop(strong);
                tokio::select! {
                    _ = wake.notified() => {},
                    _ = tokio::time::sleep(TICK) => {},
                }
            }
        });
    }

    /// Fires what is due now. Never unwinds: the ticker is the only thing that fires
    /// timers and webhooks, so a panic escaping here would stop them for good (until a
    /// restart, not even a reset brings them back). Each timer is guarded on its own in
    /// `fire_due`; this guard is for the rest.
    pub fn tick(&self) {
        // A clock advance is playing time forward: it fires what falls due, in order.
        let Ok(_alone) = self.playing.try_lock() else {
            return;
        };
        self.fire_due(false);
    }

    fn fire_due(&self, after_advance: bool) -> Vec<tokio::task::JoinHandle<()>> {
        let ticked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.timers.fire_due(&self.clock);
            let deliveries = self.webhooks.dispatch_due();
            self.sweep_finished(after_advance);
            deliveries
        }));
        ticked.unwrap_or_else(|_| {
            tracing::error!("the engine's tick panicked; later ticks go on");
            Vec::new()
        })
    }

    /// Forgets the resources that finished more than the retention period ago on their
    /// tenant's clock: at most once a second, and at once after a clock advance.
    fn sweep_finished(&self, after_advance: bool) {
        let Some(retention) = self.retention else {
            return;
        };
        {
            let mut last = self
                .last_sweep
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let recent = last.is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(1));
            if recent && !after_advance {
                return;
            }
            *last = Some(std::time::Instant::now());
        }
        let forgotten: usize = self
            .lock_stores()
            .iter()
            .map(|(_, store)| store.forget_finished(retention))
            .sum();
        if forgotten > 0 {
            tracing::info!("retention: forgot {forgotten} finished resource(s)");
        }
    }

    /// The clocks `tenants` names: every clock, or the named tenant in its provider (in
    /// every provider when none is named). `None` for a provider without a tenant name,
    /// which names no clock of its own.
    pub fn clock_scope(&self, tenants: &Tenants) -> Option<clock::Scope> {
        let Some(name) = &tenants.name else {
            return tenants.provider.is_none().then_some(clock::Scope::All);
        };
        let providers: Vec<String> = match &tenants.provider {
            Some(provider) => vec![provider.clone()],
            None => self
                .scenarios
                .specs()
                .iter()
                .map(|spec| spec.slug.to_owned())
                .collect(),
        };
        Some(clock::Scope::Tenants(
            providers.into_iter().map(|p| (p, name.clone())).collect(),
        ))
    }

    /// Plays time forward by `seconds` on `scope`'s clocks: every timer and webhook
    /// delivery that falls due inside the span fires at its own due time, in order (its
    /// tenant's clock reads that time while it runs), and whatever it schedules inside the
    /// span (the next retry after its backoff, a chained transition) fires in the same
    /// advance. Deliveries are awaited, so a slow receiver makes the advance slower, never
    /// skipped. Refused (nothing moves) past `clock::MAX_OFFSET_SECONDS`.
    pub async fn advance(&self, scope: &clock::Scope, seconds: u64) -> Result<(), clock::TooFar> {
        let tenants = match scope {
            clock::Scope::All => None,
            clock::Scope::Tenants(list) => Some(list.clone()),
        };
        let within = |provider: &str, name: &str| {
            tenants
                .as_ref()
                .is_none_or(|list| list.iter().any(|(p, n)| p == provider && n == name))
        };
        let mut left = clock::nanos(seconds);
        // Checked whole before any step, so a refused advance moves nothing.
        self.clock.check(scope, left)?;
        let _alone = self.playing.lock().await;
        // Enough for any real run (five retries of a thousand webhooks); a bound so that a
        // handler that keeps scheduling at its own time cannot hold the advance forever.
        for _ in 0..1_000_000 {
            for delivery in self.fire_due(true) {
                let _ = delivery.await;
            }
            // Deliveries the ticker started before this advance: their retries count too.
            while self.webhooks.in_flight_where(&within) {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            let next = [
                self.timers.next_due_where(&self.clock, &within),
                self.webhooks.next_due_where(&within),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(wait) = next else { break };
            let wait = i64::try_from(wait.whole_nanoseconds()).unwrap_or(i64::MAX);
            if wait > left {
                break;
            }
            if wait > 0 {
                self.clock.advance(scope, wait)?;
                left -= wait;
            }
        }
        self.clock.advance(scope, left)?;
        self.fire_due(true);
        Ok(())
    }

    /// `now + by` on `tenant`'s clock, saturating instead of panicking: the instant to give
    /// a timer or an expiry built from a caller's or a scenario's number.
    pub fn after(&self, tenant: &Tenant, by: time::Duration) -> OffsetDateTime {
        later(self.now(tenant), by)
    }

    /// Queues a webhook delivery `delay` from now on its tenant's clock; returns its
    /// delivery id.
    pub fn webhook(&self, request: WebhookRequest, delay: time::Duration) -> String {
        let id = self.ids.uuid();
        let due = later(self.clock.now_of(request.provider, &request.tenant), delay);
        self.webhooks.schedule(id.clone(), request, due);
        self.wake.notify_one();
        id
    }

    /// A concrete latency for a scenario's `(min, max)` milliseconds, drawn from the seed.
    pub fn latency(&self, bounds: Option<(u64, u64)>) -> Option<std::time::Duration> {
        let (min, max) = bounds?;
        let ms = if min == max {
            min
        } else {
            // Saturating: `max` is a scenario's number, and `u64::MAX + 1` would overflow.
            self.ids.number(min, max.saturating_add(1))
        };
        Some(std::time::Duration::from_millis(ms))
    }

    /// `tenant`'s time. What belongs to no tenant reads `clock.now()`, the shared time.
    pub fn now(&self, tenant: &Tenant) -> OffsetDateTime {
        self.clock.now_of(&tenant.provider, &tenant.name)
    }

    /// A token derived from `label` and `parts` that only this engine can compute (see
    /// `Secrets::token`): for a link a page shows again and again, without drawing from
    /// the seeded generators.
    pub fn secret_token(&self, label: &str, parts: &[&str]) -> String {
        self.secrets.token(label, parts)
    }

    /// An absolute link to `path` (which starts with `/`) on this simulator.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// A new tenant-scoped store that `reset` will clear along with every other one, saved
    /// with the state as the section `name` (`"<slug>.<what>"`, unique and stable: a state
    /// file finds the store again by it).
    pub fn new_store<K, V>(&self, name: &str) -> Arc<TenantStore<K, V>>
    where
        K: Eq + Hash + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
        V: Clone + Stored + Send + Sync + Serialize + DeserializeOwned + 'static,
    {
        let store = Arc::new(TenantStore::new(self.meter.clone(), self.clock.clone()));
        self.keep(name, store.clone());
        store
    }

    /// A provider's sequence of numbers starting at `first`, saved as the section `name`.
    pub fn new_counter(&self, name: &str, first: u64) -> Arc<state::Counter> {
        let counter = Arc::new(state::Counter::new(first));
        self.keep(name, counter.clone());
        counter
    }

    /// Registers a part that a reset clears and the state file saves as the section `name`.
    pub(crate) fn keep(&self, name: &str, part: Arc<dyn Kept>) {
        let mut stores = self.lock_stores();
        // Two parts under one name would save one over the other; a test with every
        // provider mounted (`lib.rs`, `no_two_state_sections_share_a_name`) checks that
        // this never happens.
        if stores.iter().any(|(known, _)| known == name) {
            tracing::error!("two stores are named '{name}'; only one is saved");
        }
        stores.push((name.to_owned(), part));
    }

    /// "Sends" a message to an end user: it lands in the outbox, stamped with id and time.
    pub fn send(&self, outgoing: Outgoing) -> Message {
        self.send_message(outgoing, None)
    }

    /// `send`, naming the resource (`id`, as the provider's events name it) the message is
    /// about, so that the resource's page lists it.
    pub fn send_about(&self, id: &str, outgoing: Outgoing) -> Message {
        self.send_message(outgoing, Some(id.to_owned()))
    }

    fn send_message(&self, outgoing: Outgoing, resource: Option<String>) -> Message {
        let message = Message {
            id: self.ids.uuid(),
            at: self.now(&outgoing.tenant),
            provider: outgoing.tenant.provider,
            tenant: outgoing.tenant.name,
            channel: outgoing.channel,
            to: outgoing.to,
            text: outgoing.text,
            otp: outgoing.otp,
            link: outgoing.link,
            resource,
            seq: 0,
        };
        tracing::info!(provider = %message.provider, channel = ?message.channel, to = %message.to, "outbox: {}", message.text);
        self.outbox.push(message.clone());
        message
    }

    /// Forgets everything of `tenants`: resources, documents, journal entries, events,
    /// outbox messages, webhook attempts and pending deliveries, timers, scenario counters,
    /// storage and the clock's offset (every tenant: the clock back to real time). A
    /// reset of every tenant also forgets the receiver's captures, which belong to none.
    pub fn reset(&self, tenants: &Tenants) {
        if tenants.is_all() {
            self.captures.clear();
        }
        for (_, store) in self.lock_stores().iter() {
            store.reset(tenants);
        }
        self.outbox.reset(tenants);
        self.journal.reset(tenants);
        self.events.reset(tenants);
        self.timers.reset(tenants);
        self.webhooks.reset(tenants);
        self.scenarios.reset(tenants);
        match self.clock_scope(tenants) {
            Some(scope) => self.clock.reset(&scope),
            // A provider alone: each of its tenants' own clocks.
            None => self
                .clock
                .reset_provider(tenants.provider.as_deref().unwrap_or("")),
        }
    }

    fn lock_stores(&self) -> std::sync::MutexGuard<'_, Vec<(String, Arc<dyn Kept>)>> {
        self.stores
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A part of the state that a reset clears and a state file saves.
pub trait Kept: Resettable + Persist {}

impl<T: Resettable + Persist> Kept for T {}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pki_outlasts_the_clock() {
        let config = super::EngineConfig {
            seed: Some(5),
            ..Default::default()
        };
        let pki = crate::pki::Pki::setup(super::pki_setup(&config)).unwrap();
        let real = time::OffsetDateTime::now_utc();
        let farthest = super::arith::add_seconds(real, super::clock::MAX_OFFSET_SECONDS);
        // The CA covers the whole reach of the clock, with a margin.
        assert!(pki.ca_covers(
            real - time::Duration::days(365),
            farthest + time::Duration::days(365)
        ));
        let who = crate::pki::SignerIdentity {
            given_name: "Ana".into(),
            surname_1: "Ruiz".into(),
            surname_2: None,
            serial_number: "IDCES-00000000T".into(),
            country: "ES".into(),
            email: None,
        };
        let operator = pki.issue_operator(&who, real).unwrap();
        assert!(operator.not_before() < real && operator.not_after() > farthest);
    }
}
