//! Uanataca's state handle (`Uanataca`): the shared one-shot model, the operator
//! certificate shown as the approving RAO's and Uanataca's own stores, with what the
//! surface does beside the one-shot operations: tell a request's callback of its status
//! changes, read settings.ini, look up RAO tokens, draw a serial number, mint the video
//! link. No HTTP types here.

use super::model::{default_settings, Image, Metadata, Token, DEMO_TOKEN};
use crate::engine::links::Links;
use crate::engine::store::TenantStore;
use crate::engine::tenant::Tenant;
use crate::engine::webhooks::WebhookRequest;
use crate::pki::{PkiError, SignerIdentity};
use crate::providers::shared::oneshot::{IssuedCertificate, OneShot, StatusNotice};
use serde_json::Value;
use std::sync::Arc;

/// The surface's name: its path prefix, and the provider its events, messages and
/// webhooks carry.
pub const SLUG: &str = "uanataca";

pub struct Uanataca {
    pub(super) oneshot: Arc<OneShot>,
    /// The operator certificate shown as the approving RAO's.
    pub(super) rao_certificate: IssuedCertificate,
    pub(super) tokens: Arc<TenantStore<String, Token>>,
    pub(super) images: Arc<TenantStore<String, Image>>,
    pub(super) metadata: Arc<TenantStore<String, Metadata>>,
    pub(super) settings: Arc<TenantStore<(), Value>>,
    /// The Video ID pages' codes (what `videoid_link` carries) → the request's pk; and
    /// back, so that the resource page links the same page.
    pub(super) video_links: Links<u64>,
    pub(super) video_codes: Arc<TenantStore<u64, String>>,
    pub(super) body_limit: usize,
}

impl Uanataca {
    pub fn new(oneshot: Arc<OneShot>, body_limit: usize) -> Result<Uanataca, PkiError> {
        let engine = oneshot.engine();
        let operator = SignerIdentity {
            given_name: "OneShot".into(),
            surname_1: "Operator".into(),
            surname_2: None,
            serial_number: "IDCES-123213123".into(),
            country: "ES".into(),
            email: Some("operator@signsim.invalid".into()),
        };
        let rao_certificate =
            // The operator is no tenant's: its certificate is dated by the shared clock (the
        // PKI makes it outlast every tenant's).
        IssuedCertificate::from(&engine.pki.issue_operator(&operator, engine.clock.now())?);
        let notifier = Arc::downgrade(&oneshot);
        oneshot.on_status_change(SLUG, move |change| {
            if let Some(oneshot) = notifier.upgrade() {
                notify_status(oneshot.engine(), change);
            }
        });
        Ok(Uanataca {
            rao_certificate,
            tokens: engine.new_store("uanataca.tokens"),
            images: engine.new_store("uanataca.images"),
            metadata: engine.new_store("uanataca.metadata"),
            settings: engine.new_store("uanataca.settings"),
            video_links: Links::new(engine, "uanataca.videoid_links"),
            video_codes: engine.new_store("uanataca.videoid_codes"),
            oneshot,
            body_limit,
        })
    }

    /// The tenant's settings.ini, the default one until it is saved.
    pub(crate) fn settings_of(&self, tenant: &Tenant) -> Value {
        self.settings
            .get(tenant, &())
            .unwrap_or_else(default_settings)
    }

    /// One value of settings.ini as text (`setting("request", "default_ra")`).
    pub(crate) fn setting(&self, tenant: &Tenant, section: &str, key: &str) -> Option<String> {
        match &self.settings_of(tenant)[section][key] {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The stored token `uid` (the demo token always).
    pub(crate) fn token(&self, tenant: &Tenant, uid: &str) -> Option<Token> {
        if uid == DEMO_TOKEN {
            return Some(Token::demo());
        }
        self.tokens.get(tenant, &uid.to_owned())
    }

    /// A Spanish-DNI-like number for requests that give none (the quick start sends none).
    pub(crate) fn fake_serial_number(&self) -> String {
        const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
        let number = self.oneshot.engine().ids.number(10_000_000, 100_000_000);
        let letter = LETTERS[(number % 23) as usize] as char;
        format!("{number}{letter}")
    }

    /// Draws the code of request `pk`'s Video ID page (once, when the request is made).
    pub(crate) fn new_videoid_link(&self, tenant: &Tenant, pk: u64) -> String {
        let code = self.oneshot.engine().secrets.hex(16);
        self.video_links.insert_as(tenant, code.clone(), pk);
        self.video_codes.insert(tenant, pk, code);
        self.videoid_link(tenant, pk)
    }

    /// The page the person opens to do the video identification: like the real service's
    /// `.../lcmpl/videoid/<opaque token>`, an unguessable code that alone names the
    /// request and its tenant (the request's number is no credential: it is sequential).
    /// A request without a code (made by an older version) gets the admin page by number.
    pub(crate) fn videoid_link(&self, tenant: &Tenant, pk: u64) -> String {
        let path = match self.video_codes.get(tenant, &pk) {
            Some(code) => format!(
                "/_signsim/{SLUG}/lcmpl/videoid/{}",
                crate::ui::path_segment(&code)
            ),
            None => format!(
                "/_signsim/{SLUG}/videoid/{pk}?tenant={}",
                crate::ui::query_value(&tenant.name)
            ),
        };
        self.oneshot.engine().link(&path)
    }

    /// The tenant and request of a Video ID page's code.
    pub(crate) fn videoid_target(&self, code: &str) -> Option<(Tenant, u64)> {
        self.video_links.get(code)
    }
}

/// POSTs `{status, date, previous_status, request, registration_authority}` to the URL the
/// request was created with (async `callback`, video `webhook_url`), as the service does at
/// every status change.
fn notify_status(engine: &crate::engine::Engine, change: StatusNotice) {
    let Some(url) = change.callback else { return };
    let date = change
        .at
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]"
        ))
        .unwrap_or_default();
    let body = serde_json::json!({
        "status": change.to.as_str(),
        "date": date,
        "previous_status": change.from.as_str(),
        "request": change.pk,
        "registration_authority": change.registration_authority,
    });
    engine.webhook(
        WebhookRequest {
            provider: SLUG,
            tenant: change.tenant.name,
            resource: change.pk.to_string(),
            url,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into(),
        },
        time::Duration::ZERO,
    );
}
