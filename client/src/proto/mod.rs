//! The sans-IO HTTP/1.1 client protocol core: bytes in, events out; no sockets, no clocks, no runtime.
//!
//! In the spirit of h11 and ureq-proto, everything here is a pure function of the bytes it is given, so it
//! is tested with byte slices and can be driven by any I/O layer (plain TCP, TLS, a test harness).
//!
//! # Layout
//!
//! - `conn.rs` — [`ClientConn`], the per-connection state machine below. Start reading here.
//! - `validate.rs` — [`validate()`]: the rules a request head must pass, shared by the encoder and the
//!   client (which refuses a bad request before connecting).
//! - `request_head.rs` — [`RequestHead`], a request head as borrowed parts.
//! - `request.rs` — encodes a [`RequestHead`] (origin-form target, `Host`, `Content-Length`, `User-Agent`).
//! - `chunk_writer.rs` — [`ChunkWriter`]: the framing of a request body of unknown length.
//! - `head.rs` — parses response heads with `httparse` into a [`ResponseHead`] sharing the read buffer.
//! - `framing.rs` — RFC 9112 §6.3: how a body ends, and whether the connection can be reused.
//! - `syntax.rs` — the field grammar they share: tokens, comma lists, `Content-Length` digits.
//! - `body.rs` and `chunked.rs` — hand out body bytes as zero-copy [`bytes::Bytes`].
//! - `error.rs` — [`ProtoError`] and its [`ProtoErrorKind`].
//!
//! # How a request flows (the driver's side of the contract)
//!
//! 1. The driver owns the socket and a `BytesMut` read buffer. It calls
//!    [`ClientConn::encode_request`] and writes the bytes, then the body as `body_len` says:
//!    exactly `n` bytes, or pieces framed by a [`ChunkWriter`].
//! 2. Loop: read into the buffer; call [`ClientConn::decode`] until it returns `Ok(None)` (meaning: read
//!    more), acting on each [`Event`]: one [`Event::Head`], any number of [`Event::Data`], one
//!    [`Event::End`]. Stop calling after `End`.
//! 3. If a read returns 0 (EOF), call [`ClientConn::decode_eof`] instead, until `Ok(None)`, `End` or an error.
//! 4. After `End { reusable: true }` (equivalently [`ClientConn::is_idle_reusable`]), the connection may go
//!    back to a pool; otherwise close it. [`ClientConn::close_reason`] says why not.
//! 5. An idle pooled connection that becomes readable is passed to `decode` / `decode_eof` too: stray bytes
//!    are [`UnexpectedData`](ProtoErrorKind::UnexpectedData), EOF marks it closed.
//!
//! A request whose response fails with [`ClosedBeforeResponse`](ProtoErrorKind::ClosedBeforeResponse) got no
//! byte back at all: on a reused connection that is the classic keep-alive race, worth one retry.
//!
//! # Connection states
//!
//! ```text
//!                 encode_request                    final head
//!   new ──► ┌──────┐ ─────────────► ┌──────────────┐ ───────────► ┌──────┐
//!           │ Idle │                │ AwaitingHead │  Event::Head │ Body │ ──┐ Event::Data
//!           └──────┘                └──────────────┘              └──────┘ ◄─┘ (any number)
//!             ▲  │                    │  ▲ interim 1xx               │
//!             │  │                    └──┘ (skipped, not surfaced)   │ framing complete
//!             │  │                                                   ▼
//!             │  │ EOF / stray bytes              Event::End { reusable }
//!             │  ▼                                                   │
//!             │ ┌────────┐  ◄───── reusable: false ──────────────────┤
//!             │ │ Closed │  ◄───── any error (from any state)        │
//!             │ └────────┘                                           │
//!             └───────────────────── reusable: true ─────────────────┘
//! ```
//!
//! `Closed` is terminal: the driver must close the socket. A response is *not* reusable when the request
//! or response said `Connection: close`, an HTTP/1.0 response lacked `Connection: keep-alive`, the body
//! was close-delimited, chunked and `Content-Length` were both present, bytes followed the response, or
//! the peer closed; the list is [`CloseReason`].
//!
//! # Not supported (by design, for now)
//!
//! - Pipelining: one request at a time per connection.
//! - `Expect: 100-continue`: interim responses are skipped, so the driver sends the body right away.
//! - `CONNECT` tunnels (beyond [`encode_connect`] for a proxy) and `101` upgrades.
//! - Trailer fields: read, bounded and dropped.
//!
//! # Speed
//!
//! The head is split off the read buffer as one `Bytes` and each header value is a slice of it; body data
//! is `split_to(n).freeze()` off the read buffer. Neither copies. The only per-response allocations are
//! the `HeaderMap` (none when the driver hands back an earlier one with
//! [`ClientConn::reuse_header_map`]) and, for non-standard header names, the name.

mod body;
mod chunk_writer;
mod chunked;
mod conn;
mod error;
mod framing;
mod head;
mod request;
mod request_head;
mod syntax;
mod tunnel;
mod validate;

pub use chunk_writer::ChunkWriter;
pub use conn::ClientConn;
pub use error::{ProtoError, ProtoErrorKind};
pub use framing::BodyKind;
pub use head::ResponseHead;
pub(crate) use request::split_authority;
pub use request::ProxyForm;
pub use request_head::{BodyLen, RequestHead};
pub use tunnel::{encode_connect, parse_connect_reply, ConnectReply};
pub use validate::validate;

use bytes::Bytes;

/// Bounds on what a server can make the client buffer or process. Exceeding one is a
/// [`TooLarge`](ProtoErrorKind::TooLarge) error, never a hang.
///
/// ```
/// use spool_client::proto::Limits;
/// let strict = Limits { max_head_bytes: 16 * 1024, ..Limits::default() };
/// assert_eq!(strict.max_headers, 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest response head (status line and headers, line ends included). Counted while the head is
    /// still arriving, so a head that never ends fails at this size. The interim (1xx) responses before
    /// a final one are bounded by it too, all together: any number of them, while their bytes fit.
    /// Default 64 KiB.
    pub max_head_bytes: usize,
    /// Most header fields in one head. Default 128.
    pub max_headers: usize,
    /// Most chunk-extension bytes in one chunked body (they are ignored, but must be read). Default 16 KiB.
    pub max_chunk_ext_bytes: usize,
    /// Most trailer-section bytes in one chunked body (trailers are read and dropped). Default 16 KiB.
    pub max_trailer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head_bytes: 64 * 1024,
            max_headers: 128,
            max_chunk_ext_bytes: 16 * 1024,
            max_trailer_bytes: 16 * 1024,
        }
    }
}

/// What [`ClientConn::decode`] found in the bytes.
#[derive(Debug, Clone)]
pub enum Event {
    /// The final response head (interim 1xx heads are skipped). Exactly one per response, first.
    Head(ResponseHead),
    /// A piece of the body, never empty, shared with (not copied from) the read buffer.
    Data(Bytes),
    /// The response is complete. `reusable`: the connection may carry another request.
    End {
        /// Whether the connection is idle and may be reused (see [`CloseReason`] for why not).
        reusable: bool,
    },
}

/// Why a connection cannot carry another request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The request carried `Connection: close`.
    RequestClose,
    /// The response carried `Connection: close`.
    ResponseClose,
    /// An HTTP/1.0 response without `Connection: keep-alive`.
    Http10,
    /// The body ran until the server closed the connection.
    CloseDelimited,
    /// The response had both `Transfer-Encoding: chunked` and `Content-Length`; chunked was used, but the
    /// disagreement makes the rest of the stream untrustworthy (RFC 9112 §6.3).
    ChunkedWithContentLength,
    /// Bytes arrived that belong to no request.
    TrailingBytes,
    /// The peer closed the connection.
    PeerClosed,
    /// A protocol error occurred.
    Error,
}

impl CloseReason {
    /// A short phrase for logs and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestClose => "the request asked for Connection: close",
            Self::ResponseClose => "the response said Connection: close",
            Self::Http10 => "HTTP/1.0 response without keep-alive",
            Self::CloseDelimited => "the body was delimited by closing the connection",
            Self::ChunkedWithContentLength => {
                "the response had both chunked encoding and Content-Length"
            }
            Self::TrailingBytes => "the server sent bytes after the response",
            Self::PeerClosed => "the server closed the connection",
            Self::Error => "a protocol error occurred",
        }
    }
}
