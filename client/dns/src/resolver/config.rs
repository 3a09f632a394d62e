//! Resolver configuration: parsing `/etc/resolv.conf` text the way glibc does, the `--dns-server`
//! address syntax, and the search-list rule that turns one host name into the names actually queried.
//!
//! Parsing is lenient like the C library's, because a resolver that refuses to start over one odd line
//! is worse than one that skips it: unknown keywords, unparsable addresses and bad options are ignored.
//! Comments start with `#` or `;`, at the start of a line or after a value. When both `domain` and
//! `search` appear, the last one wins (as in glibc). Limits follow glibc too: at most 3 name servers,
//! `ndots` at most 15, `attempts` 1..=5, `timeout` 1..=30 seconds (glibc also turns 0 into 1 second of
//! waiting). The search list is capped at 6 domains (musl's and older glibc's limit), which also caps
//! how many queries one failing name can cost.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::time::Duration;

use crate::wire::name::{Name, NameError};

/// The DNS port.
pub const DNS_PORT: u16 = 53;
/// At most this many `nameserver` lines are used (glibc's MAXNS).
pub const MAX_NAMESERVERS: usize = 3;
/// At most this many search domains are used.
pub const MAX_SEARCH_DOMAINS: usize = 6;

/// Resolver settings.
///
/// ```
/// use spool_dns::ResolvConf;
///
/// let conf = ResolvConf::parse("nameserver 10.0.0.2\nsearch corp.example\noptions ndots:2 timeout:1\n");
/// assert_eq!(conf.nameservers, vec!["10.0.0.2:53".parse().unwrap()]);
/// assert_eq!(conf.ndots, 2);
/// let names: Vec<String> = conf.candidates("db").unwrap().iter().map(|n| n.to_string()).collect();
/// assert_eq!(names, ["db.corp.example.", "db."]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// Servers to ask, in order (1..=3; `127.0.0.1:53` when the file names none).
    pub nameservers: Vec<SocketAddr>,
    /// Domains appended to names with fewer than `ndots` dots (see [`ResolvConf::candidates`]).
    pub search: Vec<Name>,
    /// Dots a name needs to be tried as-is before the search list (default 1).
    pub ndots: u8,
    /// How long to wait for one server's reply (default 5 s).
    pub timeout: Duration,
    /// How many rounds over all servers before giving up (default 2).
    pub attempts: u8,
    /// `options rotate`: spread load by starting at a different server each query.
    pub rotate: bool,
}

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: vec![SocketAddr::new(IpAddr::from([127, 0, 0, 1]), DNS_PORT)],
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
            rotate: false,
        }
    }
}

impl ResolvConf {
    /// Parses resolv.conf text. Never fails: what cannot be understood is skipped (see module docs).
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf {
            nameservers: Vec::new(),
            ..ResolvConf::default()
        };
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    let addr = words.next().and_then(|w| parse_server_addr(w).ok());
                    if let Some(addr) = addr.filter(|_| conf.nameservers.len() < MAX_NAMESERVERS) {
                        conf.nameservers.push(addr);
                    }
                }
                Some("domain") => conf.search = search_domains(words.take(1)),
                Some("search") => conf.search = search_domains(words),
                Some("options") => words.for_each(|word| conf.apply_option(word)),
                _ => {}
            }
        }
        if conf.nameservers.is_empty() {
            conf.nameservers = ResolvConf::default().nameservers;
        }
        conf
    }

    /// Applies an `options` line's words, e.g. `"ndots:2 attempts:3 rotate"`. Also the format of the
    /// `RES_OPTIONS` environment variable, which glibc applies after the file.
    pub fn apply_options(&mut self, options: &str) {
        options
            .split_whitespace()
            .for_each(|word| self.apply_option(word));
    }

    fn apply_option(&mut self, word: &str) {
        let (key, value) = word.split_once(':').unwrap_or((word, ""));
        // Out-of-range numbers are clamped, not rejected: `ndots:99` means "as many as allowed".
        let number = || value.parse::<u64>().ok();
        match key {
            "ndots" => self.ndots = number().map_or(self.ndots, |n| n.min(15) as u8),
            "timeout" => {
                self.timeout =
                    number().map_or(self.timeout, |n| Duration::from_secs(n.clamp(1, 30)))
            }
            "attempts" => self.attempts = number().map_or(self.attempts, |n| n.clamp(1, 5) as u8),
            "rotate" if value.is_empty() => self.rotate = true,
            _ => {}
        }
    }

    /// The names to query for `host`, in order, stopping at the first that resolves (RFC 1535 and the
    /// resolv.conf(5) rule):
    ///
    /// * a trailing dot makes the name absolute: only the name itself;
    /// * with at least `ndots` dots: the name as given first, then with each search domain;
    /// * with fewer dots: each search domain first, then the name as given.
    ///
    /// Expansions that would exceed 255 octets are skipped. Fails only if `host` itself is not a valid
    /// name.
    pub fn candidates(&self, host: &str) -> Result<Vec<Name>, NameError> {
        let name = Name::from_ascii(host)?;
        if host.ends_with('.') {
            return Ok(vec![name]);
        }
        let expanded = self
            .search
            .iter()
            .filter_map(|domain| name.join(domain).ok());
        let dots = host.bytes().filter(|&b| b == b'.').count();
        let mut out = Vec::with_capacity(self.search.len() + 1);
        if dots >= usize::from(self.ndots) {
            out.push(name.clone());
            out.extend(expanded);
        } else {
            out.extend(expanded);
            out.push(name);
        }
        Ok(out)
    }
}

/// Search domains from the words of a `search` or `domain` line; invalid ones and the root are skipped.
fn search_domains<'a>(words: impl Iterator<Item = &'a str>) -> Vec<Name> {
    words
        .filter_map(|d| Name::from_ascii(d).ok())
        .filter(|d| !d.is_root())
        .take(MAX_SEARCH_DOMAINS)
        .collect()
}

/// A DNS server address that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddrError {
    input: String,
}

impl fmt::Display for ServerAddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid DNS server address {:?}: expected IPv4, IPv6, IPv4:PORT or [IPv6]:PORT (port not 0)",
            self.input
        )
    }
}

impl std::error::Error for ServerAddrError {}

/// Parses a DNS server address as accepted by `nameserver` lines and the `--dns-server` flag:
/// `192.0.2.1`, `2001:db8::1`, `fe80::1%2` (numeric zone), `192.0.2.1:5353` or `[2001:db8::1]:5353`.
/// The port defaults to 53. (glibc's resolv.conf takes no port; accepting one there is harmless.)
///
/// ```
/// use spool_dns::parse_server_addr;
///
/// assert_eq!(parse_server_addr("::1").unwrap(), "[::1]:53".parse().unwrap());
/// assert_eq!(parse_server_addr("127.0.0.1:5353").unwrap(), "127.0.0.1:5353".parse().unwrap());
/// assert!(parse_server_addr("dns.example").is_err());
/// ```
pub fn parse_server_addr(text: &str) -> Result<SocketAddr, ServerAddrError> {
    let err = || ServerAddrError {
        input: text.to_owned(),
    };
    let addr = if let Ok(addr) = text.parse::<SocketAddr>() {
        addr
    } else if let Ok(ip) = text.parse::<IpAddr>() {
        SocketAddr::new(ip, DNS_PORT)
    } else if let Some((ip, zone)) = text.split_once('%') {
        // A link-local IPv6 server with a zone; only numeric zones, since mapping an interface name to
        // its index needs a system call this parser should not make.
        let ip: Ipv6Addr = ip.parse().map_err(|_| err())?;
        let scope: u32 = zone.parse().map_err(|_| err())?;
        SocketAddr::V6(SocketAddrV6::new(ip, DNS_PORT, 0, scope))
    } else {
        return Err(err());
    };
    if addr.port() == 0 {
        return Err(err());
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[Name]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn empty_text_gives_defaults() {
        assert_eq!(ResolvConf::parse(""), ResolvConf::default());
        assert_eq!(
            ResolvConf::parse("# nothing\n\n; here\n"),
            ResolvConf::default()
        );
    }

    #[test]
    fn typical_file() {
        let conf = ResolvConf::parse(
            "# generated\nnameserver 192.0.2.1\nnameserver 2001:db8::53 # v6\n\
             search a.example b.example\noptions ndots:3 timeout:2 attempts:4 rotate\n",
        );
        assert_eq!(
            conf.nameservers,
            vec![
                "192.0.2.1:53".parse().unwrap(),
                "[2001:db8::53]:53".parse().unwrap()
            ]
        );
        assert_eq!(names(&conf.search), ["a.example.", "b.example."]);
        assert_eq!(
            (conf.ndots, conf.timeout, conf.attempts, conf.rotate),
            (3, Duration::from_secs(2), 4, true)
        );
    }

    #[test]
    fn at_most_three_servers_and_bad_ones_skipped() {
        let conf = ResolvConf::parse(
            "nameserver bogus\nnameserver\nnameserver 10.0.0.1\nnameserver 10.0.0.2\n\
             nameserver 10.0.0.3\nnameserver 10.0.0.4\n",
        );
        let ips: Vec<String> = conf
            .nameservers
            .iter()
            .map(|a| a.ip().to_string())
            .collect();
        assert_eq!(ips, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    }

    #[test]
    fn options_are_clamped_like_glibc() {
        let conf = ResolvConf::parse("options ndots:99 timeout:600 attempts:9\n");
        assert_eq!(
            (conf.ndots, conf.timeout, conf.attempts),
            (15, Duration::from_secs(30), 5)
        );
        let conf = ResolvConf::parse("options ndots:0 timeout:0 attempts:0\n");
        assert_eq!(
            (conf.ndots, conf.timeout, conf.attempts),
            (0, Duration::from_secs(1), 1)
        );
        // Garbage values leave the defaults alone.
        assert_eq!(
            ResolvConf::parse("options ndots:x timeout: attempts:-1 rotate:1\n"),
            ResolvConf::default()
        );
    }

    #[test]
    fn last_of_domain_and_search_wins() {
        assert_eq!(
            names(&ResolvConf::parse("search a.example\ndomain b.example\n").search),
            ["b.example."]
        );
        assert_eq!(
            names(&ResolvConf::parse("domain b.example\nsearch c.example d.example\n").search),
            ["c.example.", "d.example."]
        );
        assert!(ResolvConf::parse("search a.example\ndomain .\n")
            .search
            .is_empty());
    }

    #[test]
    fn search_list_is_capped_and_filtered() {
        let conf = ResolvConf::parse("search a b bad..name c d e f g h\n");
        assert_eq!(names(&conf.search), ["a.", "b.", "c.", "d.", "e.", "f."]);
    }

    #[test]
    fn candidate_order_depends_on_ndots() {
        let conf = ResolvConf::parse("search corp.example lab.example\noptions ndots:2\n");
        assert_eq!(
            names(&conf.candidates("db").unwrap()),
            ["db.corp.example.", "db.lab.example.", "db."]
        );
        assert_eq!(
            names(&conf.candidates("db.eu").unwrap()),
            ["db.eu.corp.example.", "db.eu.lab.example.", "db.eu."]
        );
        assert_eq!(
            names(&conf.candidates("a.b.c").unwrap()),
            ["a.b.c.", "a.b.c.corp.example.", "a.b.c.lab.example."]
        );
    }

    #[test]
    fn trailing_dot_means_absolute() {
        let conf = ResolvConf::parse("search corp.example\n");
        assert_eq!(names(&conf.candidates("db.").unwrap()), ["db."]);
    }

    #[test]
    fn no_search_list_means_name_only_and_bad_names_fail() {
        assert_eq!(
            names(&ResolvConf::default().candidates("Example.COM").unwrap()),
            ["example.com."]
        );
        assert_eq!(
            ResolvConf::default().candidates("a..b"),
            Err(NameError::EmptyLabel)
        );
    }

    #[test]
    fn too_long_expansions_are_skipped() {
        let long = vec!["a".repeat(63); 3].join(".");
        let conf = ResolvConf::parse(&format!("search {long} short\noptions ndots:5\n"));
        assert_eq!(
            names(&conf.candidates("x").unwrap()),
            [format!("x.{long}."), "x.short.".into(), "x.".into()]
        );
        let host = vec!["b".repeat(63); 3].join(".");
        assert_eq!(
            conf.candidates(&host).unwrap().len(),
            2,
            "the long domain cannot be appended"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(
            text in "((nameserver|search|domain|options|#) ?[ -~\t]{0,40}\n){0,8}",
            host in "[a-z.]{0,80}",
        ) {
            let conf = ResolvConf::parse(&text);
            proptest::prop_assert!((1..=MAX_NAMESERVERS).contains(&conf.nameservers.len()));
            let _ = conf.candidates(&host);
            let _ = parse_server_addr(&text);
        }
    }

    #[test]
    fn server_address_forms() {
        let ok = |s: &str| parse_server_addr(s).unwrap();
        assert_eq!(ok("192.0.2.1"), "192.0.2.1:53".parse().unwrap());
        assert_eq!(ok("192.0.2.1:5353"), "192.0.2.1:5353".parse().unwrap());
        assert_eq!(ok("2001:db8::1"), "[2001:db8::1]:53".parse().unwrap());
        assert_eq!(
            ok("[2001:db8::1]:5353"),
            "[2001:db8::1]:5353".parse().unwrap()
        );
        assert_eq!(
            ok("fe80::1%3"),
            SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 53, 0, 3))
        );
        for bad in [
            "",
            "host.example",
            "192.0.2.1:0",
            "192.0.2.1:99999",
            "[::1]",
            "fe80::1%eth0",
            "1.2.3",
        ] {
            let e = parse_server_addr(bad).unwrap_err();
            assert!(
                e.to_string().contains("invalid DNS server address"),
                "{bad}"
            );
        }
    }
}
