//! An envelope out for signature: submitting it sends each signer the signature link, the
//! link sends an authentication token, the signer's act checks CPF and token and records
//! the identity checks, and the last signature completes the envelope (dossiers, the
//! signed `envelope_completed` webhook).

use crate::engine::acts::StatusChange;
use crate::engine::outbox::{Channel, Outgoing};
use crate::engine::scenarios::Applied;
use crate::engine::tenant::Tenant;
use crate::engine::webhooks::WebhookRequest;
use crate::providers::qitech::model::{
    self, CheckOverrides, Envelope, Event, ModelError, Signer, Status,
};
use crate::providers::qitech::wire::webhook::{self, HookConfig};
use crate::providers::qitech::{dossier, QiTech, SLUG, STATUS_TIMER};

/// Whose signature a link is for (its tenant is the one that owns the link).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinkTarget {
    pub envelope: String,
    pub signer: String,
}

/// Values the signer's act may set; unset ones come from the scenario, then the defaults.
#[derive(Debug, Default, Clone)]
pub struct SignInput {
    pub cpf: Option<String>,
    pub token: Option<String>,
    /// What the identity checks found, where the caller says.
    pub checks: CheckOverrides,
}

/// What a signature did to the envelope.
pub struct Signed {
    pub signer: Signer,
    pub completed: bool,
}

impl QiTech {
    /// Sends the envelope: each signer gets the signature link by their
    /// `document_submission_method` (unless the scenario holds messages back).
    pub fn submit(&self, tenant: &Tenant, id: &str, applied: &Applied) -> Result<(), ModelError> {
        let now = self.engine.now(tenant);
        let envelope = self.update(tenant, id, |envelope| {
            if envelope.status == Status::Created && envelope.expires_at <= now {
                return Err(ModelError::DeadlinePassed);
            }
            if envelope.status == Status::Created && envelope.documents.is_empty() {
                return Err(ModelError::NoDocuments);
            }
            envelope.apply(Event::Submit)?;
            if let Some(after) = applied.expiry_seconds {
                envelope.expires_at = crate::engine::add_seconds(now, after);
            }
            for signer in &mut envelope.signers {
                signer.link_code = Some(self.engine.secrets.hex(8));
            }
            Ok(envelope.clone())
        })?;
        let change = StatusChange::moved(Status::Created.as_str(), Status::Submitted.as_str());
        self.engine
            .record_status(tenant, id, change, "created → submitted");
        for signer in &envelope.signers {
            let Some(code) = &signer.link_code else {
                continue;
            };
            self.links.insert_as(
                tenant,
                code.clone(),
                LinkTarget {
                    envelope: id.to_owned(),
                    signer: signer.id.clone(),
                },
            );
            if applied.deliver {
                let link = self.signature_url(code);
                self.message(
                    tenant,
                    id,
                    signer,
                    signer.document_submission_method,
                    format!("{}: you have documents to sign at {link}", envelope.subject),
                    None,
                    Some(link),
                );
            }
        }
        self.expire_later(tenant, &envelope);
        Ok(())
    }

    pub fn signature_url(&self, code: &str) -> String {
        let code = crate::ui::path_segment(code);
        self.engine.link(&format!("/_signsim/{SLUG}/s/{code}"))
    }

    /// The tenant and signer a signature link leads to.
    pub fn link_target(&self, code: &str) -> Option<(Tenant, LinkTarget)> {
        self.links.get(code)
    }

    /// The signer opened the link: a fresh authentication token goes out by their
    /// `authentication_submission_method`. Nothing is sent once they have signed or the
    /// envelope is no longer out for signature.
    pub fn open_link(
        &self,
        tenant: &Tenant,
        target: &LinkTarget,
    ) -> Result<(Envelope, Signer), ModelError> {
        let token = self.engine.ids.otp(6);
        let (envelope, signer) = self.update(tenant, &target.envelope, |envelope| {
            let sendable = envelope.status == Status::Submitted;
            let signer = envelope.signer_mut(&target.signer)?;
            if sendable && signer.signed_at.is_none() {
                signer.token = Some(token.clone());
            }
            let signer = signer.clone();
            Ok((envelope.clone(), signer))
        })?;
        if envelope.status == Status::Submitted && signer.signed_at.is_none() {
            self.message(
                tenant,
                &target.envelope,
                &signer,
                signer.authentication_submission_method,
                format!("QI Tech Sign: your authentication token is {token}"),
                Some(token),
                None,
            );
        }
        Ok((envelope, signer))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn message(
        &self,
        tenant: &Tenant,
        envelope: &str,
        signer: &Signer,
        channel: Channel,
        text: String,
        otp: Option<String>,
        link: Option<String>,
    ) {
        let Some(to) = signer.address(channel) else {
            return;
        };
        self.engine.send_about(
            envelope,
            Outgoing {
                tenant: tenant.clone(),
                channel,
                to,
                text,
                otp,
                link,
            },
        );
    }

    /// The signer signs: checks CPF and token, records the identity checks, and completes
    /// the envelope (dossiers, webhook) when they were the last one.
    pub fn sign(
        &self,
        tenant: &Tenant,
        id: &str,
        signer_id: &str,
        input: SignInput,
        applied: &Applied,
    ) -> Result<Signed, ModelError> {
        let now = self.engine.now(tenant);
        // What the signer act says wins; the scenario fills the rest, defaults the remainder.
        let checks = input
            .checks
            .clone()
            .or(scenario_checks(&applied.values))
            .checks();
        let (signer, all_signed, previous_token) = self.update(tenant, id, |envelope| {
            if envelope.status != Status::Submitted {
                return Err(ModelError::NotSignable(envelope.status));
            }
            let signer = envelope.signer_mut(signer_id)?;
            if signer.signed_at.is_some() {
                return Err(ModelError::AlreadySigned);
            }
            if let Some(cpf) = &input.cpf {
                if model::digits(cpf) != signer.cpf_digits() {
                    return Err(ModelError::CpfMismatch);
                }
            }
            if let Some(token) = &input.token {
                if signer.token.as_deref() != Some(token.trim()) {
                    return Err(ModelError::TokenInvalid);
                }
            }
            let previous_token = signer.token.take();
            signer.signed_at = Some(now);
            signer.checks = Some(checks.clone());
            let signer = signer.clone();
            Ok((signer, envelope.all_signed(), previous_token))
        })?;
        self.engine.record(
            tenant,
            id,
            "signature",
            format!(
                "signer {signer_id} signed (liveness {}, face match {})",
                checks.liveness, checks.face_match_score
            ),
        );
        if all_signed {
            if let Err(error) = self.complete(tenant, id) {
                // The dossier could not be made: the signature did not happen, so the signer
                // can try again instead of leaving the envelope stuck.
                self.update(tenant, id, |envelope| {
                    let signer = envelope.signer_mut(signer_id)?;
                    signer.signed_at = None;
                    signer.checks = None;
                    signer.token = previous_token;
                    Ok(())
                })?;
                let text = format!("signer {signer_id}'s signature undone: the dossier failed");
                self.engine.record(tenant, id, "signature", text);
                return Err(error);
            }
        }
        Ok(Signed {
            signer,
            completed: all_signed,
        })
    }

    /// Builds the dossiers, moves the envelope to `completed` and sends the webhook.
    fn complete(&self, tenant: &Tenant, id: &str) -> Result<(), ModelError> {
        let snapshot = self.get(tenant, id)?;
        // The dossier's certificates and signing times are on the tenant's clock.
        let now = self.engine.now(tenant);
        let dossiers = dossier::build(&self.engine, &snapshot, now).map_err(ModelError::Dossier)?;
        let envelope = self.update(tenant, id, |envelope| {
            envelope.apply(Event::Complete)?;
            envelope.dossiers = dossiers;
            envelope.completed_at = Some(now);
            Ok(envelope.clone())
        })?;
        let change = StatusChange::moved(Status::Submitted.as_str(), Status::Completed.as_str());
        self.engine
            .record_status(tenant, id, change, "submitted → completed");
        // Like every operation's, the webhook's scripted transition is set on the clock.
        let applied = self.engine.scripted(tenant, id, "webhook", STATUS_TIMER);
        if let Some(config) = self.hooks.get(tenant, &()) {
            let down = (!applied.deliver)
                .then(|| self.engine.link(&format!("/_signsim/{SLUG}/receiver-down")));
            self.send_webhook(tenant, &envelope, &config, down);
        } else {
            self.engine.record(
                tenant,
                id,
                "webhook",
                "no webhook configured for this API key: nothing sent",
            );
        }
        Ok(())
    }

    pub fn set_webhook(&self, tenant: &Tenant, config: HookConfig) {
        self.hooks.insert(tenant, (), config);
    }

    /// Queues the delivery. `down` replaces the URL with one that always fails (scenario
    /// `webhook-receiver-down`); the signature is still computed for the configured URL.
    fn send_webhook(
        &self,
        tenant: &Tenant,
        envelope: &Envelope,
        config: &HookConfig,
        down: Option<String>,
    ) {
        let payload = webhook::body(envelope).to_string();
        let signed =
            webhook::signature(&config.signature_key, &config.endpoint(), "POST", &payload);
        self.engine.webhook(
            WebhookRequest {
                provider: SLUG,
                tenant: tenant.name.clone(),
                resource: envelope.id.clone(),
                url: down.unwrap_or_else(|| config.url.clone()),
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("signature".into(), signed),
                ],
                body: payload.into(),
            },
            time::Duration::ZERO,
        );
    }
}

/// What a scenario's `values` (free-form, from a scenario file) say the checks found.
fn scenario_checks(values: &serde_json::Map<String, serde_json::Value>) -> CheckOverrides {
    let text = |key: &str| values.get(key).and_then(|v| v.as_str().map(str::to_owned));
    CheckOverrides {
        face_validation_available: values.get("face_validation_available").and_then(value_bool),
        fraud_base_flag: values.get("fraud_base_flag").and_then(value_bool),
        face_validation_score: values.get("face_validation_score").and_then(value_i64),
        liveness: text("liveness"),
        face_match_score: values.get("face_match_score").and_then(value_i64),
        document_check: text("document_check"),
    }
}

fn value_i64(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn value_bool(value: &serde_json::Value) -> Option<bool> {
    match value {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => match s.trim() {
            "true" | "1" | "on" | "yes" => Some(true),
            "false" | "0" | "off" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

impl crate::engine::quota::Stored for LinkTarget {}
