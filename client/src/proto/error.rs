//! The one error type of the protocol core: a kind a program can match on, plus a sentence a person can read.
//!
//! Every error names what was wrong ("Content-Length \"5, 6\" has differing values"), because the person
//! reading it usually only has the message, not the bytes. After any error the connection is unusable:
//! [`ClientConn`](super::ClientConn) moves to its closed state, so the driver must drop the socket.

use std::fmt;

/// What went wrong, for programs: the driver retries on [`ClosedBeforeResponse`](Self::ClosedBeforeResponse),
/// the client maps the rest to its own error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtoErrorKind {
    /// The request could not be encoded: a CR, LF or NUL in the target or a header, no host to send in
    /// `Host`, a caller `Content-Length` that disagrees with the body length, and the like.
    InvalidRequest,
    /// [`encode_request`](super::ClientConn::encode_request) was called while a response was still pending,
    /// or after the connection was marked not reusable.
    NotIdle,
    /// The peer closed the connection after the request was sent but before any byte of a response arrived.
    /// On a pooled (previously used) connection this usually means the server timed it out: retry once on a
    /// fresh connection if the request is idempotent.
    ClosedBeforeResponse,
    /// The peer closed the connection in the middle of a response head.
    IncompleteHead,
    /// The response head is malformed: bad status line, unsupported HTTP version, invalid header syntax.
    InvalidHead,
    /// A limit was exceeded: head size, header count, chunk-extension or trailer bytes, interim responses' bytes.
    TooLarge,
    /// The `Content-Length` header is not a single non-negative decimal number.
    InvalidContentLength,
    /// The `Transfer-Encoding` header is malformed, or present in an HTTP/1.0 response.
    InvalidTransferEncoding,
    /// The chunked body is malformed: bad chunk-size line, missing CRLF after chunk data, bad trailer line.
    InvalidChunk,
    /// The peer closed the connection before the body was complete according to its framing.
    IncompleteBody,
    /// The server switched protocols (`101`), which this client does not support.
    UnsupportedUpgrade,
    /// Bytes arrived while no request was outstanding: the server sent more than one response's worth.
    UnexpectedData,
}

impl ProtoErrorKind {
    /// A short lower-case phrase for the kind, used as the start of the error message.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid request",
            Self::NotIdle => "connection not ready for a request",
            Self::ClosedBeforeResponse => "connection closed before any response byte arrived",
            Self::IncompleteHead => "connection closed in the middle of the response head",
            Self::InvalidHead => "invalid response head",
            Self::TooLarge => "response exceeds a limit",
            Self::InvalidContentLength => "invalid Content-Length",
            Self::InvalidTransferEncoding => "invalid Transfer-Encoding",
            Self::InvalidChunk => "invalid chunked body",
            Self::IncompleteBody => "response body cut short",
            Self::UnsupportedUpgrade => "unsupported protocol upgrade",
            Self::UnexpectedData => "unexpected data from server",
        }
    }
}

impl fmt::Display for ProtoErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol error: its [`kind`](Self::kind) and a detail naming the offending input.
///
/// ```
/// use spool_client::proto::{ProtoError, ProtoErrorKind};
/// let e = ProtoError::new(ProtoErrorKind::InvalidContentLength, "\"5, 6\" has differing values");
/// assert_eq!(e.kind(), ProtoErrorKind::InvalidContentLength);
/// assert_eq!(e.to_string(), "invalid Content-Length: \"5, 6\" has differing values");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoError {
    kind: ProtoErrorKind,
    /// Errors are rare, so an owned message costs nothing on the fast path and can quote the input.
    detail: String,
}

impl ProtoError {
    /// Builds an error of `kind` with a detail sentence.
    pub fn new(kind: ProtoErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// What went wrong, for matching.
    pub fn kind(&self) -> ProtoErrorKind {
        self.kind
    }

    /// The detail part of the message (without the kind's phrase).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.kind.as_str())
        } else {
            write!(f, "{}: {}", self.kind, self.detail)
        }
    }
}

impl std::error::Error for ProtoError {}

/// Quotes untrusted bytes for an error message: printable ASCII as is, the rest escaped, long input cut.
pub(crate) fn quote(bytes: &[u8]) -> String {
    const MAX: usize = 64;
    let mut out = String::with_capacity(bytes.len().min(MAX) + 2);
    out.push('"');
    for &b in bytes.iter().take(MAX) {
        out.extend(std::ascii::escape_default(b).map(char::from));
    }
    if bytes.len() > MAX {
        out.push_str("...");
    }
    out.push('"');
    out
}
