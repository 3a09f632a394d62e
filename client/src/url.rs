//! URL checks: what a URL must look like before any byte is sent, and the origin (scheme, host,
//! port) that keys the connection pool.
//!
//! URLs are [`http::Uri`]s, the type Rust HTTP users already know. Its parser is permissive in places
//! where a client must not be (it accepts `http://:80/`, ports above 65535, any scheme) and strict in
//! places where a client should help (it refuses `{`, `|` or `"` in a path that a browser would
//! percent-encode). So every URL passes through here first:
//!
//! - the scheme must be `http` or `https` (the error names the scheme it got);
//! - a space or control character (CR, LF, NUL, DEL, ...) is an error: it could split the request
//!   line. In a redirect's `Location`, spaces are percent-encoded instead, as browsers do;
//! - the host must be non-empty and ASCII (internationalized names must be given in `xn--` form);
//! - a port must be 1 to 65535 (an empty port means the scheme's default);
//! - the fragment (`#...`) is dropped: it is never sent;
//! - non-ASCII bytes and the characters RFC 3986 does not allow in a path or query
//!   (`"` `<` `>` `\` `^` `` ` `` `{` `|` `}`) are percent-encoded.

use bytes::Bytes;
use http::Uri;

use crate::error::{Error, ErrorKind};

/// Something that can be turned into a checked request URL: `&str`, `String`, or an [`http::Uri`].
///
/// Parsing errors are reported when the request is sent, as [`ErrorKind::InvalidUrl`].
///
/// ```
/// use spool_client::IntoUrl;
/// assert!("http://example.com/".into_url().is_ok());
/// assert!("ftp://example.com/".into_url().is_err());
/// ```
pub trait IntoUrl {
    /// Checks and converts the URL.
    fn into_url(self) -> Result<Uri, Error>;
}

impl IntoUrl for &str {
    fn into_url(self) -> Result<Uri, Error> {
        parse(self)
    }
}

impl IntoUrl for String {
    fn into_url(self) -> Result<Uri, Error> {
        parse(&self)
    }
}

impl IntoUrl for &String {
    fn into_url(self) -> Result<Uri, Error> {
        parse(self)
    }
}

impl IntoUrl for Uri {
    fn into_url(self) -> Result<Uri, Error> {
        check(self)
    }
}

impl IntoUrl for &Uri {
    fn into_url(self) -> Result<Uri, Error> {
        check(self.clone())
    }
}

/// How to treat a space in the URL.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spaces {
    /// A caller's URL: a space is a mistake worth reporting.
    Refuse,
    /// A server's `Location`: browsers encode spaces, so do we.
    Encode,
}

/// Checks a caller's URL (see the module docs for the rules).
pub(crate) fn parse(input: &str) -> Result<Uri, Error> {
    parse_with(input, Spaces::Refuse)
}

/// Checks an absolute URL taken from a redirect's `Location`: like [`parse`], but spaces are encoded.
pub(crate) fn parse_location(input: &str) -> Result<Uri, Error> {
    parse_with(input, Spaces::Encode)
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidUrl, message)
}

fn parse_with(input: &str, spaces: Spaces) -> Result<Uri, Error> {
    // One pass over the bytes for what is never allowed (this runs for every URL of a long list).
    let refuse_space = spaces == Spaces::Refuse;
    let bad = input
        .bytes()
        .position(|b| b < 0x20 || b == 0x7f || (b == b' ' && refuse_space));
    if let Some(i) = bad {
        let b = input.as_bytes()[i];
        return Err(invalid(if b == b' ' {
            format!("URL {input:?} contains a space at byte {i} (encode it as %20)")
        } else {
            format!("URL {input:?} contains the control character 0x{b:02x} at byte {i}")
        }));
    }
    let scheme = split_scheme(input).ok_or_else(|| {
        invalid(format!(
            "URL {input:?} has no scheme: it must start with http:// or https://"
        ))
    })?;
    check_scheme(scheme)?;
    let rest = &input[scheme.len() + 1..];
    let Some(after) = rest.strip_prefix("//") else {
        return Err(invalid(format!(
            "URL {input:?} has no host: it must look like {scheme}://host/path"
        )));
    };
    let authority_end = after
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(after.len());
    check_authority(&after[..authority_end])?;

    let tail = &after[authority_end..];
    let fragment = tail.bytes().position(|b| b == b'#');
    let tail = &tail[..fragment.unwrap_or(tail.len())];
    let needs_encoding = tail.bytes().any(|b| must_encode(b, spaces));
    let uri = if fragment.is_none() && !needs_encoding {
        Uri::from_maybe_shared(shared_copy(input))
    } else {
        let mut s = String::with_capacity(input.len() + 16);
        s.push_str(&input[..scheme.len() + 3 + authority_end]);
        for b in tail.bytes() {
            if must_encode(b, spaces) {
                push_percent(&mut s, b);
            } else {
                s.push(char::from(b));
            }
        }
        Uri::from_maybe_shared(Bytes::from(s))
    };
    // Scheme and authority were checked above, on the same text the parser saw.
    uri.map_err(|e| invalid(format!("URL {input:?} cannot be parsed: {e}")))
}

/// URLs up to this many bytes are parsed from a [`shared_copy`] that costs one allocation.
const INLINE_URL: usize = 112;

/// A short URL's bytes, stored inline: the owner of a [`shared_copy`].
struct InlineUrl {
    len: u8,
    bytes: [u8; INLINE_URL],
}

impl AsRef<[u8]> for InlineUrl {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// The URL's bytes as a `Bytes` for [`Uri`] to parse and keep.
///
/// `Uri` splits its bytes into scheme, authority and path, each sharing them. `Uri::try_from(&str)`
/// copies the text into a plain buffer and then allocates again for a reference count when it first
/// splits it: two allocations for every URL. A short URL (the usual case) instead goes inline into
/// one allocation that carries its own reference count, so the splits allocate nothing.
fn shared_copy(input: &str) -> Bytes {
    match u8::try_from(input.len()) {
        Ok(len) if input.len() <= INLINE_URL => {
            let mut bytes = [0u8; INLINE_URL];
            bytes[..input.len()].copy_from_slice(input.as_bytes());
            Bytes::from_owner(InlineUrl { len, bytes })
        }
        _ => Bytes::copy_from_slice(input.as_bytes()),
    }
}

/// The scheme, if `input` starts with one followed by `:` (RFC 3986 §3.1).
fn split_scheme(input: &str) -> Option<&str> {
    let colon = input.bytes().position(|b| b == b':')?;
    let scheme = &input[..colon];
    let mut bytes = scheme.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    (first_ok && rest_ok).then_some(scheme)
}

fn check_scheme(scheme: &str) -> Result<(), Error> {
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        Ok(())
    } else {
        Err(invalid(format!(
            "unsupported URL scheme {scheme:?}: only http and https are supported"
        )))
    }
}

/// Checks `[userinfo@]host[:port]`.
fn check_authority(authority: &str) -> Result<(), Error> {
    if !authority.is_ascii() {
        return Err(invalid(format!(
            "host {authority:?} is not ASCII: give internationalized names in their xn-- form"
        )));
    }
    let host_port = match authority.bytes().rposition(|b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let (host, port) = if host_port.starts_with('[') {
        match host_port.bytes().position(|b| b == b']') {
            Some(end) => {
                let after = &host_port[end + 1..];
                let port = match after.strip_prefix(':') {
                    Some(p) => Some(p),
                    None if after.is_empty() => None,
                    None => {
                        return Err(invalid(format!(
                            "host {host_port:?} has characters after the IPv6 address"
                        )))
                    }
                };
                if host_port[..end].contains('%') {
                    return Err(invalid(format!(
                        "IPv6 zone ids ({:?}) are not supported: spool cannot choose the network \
                         interface of a link-local address; use a global address or a host name",
                        &host_port[..=end]
                    )));
                }
                (&host_port[..=end], port)
            }
            None => return Err(invalid(format!("IPv6 host {host_port:?} lacks its ']'"))),
        }
    } else {
        match host_port.bytes().position(|b| b == b':') {
            Some(colon) => (&host_port[..colon], Some(&host_port[colon + 1..])),
            None => (host_port, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(invalid(format!(
            "URL authority {authority:?} has an empty host"
        )));
    }
    if let Some(port) = port {
        let ok = port.is_empty()
            || (port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && matches!(port.parse::<u32>(), Ok(1..=65535)));
        if !ok {
            return Err(invalid(format!(
                "port {port:?} is not a number from 1 to 65535"
            )));
        }
    }
    Ok(())
}

/// Whether `b` must be percent-encoded in a path or query.
fn must_encode(b: u8, spaces: Spaces) -> bool {
    b >= 0x80
        || matches!(
            b,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        )
        || (b == b' ' && spaces == Spaces::Encode)
}

fn push_percent(s: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    s.push('%');
    s.push(char::from(HEX[usize::from(b >> 4)]));
    s.push(char::from(HEX[usize::from(b & 15)]));
}

/// Checks a parsed URI against the same rules (for callers who pass an [`http::Uri`]).
pub(crate) fn check(uri: Uri) -> Result<Uri, Error> {
    let Some(scheme) = uri.scheme_str() else {
        return Err(invalid(format!(
            "URL {uri} has no scheme: it must start with http:// or https://"
        )));
    };
    check_scheme(scheme)?;
    let Some(authority) = uri.authority() else {
        return Err(invalid(format!("URL {uri} has no host")));
    };
    check_authority(authority.as_str())?;
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_string()
    }

    fn err(s: &str) -> String {
        let e = parse(s).expect_err(s);
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{s}");
        e.to_string()
    }

    #[test]
    fn accepts_ordinary_urls() {
        assert_eq!(ok("http://example.com/a?b=c"), "http://example.com/a?b=c");
        assert_eq!(ok("HTTPS://Example.com:8443"), "https://Example.com:8443/");
        assert_eq!(ok("http://[::1]:8080/x"), "http://[::1]:8080/x");
        assert_eq!(ok("http://a:/x"), "http://a:/x");
        assert_eq!(ok("http://a/x#frag"), "http://a/x");
    }

    #[test]
    fn short_and_long_urls_parse_alike() {
        let long = format!("http://example.com/{}?q=1", "x".repeat(INLINE_URL));
        for s in ["http://a/", "http://a:8/p?q", long.as_str()] {
            let uri = parse(s).unwrap();
            assert_eq!(uri, Uri::try_from(s).unwrap(), "{s}");
            assert_eq!(uri.to_string(), s);
        }
        // Exactly at the inline limit, and one past it.
        for n in [INLINE_URL, INLINE_URL + 1] {
            let s = format!("http://a/{}", "y".repeat(n - "http://a/".len()));
            assert_eq!(parse(&s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn encodes_what_a_path_cannot_hold() {
        assert_eq!(ok("http://a/é{x}"), "http://a/%C3%A9%7Bx%7D");
        assert_eq!(ok("http://a/?q=\"x\"|y"), "http://a/?q=%22x%22%7Cy");
    }

    #[test]
    fn refuses_what_could_break_a_request() {
        assert!(err("ftp://a/").contains("\"ftp\""));
        assert!(err("http://a/b c").contains("space"));
        assert!(err("http://a/b\r\nX: y").contains("0x0d"));
        assert!(err("http://a/\0").contains("0x00"));
        assert!(err("http://a/\x7f").contains("0x7f"));
        assert!(err("http://:80/").contains("empty host"));
        assert!(err("http:///x").contains("empty host"));
        assert!(err("http:/x").contains("no host"));
        assert!(err("example.com/x").contains("no scheme"));
        assert!(err("http://a:99999/").contains("99999"));
        assert!(err("http://a:0/").contains("port"));
        assert!(err("http://a:x/").contains("port"));
        assert!(err("http://bücher.de/").contains("xn--"));
        assert!(err("http://[::1/").contains("]"));
        let zone = err("http://[fe80::1%25lo]:8080/");
        assert!(
            zone.contains("zone ids (\"[fe80::1%25lo]\") are not supported"),
            "{zone}"
        );
    }

    #[test]
    fn location_spaces_are_encoded() {
        assert_eq!(
            parse_location("http://a/b c").unwrap().to_string(),
            "http://a/b%20c"
        );
    }

    #[test]
    fn checks_uris_too() {
        let uri: Uri = "ftp://a/".parse().unwrap();
        assert!(check(uri).is_err());
        let uri: Uri = "/just/a/path".parse().unwrap();
        assert!(check(uri).is_err());
        let uri: Uri = "http://a:99999/".parse().unwrap();
        assert!(check(uri).is_err());
    }
}
