//! Request encoding: turns a [`RequestHead`] into HTTP/1.1 request-head bytes.
//!
//! The encoder owns the framing headers so the request on the wire always matches what the driver will
//! write: `Host` (from the URI unless the caller set one), `Content-Length` (from `body_len`, and `0` for
//! POST/PUT/PATCH without a body, because servers otherwise wait for a body or answer 411) or
//! `Transfer-Encoding: chunked` for a body of unknown length, and
//! `User-Agent` (unless the caller set one). Nothing is written before [`validate`](super::validate())
//! (`validate.rs`) has passed the whole head: a CR, LF or NUL in the target or a header would let a
//! caller-controlled string inject headers or a second request.

use http::header::{ACCEPT_ENCODING, CONNECTION, CONTENT_LENGTH, HOST, RANGE, USER_AGENT};
use http::{Method, Uri};

use super::error::ProtoError;
use super::request_head::{BodyLen, RequestHead};
use super::syntax::has_token;
use super::validate::{check_value, invalid, validate};

/// Facts about an encoded request that the response decoder needs later.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentRequest {
    /// Responses to HEAD never have a body, whatever their headers say (RFC 9112 §6.3).
    pub head: bool,
    /// The request carried `Connection: close`, so the connection ends with this response.
    pub close: bool,
}

/// How requests differ on a connection to a forward proxy (RFC 9112 §3.2.2): the target is the
/// absolute URI (without its user info), and the proxy's credentials, if any, go along as
/// `Proxy-Authorization`. Only plain-http requests use it; https goes through a CONNECT tunnel
/// (`tunnel.rs`) and then looks like any direct request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyForm {
    /// The `Proxy-Authorization` value, e.g. `Basic dXNlcjpwdw==`.
    pub authorization: Option<http::HeaderValue>,
}

/// Appends the request head to `dst`; on error `dst` is left as it was.
pub(crate) fn encode(
    req: &RequestHead<'_>,
    proxy: Option<&ProxyForm>,
    dst: &mut Vec<u8>,
) -> Result<SentRequest, ProtoError> {
    let start = dst.len();
    let result = write_head(req, proxy, dst);
    if result.is_err() {
        dst.truncate(start);
    }
    result
}

fn write_head(
    req: &RequestHead<'_>,
    proxy: Option<&ProxyForm>,
    dst: &mut Vec<u8>,
) -> Result<SentRequest, ProtoError> {
    // Every rule is checked before the first byte; what follows only writes.
    validate(req)?;
    let method = req.method.as_str();

    dst.reserve(128 + req.headers.len() * 32);
    dst.extend_from_slice(method.as_bytes());
    dst.push(b' ');
    if proxy.is_some() {
        write_absolute_prefix(req.uri, dst)?;
    }
    write_target(req.uri, dst);
    dst.extend_from_slice(b" HTTP/1.1\r\n");

    match req.headers.get(HOST) {
        None => write_host(req.uri, dst),
        // RFC 9110 §7.2: Host goes first, so write the caller's before the other headers.
        Some(value) => write_header(b"Host", value.as_bytes(), dst),
    }

    if let Some(value) = proxy.and_then(|p| p.authorization.as_ref()) {
        check_value("Proxy-Authorization", value.as_bytes())?;
        write_header(b"Proxy-Authorization", value.as_bytes(), dst);
    }

    for (name, value) in req.headers {
        if name != HOST {
            write_header(name.as_str().as_bytes(), value.as_bytes(), dst);
        }
    }

    if let Some(agent) = req.user_agent {
        if !req.headers.contains_key(USER_AGENT) {
            write_header(b"User-Agent", agent.as_bytes(), dst);
        }
    }

    if let Some(codings) = req.accept_encoding {
        if !req.headers.contains_key(ACCEPT_ENCODING) && !req.headers.contains_key(RANGE) {
            write_header(b"Accept-Encoding", codings.as_bytes(), dst);
        }
    }

    // Announce the body length unless the caller already wrote the header (`validate` made sure
    // it is equal).
    let length = match req.body_len {
        BodyLen::Exactly(n) => Some(n),
        BodyLen::Empty if method_expects_body(req.method) => Some(0),
        BodyLen::Empty => None,
        BodyLen::Chunked => {
            // `validate` refused a caller's Transfer-Encoding and Content-Length for this body.
            dst.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            None
        }
    };
    if let (Some(n), false) = (length, req.headers.contains_key(CONTENT_LENGTH)) {
        dst.extend_from_slice(b"Content-Length: ");
        write_decimal(n, dst);
        dst.extend_from_slice(b"\r\n");
    }
    dst.extend_from_slice(b"\r\n");

    let close = req
        .headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| has_token(v.as_bytes(), "close"));
    Ok(SentRequest {
        head: req.method == Method::HEAD,
        close,
    })
}

/// `name: value\r\n`, for a value [`validate`] has already checked.
fn write_header(name: &[u8], value: &[u8], dst: &mut Vec<u8>) {
    dst.extend_from_slice(name);
    dst.extend_from_slice(b": ");
    dst.extend_from_slice(value);
    dst.extend_from_slice(b"\r\n");
}

/// Methods whose request content has a defined meaning, so a server expects a length even when it is zero
/// (RFC 9110 §8.6: a user agent SHOULD send Content-Length for them).
fn method_expects_body(method: &Method) -> bool {
    *method == Method::POST || *method == Method::PUT || *method == Method::PATCH
}

/// Writes `scheme://host[:port]` of the absolute-form target a proxy needs, without user info (the
/// path follows from [`write_target`]).
fn write_absolute_prefix(uri: &Uri, dst: &mut Vec<u8>) -> Result<(), ProtoError> {
    let scheme = uri.scheme_str().unwrap_or("http");
    let (host, port) = match uri.authority() {
        Some(a) => split_authority(a.as_str()),
        None => ("", None),
    };
    if host.is_empty() {
        return Err(invalid("a request through a proxy needs an absolute URL"));
    }
    dst.extend_from_slice(scheme.as_bytes());
    dst.extend_from_slice(b"://");
    dst.extend_from_slice(host.as_bytes());
    if let Some(port) = port {
        dst.push(b':');
        write_decimal(u64::from(port), dst);
    }
    Ok(())
}

/// Writes the origin-form request-target: path and query, `/` when the path is empty.
fn write_target(uri: &Uri, dst: &mut Vec<u8>) {
    let target = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("");
    let end = target
        .bytes()
        .position(|b| b == b'#')
        .unwrap_or(target.len());
    let target = &target[..end];
    if !target.starts_with('/') && target != "*" {
        dst.push(b'/');
    }
    dst.extend_from_slice(target.as_bytes());
}

/// Writes `Host: host[:port]` from the URI (which [`validate`] made sure has a host); the port is
/// left out when it is the scheme's default.
fn write_host(uri: &Uri, dst: &mut Vec<u8>) {
    let (host, port) = match uri.authority() {
        Some(a) => split_authority(a.as_str()),
        None => ("", None),
    };
    dst.extend_from_slice(b"Host: ");
    // `Uri::host` keeps the brackets of an IPv6 literal, but add them if a caller built one without.
    let bare_ipv6 = host.contains(':') && !host.starts_with('[');
    if bare_ipv6 {
        dst.push(b'[');
    }
    dst.extend_from_slice(host.as_bytes());
    if bare_ipv6 {
        dst.push(b']');
    }
    if let Some(port) = port {
        let default = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("ws") => Some(80),
            Some(s) if s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("wss") => {
                Some(443)
            }
            _ => None,
        };
        if default != Some(port) {
            dst.push(b':');
            write_decimal(u64::from(port), dst);
        }
    }
    dst.extend_from_slice(b"\r\n");
}

/// The host (IPv6 literals with their brackets) and port of a URI authority, the same as
/// [`Uri::host`] and [`Uri::port_u16`] give, in one pass over bytes: this runs for every request
/// (and `http`'s own versions go through `char` searches).
///
/// `user:pw@host:port` → `("host", Some(port))`; a port that is not a `u16` is `None`, as in `http`.
pub(crate) fn split_authority(authority: &str) -> (&str, Option<u16>) {
    // One forward pass: where the host starts (after the last '@'), where it ends (its first ':',
    // or just after its first ']' for an IPv6 literal), and the last ':' (before the port).
    let bytes = authority.as_bytes();
    let mut start = 0;
    let mut bracketed = bytes.first() == Some(&b'[');
    let mut host_end = None;
    let mut last_colon = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'@' => {
                start = i + 1;
                bracketed = bytes.get(start) == Some(&b'[');
                host_end = None;
            }
            b':' => {
                last_colon = Some(i);
                if host_end.is_none() && !bracketed {
                    host_end = Some(i);
                }
            }
            b']' if host_end.is_none() && bracketed => host_end = Some(i + 1),
            _ => {}
        }
    }
    let host = &authority[start..host_end.unwrap_or(bytes.len())];
    let port = last_colon.and_then(|colon| authority[colon + 1..].parse::<u16>().ok());
    (host, port)
}

/// Decimal digits without the `fmt` machinery: this runs for every request.
pub(super) fn write_decimal(n: u64, dst: &mut Vec<u8>) {
    dst.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_split_matches_the_http_crate() {
        for url in [
            "http://a/",
            "http://a:8080/",
            "http://a:/",
            "http://user:pw@a:81/",
            "http://user@a/",
            "http://us:er@[::1]/",
            "http://[::1]:9/",
            "http://[fe80::1%25eth0]:9/",
            "http://a:65535/",
            "http://a:99999/",
            "https://Example.COM:443/x",
        ] {
            let uri: Uri = url.parse().unwrap();
            let authority = uri.authority().unwrap().as_str();
            assert_eq!(
                split_authority(authority),
                (uri.host().unwrap(), uri.port_u16()),
                "{url}"
            );
        }
    }

    #[test]
    fn decimal_formatting() {
        for n in [0u64, 7, 10, 99, 12345, u64::MAX] {
            let mut v = Vec::new();
            write_decimal(n, &mut v);
            assert_eq!(v, n.to_string().as_bytes());
        }
    }
}
