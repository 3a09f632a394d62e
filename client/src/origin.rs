//! [`Origin`]: scheme, host and port of a URL — what a connection is bound to, what keys the pool,
//! and what decides whether credentials may follow a redirect.

use std::fmt;

use http::Uri;

use crate::proto::split_authority;
use crate::proxy::ProxyTarget;

/// Where a request goes: scheme, host and port. Two URLs with the same origin may share connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    /// `https` rather than `http`.
    pub https: bool,
    /// The host as written in the URL (an IPv6 address keeps its brackets).
    pub host: &'a str,
    /// The port, the scheme's default filled in.
    pub port: u16,
    /// The forward proxy this origin is reached through, if any (part of the pool key).
    pub via: Option<&'a ProxyTarget>,
}

impl<'a> Origin<'a> {
    /// The origin of a URL that passed [`check`](crate::url::check).
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
            via: None,
        }
    }

    /// The same origin, reached through `proxy` (or directly).
    pub(crate) fn through(self, proxy: Option<&'a ProxyTarget>) -> Origin<'a> {
        Origin { via: proxy, ..self }
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
        if let Some(proxy) = self.via {
            out.push_str(" via ");
            out.push_str(&proxy.shown);
        }
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

/// Write the origin of `url` into `out` (cleared first); `false` when there is no recognisable
/// `http`/`https` origin.
///
/// This is not a URL parser: it finds the origin of a URL given as text, without parsing the rest, and
/// says "don't know" (`false`) for anything odd. It gives the same key the pool uses
/// (`scheme://host:port`, host lower-cased, default port filled in), so a scheduler above the client
/// (such as `fetch`'s per-host limit) can count requests per host exactly as the pool counts
/// connections, at the cost of a few byte searches per URL.
///
/// ```
/// let mut key = String::new();
/// assert!(spool_client::write_origin_key("HTTP://User@Example.COM/x?y", &mut key));
/// assert_eq!(key, "http://example.com:80");
/// ```
pub fn write_origin_key(url: &str, out: &mut String) -> bool {
    out.clear();
    // Byte searches throughout: this runs for every input line.
    let Some(colon) = url.bytes().position(|b| b == b':') else {
        return false;
    };
    let (scheme, rest) = (&url[..colon], &url[colon + 1..]);
    let Some(rest) = rest.strip_prefix("//") else {
        return false;
    };
    let default_port = if scheme.eq_ignore_ascii_case("http") {
        "80"
    } else if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else {
        return false;
    };
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = match authority.bytes().rposition(|b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let bracketed = host_port.starts_with('[');
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let Some(close) = v6.bytes().position(|b| b == b']') else {
            return false;
        };
        let (inside, after) = (&v6[..close], &v6[close + 1..]);
        let port = match after {
            "" => "",
            p => match p.strip_prefix(':') {
                Some(p) => p,
                None => return false,
            },
        };
        (inside, port)
    } else {
        match host_port.bytes().position(|b| b == b':') {
            Some(colon) => (&host_port[..colon], &host_port[colon + 1..]),
            None => (host_port, ""),
        }
    };
    if host.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let port = match port.trim_start_matches('0') {
        "" if port.is_empty() => default_port,
        "" => "0",
        p => p,
    };
    out.push_str(if default_port == "80" {
        "http://"
    } else {
        "https://"
    });
    if bracketed {
        out.push('[');
    }
    let at = out.len();
    out.push_str(host);
    out[at..].make_ascii_lowercase();
    if bracketed {
        out.push(']');
    }
    out.push(':');
    out.push_str(port);
    true
}

#[cfg(test)]
mod key_tests {
    use super::*;

    fn origin(url: &str) -> Option<String> {
        let mut s = String::from("junk");
        write_origin_key(url, &mut s).then_some(s)
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("http://a.example/x").as_deref(),
            Some("http://a.example:80")
        );
        assert_eq!(
            origin("HTTP://User:pw@Example.COM?q").as_deref(),
            Some("http://example.com:80")
        );
        assert_eq!(
            origin("https://h:8443#f").as_deref(),
            Some("https://h:8443")
        );
        assert_eq!(origin("https://h").as_deref(), Some("https://h:443"));
        assert_eq!(origin("http://h:/").as_deref(), Some("http://h:80"));
        assert_eq!(origin("http://h:0080/").as_deref(), Some("http://h:80"));
        assert_eq!(
            origin("http://[::1]:8080/").as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(origin("http://[::1]/").as_deref(), Some("http://[::1]:80"));
    }

    #[test]
    fn unknown() {
        for url in [
            "",
            "a.example/x",
            "ftp://h/",
            "http:///x",
            "http://h:x/",
            "http://[::1/",
            "http://[::1]x/",
        ] {
            assert_eq!(origin(url), None, "{url}");
        }
    }
}
