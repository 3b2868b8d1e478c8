//! `--webhook-allow`: where a shared simulator's webhooks may go. Empty (the default) lets
//! a tenant aim its webhooks anywhere the simulator can reach, which is what one developer
//! on their own machine wants; an operator lists the hosts (by name) and networks (by
//! CIDR) receivers live in, and every other delivery is refused without being attempted.
//!
//! A name is judged after it is resolved, on every address it resolves to, and the
//! connection goes to the addresses that were judged ([`Guard`] is the HTTP client's
//! resolver), so a name that resolves to an allowed address for the check and to another
//! one for the connection cannot slip through. An address written in the URL is judged as
//! it is. Delivery itself is `webhooks`.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// One entry of the list: a host name, or a network (an address alone is a network of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// Lowercase, without a trailing dot.
    Host(String),
    Net {
        base: IpAddr,
        prefix: u8,
    },
}

impl FromStr for Allowed {
    type Err = String;

    fn from_str(text: &str) -> Result<Allowed, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        if let Ok(base) = address.trim_matches(['[', ']']).parse::<IpAddr>() {
            let most: u8 = if base.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => most,
                Some(prefix) => prefix
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= most)
                    .ok_or_else(|| format!("'{text}': the prefix length is not 0..={most}"))?,
            };
            return Ok(Allowed::Net { base, prefix });
        }
        let host = text.trim_end_matches('.').to_ascii_lowercase();
        let name_like = !host.is_empty()
            && prefix.is_none()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !name_like {
            return Err(format!(
                "'{text}' is neither a host name nor an address/CIDR"
            ));
        }
        Ok(Allowed::Host(host))
    }
}

impl std::fmt::Display for Allowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Allowed::Host(host) => f.write_str(host),
            Allowed::Net { base, prefix } => write!(f, "{base}/{prefix}"),
        }
    }
}

impl Allowed {
    fn contains(&self, address: IpAddr) -> bool {
        let Allowed::Net { base, prefix } = self else {
            return false;
        };
        // An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`) is judged as the IPv4 one.
        let address = canonical(address);
        match (canonical(*base), address) {
            (IpAddr::V4(base), IpAddr::V4(address)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(base) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(address)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(base) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The list; empty allows everything.
#[derive(Debug, Clone, Default)]
pub struct AllowList(Arc<Vec<Allowed>>);

/// Why a delivery was not attempted: the text the attempt log shows.
#[derive(Debug, Clone, thiserror::Error)]
#[error("refused: {0}")]
pub struct Refused(pub String);

impl AllowList {
    pub fn new(entries: Vec<Allowed>) -> AllowList {
        AllowList(Arc::new(entries))
    }

    pub fn is_open(&self) -> bool {
        self.0.is_empty()
    }

    fn names(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.0
            .iter()
            .any(|entry| matches!(entry, Allowed::Host(name) if *name == host))
    }

    fn covers(&self, address: IpAddr) -> bool {
        self.0.iter().any(|entry| entry.contains(address))
    }

    fn listed(&self) -> String {
        let entries: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        entries.join(", ")
    }

    /// Whether a URL whose host is `host` may be attempted before any name is resolved:
    /// an address is judged here (nothing resolves it), a listed name passes, any other
    /// name is judged on its addresses by [`Guard`].
    pub fn check_host(&self, host: &str) -> Result<(), Refused> {
        if self.is_open() || self.names(host) {
            return Ok(());
        }
        match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(address) if !self.covers(address) => Err(Refused(format!(
                "{address} is not in --webhook-allow ({})",
                self.listed()
            ))),
            _ => Ok(()),
        }
    }

    /// `host`'s addresses, when the list allows them all.
    async fn resolve(&self, host: String) -> Result<Vec<SocketAddr>, Refused> {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
            .await
            .map_err(|e| Refused(format!("{host} does not resolve: {e}")))?
            .collect();
        if self.is_open() || self.names(&host) {
            return Ok(addresses);
        }
        if addresses.is_empty() {
            return Err(Refused(format!("{host} resolves to no address")));
        }
        if let Some(outside) = addresses.iter().find(|a| !self.covers(a.ip())) {
            return Err(Refused(format!(
                "{host} resolves to {}, which is not in --webhook-allow ({})",
                outside.ip(),
                self.listed()
            )));
        }
        Ok(addresses)
    }
}

/// The webhook client's resolver: names are resolved here and judged against the list,
/// and the client connects to exactly the addresses returned.
pub struct Guard(pub AllowList);

impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let list = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = list.resolve(host).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The refusal among an error's causes, if one of them is.
pub fn refusal(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(refused) = error.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        cause = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::new(entries.iter().map(|e| e.parse().unwrap()).collect())
    }

    #[test]
    fn entries_parse_as_names_or_networks() {
        assert_eq!(
            "Hooks.Example.COM.".parse::<Allowed>(),
            Ok(Allowed::Host("hooks.example.com".into()))
        );
        assert!("10.0.0.0/33".parse::<Allowed>().is_err());
        assert!("a b".parse::<Allowed>().is_err());
        assert!("".parse::<Allowed>().is_err());
        assert!("host/8".parse::<Allowed>().is_err());
    }

    #[test]
    fn addresses_are_judged_by_network() {
        let allowed = list(&["10.0.0.0/8", "fd00::/8", "192.168.1.7", "0.0.0.0/0"]);
        assert!(allowed.covers("10.200.0.1".parse().unwrap()));
        assert!(allowed.covers("::ffff:10.1.1.1".parse().unwrap()));
        assert!(allowed.covers("fd12::1".parse().unwrap()));
        let narrow = list(&["10.0.0.0/8", "192.168.1.7"]);
        assert!(narrow.covers("192.168.1.7".parse().unwrap()));
        assert!(!narrow.covers("192.168.1.8".parse().unwrap()));
        assert!(!narrow.covers("127.0.0.1".parse().unwrap()));
        assert!(!narrow.covers("::1".parse().unwrap()));
        assert!(narrow.check_host("[::1]").is_err());
        assert!(narrow.check_host("10.9.9.9").is_ok());
        assert!(list(&[]).check_host("127.0.0.1").is_ok());
    }
}
