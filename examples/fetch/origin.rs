//! A URL's origin (`scheme://host:port`, lower-cased, default port filled in): the key under which the
//! scheduler counts requests per host, matching how a connection pool keys its connections.
//!
//! This is not a URL parser: it only finds the origin, and says "don't know" for anything odd. The client
//! parses the URL for real and rejects what is invalid, so a URL without a recognisable origin is simply
//! not subject to the per-host limit (and fails in the client a moment later).

/// Write the origin of `url` into `out` (cleared first); `false` when there is no recognisable
/// `http`/`https` origin.
///
/// ```ignore
/// let mut key = String::new();
/// assert!(write_origin("HTTP://User@Example.COM/x?y", &mut key));
/// assert_eq!(key, "http://example.com:80");
/// ```
pub fn write_origin(url: &str, out: &mut String) -> bool {
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
mod tests {
    use super::*;

    fn origin(url: &str) -> Option<String> {
        let mut s = String::from("junk");
        write_origin(url, &mut s).then_some(s)
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
