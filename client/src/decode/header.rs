//! [`codings`]: a response's `Content-Encoding` header read into the codings to undo.
//!
//! The header is a comma-separated list in the order the codings were applied
//! (RFC 9110 §8.4): `gzip, br` was gzipped first. `identity` means "no coding" and is dropped;
//! empty list elements (`gzip,,br`) are skipped, as the list rule (§5.6.1) allows.

use http::header::{HeaderMap, CONTENT_ENCODING};

use super::coding::Coding;
use super::error::DecodeError;

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
