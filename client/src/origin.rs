//! [`Origin`]: scheme, host and port of a URL — what a connection is bound to, what keys the pool,
//! and what decides whether credentials may follow a redirect.

use std::fmt;

use http::Uri;

use crate::proto::split_authority;

/// Where a request goes: scheme, host and port. Two URLs with the same origin may share connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    /// `https` rather than `http`.
    pub https: bool,
    /// The host as written in the URL (an IPv6 address keeps its brackets).
    pub host: &'a str,
    /// The port, the scheme's default filled in.
    pub port: u16,
}

impl<'a> Origin<'a> {
    /// The origin of a URL that passed [`check`].
    pub(crate) fn of(uri: &'a Uri) -> Origin<'a> {
        let https = uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"));
        let (host, port) = match uri.authority() {
            Some(a) => split_authority(a.as_str()),
            None => ("", None),
        };
        Origin {
            https,
            host,
            port: port.unwrap_or(if https { 443 } else { 80 }),
        }
    }

    /// Whether both name the same scheme, host (case-insensitively) and port.
    pub(crate) fn same_as(&self, other: &Origin<'_>) -> bool {
        self.https == other.https
            && self.port == other.port
            && self.host.eq_ignore_ascii_case(other.host)
    }

    /// The host without IPv6 brackets, as a resolver wants it.
    pub(crate) fn bare_host(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }

    /// Writes the pool key `scheme://host:port` (host lower-cased) into `out`, replacing its contents.
    /// A reused `String` keeps the lookup free of allocation.
    pub(crate) fn write_key(&self, out: &mut String) {
        out.clear();
        out.push_str(if self.https { "https://" } else { "http://" });
        let at = out.len();
        out.push_str(self.host);
        out[at..].make_ascii_lowercase();
        out.push(':');
        let mut digits = [0u8; 5];
        let mut n = self.port;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend(digits[i..].iter().map(|&d| char::from(d)));
    }
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let a: Uri = "http://Example.com/x".parse().unwrap();
        let b: Uri = "http://example.COM:80/y".parse().unwrap();
        let c: Uri = "https://example.com/".parse().unwrap();
        let v6: Uri = "http://[::1]:81/".parse().unwrap();
        assert!(Origin::of(&a).same_as(&Origin::of(&b)));
        assert!(!Origin::of(&a).same_as(&Origin::of(&c)));
        assert_eq!(Origin::of(&c).port, 443);
        let mut key = String::new();
        Origin::of(&a).write_key(&mut key);
        assert_eq!(key, "http://example.com:80");
        Origin::of(&v6).write_key(&mut key);
        assert_eq!(key, "http://[::1]:81");
        assert_eq!(Origin::of(&v6).bare_host(), "::1");
    }
}
