//! The outbox: every SMS, e-mail and WhatsApp message a provider would have sent to an end
//! user. Tests read OTPs and links from here instead of a phone.

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

#[derive(Debug, Clone, Serialize)]
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
}

/// What a provider hands the outbox; the engine stamps id and time.
pub struct Outgoing {
    pub provider: &'static str,
    pub tenant: String,
    pub channel: Channel,
    pub to: String,
    pub text: String,
    pub otp: Option<String>,
    pub link: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OutboxFilter {
    pub provider: Option<String>,
    pub to: Option<String>,
    pub channel: Option<Channel>,
    pub tenant: Option<String>,
}

#[derive(Default)]
pub struct Outbox {
    messages: Mutex<Vec<Message>>,
}

impl Outbox {
    pub fn push(&self, message: Message) {
        super::push_bounded(&mut self.lock(), message);
    }

    /// Messages matching every given filter, oldest first.
    pub fn list(&self, filter: &OutboxFilter) -> Vec<Message> {
        self.lock()
            .iter()
            .filter(|m| filter.provider.as_deref().is_none_or(|p| m.provider == p))
            .filter(|m| filter.to.as_deref().is_none_or(|to| m.to == to))
            .filter(|m| filter.channel.is_none_or(|c| m.channel == c))
            .filter(|m| filter.tenant.as_deref().is_none_or(|t| m.tenant == t))
            .cloned()
            .collect()
    }

    pub fn reset(&self, tenant: Option<&str>) {
        let mut messages = self.lock();
        match tenant {
            Some(tenant) => messages.retain(|m| m.tenant != tenant),
            None => messages.clear(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Message>> {
        self.messages
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
