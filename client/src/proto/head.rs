//! Response-head parsing: status line and header fields, via `httparse`, into an [`http::HeaderMap`]
//! whose values share the received bytes.
//!
//! What the wire may contain and what we do with it (RFC 9112 §2.2, §4, §5):
//! - `HTTP/1.0` or `HTTP/1.1` and a 3-digit status; anything else is [`InvalidHead`](ProtoErrorKind::InvalidHead).
//! - Bare LF line ends are accepted, a bare CR anywhere is rejected (httparse does both).
//! - Obsolete line folding (a header line continued by a line starting with SP/HTAB) is unfolded: each
//!   fold, with the whitespace around it, becomes one SP.
//! - Empty lines before the status line are skipped (httparse does this; RFC 9112 §2.2's robustness rule).
//!
//! Speed: the head is parsed where it lies in the read buffer, then split off as one frozen `Bytes`, and
//! every header value is a slice of it, so a response head costs one `HeaderMap` and no copies. While a head
//! is incomplete, new bytes are only scanned for the blank line that ends it (a head trickling in byte by
//! byte costs linear time, not quadratic), except that short heads are fully re-parsed so that garbage
//! (a TLS alert, an SSH banner) fails at once instead of waiting for the size limit.

use std::mem::MaybeUninit;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode, Version};

use super::error::{quote, ProtoError, ProtoErrorKind};
use super::syntax::{is_tchar, trim};
use super::Limits;

/// The head of a final (non-1xx) response.
///
/// ```
/// use spool_client::proto::ResponseHead;
/// let mut head = ResponseHead { version: http::Version::HTTP_11, status: http::StatusCode::OK, headers: Default::default() };
/// head.headers.insert("keep-alive", "timeout=5, max=100".parse().unwrap());
/// assert_eq!(head.keep_alive_timeout(), Some(std::time::Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone)]
pub struct ResponseHead {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: Version,
    /// The status code (never 1xx: interim responses are skipped).
    pub status: StatusCode,
    /// All header fields in received order; values are slices of the received head bytes.
    pub headers: HeaderMap,
}

impl ResponseHead {
    /// How long the server promises to keep the idle connection open, from `Keep-Alive: timeout=N`
    /// (seconds). `None` when absent or unreadable. A pool should expire the connection a little earlier.
    pub fn keep_alive_timeout(&self) -> Option<Duration> {
        for value in self.headers.get_all("keep-alive") {
            for param in value.as_bytes().split(|&b| b == b',') {
                let Some(eq) = param.iter().position(|&b| b == b'=') else {
                    continue;
                };
                if !trim(&param[..eq]).eq_ignore_ascii_case(b"timeout") {
                    continue;
                }
                let mut v = trim(&param[eq + 1..]);
                if let [b'"', inner @ .., b'"'] = v {
                    v = inner;
                }
                if v.is_empty() || v.len() > 10 || !v.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let secs = v.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
                return Some(Duration::from_secs(secs));
            }
        }
        None
    }
}

/// Where a header's name and value lie inside the head bytes, kept across the buffer split.
#[derive(Debug, Clone, Copy)]
struct Span {
    name: (usize, usize),
    value: (usize, usize),
    /// The value contains an obs-fold (a line break) and must be rebuilt.
    folded: bool,
}

/// What a complete head turned out to be.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// An interim 1xx response, already removed from the buffer.
    Interim(StatusCode),
    /// A final response.
    Final(ResponseHead),
}

/// Incremental response-head parser; one per connection, its buffers reused for every response.
#[derive(Debug, Default)]
pub(crate) struct HeadParser {
    /// How far the buffer has been searched for the blank line ending the head.
    scanned: usize,
    /// Reused between heads so that parsing allocates nothing but the `HeaderMap`.
    spans: Vec<Span>,
    /// An empty map to fill with the next head's fields ([`ClientConn::reuse_header_map`]).
    ///
    /// [`ClientConn::reuse_header_map`]: super::ClientConn::reuse_header_map
    pub(crate) spare_map: HeaderMap,
    /// Which framing fields the last final head had.
    pub(crate) present: Present,
}

/// Which of the fields that decide framing a head has, noted while its map is built, so that
/// `framing.rs` looks up only those that are there (most responses have no `Transfer-Encoding`,
/// and a lookup hashes the name even when it finds nothing).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Present {
    pub transfer_encoding: bool,
    pub content_length: bool,
    pub connection: bool,
}

impl Present {
    fn note(&mut self, name: &HeaderName) {
        if name == header::TRANSFER_ENCODING {
            self.transfer_encoding = true;
        } else if name == header::CONTENT_LENGTH {
            self.content_length = true;
        } else if name == header::CONNECTION {
            self.connection = true;
        }
    }
}

/// Heads up to this size are re-parsed in full on every new byte, so malformed input fails immediately.
const EAGER_PARSE_BYTES: usize = 4096;

impl HeadParser {
    /// Tries to take one complete head off the front of `buf`; `Ok(None)` means more bytes are needed.
    pub(crate) fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Parsed>, ProtoError> {
        if buf.is_empty() {
            // The driver asks before its first read of every response: nothing to look at yet.
            self.scanned = 0;
            return Ok(None);
        }
        let window = buf.len().min(limits.max_head_bytes);
        let try_parse = buf.len() <= EAGER_PARSE_BYTES
            || match find_blank_line(&buf[..window], self.scanned) {
                Ok(_) => true,
                Err(resume) => {
                    self.scanned = resume;
                    false
                }
            };
        if try_parse {
            if let Some(parsed) = self.parse_complete(buf, limits)? {
                self.scanned = 0;
                return Ok(Some(parsed));
            }
            // httparse saw the whole buffer and found no complete head (the blank line was a leading empty
            // line, or a fold may follow): only a blank line that includes new bytes can end it, and its
            // first LF is at least at the second-to-last byte.
            self.scanned = window.saturating_sub(2);
        }
        if buf.len() >= limits.max_head_bytes {
            return Err(ProtoError::new(
                ProtoErrorKind::TooLarge,
                format!(
                    "response head is longer than {} bytes",
                    limits.max_head_bytes
                ),
            ));
        }
        Ok(None)
    }

    /// Runs httparse over the buffer; on a complete head, splits it off and builds the result.
    fn parse_complete(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Parsed>, ProtoError> {
        let (len, version, code) = match self.run_httparse(buf, limits)? {
            Some(found) => found,
            None => return Ok(None),
        };
        if len > limits.max_head_bytes {
            return Err(ProtoError::new(
                ProtoErrorKind::TooLarge,
                format!(
                    "response head is {len} bytes, over the limit of {}",
                    limits.max_head_bytes
                ),
            ));
        }
        let status = StatusCode::from_u16(code).map_err(|_| {
            ProtoError::new(
                ProtoErrorKind::InvalidHead,
                format!("status code {code:03} is out of range"),
            )
        })?;
        let head = buf.split_to(len).freeze();
        if status.is_informational() {
            return Ok(Some(Parsed::Interim(status)));
        }
        let headers = self.build_headers(&head)?;
        Ok(Some(Parsed::Final(ResponseHead {
            version,
            status,
            headers,
        })))
    }

    /// Parses the head in place and records where each header lies, since the parse borrows the buffer
    /// that is about to be split. Returns `(head length, version, status code)`.
    fn run_httparse(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<(usize, Version, u16)>, ProtoError> {
        let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; 128];
        let mut heap = Vec::new();
        let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if limits.max_headers <= stack.len() {
            &mut stack[..limits.max_headers]
        } else {
            heap.resize_with(limits.max_headers, MaybeUninit::uninit);
            &mut heap
        };
        let mut response = httparse::Response::new(&mut []);
        let status = httparse::ParserConfig::default()
            .allow_obsolete_multiline_headers_in_responses(true)
            .parse_response_with_uninit_headers(&mut response, buf, slots)
            .map_err(|e| match e {
                httparse::Error::TooManyHeaders => ProtoError::new(
                    ProtoErrorKind::TooLarge,
                    format!(
                        "response has more than {} header fields",
                        limits.max_headers
                    ),
                ),
                httparse::Error::Version => ProtoError::new(
                    ProtoErrorKind::InvalidHead,
                    format!(
                        "status line {} is not HTTP/1.0 or HTTP/1.1",
                        quote(first_line(buf))
                    ),
                ),
                httparse::Error::HeaderName
                | httparse::Error::HeaderValue
                | httparse::Error::NewLine => ProtoError::new(
                    ProtoErrorKind::InvalidHead,
                    format!("{e} in line {}", quote(suspect_line(buf))),
                ),
                other => ProtoError::new(
                    ProtoErrorKind::InvalidHead,
                    format!("{other} in status line {}", quote(first_line(buf))),
                ),
            })?;
        let httparse::Status::Complete(len) = status else {
            return Ok(None);
        };
        let version = if response.version == Some(0) {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        let code = response.code.unwrap_or(0);
        let base = buf.as_ptr() as usize;
        self.spans.clear();
        for h in response.headers.iter() {
            // Offsets from pointers: httparse hands out subslices of `buf`, and an address difference is
            // all we need to find the same bytes again after the split.
            let name = (h.name.as_ptr() as usize - base, h.name.len());
            let value = (h.value.as_ptr() as usize - base, h.value.len());
            let folded = h.value.contains(&b'\n');
            self.spans.push(Span {
                name,
                value,
                folded,
            });
        }
        Ok(Some((len, version, code)))
    }

    /// Builds the header map from the recorded spans; values share `head`'s memory unless unfolded.
    fn build_headers(&mut self, head: &Bytes) -> Result<HeaderMap, ProtoError> {
        // A map given back by the caller is refilled in place: no allocation when it has room.
        let mut map = std::mem::take(&mut self.spare_map);
        map.clear();
        if !self.spans.is_empty() {
            map.reserve(self.spans.len());
        }
        self.present = Present::default();
        for span in &self.spans {
            let name_bytes = &head[span.name.0..span.name.0 + span.name.1];
            let name = match common_name(name_bytes) {
                Some(name) => Ok(name),
                None => HeaderName::from_bytes(name_bytes),
            }
            .map_err(|_| {
                ProtoError::new(
                    ProtoErrorKind::InvalidHead,
                    format!("invalid header name {}", quote(name_bytes)),
                )
            })?;
            let (start, len) = span.value;
            let value = if span.folded {
                HeaderValue::from_bytes(&unfold(&head[start..start + len]))
            } else {
                HeaderValue::from_maybe_shared(head.slice(start..start + len))
            }
            .map_err(|_| {
                ProtoError::new(
                    ProtoErrorKind::InvalidHead,
                    format!(
                        "invalid value for header {name}: {}",
                        quote(&head[start..start + len])
                    ),
                )
            })?;
            self.present.note(&name);
            map.try_append(name, value).map_err(|_| {
                ProtoError::new(
                    ProtoErrorKind::TooLarge,
                    "too many header fields for a header map",
                )
            })?;
        }
        Ok(map)
    }
}

/// The field names servers send most, spelled as they send them, and what [`HeaderName::from_bytes`]
/// makes of them. Matching these bytes is a few comparisons; `from_bytes` lower-cases and validates
/// every byte before it finds the same standard name, for every field of every response.
const COMMON_NAMES: [(&[u8], HeaderName); 20] = [
    (b"Date", header::DATE),
    (b"Server", header::SERVER),
    (b"Content-Type", header::CONTENT_TYPE),
    (b"Content-Length", header::CONTENT_LENGTH),
    (b"Connection", header::CONNECTION),
    (b"Last-Modified", header::LAST_MODIFIED),
    (b"ETag", header::ETAG),
    (b"Accept-Ranges", header::ACCEPT_RANGES),
    (b"Cache-Control", header::CACHE_CONTROL),
    (b"Transfer-Encoding", header::TRANSFER_ENCODING),
    (b"Content-Encoding", header::CONTENT_ENCODING),
    (b"Vary", header::VARY),
    (b"Expires", header::EXPIRES),
    (b"Location", header::LOCATION),
    (b"Set-Cookie", header::SET_COOKIE),
    (b"Age", header::AGE),
    (b"content-type", header::CONTENT_TYPE),
    (b"content-length", header::CONTENT_LENGTH),
    (b"date", header::DATE),
    (b"server", header::SERVER),
];

/// `name` as a standard [`HeaderName`] if it is spelled exactly as in [`COMMON_NAMES`].
fn common_name(name: &[u8]) -> Option<HeaderName> {
    COMMON_NAMES
        .iter()
        .find(|(bytes, _)| *bytes == name)
        .map(|(_, header)| header.clone())
}

/// Replaces each obs-fold (optional whitespace, CRLF or LF, whitespace) with a single SP (RFC 9112 §5.2).
fn unfold(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'\r' | b'\n' => {
                while matches!(out.last(), Some(b' ' | b'\t')) {
                    out.pop();
                }
                i += 1;
                while i < value.len() && matches!(value[i], b' ' | b'\t' | b'\r' | b'\n') {
                    i += 1;
                }
                out.push(b' ');
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Searches `buf` from `from` for a blank line after a line end (`\n\n` or `\n\r\n`).
///
/// `Ok(end)`: the candidate head ends at `end`. `Err(resume)`: none yet; searching again from `resume`
/// sees every candidate that new bytes could complete.
fn find_blank_line(buf: &[u8], from: usize) -> Result<usize, usize> {
    let mut i = from;
    while let Some(off) = buf
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let lf = i + off;
        match (buf.get(lf + 1), buf.get(lf + 2)) {
            (Some(b'\n'), _) => return Ok(lf + 2),
            (Some(b'\r'), Some(b'\n')) => return Ok(lf + 3),
            (None, _) | (Some(b'\r'), None) => return Err(lf),
            _ => i = lf + 1,
        }
    }
    Err(buf.len().max(from))
}

/// The first non-empty line of the buffer (without its line end), for error messages.
fn first_line(buf: &[u8]) -> &[u8] {
    lines(buf).find(|l| !l.is_empty()).unwrap_or(&[])
}

/// The header line httparse most likely rejected, so the error can quote it: the first line with a bare
/// CR or a control byte, a header line without a well-formed `name:`, or a continuation line where no
/// field precedes it. Falls back to the status line. Only runs on errors.
fn suspect_line(buf: &[u8]) -> &[u8] {
    let mut lines = lines(buf).skip_while(|l| l.is_empty());
    let status_line = lines.next().unwrap_or(&[]);
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            break;
        }
        let bad_byte = line.iter().any(|&b| (b < b' ' && b != b'\t') || b == 0x7f);
        let continuation = matches!(line[0], b' ' | b'\t');
        let bad_name = !continuation
            && match line.iter().position(|&b| b == b':') {
                Some(colon) => colon == 0 || !line[..colon].iter().all(|&b| is_tchar(b)),
                None => true,
            };
        if bad_byte || bad_name || (continuation && i == 0) {
            return line;
        }
    }
    status_line
}

/// The lines of `buf` split at LF, each without a trailing CR.
fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    buf.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspect_lines() {
        let head = b"\r\nHTTP/1.1 200 OK\r\nGood: yes\r\nBad : no\r\n\r\n";
        assert_eq!(suspect_line(head), b"Bad : no");
        assert_eq!(suspect_line(b"HTTP/1.1 200 OK\r\nA: b\rc\r\n"), b"A: b\rc");
        assert_eq!(
            suspect_line(b"HTTP/1.1 200 OK\r\n folded-first\r\n"),
            b" folded-first"
        );
        assert_eq!(
            suspect_line(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n"),
            b"HTTP/1.1 200 OK"
        );
        assert_eq!(first_line(b"\r\nSSH-2.0\r\n"), b"SSH-2.0");
    }

    #[test]
    fn common_names_are_what_from_bytes_makes_of_them() {
        for (bytes, name) in &COMMON_NAMES {
            assert_eq!(&HeaderName::from_bytes(bytes).unwrap(), name);
            assert_eq!(common_name(bytes).as_ref(), Some(name));
        }
        assert_eq!(common_name(b"X-Date"), None);
        assert_eq!(common_name(b"DATE"), None);
    }

    #[test]
    fn unfolding() {
        assert_eq!(unfold(b"a\r\n b"), b"a b");
        assert_eq!(unfold(b"a \r\n\t b"), b"a b");
        assert_eq!(unfold(b"a\n b\n  c"), b"a b c");
        assert_eq!(unfold(b"plain"), b"plain");
    }

    #[test]
    fn blank_line_search() {
        assert_eq!(find_blank_line(b"a\r\n\r\nrest", 0), Ok(5));
        assert_eq!(find_blank_line(b"a\n\nrest", 0), Ok(3));
        assert_eq!(find_blank_line(b"a\r\nb", 0), Err(4));
        assert_eq!(find_blank_line(b"a\r\n", 0), Err(2));
        assert_eq!(find_blank_line(b"a\r\n\r", 0), Err(2));
        assert_eq!(find_blank_line(b"a\r\n\r\n", 2), Ok(5));
    }

    #[test]
    fn keep_alive_timeout_forms() {
        let mut head = ResponseHead {
            version: Version::HTTP_11,
            status: StatusCode::OK,
            headers: HeaderMap::new(),
        };
        assert_eq!(head.keep_alive_timeout(), None);
        head.headers.insert(
            "keep-alive",
            HeaderValue::from_static("max=5, Timeout = \"7\""),
        );
        assert_eq!(head.keep_alive_timeout(), Some(Duration::from_secs(7)));
        head.headers
            .insert("keep-alive", HeaderValue::from_static("timeout=-1"));
        assert_eq!(head.keep_alive_timeout(), None);
    }
}
