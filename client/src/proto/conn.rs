//! The connection state machine: one TCP connection's HTTP/1.1 client state, request after request.
//!
//! It ties the pieces together: `request.rs` encodes, `head.rs` parses heads (skipping interim 1xx ones),
//! `framing.rs` decides how the body ends and whether the connection survives, `body.rs` hands out body
//! bytes. The transitions are drawn in the
//! [module docs](super).

use bytes::BytesMut;
use http::{HeaderMap, StatusCode};

use super::body::BodyDecoder;
use super::error::{ProtoError, ProtoErrorKind};
use super::framing::{self, BodyKind, Step};
use super::head::{HeadParser, Parsed};
use super::request::{self, ProxyForm, SentRequest};
use super::request_head::RequestHead;
use super::{CloseReason, Event, Limits};

/// Where the connection is in its request/response cycle.
#[derive(Debug)]
enum State {
    /// No request outstanding; a new one may be encoded.
    Idle,
    /// A request was encoded; its response head has not fully arrived.
    AwaitingHead,
    /// The head was delivered; body bytes are being decoded.
    Body(BodyDecoder),
    /// The connection must not carry another request (see `ClientConn::close`). Terminal.
    Closed,
}

/// The HTTP/1.1 protocol state of one client connection, reused across requests (keep-alive).
///
/// Sans-IO: it never reads, writes or looks at a clock. The driver writes what
/// [`encode_request`](Self::encode_request) produced, then feeds what it reads to
/// [`decode`](Self::decode) until [`Event::End`]. See the [module docs](super) for the full contract.
///
/// ```
/// use bytes::BytesMut;
/// use spool_client::proto::{BodyLen, ClientConn, Event, Limits, RequestHead};
///
/// let mut conn = ClientConn::new(Limits::default());
/// let uri: http::Uri = "http://example.com/".parse().unwrap();
/// let headers = http::HeaderMap::new();
/// let req = RequestHead { method: &http::Method::GET, uri: &uri, headers: &headers, body_len: BodyLen::Empty, user_agent: None, accept_encoding: None };
/// let mut out = Vec::new();
/// conn.encode_request(&req, &mut out).unwrap();
/// assert_eq!(out, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
///
/// let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"[..]);
/// assert!(matches!(conn.decode(&mut buf).unwrap(), Some(Event::Head(h)) if h.status == 200));
/// assert!(matches!(conn.decode(&mut buf).unwrap(), Some(Event::Data(d)) if d == "hi"));
/// assert!(matches!(conn.decode(&mut buf).unwrap(), Some(Event::End { reusable: true })));
/// assert!(conn.is_idle_reusable());
/// ```
#[derive(Debug)]
pub struct ClientConn {
    limits: Limits,
    state: State,
    parser: HeadParser,
    /// What the outstanding request implies for its response (HEAD ⇒ no body, `Connection: close`).
    sent: SentRequest,
    /// Why the connection cannot be reused, decided as soon as it is known (usually at the head).
    close: Option<CloseReason>,
    /// How the body of the response whose head was returned last is delimited.
    body_kind: Option<BodyKind>,
    /// Some byte of the current response arrived: EOF now means a broken response, not a stale connection.
    response_started: bool,
    /// Bytes of the interim (1xx) responses skipped for the current request. Bounded, together, by the
    /// head limit: a server may send many small ones (`103 Early Hints`), but cannot stream them forever.
    interim_bytes: usize,
    /// Set on a plain-http connection to a forward proxy: requests use the absolute form.
    proxy: Option<Box<ProxyForm>>,
}

impl ClientConn {
    /// A fresh connection, idle and ready for its first request.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            state: State::Idle,
            parser: HeadParser::default(),
            sent: SentRequest {
                head: false,
                close: false,
            },
            close: None,
            body_kind: None,
            response_started: false,
            interim_bytes: 0,
            proxy: None,
        }
    }

    /// Marks this as a connection to a forward proxy for plain-http requests: every request is
    /// encoded in absolute form (`GET http://host/path HTTP/1.1`) with `form`'s credentials.
    ///
    /// ```
    /// use spool_client::proto::{BodyLen, ClientConn, Limits, ProxyForm, RequestHead};
    /// let mut conn = ClientConn::new(Limits::default());
    /// conn.use_proxy_form(ProxyForm { authorization: None });
    /// let uri: http::Uri = "http://user:pw@example.com:8080/a?b".parse().unwrap();
    /// let headers = http::HeaderMap::new();
    /// let req = RequestHead { method: &http::Method::GET, uri: &uri, headers: &headers, body_len: BodyLen::Empty, user_agent: None, accept_encoding: None };
    /// let mut out = Vec::new();
    /// conn.encode_request(&req, &mut out).unwrap();
    /// assert!(out.starts_with(b"GET http://example.com:8080/a?b HTTP/1.1\r\n"));
    /// ```
    pub fn use_proxy_form(&mut self, form: ProxyForm) {
        self.proxy = Some(Box::new(form));
    }

    /// Appends the request head to `dst` and starts waiting for its response.
    ///
    /// The driver writes the head, then the body as `req.body_len` says. Errors with
    /// [`NotIdle`](ProtoErrorKind::NotIdle) unless [`is_idle_reusable`](Self::is_idle_reusable), and with
    /// [`InvalidRequest`](ProtoErrorKind::InvalidRequest) for a request that cannot be sent safely; in both
    /// cases `dst` and the connection are left unchanged.
    pub fn encode_request(
        &mut self,
        req: &RequestHead<'_>,
        dst: &mut Vec<u8>,
    ) -> Result<(), ProtoError> {
        match self.state {
            State::Idle => {}
            State::AwaitingHead | State::Body(_) => {
                return Err(ProtoError::new(
                    ProtoErrorKind::NotIdle,
                    "the previous response has not been fully received",
                ))
            }
            State::Closed => {
                let why = self.close.map_or("it was closed", CloseReason::as_str);
                return Err(ProtoError::new(
                    ProtoErrorKind::NotIdle,
                    format!("the connection cannot be reused: {why}"),
                ));
            }
        }
        self.sent = request::encode(req, self.proxy.as_deref(), dst)?;
        self.state = State::AwaitingHead;
        self.body_kind = None;
        self.response_started = false;
        self.interim_bytes = 0;
        Ok(())
    }

    /// Decodes the next event from the front of `buf`, removing the bytes it used.
    ///
    /// `Ok(None)` means every byte in `buf` was used (or is kept as part of an incomplete head): read more
    /// and call again. After an error the connection is closed for good.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, ProtoError> {
        let result = self.step(buf, false);
        self.close_on_error(result)
    }

    /// Like [`decode`](Self::decode), for when the peer has closed its side (a read returned 0): call it
    /// until it returns `Ok(None)` or an error.
    ///
    /// A close-delimited body ends here with `End { reusable: false }`; any other unfinished response is an
    /// error: [`ClosedBeforeResponse`](ProtoErrorKind::ClosedBeforeResponse) if no byte of it had arrived,
    /// [`IncompleteHead`](ProtoErrorKind::IncompleteHead) or [`IncompleteBody`](ProtoErrorKind::IncompleteBody)
    /// otherwise. On an idle connection it just marks the connection closed.
    pub fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, ProtoError> {
        let result = self.step(buf, true);
        self.close_on_error(result)
    }

    /// Offer a header map from an earlier response (one the caller has finished with) for the next
    /// response head to be parsed into, so that parsing it allocates nothing when the map has room.
    /// The map is emptied first; it is only taken if this connection does not hold one already.
    ///
    /// ```
    /// use spool_client::proto::{ClientConn, Event, Limits};
    /// let mut conn = ClientConn::new(Limits::default());
    /// let mut earlier = http::HeaderMap::with_capacity(8);
    /// earlier.insert("x-old", http::HeaderValue::from_static("1"));
    /// conn.reuse_header_map(earlier);
    /// # let head = spool_client::proto::RequestHead { method: &http::Method::GET,
    /// #     uri: &"http://a/".parse().unwrap(), headers: &http::HeaderMap::new(), body_len: spool_client::proto::BodyLen::Empty,
    /// #     user_agent: None, accept_encoding: None };
    /// # conn.encode_request(&head, &mut Vec::new()).unwrap();
    /// let mut buf = bytes::BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"[..]);
    /// let Some(Event::Head(head)) = conn.decode(&mut buf).unwrap() else { panic!() };
    /// assert!(head.headers.capacity() >= 8);
    /// assert!(!head.headers.contains_key("x-old"));
    /// ```
    pub fn reuse_header_map(&mut self, mut map: HeaderMap) {
        if self.parser.spare_map.capacity() == 0 {
            map.clear();
            self.parser.spare_map = map;
        }
    }

    /// How the body of the current response is delimited, decided at its head; `None` before the
    /// head of the response to the last request has arrived.
    ///
    /// ```
    /// use spool_client::proto::{BodyKind, BodyLen, ClientConn, Event, Limits, RequestHead};
    /// let mut conn = ClientConn::new(Limits::default());
    /// let uri: http::Uri = "http://example.com/".parse().unwrap();
    /// let headers = http::HeaderMap::new();
    /// let req = RequestHead { method: &http::Method::HEAD, uri: &uri, headers: &headers, body_len: BodyLen::Empty, user_agent: None, accept_encoding: None };
    /// conn.encode_request(&req, &mut Vec::new()).unwrap();
    /// assert_eq!(conn.body_kind(), None);
    /// let mut buf = bytes::BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n"[..]);
    /// assert!(matches!(conn.decode(&mut buf).unwrap(), Some(Event::Head(_))));
    /// assert_eq!(conn.body_kind(), Some(BodyKind::Bodiless { content_length: Some(900) }));
    /// ```
    pub fn body_kind(&self) -> Option<BodyKind> {
        self.body_kind
    }

    /// Whether a new request may be encoded: no response pending and nothing forcing a close.
    pub fn is_idle_reusable(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    /// Why this connection cannot carry another request, once that is known (often already at the
    /// response head, before the body is read); `None` while it can.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close
    }

    fn close_on_error(
        &mut self,
        result: Result<Option<Event>, ProtoError>,
    ) -> Result<Option<Event>, ProtoError> {
        if result.is_err() {
            self.state = State::Closed;
            self.close = Some(self.close.unwrap_or(CloseReason::Error));
        }
        result
    }

    fn step(&mut self, buf: &mut BytesMut, eof: bool) -> Result<Option<Event>, ProtoError> {
        loop {
            match &mut self.state {
                State::Idle | State::Closed => {
                    if !buf.is_empty() {
                        self.close = Some(self.close.unwrap_or(CloseReason::TrailingBytes));
                        return Err(ProtoError::new(
                            ProtoErrorKind::UnexpectedData,
                            format!(
                                "{} bytes arrived while no request was outstanding",
                                buf.len()
                            ),
                        ));
                    }
                    if eof && matches!(self.state, State::Idle) {
                        self.close = Some(CloseReason::PeerClosed);
                        self.state = State::Closed;
                    }
                    return Ok(None);
                }
                State::AwaitingHead => {
                    self.response_started |= !buf.is_empty();
                    let before = buf.len();
                    match self.parser.parse(buf, &self.limits)? {
                        None if !eof => return Ok(None),
                        None if !self.response_started => {
                            return Err(ProtoError::new(
                                ProtoErrorKind::ClosedBeforeResponse,
                                "the server closed the connection without sending a response",
                            ))
                        }
                        None => {
                            return Err(ProtoError::new(
                                ProtoErrorKind::IncompleteHead,
                                format!("{} bytes of the head had arrived", buf.len()),
                            ))
                        }
                        Some(Parsed::Interim(StatusCode::SWITCHING_PROTOCOLS)) => {
                            return Err(ProtoError::new(
                                ProtoErrorKind::UnsupportedUpgrade,
                                "the server answered 101 Switching Protocols",
                            ))
                        }
                        Some(Parsed::Interim(status)) => {
                            self.interim_bytes += before - buf.len();
                            if self.interim_bytes > self.limits.max_head_bytes {
                                return Err(ProtoError::new(
                                    ProtoErrorKind::TooLarge,
                                    format!(
                                        "interim (1xx) responses total more than {} bytes, the head \
                                         limit (last: {status})",
                                        self.limits.max_head_bytes
                                    ),
                                ));
                            }
                        }
                        Some(Parsed::Final(head)) => {
                            let decision = framing::decide(&head, self.sent, self.parser.present)?;
                            self.close = decision.close;
                            self.body_kind = Some(decision.kind);
                            self.state = State::Body(BodyDecoder::new(decision.kind));
                            return Ok(Some(Event::Head(head)));
                        }
                    }
                }
                State::Body(decoder) => {
                    return match decoder.decode(buf, &self.limits)? {
                        Step::Data(data) => Ok(Some(Event::Data(data))),
                        Step::End => Ok(Some(self.finish(buf, eof))),
                        Step::NeedMore if !eof => Ok(None),
                        Step::NeedMore => {
                            decoder.at_eof()?;
                            Ok(Some(self.finish(buf, eof)))
                        }
                    };
                }
            }
        }
    }

    /// The response is complete: back to idle if nothing forces a close.
    fn finish(&mut self, buf: &BytesMut, eof: bool) -> Event {
        if !buf.is_empty() {
            // No request is outstanding, so these bytes answer nothing: the server is confused or hostile.
            self.close = self.close.or(Some(CloseReason::TrailingBytes));
        }
        if eof {
            self.close = self.close.or(Some(CloseReason::PeerClosed));
        }
        let reusable = self.close.is_none();
        self.state = if reusable { State::Idle } else { State::Closed };
        Event::End { reusable }
    }
}
