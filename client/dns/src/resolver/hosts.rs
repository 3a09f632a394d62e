//! The hosts file (`/etc/hosts`), consulted before DNS, and the special `localhost` names.
//!
//! Each line is an address followed by a canonical name and aliases; `#` starts a comment. A name that
//! appears on several lines collects all their addresses, in file order and without duplicates, so
//! `127.0.0.1 box` and `::1 box` give `box` both families. Lines whose address does not parse (or that
//! carry an IPv6 zone, which `IpAddr` cannot hold) are skipped, as the C library does.
//!
//! `localhost` and every name under `.localhost` always resolve to `127.0.0.1` and `::1`, whatever the
//! file says or lacks: RFC 6761 §6.3 asks resolvers to answer them locally and never send them to DNS,
//! and curl does the same. This keeps a test server on loopback reachable even on a machine whose hosts
//! file is empty or maps `localhost` somewhere odd.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What every localhost name resolves to.
const LOCALHOST_ADDRS: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
];

/// A parsed hosts file.
///
/// ```
/// use spool_dns::Hosts;
/// use std::net::IpAddr;
///
/// let hosts = Hosts::parse("192.0.2.7  build.lan build  # the CI box\n");
/// let ip: IpAddr = "192.0.2.7".parse().unwrap();
/// assert_eq!(hosts.lookup("BUILD"), Some(&[ip][..]));
/// assert_eq!(hosts.lookup("app.localhost").unwrap().len(), 2); // 127.0.0.1 and ::1, always
/// assert_eq!(hosts.lookup("example.com"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    /// Lowercase name without trailing dot → addresses in file order.
    by_name: HashMap<String, Vec<IpAddr>>,
}

impl Hosts {
    /// Parses hosts-file text. Never fails; malformed lines are skipped.
    pub fn parse(text: &str) -> Hosts {
        let mut by_name: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let Some(Ok(addr)) = words.next().map(str::parse::<IpAddr>) else {
                continue;
            };
            for name in words {
                let addrs = by_name.entry(normalize(name)).or_default();
                if !addrs.contains(&addr) {
                    addrs.push(addr);
                }
            }
        }
        Hosts { by_name }
    }

    /// The addresses for `host` (case-insensitive, a trailing dot ignored), or `None` to go on to DNS.
    /// Localhost names always answer (see the module docs).
    pub fn lookup(&self, host: &str) -> Option<&[IpAddr]> {
        let key = normalize(host);
        if is_localhost(&key) {
            return Some(&LOCALHOST_ADDRS);
        }
        self.by_name.get(&key).map(Vec::as_slice)
    }

    /// How many distinct names the file defines.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether the file defines no names.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

fn normalize(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Whether `host` is `localhost` or a name under it (RFC 6761 §6.3), case-insensitively and with or
/// without a trailing dot.
///
/// ```
/// use spool_dns::is_localhost;
///
/// assert!(is_localhost("LocalHost."));
/// assert!(is_localhost("api.localhost"));
/// assert!(!is_localhost("localhost.example.com"));
/// assert!(!is_localhost("notlocalhost"));
/// ```
pub fn is_localhost(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).as_bytes();
    let tail = b".localhost";
    host.eq_ignore_ascii_case(b"localhost")
        || (host.len() > tail.len() && host[host.len() - tail.len()..].eq_ignore_ascii_case(tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn names_and_aliases_with_comments() {
        let hosts = Hosts::parse(
            "# static table\n10.1.1.1 db.lan db  # primary\n\n   10.1.1.2\tcache.lan\tcache\n#10.9.9.9 gone\n",
        );
        assert_eq!(hosts.lookup("db").unwrap(), ips(&["10.1.1.1"]));
        assert_eq!(hosts.lookup("DB.Lan.").unwrap(), ips(&["10.1.1.1"]));
        assert_eq!(hosts.lookup("cache").unwrap(), ips(&["10.1.1.2"]));
        assert_eq!(hosts.lookup("gone"), None);
        assert_eq!(hosts.lookup("primary"), None);
        assert_eq!(hosts.len(), 4);
    }

    #[test]
    fn lines_accumulate_in_order_without_duplicates() {
        let hosts = Hosts::parse("10.0.0.1 box\nfd00::1 box BOX\n10.0.0.1 box\n10.0.0.2 Box\n");
        assert_eq!(
            hosts.lookup("box").unwrap(),
            ips(&["10.0.0.1", "fd00::1", "10.0.0.2"])
        );
    }

    #[test]
    fn bad_lines_are_skipped() {
        let hosts = Hosts::parse(
            "not-an-ip name1\n300.1.1.1 name2\nfe80::1%eth0 name3\n10.0.0.3\n10.0.0.4 ok\n",
        );
        assert_eq!(hosts.len(), 1);
        assert_eq!(hosts.lookup("ok").unwrap(), ips(&["10.0.0.4"]));
    }

    #[test]
    fn localhost_is_always_loopback() {
        let empty = Hosts::default();
        assert!(empty.is_empty());
        for name in ["localhost", "LOCALHOST.", "a.b.localhost", "x.localhost."] {
            assert_eq!(
                empty.lookup(name).unwrap(),
                ips(&["127.0.0.1", "::1"]),
                "{name}"
            );
        }
        let odd = Hosts::parse("10.0.0.9 localhost web.localhost\n");
        assert_eq!(odd.lookup("localhost").unwrap(), ips(&["127.0.0.1", "::1"]));
        assert_eq!(
            odd.lookup("web.localhost").unwrap(),
            ips(&["127.0.0.1", "::1"])
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "([0-9a-f:.%]{0,20}[ \t]\\PC{0,30}\n){0,8}") {
            let hosts = Hosts::parse(&text);
            let _ = hosts.lookup(&text);
            let _ = is_localhost(&text);
        }
    }

    #[test]
    fn localhost_lookalikes_are_not_special() {
        assert!(!is_localhost("localhost.com"));
        assert!(!is_localhost("mylocalhost"));
        assert!(
            !is_localhost(".localhost"),
            "an empty label is not a name under localhost"
        );
        assert!(!is_localhost(""));
        assert_eq!(Hosts::default().lookup("localhost.example"), None);
    }
}
