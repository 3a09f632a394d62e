//! Body decoding: hands out body bytes as zero-copy `Bytes` split off the read buffer, and says when the
//! body is complete according to its [`BodyKind`].
//!
//! Three decoders, one per framing: a byte count (`Content-Length`, or 0 for bodiless responses), the
//! chunked decoder in [`chunked`](super::chunked), and "everything until the server closes". Only the last
//! one can end at EOF; the others report [`IncompleteBody`](ProtoErrorKind::IncompleteBody) there, because
//! a short body passed off as complete is silent data loss.

use bytes::BytesMut;

use super::chunked::ChunkedDecoder;
use super::error::{ProtoError, ProtoErrorKind};
use super::framing::{BodyKind, Step};
use super::Limits;

/// Decodes one response body.
#[derive(Debug)]
pub(crate) enum BodyDecoder {
    /// A fixed number of bytes; `remaining` counts down to 0.
    Length { remaining: u64 },
    /// `Transfer-Encoding: chunked`.
    Chunked(ChunkedDecoder),
    /// All bytes until the server closes the connection.
    Close,
}

impl BodyDecoder {
    /// A decoder for the given framing.
    pub(crate) fn new(kind: BodyKind) -> Self {
        match kind {
            BodyKind::Bodiless { .. } => Self::Length { remaining: 0 },
            BodyKind::Length(n) => Self::Length { remaining: n },
            BodyKind::Chunked => Self::Chunked(ChunkedDecoder::default()),
            BodyKind::UntilClose => Self::Close,
        }
    }

    /// Takes the next piece of body (or the end) off the front of `buf`.
    pub(crate) fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Step, ProtoError> {
        match self {
            Self::Length { remaining: 0 } => Ok(Step::End),
            Self::Length { remaining } => {
                if buf.is_empty() {
                    return Ok(Step::NeedMore);
                }
                let n = buf
                    .len()
                    .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                *remaining -= n as u64;
                Ok(Step::Data(buf.split_to(n).freeze()))
            }
            Self::Chunked(chunked) => chunked.decode(buf, limits),
            Self::Close if buf.is_empty() => Ok(Step::NeedMore),
            Self::Close => Ok(Step::Data(buf.split().freeze())),
        }
    }

    /// The peer closed the connection and `decode` needs more: finish or fail.
    pub(crate) fn at_eof(&self) -> Result<(), ProtoError> {
        match self {
            Self::Close => Ok(()),
            Self::Length { remaining } => Err(ProtoError::new(
                ProtoErrorKind::IncompleteBody,
                format!("connection closed with {remaining} bytes of the Content-Length body still missing"),
            )),
            Self::Chunked(chunked) => Err(ProtoError::new(
                ProtoErrorKind::IncompleteBody,
                format!("connection closed {}", chunked.position()),
            )),
        }
    }
}
