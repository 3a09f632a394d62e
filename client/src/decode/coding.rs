//! [`Coding`]: the content codings spool decodes, and their tokens. Tokens are case-insensitive;
//! `x-gzip` is `gzip` (RFC 9110 §8.4.1.3). Reading a whole `Content-Encoding` header is
//! `header.rs`.

use std::fmt;

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
    /// a coding (the `Content-Encoding` parser skips it).
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
