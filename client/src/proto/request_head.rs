//! [`RequestHead`]: what one request head is made of, borrowed from the caller. The rules it must
//! pass live in `validate.rs`, and the encoder that writes it in `request.rs`.

use http::{HeaderMap, Method, Uri};

/// What [`ClientConn::encode_request`](super::ClientConn::encode_request) needs to write a request head.
///
/// Borrowed, so building one costs nothing; the body itself is written by the driver right after the head
/// (exactly `body_len` bytes).
///
/// ```
/// use spool_client::proto::RequestHead;
/// let method = http::Method::GET;
/// let uri: http::Uri = "http://example.com/search?q=rust".parse().unwrap();
/// let headers = http::HeaderMap::new();
/// let req = RequestHead { method: &method, uri: &uri, headers: &headers, body_len: None, user_agent: Some("spool/0.1"), accept_encoding: None };
/// # let _ = req;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    /// The request method. `CONNECT` is refused (tunnels are not supported).
    pub method: &'a Method,
    /// The absolute URI (`http://host[:port]/path?query`); only path and query go on the request line.
    /// A URI without authority is allowed if `headers` holds a `Host`.
    pub uri: &'a Uri,
    /// Caller headers, written in map order after `Host`. `Transfer-Encoding` is refused; a
    /// `Content-Length` must agree with `body_len`.
    pub headers: &'a HeaderMap,
    /// `Some(n)`: the driver will write exactly `n` body bytes, announced by `Content-Length: n`.
    /// `None`: no body (`Content-Length: 0` is still sent for POST, PUT and PATCH).
    pub body_len: Option<u64>,
    /// Sent as `User-Agent` unless `headers` already has one.
    pub user_agent: Option<&'a str>,
    /// Sent as `Accept-Encoding` unless `headers` already has one (or asks for a `Range`, whose
    /// offsets would then count compressed bytes).
    pub accept_encoding: Option<&'a str>,
}
