//! [`Coding`]: the content codings spool decodes, read from a `Content-Encoding` header.
//!
//! The header is a comma-separated list in the order the codings were applied
//! (RFC 9110 §8.4): `gzip, br` was gzipped first. Tokens are case-insensitive; `x-gzip` is
//! `gzip` (RFC 9110 §8.4.1.3); `identity` means "no coding" and is dropped; empty list
//! elements (`gzip,,br`) are skipped, as the list rule (§5.6.1) allows.

use std::fmt;

use http::header::{HeaderMap, CONTENT_ENCODING};

use super::error::DecodeError;

/// A content coding spool can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// `gzip` (or `x-gzip`): RFC 1952, one or more members.
    Gzip,
    /// `deflate`: RFC 1950 zlib data; raw RFC 1951 deflate is accepted too, as curl does.
    Deflate,
    /// `br`: Brotli, RFC 7932.
    Brotli,
    /// `zstd`: Zstandard, RFC 8878, with a window of at most 8 MiB (RFC 9659).
    Zstd,
}

impl Coding {
    /// The coding named by one token, or `None` for one spool does not know. `identity` is not
    /// a coding (see [`codings`]).
    ///
    /// ```
    /// use spool_client::decode::Coding;
    /// assert_eq!(Coding::from_token("GZip"), Some(Coding::Gzip));
    /// assert_eq!(Coding::from_token("x-gzip"), Some(Coding::Gzip));
    /// assert_eq!(Coding::from_token("compress"), None);
    /// ```
    pub fn from_token(token: &str) -> Option<Coding> {
        let t = token.trim();
        if t.eq_ignore_ascii_case("gzip") || t.eq_ignore_ascii_case("x-gzip") {
            Some(Coding::Gzip)
        } else if t.eq_ignore_ascii_case("deflate") {
            Some(Coding::Deflate)
        } else if t.eq_ignore_ascii_case("br") {
            Some(Coding::Brotli)
        } else if t.eq_ignore_ascii_case("zstd") {
            Some(Coding::Zstd)
        } else {
            None
        }
    }

    /// The token as it is written in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Coding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every coding named by the `Content-Encoding` headers of `headers`, in the order they were
/// applied (all header lines joined, as RFC 9110 §5.3 says a list may be split). Empty when the
/// body is not encoded. An unknown token is [`DecodeError::Unsupported`].
///
/// ```
/// use spool_client::decode::{codings, Coding};
/// use spool_client::{HeaderMap, HeaderValue};
/// let mut h = HeaderMap::new();
/// h.insert("content-encoding", HeaderValue::from_static("gzip, identity, br"));
/// assert_eq!(codings(&h).unwrap(), vec![Coding::Gzip, Coding::Brotli]);
/// ```
pub fn codings(headers: &HeaderMap) -> Result<Vec<Coding>, DecodeError> {
    let mut found = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let text = value.to_str().map_err(|_| {
            DecodeError::Unsupported(String::from_utf8_lossy(value.as_bytes()).into())
        })?;
        for token in text.split(',').map(str::trim) {
            if token.is_empty() || token.eq_ignore_ascii_case("identity") {
                continue;
            }
            match Coding::from_token(token) {
                Some(coding) => found.push(coding),
                None => return Err(DecodeError::Unsupported(token.to_string())),
            }
        }
    }
    Ok(found)
}
