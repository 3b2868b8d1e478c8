//! The outbox: every SMS, e-mail and WhatsApp message a provider would have sent to an end
//! user. Tests read OTPs and links from here instead of a phone.

use super::bounded::{Page, Paging};
use super::indexed::{IndexedLog, Keyed};
use super::tenant::{Tenant, Tenants};
use serde::{Deserialize, Serialize};
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

/// The outbox, with an index by recipient so that a test's lookup of its OTP (`?to=`)
/// costs the same with 100 messages held as with 100,000.
#[derive(Default)]
pub struct Outbox {
    log: Mutex<IndexedLog<Message>>,
}

/// The outbox is indexed by recipient.
impl Keyed for Message {
    fn key(&self) -> &str {
        &self.to
    }

    fn tenant(&self) -> &str {
        &self.tenant
    }

    fn seq(&self) -> u64 {
        self.seq
    }

    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
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
    pub fn push(&self, message: Message) {
        self.lock().push(message);
    }

    /// The newest `paging.limit` messages matching `filter` older than `paging.before`,
    /// newest first: walked from the newest end, so the first page costs what it holds.
    /// With a recipient (`to`), only that recipient's messages (in the tenant, when named)
    /// are walked.
    pub fn page(&self, filter: &OutboxFilter, paging: Paging) -> Page<Message> {
        let log = self.lock();
        let keep = |m: &Message| filter.matches(m);
        match filter.to.as_deref() {
            Some(to) => log.page_with_key(to, filter.tenant.as_deref(), paging, keep),
            None => log.page(paging, keep),
        }
    }

    /// Messages matching every given filter, oldest first. With a recipient (`to`), only
    /// that recipient's messages (in the tenant, when named) are looked at.
    pub fn list(&self, filter: &OutboxFilter) -> Vec<Message> {
        let log = self.lock();
        let keep = |m: &&Message| filter.matches(m);
        match filter.to.as_deref() {
            Some(to) => log
                .with_key(to, filter.tenant.as_deref())
                .filter(keep)
                .cloned()
                .collect(),
            None => log.all().filter(keep).cloned().collect(),
        }
    }

    /// Forgets `tenants`' messages; the rest are indexed afresh, and the memory of what
    /// went is given back (a new log, not a cleared one that keeps its capacity).
    pub fn reset(&self, tenants: &Tenants) {
        self.lock()
            .retain(|m| !tenants.contains(&m.provider, &m.tenant));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IndexedLog<Message>> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Saved as `[message, resource]`: the message's own JSON leaves `resource` out.
impl super::persist::Persist for Outbox {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        let copy: Vec<(Message, Option<String>)> = self
            .lock()
            .all()
            .map(|m| (m.clone(), m.resource.clone()))
            .collect();
        Box::new(copy)
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: Vec<(Message, Option<String>)> = super::persist::parse(json)?;
        // Numbered afresh (`IndexedLog::of`): a cursor names a message of this run only.
        *self.lock() = IndexedLog::of(
            saved
                .into_iter()
                .map(|(message, resource)| Message {
                    resource,
                    ..message
                })
                .collect(),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::bounded::LOG_CAPACITY;

    fn message(n: usize, to: &str) -> Message {
        message_of("t", n, to)
    }

    fn message_of(tenant: &str, n: usize, to: &str) -> Message {
        Message {
            id: n.to_string(),
            provider: "demo".into(),
            tenant: tenant.into(),
            channel: Channel::Sms,
            to: to.into(),
            text: String::new(),
            otp: Some(n.to_string()),
            link: None,
            at: OffsetDateTime::UNIX_EPOCH,
            resource: None,
            seq: 0,
        }
    }

    fn to(outbox: &Outbox, to: &str) -> Vec<String> {
        let filter = OutboxFilter {
            to: Some(to.into()),
            ..OutboxFilter::default()
        };
        outbox.list(&filter).into_iter().map(|m| m.id).collect()
    }

    /// Past the cap the oldest tenth goes: a recipient's evicted messages leave the index
    /// and its later ones are still found, at their shifted places (a stale position would
    /// find another recipient's message, or none).
    #[test]
    fn lookups_by_recipient_survive_eviction() {
        let outbox = Outbox::default();
        outbox.push(message(0, "old"));
        outbox.push(message(1, "kept"));
        for n in 2..LOG_CAPACITY {
            outbox.push(message(n, "crowd"));
        }
        outbox.push(message(LOG_CAPACITY, "kept"));
        assert!(to(&outbox, "old").is_empty());
        assert_eq!(to(&outbox, "kept"), [LOG_CAPACITY.to_string()]);
        outbox.push(message(LOG_CAPACITY + 1, "old"));
        assert_eq!(to(&outbox, "old"), [(LOG_CAPACITY + 1).to_string()]);
        let crowd = to(&outbox, "crowd");
        assert_eq!(crowd.len(), LOG_CAPACITY - LOG_CAPACITY / 10);
        assert_eq!(crowd.first(), Some(&(LOG_CAPACITY / 10).to_string()));
        // The index holds no recipient whose messages are all gone.
        assert_eq!(outbox.lock().keys(), (3, 3));
    }

    fn ids(messages: Vec<Message>) -> Vec<String> {
        messages.into_iter().map(|m| m.id).collect()
    }

    /// Every tenant sends to the guide's test phone: a tenant's lookup, listed or paged,
    /// finds its own messages alone, in order, also after the oldest are evicted; without
    /// a tenant it finds everyone's.
    #[test]
    fn a_tenants_lookup_by_recipient_finds_its_own_messages_only() {
        let outbox = Outbox::default();
        for n in 0..LOG_CAPACITY + 3 {
            let tenant = if n % 3 == 0 { "mine" } else { "theirs" };
            outbox.push(message_of(tenant, n, "+34600000000"));
        }
        let mine = OutboxFilter {
            to: Some("+34600000000".into()),
            tenant: Some("mine".into()),
            ..OutboxFilter::default()
        };
        let listed = ids(outbox.list(&mine));
        let evicted = LOG_CAPACITY / 10;
        let expected: Vec<String> = (evicted..LOG_CAPACITY + 3)
            .filter(|n| n % 3 == 0)
            .map(|n| n.to_string())
            .collect();
        assert_eq!(listed, expected);

        let first = outbox.page(&mine, Paging::newest(2));
        let newest = LOG_CAPACITY + 2 - (LOG_CAPACITY + 2) % 3;
        assert_eq!(
            ids(first.entries),
            [newest, newest - 3].map(|n| n.to_string())
        );
        let second = outbox.page(
            &mine,
            Paging {
                limit: 1,
                before: first.older,
            },
        );
        assert_eq!(ids(second.entries), [(newest - 6).to_string()]);

        let everyone = OutboxFilter {
            to: Some("+34600000000".into()),
            ..OutboxFilter::default()
        };
        assert_eq!(outbox.list(&everyone).len(), LOG_CAPACITY + 3 - evicted);
        assert_eq!(outbox.lock().keys(), (1, 2));
    }
}
