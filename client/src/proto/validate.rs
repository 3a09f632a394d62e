//! [`validate()`]: every rule a request head must pass before it may go on the wire, in one place.
//!
//! The encoder (`request.rs`) runs it before writing a byte, and the client runs the same function
//! when a request is sent, before any connection is opened for it: a request must never fail
//! halfway through, after a socket was spent on it. Since both call this one function, the rules
//! cannot drift apart.
//!
//! The rules: no `CONNECT` (tunnels go through [`encode_connect`](super::encode_connect)); the method
//! and header names are tokens (RFC 9110 §5.1, §9.1); no CR, LF or NUL in the target or in any value,
//! which would let a caller-controlled string inject headers or a second request (RFC 9112 §2.2);
//! at most one `Host`; no caller `Transfer-Encoding` (the encoder writes it for a chunked body);
//! a caller's `Content-Length` is one decimal number equal to the body length, and absent when
//! the body is chunked.

use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{Method, Uri};

use super::error::{quote, ProtoError, ProtoErrorKind};
use super::request_head::{BodyLen, RequestHead};
use super::syntax::{is_tchar, parse_content_length_value};

/// Checks `req` against every rule the encoder enforces, without writing anything.
///
/// [`ClientConn::encode_request`](super::ClientConn::encode_request) calls it first, so a caller
/// only needs it to refuse a request early (before connecting). Errors are
/// [`InvalidRequest`](ProtoErrorKind::InvalidRequest) and name what was wrong.
///
/// ```
/// use spool_client::proto::{validate, BodyLen, RequestHead};
/// let uri: http::Uri = "http://example.com/".parse().unwrap();
/// let mut headers = http::HeaderMap::new();
/// headers.insert("content-length", http::HeaderValue::from_static("10"));
/// let head = RequestHead { method: &http::Method::POST, uri: &uri, headers: &headers,
///     body_len: BodyLen::Exactly(5), user_agent: None, accept_encoding: None };
/// let err = validate(&head).unwrap_err();
/// assert!(err.to_string().contains("body length is 5"), "{err}");
/// ```
pub fn validate(req: &RequestHead<'_>) -> Result<(), ProtoError> {
    if req.method == Method::CONNECT {
        return Err(invalid("CONNECT (tunnelling) is not supported"));
    }
    check_token("method", req.method.as_str().as_bytes())?;
    check_target(req)?;
    if req.headers.get_all(HOST).iter().nth(1).is_some() {
        return Err(invalid("more than one Host header"));
    }
    if req.headers.contains_key(TRANSFER_ENCODING) {
        return Err(invalid(
            "a Transfer-Encoding request header is not supported (give body_len: BodyLen::Chunked instead)",
        ));
    }
    check_content_length(req)?;
    for (name, value) in req.headers {
        // `HeaderName` only holds tokens, but say so here rather than trust every constructor.
        check_token("header name", name.as_str().as_bytes())?;
        check_value(name.as_str(), value.as_bytes())?;
    }
    if let Some(agent) = req.user_agent {
        check_value("User-Agent", agent.as_bytes())?;
    }
    if let Some(codings) = req.accept_encoding {
        check_value("Accept-Encoding", codings.as_bytes())?;
    }
    Ok(())
}

/// The path and query must hold no space or control byte (`Uri` refuses them when parsing, but a
/// `Uri` can come from elsewhere), and without a `Host` header the URI must name a host (the
/// encoder writes it as `Host`, and a proxy's absolute-form target). The host itself needs no
/// byte check: `http`'s `Authority` cannot be built holding a space, CR, LF or NUL.
fn check_target(req: &RequestHead<'_>) -> Result<(), ProtoError> {
    let target = req.uri.path_and_query().map_or("", |pq| pq.as_str());
    // Byte loops rather than `str` searches here and below: this runs twice for every request.
    for &b in target.as_bytes() {
        if b == b'#' {
            break; // the fragment never goes on the wire
        }
        if b <= b' ' || b == 0x7f {
            return Err(invalid(format!(
                "request target {} contains a control character or space",
                quote(target.as_bytes())
            )));
        }
    }
    if !req.headers.contains_key(HOST) && !names_a_host(req.uri) {
        return Err(invalid(format!(
            "URI {} has no host and no Host header was given",
            quote(req.uri.to_string().as_bytes())
        )));
    }
    Ok(())
}

/// Whether the URI's authority has a host: something after the user info (up to the last `@`)
/// that is not just a `:port`.
fn names_a_host(uri: &Uri) -> bool {
    let Some(authority) = uri.authority() else {
        return false;
    };
    let bytes = authority.as_str().as_bytes();
    let start = bytes
        .iter()
        .rposition(|&b| b == b'@')
        .map_or(0, |at| at + 1);
    !matches!(bytes.get(start), None | Some(b':'))
}

/// A caller-given `Content-Length` must say exactly what the driver will write.
fn check_content_length(req: &RequestHead<'_>) -> Result<(), ProtoError> {
    let mut values = req.headers.get_all(CONTENT_LENGTH).iter();
    let Some(first) = values.next() else {
        return Ok(());
    };
    if values.next().is_some() {
        return Err(invalid("more than one Content-Length header"));
    }
    let given = parse_content_length_value(first.as_bytes()).map_err(|_| {
        invalid(format!(
            "Content-Length header {} is not a decimal number",
            quote(first.as_bytes())
        ))
    })?;
    let body = match req.body_len {
        BodyLen::Empty => 0,
        BodyLen::Exactly(n) => n,
        BodyLen::Chunked => return Err(invalid(
            "a Content-Length header cannot be given for a chunked body (its length is not known)",
        )),
    };
    if given != body {
        return Err(invalid(format!(
            "Content-Length header says {given} but the body length is {body}"
        )));
    }
    Ok(())
}

fn check_token(what: &str, bytes: &[u8]) -> Result<(), ProtoError> {
    if !bytes.is_empty() && bytes.iter().all(|&b| is_tchar(b)) {
        Ok(())
    } else {
        Err(invalid(format!("{what} {} is not a token", quote(bytes))))
    }
}

/// Refuses the bytes that would end a header line early (CR, LF) or that servers treat as string
/// ends (NUL). The CONNECT encoder (`tunnel.rs`) uses it for its own two headers.
pub(super) fn check_value(name: &str, bytes: &[u8]) -> Result<(), ProtoError> {
    // One comparison for nearly every byte: the three refused ones are all below 0x0e.
    if bytes
        .iter()
        .any(|&b| b <= b'\r' && (b == b'\r' || b == b'\n' || b == 0))
    {
        Err(invalid(format!(
            "header {name} value {} contains CR, LF or NUL",
            quote(bytes)
        )))
    } else {
        Ok(())
    }
}

/// An [`InvalidRequest`](ProtoErrorKind::InvalidRequest) error saying what was wrong.
pub(super) fn invalid(detail: impl Into<String>) -> ProtoError {
    ProtoError::new(ProtoErrorKind::InvalidRequest, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_is_what_follows_the_user_info_unless_it_is_only_a_port() {
        for (uri, expected) in [
            ("http://h/", true),
            ("http://h:80/", true),
            ("http://u:p@h/", true),
            ("http://[::1]:9/", true),
            ("http://u@[::1]/", true),
            ("/path/only", false),
        ] {
            let uri: Uri = uri.parse().unwrap();
            assert_eq!(names_a_host(&uri), expected, "{uri}");
        }
        // `http` parses these authorities, whose host is empty.
        for authority in ["u@:80", ":80"] {
            let uri: Uri = format!("http://{authority}/").parse().unwrap();
            assert!(!names_a_host(&uri), "{authority}");
        }
    }

    #[test]
    fn check_value_refuses_exactly_cr_lf_and_nul() {
        for b in 0..=255u8 {
            let refused = check_value("x", &[b'a', b, b'z']).is_err();
            assert_eq!(refused, matches!(b, b'\r' | b'\n' | 0), "byte {b:#04x}");
        }
    }
}
