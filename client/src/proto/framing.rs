//! Body framing: how a response body ends (RFC 9112 §6.3) and whether the connection outlives it.
//!
//! The decision is made once per response, from the parsed head and the request that caused it:
//!
//! 1. Responses to HEAD, and 1xx, 204 and 304 responses, have no body; their `Content-Length` and
//!    `Transfer-Encoding` describe a hypothetical GET and are ignored.
//! 2. `Transfer-Encoding` ending in `chunked` → chunked. If a `Content-Length` is present too, chunked wins
//!    but the connection is closed afterwards: the two headers disagreeing is how request smuggling starts.
//!    Any other final coding → the body runs until the server closes.
//! 3. A valid `Content-Length` → exactly that many bytes. Duplicates must all be equal.
//! 4. Otherwise the body runs until the server closes.
//!
//! Bodies that end with the connection can never be followed by another response, so they force close.

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, StatusCode, Version};

use super::error::{quote, ProtoError, ProtoErrorKind};
use super::head::{Present, ResponseHead};
use super::request::SentRequest;
use super::syntax::{has_token, is_token, list_elements, parse_content_length_value, trim};
use super::CloseReason;

/// The result of one step of decoding a framed body (by `body.rs` or `chunked.rs`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Some body bytes (never empty).
    Data(Bytes),
    /// The body is complete; bytes after it are still in the buffer.
    End,
    /// Everything in the buffer was consumed; more bytes are needed.
    NeedMore,
}

/// How the body of a response is delimited, as [`ClientConn::body_kind`](super::ClientConn::body_kind)
/// tells the I/O half once the head has arrived, so that it never re-reads the framing headers.
///
/// ```
/// use spool_client::proto::BodyKind;
/// assert_eq!(BodyKind::Length(5).exact_len(), Some(5));
/// assert_eq!(BodyKind::Bodiless { content_length: Some(900) }.exact_len(), Some(0));
/// assert_eq!(BodyKind::Bodiless { content_length: Some(900) }.content_length(), Some(900));
/// assert_eq!(BodyKind::Chunked.exact_len(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyKind {
    /// No body, whatever the headers say: the answer to a HEAD, a 204 or a 304 (RFC 9112 §6.3).
    /// `content_length`: a valid `Content-Length` it carries anyway (for HEAD, what a GET would get).
    Bodiless {
        /// The `Content-Length` the head declares, if one valid value and no `Transfer-Encoding`.
        content_length: Option<u64>,
    },
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

impl BodyKind {
    /// How many body bytes will arrive, when that is known in advance (0 for a bodiless response).
    pub fn exact_len(self) -> Option<u64> {
        match self {
            BodyKind::Bodiless { .. } => Some(0),
            BodyKind::Length(n) => Some(n),
            BodyKind::Chunked | BodyKind::UntilClose => None,
        }
    }

    /// The length the head declares in `Content-Length` (for a bodiless response, not the length of
    /// what arrives).
    pub fn content_length(self) -> Option<u64> {
        match self {
            BodyKind::Bodiless { content_length } => content_length,
            BodyKind::Length(n) => Some(n),
            BodyKind::Chunked | BodyKind::UntilClose => None,
        }
    }

    /// A response that has no body by rule (HEAD, 204, 304).
    pub fn is_bodiless(self) -> bool {
        matches!(self, BodyKind::Bodiless { .. })
    }
}

/// The framing of a response plus, if the connection must close after it, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub kind: BodyKind,
    pub close: Option<CloseReason>,
}

/// Applies RFC 9112 §6.3 and the keep-alive rules of §9.3 to a final (non-1xx) response head.
///
/// `present` says which framing fields `head` has (noted while its map was built): absent ones are
/// not looked up.
pub(crate) fn decide(
    head: &ResponseHead,
    sent: SentRequest,
    present: Present,
) -> Result<Decision, ProtoError> {
    let headers = &head.headers;
    let te = if present.transfer_encoding {
        transfer_coding(headers)?
    } else {
        None
    };
    if te.is_some() && head.version == Version::HTTP_10 {
        // RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding; its presence means the framing is faulty.
        return Err(ProtoError::new(
            ProtoErrorKind::InvalidTransferEncoding,
            "Transfer-Encoding in an HTTP/1.0 response",
        ));
    }

    let mut close = if sent.close {
        Some(CloseReason::RequestClose)
    } else if present.connection && headers_have_token(headers, "close") {
        Some(CloseReason::ResponseClose)
    } else if head.version == Version::HTTP_10
        && !(present.connection && headers_have_token(headers, "keep-alive"))
    {
        Some(CloseReason::Http10)
    } else {
        None
    };

    let status = head.status;
    let bodiless = sent.head
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let kind = if bodiless {
        // Its `Content-Length` does not frame anything, so a bad one is no error: it is just not
        // reported.
        let content_length = (te.is_none() && present.content_length)
            .then(|| content_length(headers).ok().flatten())
            .flatten();
        BodyKind::Bodiless { content_length }
    } else if let Some(te) = te {
        if te == Coding::ChunkedLast {
            if present.content_length {
                close = close.or(Some(CloseReason::ChunkedWithContentLength));
            }
            BodyKind::Chunked
        } else {
            BodyKind::UntilClose
        }
    } else if let Some(n) = present
        .content_length
        .then(|| content_length(headers))
        .transpose()?
        .flatten()
    {
        BodyKind::Length(n)
    } else {
        BodyKind::UntilClose
    };
    if kind == BodyKind::UntilClose {
        close = close.or(Some(CloseReason::CloseDelimited));
    }
    Ok(Decision { kind, close })
}

/// What `Transfer-Encoding` says about the end of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    /// The final coding is `chunked` (and it appears once).
    ChunkedLast,
    /// Some other final coding: the body ends with the connection.
    Other,
}

/// Reads every `Transfer-Encoding` line as one comma list; `None` when the header is absent.
fn transfer_coding(headers: &HeaderMap) -> Result<Option<Coding>, ProtoError> {
    let mut last_chunked = None;
    let mut chunked_count = 0;
    for value in headers.get_all(TRANSFER_ENCODING) {
        let bytes = value.as_bytes();
        for element in list_elements(bytes) {
            // A transfer-coding is a token with optional `;param`s; chunked takes no parameters.
            let (name, params) = match element.iter().position(|&b| b == b';') {
                Some(i) => (trim(&element[..i]), Some(&element[i..])),
                None => (element, None),
            };
            if !is_token(name) {
                return Err(bad_te(bytes, "is not a list of transfer codings"));
            }
            let chunked = name.eq_ignore_ascii_case(b"chunked");
            if chunked {
                if params.is_some() {
                    return Err(bad_te(bytes, "gives parameters to chunked"));
                }
                chunked_count += 1;
            }
            last_chunked = Some(chunked);
        }
    }
    match (last_chunked, chunked_count) {
        (None, _) if headers.contains_key(TRANSFER_ENCODING) => Err(ProtoError::new(
            ProtoErrorKind::InvalidTransferEncoding,
            "Transfer-Encoding header is empty",
        )),
        (None, _) => Ok(None),
        (Some(_), n) if n > 1 => Err(ProtoError::new(
            ProtoErrorKind::InvalidTransferEncoding,
            "chunked is applied more than once",
        )),
        (Some(true), _) => Ok(Some(Coding::ChunkedLast)),
        (Some(false), _) => Ok(Some(Coding::Other)),
    }
}

fn bad_te(value: &[u8], why: &str) -> ProtoError {
    ProtoError::new(
        ProtoErrorKind::InvalidTransferEncoding,
        format!("Transfer-Encoding {} {why}", quote(value)),
    )
}

/// Reads every `Content-Length` line; each may be a comma list of equal values (`5, 5`), a leftover of
/// proxies that merged duplicate lines, which RFC 9110 §8.6 lets a recipient accept. Anything else is an
/// error, not a guess: a wrong length silently truncates or merges responses.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ProtoError> {
    let mut found: Option<u64> = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let bytes = value.as_bytes();
        for element in bytes.split(|&b| b == b',') {
            let n = parse_content_length_value(trim(element)).map_err(|why| {
                ProtoError::new(
                    ProtoErrorKind::InvalidContentLength,
                    format!("Content-Length {} {why}", quote(bytes)),
                )
            })?;
            match found {
                Some(prev) if prev != n => {
                    return Err(ProtoError::new(
                        ProtoErrorKind::InvalidContentLength,
                        format!("Content-Length has differing values {prev} and {n}"),
                    ))
                }
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// Whether any `Connection` line lists `token` (case-insensitively).
fn headers_have_token(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| has_token(v.as_bytes(), token))
}
