//! The outbox: every SMS, e-mail and WhatsApp message a provider would have sent to an end
//! user. Tests read OTPs and links from here instead of a phone.

use super::bounded::{newest_first, Page, Paging};
use super::tenant::{Tenant, Tenants};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
    Whatsapp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Whatsapp => "whatsapp",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        match text.to_ascii_lowercase().as_str() {
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            "whatsapp" => Some(Channel::Whatsapp),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub provider: String,
    pub tenant: String,
    pub channel: Channel,
    pub to: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The resource the message is about (a request pk, an envelope id), when the provider
    /// said so (`Engine::send_about`): how a resource's timeline finds it. Not part of the
    /// outbox's JSON, whose shape is a contract.
    #[serde(skip)]
    pub resource: Option<String>,
    /// Its place in the outbox, numbered as appended: the cursor of a page
    /// (`Outbox::page`). Not part of the JSON either.
    #[serde(skip)]
    pub seq: u64,
}

impl Message {
    /// Whether the message is about resource `id` of `provider` and `tenant`: named so by
    /// its provider, or, for providers that do not name it, mentioning `id` in its text or
    /// link.
    pub fn is_about(&self, provider: &str, tenant: &str, id: &str) -> bool {
        if self.provider != provider || self.tenant != tenant {
            return false;
        }
        match &self.resource {
            Some(resource) => resource == id,
            None => {
                mentions(&self.text, id) || self.link.as_deref().is_some_and(|l| mentions(l, id))
            }
        }
    }
}

/// Whether `id` appears in `text` as a whole word (so request 14 is not found in "1464").
fn mentions(text: &str, id: &str) -> bool {
    !id.is_empty()
        && text
            .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .any(|word| word == id)
}

/// What a provider hands the outbox; the engine stamps id and time.
pub struct Outgoing {
    pub tenant: Tenant,
    pub channel: Channel,
    pub to: String,
    pub text: String,
    pub otp: Option<String>,
    pub link: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct OutboxFilter {
    pub provider: Option<String>,
    pub to: Option<String>,
    pub channel: Option<Channel>,
    pub tenant: Option<String>,
}

#[derive(Default)]
pub struct Outbox {
    messages: Mutex<Vec<Message>>,
    /// The `seq` of the last message appended.
    last_seq: AtomicU64,
}

impl OutboxFilter {
    fn matches(&self, m: &Message) -> bool {
        self.provider.as_deref().is_none_or(|p| m.provider == p)
            && self.to.as_deref().is_none_or(|to| m.to == to)
            && self.channel.is_none_or(|c| m.channel == c)
            && self.tenant.as_deref().is_none_or(|t| m.tenant == t)
    }
}

impl Outbox {
    /// Appends `message`, numbering it (its `seq` is ignored).
    pub fn push(&self, mut message: Message) {
        let mut messages = self.lock();
        message.seq = self
            .last_seq
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        super::bounded::push_bounded(&mut messages, message);
    }

    /// The newest `paging.limit` messages matching `filter` older than `paging.before`,
    /// newest first: walked from the newest end, so the first page costs what it holds.
    pub fn page(&self, filter: &OutboxFilter, paging: Paging) -> Page<Message> {
        let messages = self.lock();
        let end = paging
            .before
            .map_or(messages.len(), |b| messages.partition_point(|m| m.seq < b));
        let older_first = messages.get(..end).unwrap_or_default().iter();
        newest_first(older_first, paging.limit, |m| m.seq, |m| filter.matches(m))
    }

    /// Messages matching every given filter, oldest first.
    pub fn list(&self, filter: &OutboxFilter) -> Vec<Message> {
        self.lock()
            .iter()
            .filter(|m| filter.matches(m))
            .cloned()
            .collect()
    }

    pub fn reset(&self, tenants: &Tenants) {
        self.lock()
            .retain(|m| !tenants.contains(&m.provider, &m.tenant));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Message>> {
        self.messages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Saved as `[message, resource]`: the message's own JSON leaves `resource` out.
impl super::persist::Persist for Outbox {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        let copy: Vec<(Message, Option<String>)> = self
            .lock()
            .iter()
            .map(|m| (m.clone(), m.resource.clone()))
            .collect();
        Box::new(copy)
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Vec<(Message, Option<String>)> = super::persist::parse(json)?;
        let mut messages = self.lock();
        // Numbered afresh: a cursor names a message of this run only.
        *messages = saved
            .into_iter()
            .zip(1u64..)
            .map(|((message, resource), seq)| Message {
                resource,
                seq,
                ..message
            })
            .collect();
        self.last_seq
            .store(messages.last().map_or(0, |m| m.seq), Ordering::Relaxed);
        Ok(())
    }
}
