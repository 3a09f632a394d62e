//! The CONNECT tunnel through a forward proxy (RFC 9110 §9.3.6), sans-IO: the request bytes that ask
//! a proxy for a tunnel to `host:port`, and the reading of its reply.
//!
//! ```text
//!  client ── CONNECT example.com:443 HTTP/1.1 ──► proxy        encode_connect
//!         ◄── HTTP/1.1 200 Connection established ──           parse_connect_reply → Established
//!         ══ TLS to example.com, end to end, inside ══►
//! ```
//!
//! Any 2xx opens the tunnel; anything else (407 Proxy Authentication Required, 403, 502) is a
//! refusal, reported with its status and reason. A proxy must not send bytes of the tunnel before the
//! client speaks, so bytes after a 2xx head are an error, as is a 2xx that announces a body.
//! The caller owns the socket, the buffer and the clock (the connect timeout bounds the exchange).

use std::mem::MaybeUninit;

use super::error::{quote, ProtoError, ProtoErrorKind};
use super::request::write_decimal;
use super::validate::check_value;

/// How a proxy answered a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectReply {
    /// A 2xx: the connection is now a byte pipe to the target.
    Established,
    /// Anything else: the proxy refused (407 means it wants credentials).
    Refused {
        /// The status code, e.g. 407.
        status: u16,
        /// The reason phrase as sent (may be empty).
        reason: String,
    },
}

/// Appends `CONNECT host:port HTTP/1.1` with `Host`, the optional `Proxy-Authorization` value and
/// `User-Agent` to `dst` (unchanged on error). `host` is bare (an IPv6 address gets its brackets
/// here).
///
/// ```
/// let mut out = Vec::new();
/// spool_client::proto::encode_connect("example.com", 443, Some(b"Basic dTpw"), None, &mut out).unwrap();
/// assert_eq!(out, &b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
///     Proxy-Authorization: Basic dTpw\r\n\r\n"[..]);
/// ```
pub fn encode_connect(
    host: &str,
    port: u16,
    authorization: Option<&[u8]>,
    user_agent: Option<&str>,
    dst: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    let start = dst.len();
    let result = write_connect(host, port, authorization, user_agent, dst);
    if result.is_err() {
        dst.truncate(start);
    }
    result
}

fn write_connect(
    host: &str,
    port: u16,
    authorization: Option<&[u8]>,
    user_agent: Option<&str>,
    dst: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'/') {
        return Err(ProtoError::new(
            ProtoErrorKind::InvalidRequest,
            format!(
                "CONNECT target host {} is not valid",
                quote(host.as_bytes())
            ),
        ));
    }
    let mut target = Vec::with_capacity(host.len() + 8);
    let v6 = host.contains(':');
    if v6 {
        target.push(b'[');
    }
    target.extend_from_slice(host.as_bytes());
    if v6 {
        target.push(b']');
    }
    target.push(b':');
    write_decimal(u64::from(port), &mut target);
    dst.extend_from_slice(b"CONNECT ");
    dst.extend_from_slice(&target);
    dst.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    dst.extend_from_slice(&target);
    dst.extend_from_slice(b"\r\n");
    if let Some(value) = authorization {
        check_value("Proxy-Authorization", value)?;
        dst.extend_from_slice(b"Proxy-Authorization: ");
        dst.extend_from_slice(value);
        dst.extend_from_slice(b"\r\n");
    }
    if let Some(agent) = user_agent {
        check_value("User-Agent", agent.as_bytes())?;
        dst.extend_from_slice(b"User-Agent: ");
        dst.extend_from_slice(agent.as_bytes());
        dst.extend_from_slice(b"\r\n");
    }
    dst.extend_from_slice(b"\r\n");
    Ok(())
}

/// Reads the proxy's reply from the start of `buf`: `Ok(None)` until the head is complete (read
/// more), then the reply. Errors: a malformed head, a head larger than `max_head_bytes`, or, after
/// a 2xx, bytes past the head or a body announced.
///
/// ```
/// use spool_client::proto::{parse_connect_reply, ConnectReply};
/// assert_eq!(parse_connect_reply(b"HTTP/1.1 200 Connection est", 1024).unwrap(), None);
/// assert_eq!(parse_connect_reply(b"HTTP/1.1 200 OK\r\n\r\n", 1024).unwrap(), Some(ConnectReply::Established));
/// let refused = parse_connect_reply(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", 1024);
/// assert!(matches!(refused.unwrap(), Some(ConnectReply::Refused { status: 407, .. })));
/// ```
pub fn parse_connect_reply(
    buf: &[u8],
    max_head_bytes: usize,
) -> Result<Option<ConnectReply>, ProtoError> {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; 64];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut slots,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > max_head_bytes => {
            return Err(too_large(max_head_bytes))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(ProtoError::new(
                ProtoErrorKind::InvalidHead,
                format!("the proxy's reply to CONNECT is not HTTP: {e}"),
            ))
        }
    };
    if len > max_head_bytes {
        return Err(too_large(max_head_bytes));
    }
    let status = response.code.unwrap_or(0);
    if !(200..300).contains(&status) {
        return Ok(Some(ConnectReply::Refused {
            status,
            reason: response.reason.unwrap_or("").to_string(),
        }));
    }
    let announces_body = response.headers.iter().any(|h| {
        (h.name.eq_ignore_ascii_case("content-length") && h.value.trim_ascii() != b"0")
            || h.name.eq_ignore_ascii_case("transfer-encoding")
    });
    if announces_body || buf.len() > len {
        return Err(ProtoError::new(
            ProtoErrorKind::UnexpectedData,
            "the proxy sent data in the tunnel before the client spoke",
        ));
    }
    Ok(Some(ConnectReply::Established))
}

fn too_large(limit: usize) -> ProtoError {
    ProtoError::new(
        ProtoErrorKind::TooLarge,
        format!("the proxy's reply to CONNECT is larger than {limit} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_request_brackets_ipv6_and_refuses_injection() {
        let mut out = Vec::new();
        encode_connect("::1", 8443, None, Some("spool/0.1"), &mut out).unwrap();
        assert_eq!(
            out,
            b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nUser-Agent: spool/0.1\r\n\r\n"
        );
        let mut out = b"keep".to_vec();
        assert!(encode_connect("a.test\r\nX: y", 443, None, None, &mut out).is_err());
        assert!(encode_connect("a.test", 443, Some(b"Basic x\r\nX: y"), None, &mut out).is_err());
        assert_eq!(out, b"keep");
    }

    #[test]
    fn replies_split_anywhere_parse_the_same() {
        let reply = b"HTTP/1.0 200 Connection established\r\nProxy-Agent: t\r\n\r\n";
        for cut in 0..reply.len() {
            assert_eq!(
                parse_connect_reply(&reply[..cut], 4096).unwrap(),
                None,
                "{cut}"
            );
        }
        assert_eq!(
            parse_connect_reply(reply, 4096).unwrap(),
            Some(ConnectReply::Established)
        );
    }

    #[test]
    fn refusals_and_misbehaviour() {
        assert_eq!(
            parse_connect_reply(b"HTTP/1.1 502 Bad Gateway\r\n\r\nbody", 4096).unwrap(),
            Some(ConnectReply::Refused {
                status: 502,
                reason: "Bad Gateway".into()
            })
        );
        let early = parse_connect_reply(b"HTTP/1.1 200 OK\r\n\r\n\x16\x03", 4096).unwrap_err();
        assert_eq!(early.kind(), ProtoErrorKind::UnexpectedData);
        let body = parse_connect_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 4096);
        assert_eq!(body.unwrap_err().kind(), ProtoErrorKind::UnexpectedData);
        let big = vec![b'a'; 100];
        assert_eq!(
            parse_connect_reply(&big, 50).unwrap_err().kind(),
            ProtoErrorKind::InvalidHead
        );
        let mut long = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 100));
        assert_eq!(
            parse_connect_reply(&long, 50).unwrap_err().kind(),
            ProtoErrorKind::TooLarge
        );
        assert!(parse_connect_reply(b"SSH-2.0-OpenSSH\r\n\r\n", 4096).is_err());
    }
}
