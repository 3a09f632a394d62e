//! Entry points for the fuzz targets in `fuzz/` that reach code which is not public API: not for
//! users, hidden from the docs, and free to change with the code it exposes.
//!
//! Only what a target cannot reach through the public API lives here. Everything else (the response
//! state machine, URL checks through [`IntoUrl`](crate::IntoUrl), the DNS message parser) is fuzzed
//! through its public path.

use http::Uri;

use crate::error::Error;

/// What the client does with a redirect's `Location` (RFC 3986 §5.2 resolution against the URL
/// that answered, then the URL checks with spaces encoded), without a request around it.
///
/// ```
/// let base: http::Uri = "http://a/b/c".parse().unwrap();
/// let next = spool_client::__fuzz::resolve_location(&base, "../d?x").unwrap();
/// assert_eq!(next.to_string(), "http://a/d?x");
/// ```
pub fn resolve_location(base: &Uri, location: &str) -> Result<Uri, Error> {
    crate::url::parse_location(&crate::reference::resolve(base, location))
}
