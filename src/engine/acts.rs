//! The acts every provider performs alike, each one engine call so that no provider types
//! it out again: give a new resource its scenario, apply an operation's scenario effects
//! (scheduling a scripted transition), and record a status change as typed data.

use super::events::Event;
use super::scenarios::{Applied, Scenario, Transition};
use super::tenant::Tenant;
use super::Engine;
use std::sync::{Arc, Weak};

/// A status change as a resource's timeline records it: `from` is `None` when the resource
/// was just created in status `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange<'a> {
    pub from: Option<&'a str>,
    pub to: &'a str,
}

impl<'a> StatusChange<'a> {
    /// The resource moved from `from` to `to`.
    pub fn moved(from: &'a str, to: &'a str) -> StatusChange<'a> {
        StatusChange {
            from: Some(from),
            to,
        }
    }

    /// The resource was created in status `to`.
    pub fn created(to: &'a str) -> StatusChange<'a> {
        StatusChange { from: None, to }
    }
}

impl Engine {
    /// Gives a new resource the scenario its creating call chose (`Scenarios::choose`):
    /// records the `scenario` event on its timeline and binds the scenario, so that its
    /// effects apply to the resource's operations. `None` (no scenario chosen) does nothing.
    pub fn assign_scenario(&self, tenant: &Tenant, id: &str, scenario: Option<Arc<Scenario>>) {
        let Some(scenario) = scenario else {
            return;
        };
        let text = format!("scenario {}", scenario.name);
        self.record(tenant, id, "scenario", text);
        self.scenarios.bind(tenant, id, scenario);
    }

    /// The scenario effects of `operation` on resource `id` now (counted as fired). A
    /// scripted transition is set as a timer of `status_timer` (see
    /// `on_scripted_status`); acting out latency, a broken connection or a scripted answer
    /// is the provider's HTTP side (`wire::act_out`).
    pub fn scripted(
        &self,
        tenant: &Tenant,
        id: &str,
        operation: &str,
        status_timer: &str,
    ) -> Applied {
        let applied = self.scenarios.on(tenant, id, operation);
        if let Some(transition) = &applied.transition {
            self.script_transition(tenant, id, transition, status_timer);
        }
        applied
    }

    /// Sets the timer that moves resource `id` to `transition.to` after
    /// `transition.after_seconds` of the virtual clock. A delay past `FAR_FUTURE` (a
    /// scenario's `after_seconds = 18446744073709551615`) means never: no timer is set.
    pub fn script_transition(
        &self,
        tenant: &Tenant,
        id: &str,
        transition: &Transition,
        status_timer: &str,
    ) {
        let due = super::arith::add_seconds(self.now(tenant), transition.after_seconds);
        if due >= super::arith::FAR_FUTURE {
            tracing::debug!(%id, to = %transition.to, "a scripted transition past the year 9999 never fires");
            return;
        }
        self.timers
            .at_json(due, tenant, status_timer, &(id, &transition.to));
    }

    /// Registers what a model's scripted transitions (`script_transition` with
    /// `status_timer`) do when due: `apply(model, tenant, id, to)`, `to` one of the states
    /// the provider's spec lists (the scenario loader checked it).
    pub fn on_scripted_status<M: Send + Sync + 'static>(
        &self,
        status_timer: &'static str,
        model: Weak<M>,
        apply: impl Fn(&M, &Tenant, &str, &str) + Send + Sync + 'static,
    ) {
        self.timers
            .on_model(status_timer, model, move |model, tenant, payload| {
                if let Some((id, to)) =
                    super::timers::read_payload::<(String, String)>(status_timer, payload)
                {
                    apply(model, tenant, &id, &to);
                }
            });
    }

    /// Records a status change on the resource's timeline as a `status` event whose `from`
    /// and `to` are data (what the dashboard and `/_signsim/events` read); `text` is for
    /// people, in the provider's terms.
    pub fn record_status(
        &self,
        tenant: &Tenant,
        id: &str,
        change: StatusChange<'_>,
        text: impl Into<String>,
    ) {
        self.push_event(tenant, id, "status", Some(change), text.into());
    }

    /// Records the creation of a resource in status `status` (a `created` event whose
    /// `to` is that status).
    pub fn record_created(&self, tenant: &Tenant, id: &str, status: &str, text: impl Into<String>) {
        let change = StatusChange::created(status);
        self.push_event(tenant, id, "created", Some(change), text.into());
    }

    /// Adds a line to a resource's timeline (not a status change: see `record_status`).
    pub fn record(&self, tenant: &Tenant, id: &str, kind: &str, text: impl Into<String>) {
        self.push_event(tenant, id, kind, None, text.into());
    }

    fn push_event(
        &self,
        tenant: &Tenant,
        id: &str,
        kind: &str,
        change: Option<StatusChange<'_>>,
        text: String,
    ) {
        self.events.push(Event {
            at: self.now(tenant),
            provider: tenant.provider.clone(),
            tenant: tenant.name.clone(),
            id: id.to_owned(),
            kind: kind.to_owned(),
            text,
            from: change.and_then(|c| c.from).map(str::to_owned),
            to: change.map(|c| c.to.to_owned()),
            seq: 0,
        });
    }
}
