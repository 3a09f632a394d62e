//! [`DecodeError`]: why a compressed body could not be decoded, in a sentence that says what to
//! do about it.

use std::fmt;

use super::coding::Coding;

/// A body that could not be decoded.
///
/// ```
/// use spool_client::decode::DecodeError;
/// let e = DecodeError::TooLarge { limit: 1024 };
/// assert!(e.to_string().contains("more than 1024 bytes"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The decoded body passed `limit` bytes (a decompression bomb, or a limit set too low).
    TooLarge {
        /// The limit, in decoded bytes.
        limit: u64,
    },
    /// The server used a coding spool does not decode (the token as the server wrote it).
    Unsupported(String),
    /// The data is not valid for its coding.
    Corrupt {
        /// Which stage failed.
        coding: Coding,
        /// What the decoder said.
        detail: String,
    },
    /// The body ended before the compressed stream did.
    Truncated {
        /// Which stage was left unfinished.
        coding: Coding,
    },
}

impl DecodeError {
    pub(crate) fn corrupt(coding: Coding, detail: impl fmt::Display) -> DecodeError {
        DecodeError::Corrupt {
            coding,
            detail: detail.to_string(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLarge { limit } => write!(
                f,
                "the decoded body is more than {limit} bytes (the body-size limit; a small \
                 compressed body can expand without bound, so the limit counts decoded bytes)"
            ),
            DecodeError::Unsupported(token) => write!(
                f,
                "the server used Content-Encoding {token:?}, which spool does not decode (it \
                 decodes gzip, deflate, br and zstd); turn decoding off to keep the raw bytes"
            ),
            DecodeError::Corrupt { coding, detail } => {
                write!(f, "the {coding} body is corrupt: {detail}")
            }
            DecodeError::Truncated { coding } => write!(
                f,
                "the {coding} body ended before its compressed stream did (cut short)"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}
