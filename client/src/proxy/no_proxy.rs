//! [`NoProxy`]: the hosts that bypass a proxy, with the rules curl and reqwest share for
//! `NO_PROXY` / `--noproxy`.
//!
//! - entries are separated by commas (whitespace around them is ignored);
//! - `*` alone matches every host;
//! - an IP address (`127.0.0.1`, `::1`, `[::1]`) matches that address, a CIDR block
//!   (`10.0.0.0/8`, `fd00::/8`) every address inside it; both only match hosts written as addresses;
//! - anything else is a domain name, matched case-insensitively, that matches itself and every
//!   subdomain: `example.com` and `.example.com` both match `example.com` and `www.example.com`,
//!   never `notexample.com`. A `:port` after a name is ignored, as curl does.

use std::net::IpAddr;

/// Hosts that are reached directly, never through a proxy.
///
/// ```
/// let list = spool_client::NoProxy::parse("localhost, .internal.test, 10.0.0.0/8");
/// assert!(list.matches("api.internal.test"));
/// assert!(list.matches("10.1.2.3"));
/// assert!(!list.matches("example.com"));
/// assert!(spool_client::NoProxy::parse("*").matches("anything"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    domains: Vec<String>,
    blocks: Vec<(IpAddr, u8)>,
}

impl NoProxy {
    /// Parses a comma-separated list; entries that are empty are skipped. Never fails: like curl,
    /// an entry that is neither an address nor a block is taken as a domain name.
    pub fn parse(list: &str) -> NoProxy {
        let mut out = NoProxy::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                out.all = true;
                continue;
            }
            if let Some(block) = parse_block(entry) {
                out.blocks.push(block);
                continue;
            }
            let name = entry.trim_start_matches('.');
            // `host:port` (a port is ignored); an IPv6 address has more than one ':' and was
            // handled above.
            let name = match name.rsplit_once(':') {
                Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
                _ => name,
            };
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                out.domains.push(name.to_ascii_lowercase());
            }
        }
        out
    }

    /// Whether nothing bypasses the proxy.
    pub fn is_empty(&self) -> bool {
        !self.all && self.domains.is_empty() && self.blocks.is_empty()
    }

    /// Whether `host` (a name or an address, IPv6 with or without brackets) bypasses the proxy.
    pub fn matches(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return self.blocks.iter().any(|&(net, len)| in_block(ip, net, len));
        }
        let host = bare.trim_end_matches('.');
        self.domains.iter().any(|d| {
            host.len() >= d.len()
                && host[host.len() - d.len()..].eq_ignore_ascii_case(d)
                && (host.len() == d.len() || host.as_bytes()[host.len() - d.len() - 1] == b'.')
        })
    }
}

/// `ip` or `ip/len` (IPv6 possibly in brackets) as a network and prefix length.
fn parse_block(entry: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match entry.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (entry, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((ip, len))
}

fn in_block(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => prefix_eq(&a.octets(), &n.octets(), len),
        (IpAddr::V6(a), IpAddr::V6(n)) => prefix_eq(&a.octets(), &n.octets(), len),
        // An IPv4-mapped IPv6 address matches IPv4 entries.
        (IpAddr::V6(a), IpAddr::V4(n)) => a
            .to_ipv4_mapped()
            .is_some_and(|a| prefix_eq(&a.octets(), &n.octets(), len)),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let (whole, rest) = (usize::from(len / 8), len % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[whole] & mask == b[whole] & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_match_themselves_and_subdomains_only() {
        let list = NoProxy::parse(" example.com ,.Other.TEST,  ,host.test:8080");
        for yes in [
            "example.com",
            "www.example.com",
            "EXAMPLE.com.",
            "a.b.other.test",
        ] {
            assert!(list.matches(yes), "{yes}");
        }
        for no in [
            "notexample.com",
            "example.org",
            "com",
            "test",
            "other.test.evil",
        ] {
            assert!(!list.matches(no), "{no}");
        }
        assert!(list.matches("host.test"));
        assert!(NoProxy::parse("").is_empty());
        assert!(!NoProxy::parse("").matches("a"));
    }

    #[test]
    fn addresses_and_blocks() {
        let list = NoProxy::parse("127.0.0.1,10.0.0.0/8,[::1],fd00::/8,192.168.1.128/25");
        for yes in [
            "127.0.0.1",
            "10.255.0.1",
            "[::1]",
            "::1",
            "[fd12::5]",
            "192.168.1.200",
            "::ffff:10.1.1.1",
        ] {
            assert!(list.matches(yes), "{yes}");
        }
        for no in ["127.0.0.2", "11.0.0.1", "::2", "fe80::1", "192.168.1.127"] {
            assert!(!list.matches(no), "{no}");
        }
        // An address entry does not match a name, and a name does not match an address.
        assert!(!list.matches("localhost"));
        assert!(!NoProxy::parse("localhost").matches("127.0.0.1"));
        // A bad prefix length is a name, so it matches nothing real.
        assert!(!NoProxy::parse("10.0.0.0/40").matches("10.0.0.1"));
    }

    #[test]
    fn star_matches_everything() {
        assert!(NoProxy::parse("a.test, *").matches("b.test"));
        assert!(NoProxy::parse("*").matches("[::1]"));
    }
}
