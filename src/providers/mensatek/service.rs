//! The verification operations with their engine effects: credits, the SMS to the outbox
//! when it is due, the link's expiry, the person's act, the certificate, and a status
//! report to the account's URL at every change.

use super::model::{
    Access, Act, Event, Findings, IdDocument, ModelError, NewVerification, Outcome, ReportConfig,
    Status, Verification,
};
use super::wire::report;
use super::{certificate, Mensatek, SLUG};
use crate::engine::acts::StatusChange;
use crate::engine::outbox::{Channel, Outgoing};
use crate::engine::tenant::Tenant;
use crate::engine::{add_seconds, seconds, Engine};
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::PT_PT;
use fake::Fake;
use rand::Rng;
use std::sync::Arc;
use time::OffsetDateTime;

/// Credits a new API user starts with.
pub const STARTING_CREDITS: u64 = 100;
/// Credits one verification costs.
pub const VERIFICATION_COST: u64 = 1;
/// Most credits an admin call may set.
pub const MAX_CREDITS: u64 = 1_000_000_000;
/// How long a sent link waits to be opened before the verification expires (72 hours).
pub const LINK_LIFETIME_SECONDS: u64 = 72 * 60 * 60;
/// How long the certificate takes after a successful verification.
pub const CERTIFICATE_DELAY_SECONDS: u64 = 60;

/// A scheduled message goes out (`send_at`): the verification's id.
const SEND_TIMER: &str = "mensatek.send";
/// An unopened link expires: the verification's id.
const EXPIRY_TIMER: &str = "mensatek.expire";
/// The certificate is made once the verification is done: the verification's id.
const CERTIFY_TIMER: &str = "mensatek.certify";

/// Registers what Mensatek's timers do (each payload is a verification id).
pub(crate) fn timer_kinds(engine: &crate::engine::Engine, me: &std::sync::Weak<Mensatek>) {
    engine
        .timers
        .on_model(SEND_TIMER, me.clone(), |model, tenant, id| {
            model.send(tenant, id)
        });
    engine
        .timers
        .on_model(EXPIRY_TIMER, me.clone(), |model, tenant, id| {
            // Only an unopened link expires; anything else has moved on.
            model.step(tenant, id, Event::Expire, |_| {}).ok();
        });
    engine
        .timers
        .on_model(CERTIFY_TIMER, me.clone(), |model, tenant, id| {
            model.certify(tenant, id)
        });
}

impl Mensatek {
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The API user's balance (the starting one until they spend or an admin sets it).
    pub fn credits(&self, tenant: &Tenant) -> u64 {
        self.credits.get(tenant, &()).unwrap_or(STARTING_CREDITS)
    }

    pub fn set_credits(&self, tenant: &Tenant, credits: u64) {
        self.credits.insert(tenant, (), credits.min(MAX_CREDITS));
    }

    pub fn set_report(&self, tenant: &Tenant, config: ReportConfig) {
        self.reports.insert(tenant, (), config);
    }

    pub fn get(&self, tenant: &Tenant, id: &str) -> Result<Verification, ModelError> {
        self.verifications
            .get(tenant, &id.to_owned())
            .ok_or_else(|| ModelError::NotFound(id.to_owned()))
    }

    /// The tenant and verification id behind a link code.
    pub fn link_target(&self, code: &str) -> Option<(Tenant, String)> {
        self.links.get(code)
    }

    pub fn verification_url(&self, code: &str) -> String {
        let code = crate::ui::path_segment(code);
        self.engine.link(&format!("/_signsim/{SLUG}/v/{code}"))
    }

    /// Spends the credits, so that two calls cannot both spend the last one.
    fn spend(&self, tenant: &Tenant) -> Result<u64, ModelError> {
        self.credits.insert_new(tenant, (), STARTING_CREDITS);
        self.credits
            .update(tenant, &(), |balance| {
                let left = balance
                    .checked_sub(VERIFICATION_COST)
                    .ok_or(ModelError::NotEnoughCredits { balance: *balance })?;
                *balance = left;
                Ok(left)
            })
            .unwrap_or(Err(ModelError::NotEnoughCredits { balance: 0 }))
    }

    /// A fresh ten-digit id, unused by this tenant.
    pub fn new_id(&self, tenant: &Tenant) -> String {
        loop {
            let id = self
                .engine
                .ids
                .number(1_000_000_000, 9_999_999_999)
                .to_string();
            if !self.verifications.contains(tenant, &id) {
                return id;
            }
        }
    }

    /// `VerificarIdentidad`: spends the credits, keeps the verification and sends the SMS
    /// now or when `send_at` comes. Answers the verification and the balance left.
    pub fn create(
        &self,
        tenant: &Tenant,
        id: String,
        new: NewVerification,
    ) -> Result<(Verification, u64), ModelError> {
        let left = self.spend(tenant)?;
        let now = self.engine.now(tenant);
        let link = self.engine.secrets.hex(16);
        let verification = Verification {
            id: id.clone(),
            status: Status::Scheduled,
            phone: new.phone,
            message: new.message,
            sender: new.sender,
            requested_dni: new.requested_dni,
            created_at: now,
            send_at: new.send_at,
            sent_at: None,
            updated_at: now,
            link: link.clone(),
            access: None,
            findings: None,
            certificate: None,
        };
        self.verifications
            .insert(tenant, id.clone(), verification.clone());
        self.links.insert_as(tenant, link, id.clone());
        // Kind `status` (not `created`), as the timeline has always shown it. A status is
        // recorded as the reports name it, the `Estado` with its name: `5000 (scheduled)`.
        self.engine.record_status(
            tenant,
            &id,
            StatusChange::created(&Status::Scheduled.to_string()),
            format!(
                "SMS due {}; created in status {}",
                report::minutes(new.send_at),
                Status::Scheduled
            ),
        );
        if new.send_at <= now {
            self.send(tenant, &id);
        } else {
            self.set_timer(tenant, &id, new.send_at, SEND_TIMER);
        }
        Ok((verification, left))
    }

    /// Sets the timer `kind` (one of `timer_kinds`) on verification `id`, due at `due` on
    /// the tenant's clock (another tenant's advance does not bring it closer).
    fn set_timer(&self, tenant: &Tenant, id: &str, due: OffsetDateTime, kind: &str) {
        self.engine.timers.at(due, tenant, kind, id);
    }

    /// Moves by the table and reports the change; answers the verification after it.
    fn step(
        &self,
        tenant: &Tenant,
        id: &str,
        event: Event,
        change: impl FnOnce(&mut Verification),
    ) -> Result<Verification, ModelError> {
        let now = self.engine.now(tenant);
        let (from, moved) = self
            .verifications
            .update(tenant, &id.to_owned(), |v| {
                let from = v.status;
                v.apply(event, now)?;
                change(v);
                Ok((from, v.clone()))
            })
            .ok_or_else(|| ModelError::NotFound(id.to_owned()))??;
        self.engine.record_status(
            tenant,
            id,
            StatusChange::moved(&from.to_string(), &moved.status.to_string()),
            format!("{from} → {}", moved.status),
        );
        self.report(tenant, &moved);
        Ok(moved)
    }

    /// The SMS goes out (unless a scenario holds it back) and the link's lifetime starts.
    fn send(&self, tenant: &Tenant, id: &str) {
        let applied = self.engine.scenarios.on(tenant, id, "send");
        let now = self.engine.now(tenant);
        let Ok(sent) = self.step(tenant, id, Event::Send, |v| v.sent_at = Some(now)) else {
            return;
        };
        if applied.deliver {
            let link = self.verification_url(&sent.link);
            self.engine.send_about(
                id,
                Outgoing {
                    tenant: tenant.clone(),
                    channel: Channel::Sms,
                    to: sent.phone.clone(),
                    text: sent.message.replace("[LINK]", &link),
                    otp: None,
                    link: Some(link),
                },
            );
        }
        // A scenario's lifetime past the year 9999 saturates there: the link never expires.
        let lifetime = applied.expiry_seconds.unwrap_or(LINK_LIFETIME_SECONDS);
        let due = add_seconds(now, lifetime);
        self.set_timer(tenant, id, due, EXPIRY_TIMER);
    }

    /// The person opens the link: where and from what is recorded (made up, seeded).
    /// Opening again changes nothing.
    pub fn open(&self, tenant: &Tenant, id: &str) -> Result<Verification, ModelError> {
        let current = self.get(tenant, id)?;
        if current.status != Status::Sent {
            return Ok(current);
        }
        let access = self.fake_access(tenant);
        self.step(tenant, id, Event::Open, |v| v.access = Some(access))
    }

    /// The person goes through the verification: opens the link if not yet, shows the
    /// document, takes the selfie and finishes with `act.outcome`. Each step is reported.
    pub fn complete(
        &self,
        tenant: &Tenant,
        id: &str,
        act: Act,
    ) -> Result<Verification, ModelError> {
        let opened = self.open(tenant, id)?;
        if !opened.status.open_to_person() {
            return Err(ModelError::WrongStatus {
                status: opened.status,
                event: Event::Pass,
            });
        }
        let findings = self.findings(tenant, &opened, &act);
        if opened.status == Status::Opened {
            let shown = findings.clone();
            self.step(tenant, id, Event::ShowDocument, |v| {
                v.findings = Some(shown)
            })?;
        }
        let event = match act.outcome {
            Outcome::Verified => Event::Pass,
            Outcome::LivenessFailed | Outcome::DocumentMismatch => Event::Fail,
        };
        let done = self.step(tenant, id, event, |v| v.findings = Some(findings))?;
        if done.status == Status::Verified {
            let due = self
                .engine
                .after(tenant, seconds(CERTIFICATE_DELAY_SECONDS));
            self.set_timer(tenant, id, due, CERTIFY_TIMER);
        }
        Ok(done)
    }

    /// The certificate is made and signed; then the status says so.
    fn certify(&self, tenant: &Tenant, id: &str) {
        let Ok(verification) = self.get(tenant, id) else {
            return;
        };
        match certificate::build(&self.engine, tenant, &verification) {
            Ok(pdf) => {
                self.step(tenant, id, Event::Certify, |v| {
                    v.certificate = Some(crate::engine::documents::keep_vec(pdf))
                })
                .ok();
            }
            Err(reason) => {
                tracing::error!("mensatek: certificate of {id} not made: {reason}");
            }
        }
    }

    /// A scenario's scripted status, reported like any other change.
    pub fn force_status(&self, tenant: &Tenant, id: &str, to: Status) {
        let now = self.engine.now(tenant);
        let moved = self.verifications.update(tenant, &id.to_owned(), |v| {
            let from = v.status;
            v.status = to;
            v.updated_at = now;
            (from, v.clone())
        });
        if let Some((from, moved)) = moved {
            self.engine.record_status(
                tenant,
                id,
                StatusChange::moved(&from.to_string(), &to.to_string()),
                format!("by the scenario: {from} → {to}"),
            );
            self.report(tenant, &moved);
        }
    }

    /// `GetCertificadoVerificacion`: the signed PDF once the status is 5100.
    pub fn certificate(&self, tenant: &Tenant, id: &str) -> Result<bytes::Bytes, ModelError> {
        let verification = self.get(tenant, id)?;
        match (verification.status, verification.certificate) {
            (Status::CertificateAvailable, Some(pdf)) => Ok(pdf),
            _ => Err(ModelError::CertificateNotReady),
        }
    }

    /// Queues the status report, when the account has a report URL. A scenario that holds
    /// `report` back aims it at a receiver that always fails.
    fn report(&self, tenant: &Tenant, verification: &Verification) {
        let Some(config) = self.reports.get(tenant, &()) else {
            return;
        };
        let applied = self.engine.scenarios.on(tenant, &verification.id, "report");
        let down = (!applied.deliver)
            .then(|| self.engine.link(&format!("/_signsim/{SLUG}/receiver-down")));
        let request = report::request(tenant, verification, &config, down);
        self.engine.webhook(request, time::Duration::ZERO);
    }

    /// Where and from what the link was opened.
    fn fake_access(&self, tenant: &Tenant) -> Access {
        let at = self.engine.now(tenant);
        self.engine.ids.with_rng(|rng| {
            let street: String = LastName(PT_PT).fake_with_rng(rng);
            Access {
                at,
                ip: format!(
                    "{}.{}.{}.{}",
                    rng.random_range(80..=95),
                    rng.random_range(0..=255),
                    rng.random_range(0..=255),
                    rng.random_range(1..=254)
                ),
                port: rng.random_range(1024..=65000),
                address: format!(
                    "C. de {street}, {}, 28{:03} Madrid, Spain",
                    rng.random_range(1..=120),
                    rng.random_range(1..=999)
                ),
                longitude: -3.8 + rng.random_range(0.0..0.2),
                latitude: 40.35 + rng.random_range(0.0..0.15),
                altitude: rng.random_range(600.0..700.0),
                accuracy: rng.random_range(5.0..30.0),
                browser: format!(
                    "Chrome {}.0.{}.{}",
                    rng.random_range(110..=130),
                    rng.random_range(4000..=6999),
                    rng.random_range(10..=199)
                ),
                os: format!("Android {}", rng.random_range(11..=15)),
                resolution: ["360 x 800", "393 x 873", "412 x 915"][rng.random_range(0..3)]
                    .to_owned(),
            }
        })
    }

    /// What the checks find for `act` on `verification`.
    fn findings(&self, tenant: &Tenant, verification: &Verification, act: &Act) -> Findings {
        let now = self.engine.now(tenant);
        let invented = self.fake_dni();
        let other = self.fake_dni();
        let shown = act
            .dni
            .clone()
            .or_else(|| verification.requested_dni.clone())
            .unwrap_or(invented)
            .to_ascii_uppercase();
        let (front, back) = match (act.outcome, &verification.requested_dni) {
            // The document shown is not the one asked for.
            (Outcome::DocumentMismatch, Some(requested)) => {
                let front = if shown.eq_ignore_ascii_case(requested) {
                    other
                } else {
                    shown
                };
                (front.clone(), front)
            }
            // Nothing asked for: the back does not match the front.
            (Outcome::DocumentMismatch, None) => (shown, other),
            _ => (shown.clone(), shown),
        };
        let passed = act.outcome != Outcome::LivenessFailed;
        self.engine.ids.with_rng(|rng| {
            let given: String = FirstName(PT_PT).fake_with_rng(rng);
            let first: String = LastName(PT_PT).fake_with_rng(rng);
            let second: String = LastName(PT_PT).fake_with_rng(rng);
            let birth_year = now.year().saturating_sub(rng.random_range(19..=75));
            let (day, month) = (rng.random_range(1..=28u8), rng.random_range(1..=12u8));
            let age = u32::try_from(now.year().saturating_sub(birth_year))
                .unwrap_or(0)
                .saturating_sub(u32::from(u8::from(now.month()) < month));
            let serial = format!(
                "{}{}{}{:05}",
                char::from(rng.random_range(b'A'..=b'Z')),
                char::from(rng.random_range(b'A'..=b'Z')),
                char::from(rng.random_range(b'A'..=b'Z')),
                rng.random_range(0..100_000)
            );
            let similarity = if passed {
                rng.random_range(85.0..99.5)
            } else {
                rng.random_range(5.0..40.0)
            };
            Findings {
                outcome: act.outcome,
                document: IdDocument {
                    front,
                    back,
                    given_name: given.to_uppercase(),
                    surnames: format!("{} {}", first.to_uppercase(), second.to_uppercase()),
                    birth_date: format!("{day:02}/{month:02}/{birth_year}"),
                    age,
                    serial,
                    sex: if rng.random_bool(0.5) { "M" } else { "F" }.to_owned(),
                    expires: format!(
                        "{day:02}/{month:02}/{}",
                        now.year().saturating_add(rng.random_range(1..=9))
                    ),
                },
                similarity,
                liveness: passed,
                same_person: passed,
                beard: rng.random_bool(0.3),
                glasses: rng.random_bool(0.3),
                sex_probability: rng.random_range(90.0..99.9),
                apparent_age: {
                    let low = age.saturating_sub(rng.random_range(3..=10));
                    (low, low.saturating_add(rng.random_range(8..=18)))
                },
            }
        })
    }

    /// A Spanish DNI: eight digits and their check letter.
    fn fake_dni(&self) -> String {
        const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
        let number = self.engine.ids.number(0, 100_000_000);
        let letter = LETTERS
            .get(usize::try_from(number % 23).unwrap_or(0))
            .copied()
            .unwrap_or(b'T');
        format!("{number:08}{}", char::from(letter))
    }
}
