//! [`RequestHead`]: what one request head is made of, borrowed from the caller. The rules it must
//! pass live in `validate.rs`, and the encoder that writes it in `request.rs`.

use http::{HeaderMap, Method, Uri};

/// What [`ClientConn::encode_request`](super::ClientConn::encode_request) needs to write a request head.
///
/// Borrowed, so building one costs nothing; the body itself is written by the driver right after the head,
/// framed as `body_len` says.
///
/// ```
/// use spool_client::proto::{BodyLen, RequestHead};
/// let method = http::Method::GET;
/// let uri: http::Uri = "http://example.com/search?q=rust".parse().unwrap();
/// let headers = http::HeaderMap::new();
/// let req = RequestHead { method: &method, uri: &uri, headers: &headers, body_len: BodyLen::Empty, user_agent: Some("spool/0.1"), accept_encoding: None };
/// # let _ = req;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    /// The request method. `CONNECT` is refused (tunnels are not supported).
    pub method: &'a Method,
    /// The absolute URI (`http://host[:port]/path?query`); only path and query go on the request line.
    /// A URI without authority is allowed if `headers` holds a `Host`.
    pub uri: &'a Uri,
    /// Caller headers, written in map order after `Host`. `Transfer-Encoding` is refused (the
    /// encoder writes it for [`BodyLen::Chunked`]); a `Content-Length` must agree with `body_len`.
    pub headers: &'a HeaderMap,
    /// How long the body is, and so how it is framed on the wire.
    pub body_len: BodyLen,
    /// Sent as `User-Agent` unless `headers` already has one.
    pub user_agent: Option<&'a str>,
    /// Sent as `Accept-Encoding` unless `headers` already has one (or asks for a `Range`, whose
    /// offsets would then count compressed bytes).
    pub accept_encoding: Option<&'a str>,
}

/// How the body after a request head is framed (RFC 9112 §6): by a length given up front, or as
/// chunks when the length is not known until the body ends.
///
/// ```
/// use spool_client::proto::BodyLen;
/// assert_eq!(BodyLen::from(Some(5)), BodyLen::Exactly(5));
/// assert_eq!(BodyLen::from(None), BodyLen::Empty);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLen {
    /// No body. `Content-Length: 0` is still sent for POST, PUT and PATCH, whose servers expect
    /// a length (RFC 9110 §8.6).
    Empty,
    /// The driver will write exactly `n` body bytes, announced by `Content-Length: n`.
    Exactly(u64),
    /// A body of unknown length, announced by `Transfer-Encoding: chunked`: the driver writes
    /// each piece with the framing a [`ChunkWriter`](super::ChunkWriter) gives it, then the end.
    Chunked,
}

impl From<Option<u64>> for BodyLen {
    /// `Some(n)` is [`Exactly(n)`](BodyLen::Exactly), `None` is [`Empty`](BodyLen::Empty).
    fn from(len: Option<u64>) -> BodyLen {
        len.map_or(BodyLen::Empty, BodyLen::Exactly)
    }
}
