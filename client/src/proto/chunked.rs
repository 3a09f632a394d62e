//! The chunked transfer coding (RFC 9112 §7.1), decoded incrementally and without copying chunk data.
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! last-chunk   = 1*"0" [ chunk-ext ] CRLF
//! ```
//!
//! Framing lines are walked one byte at a time by a small state machine, and consumed as they are read, so
//! a size line or trailer split across reads never needs re-scanning. Chunk data is split off the buffer in
//! one piece. What is accepted:
//! - chunk-size: 1 to 16 hex digits in any case (so it fits a `u64`); no sign, no `0x`, no empty size.
//! - chunk extensions: ignored, but at most `max_chunk_ext_bytes` per body, and no control characters.
//! - trailer fields: consumed and dropped, at most `max_trailer_bytes` per body; each line needs a colon.
//! - line ends: a chunk-size line (the last one included) and the chunk data must end in CRLF. A bare LF
//!   there is refused: RFC 9112 §7.1 requires CRLF, and the §2.2 leniency for a bare LF covers the
//!   start-line and field lines only. Intermediaries that disagree on where a chunk ends are a known
//!   request-smuggling and desync vector, so the client does not guess. Trailer fields and the final
//!   blank line are field lines, so they may end in a bare LF. A bare CR is an error everywhere.

use bytes::{Buf, BytesMut};

use super::error::{ProtoError, ProtoErrorKind};
use super::framing::Step;
use super::Limits;

/// Where the decoder is inside the chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex digits of a chunk size (`digits` so far).
    Size { size: u64, digits: u8 },
    /// After the digits: whitespace before `;` or the line end.
    SizeSpace { size: u64 },
    /// Inside a chunk extension, which runs to the end of the line.
    Extension { size: u64 },
    /// Saw the CR ending a size line; an LF must follow.
    SizeLf { size: u64 },
    /// Inside chunk data.
    Data { remaining: u64 },
    /// Chunk data ended; its CRLF must follow.
    DataCr,
    /// Saw the CR after chunk data; an LF must follow.
    DataLf,
    /// At the start of a trailer line, or of the blank line that ends the body.
    TrailerStart,
    /// Inside a trailer line (`colon`: a `:` was seen, which a field line needs).
    TrailerLine { colon: bool },
    /// Saw the CR ending a trailer line.
    TrailerLf,
    /// Saw the CR of the final blank line.
    EndLf,
    /// The body is complete.
    Done,
}

/// Incremental decoder for one chunked body.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    /// Chunk-extension bytes seen in this body, bounded by `Limits::max_chunk_ext_bytes`.
    ext_bytes: usize,
    /// Trailer-section bytes seen in this body, bounded by `Limits::max_trailer_bytes`.
    trailer_bytes: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self {
            state: State::Size { size: 0, digits: 0 },
            ext_bytes: 0,
            trailer_bytes: 0,
        }
    }
}

impl ChunkedDecoder {
    /// Takes the next chunk data (or the end) off the front of `buf`, consuming framing bytes on the way.
    pub(crate) fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Step, ProtoError> {
        loop {
            match self.state {
                State::Done => return Ok(Step::End),
                State::Data { remaining } => {
                    if buf.is_empty() {
                        return Ok(Step::NeedMore);
                    }
                    let n = buf
                        .len()
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    let remaining = remaining - n as u64;
                    self.state = if remaining == 0 {
                        State::DataCr
                    } else {
                        State::Data { remaining }
                    };
                    return Ok(Step::Data(buf.split_to(n).freeze()));
                }
                _ => {
                    // Walk framing bytes until data starts, the body ends, or the buffer runs out.
                    let mut used = 0;
                    let mut result = Ok(());
                    for &b in buf.iter() {
                        used += 1;
                        result = self.step(b, limits);
                        if result.is_err() || matches!(self.state, State::Data { .. } | State::Done)
                        {
                            break;
                        }
                    }
                    buf.advance(used);
                    result?;
                    if !matches!(self.state, State::Data { .. } | State::Done) {
                        return Ok(Step::NeedMore);
                    }
                }
            }
        }
    }

    /// Advances the framing state machine by one byte.
    fn step(&mut self, b: u8, limits: &Limits) -> Result<(), ProtoError> {
        self.state = match self.state {
            State::Size { size, digits } => match hex_value(b) {
                Some(_) if digits == 16 => {
                    return Err(invalid("chunk size has more than 16 hex digits"))
                }
                Some(v) => State::Size {
                    size: size << 4 | u64::from(v),
                    digits: digits + 1,
                },
                None if digits == 0 => {
                    return Err(invalid(format!(
                        "chunk size line starts with {}, not a hex digit",
                        show(b)
                    )))
                }
                None => self.after_size(size, b, limits)?,
            },
            State::SizeSpace { size } => match b {
                b' ' | b'\t' => State::SizeSpace { size },
                _ => self.after_size(size, b, limits)?,
            },
            State::Extension { size } => match b {
                b'\r' => State::SizeLf { size },
                b'\n' => return Err(bare_lf_after_size()),
                b'\t' => self.count_ext(size, limits)?,
                _ if b < b' ' || b == 0x7f => {
                    return Err(invalid(format!(
                        "chunk extension contains control byte {}",
                        show(b)
                    )))
                }
                _ => self.count_ext(size, limits)?,
            },
            State::SizeLf { size } => match b {
                b'\n' => Self::size_line_done(size),
                _ => return Err(invalid("bare CR in chunk size line")),
            },
            State::DataCr => match b {
                b'\r' => State::DataLf,
                b'\n' => return Err(invalid(
                    "chunk data is followed by a bare LF, not CRLF (RFC 9112 §7.1 requires CRLF)",
                )),
                _ => {
                    return Err(invalid(format!(
                    "chunk data is followed by {} instead of CRLF (chunk longer than its size?)",
                    show(b)
                )))
                }
            },
            State::DataLf => match b {
                b'\n' => State::Size { size: 0, digits: 0 },
                _ => return Err(invalid("bare CR after chunk data")),
            },
            State::TrailerStart => match b {
                b'\r' => State::EndLf,
                b'\n' => State::Done,
                // A line starting with whitespace continues the previous field (obs-fold).
                b' ' | b'\t' => self.count_trailer(State::TrailerLine { colon: true }, limits)?,
                b':' => return Err(invalid("trailer line has an empty field name")),
                _ => self.trailer_byte(b, false, limits)?,
            },
            State::TrailerLine { colon } => match b {
                b'\r' | b'\n' if !colon => return Err(invalid("trailer line has no colon")),
                b'\r' => self.count_trailer(State::TrailerLf, limits)?,
                b'\n' => self.count_trailer(State::TrailerStart, limits)?,
                _ => self.trailer_byte(b, colon, limits)?,
            },
            State::TrailerLf => match b {
                b'\n' => self.count_trailer(State::TrailerStart, limits)?,
                _ => return Err(invalid("bare CR in trailer section")),
            },
            State::EndLf => match b {
                b'\n' => State::Done,
                _ => return Err(invalid("bare CR at the end of the chunked body")),
            },
            State::Data { .. } | State::Done => unreachable!("framing byte fed in a data state"),
        };
        Ok(())
    }

    /// The size digits are over: the line may continue with whitespace, an extension or its end.
    fn after_size(&mut self, size: u64, b: u8, limits: &Limits) -> Result<State, ProtoError> {
        Ok(match b {
            b' ' | b'\t' => State::SizeSpace { size },
            b';' => self.count_ext(size, limits)?,
            b'\r' => State::SizeLf { size },
            b'\n' => return Err(bare_lf_after_size()),
            _ => return Err(invalid(format!("chunk size is followed by {}", show(b)))),
        })
    }

    fn size_line_done(size: u64) -> State {
        if size == 0 {
            State::TrailerStart
        } else {
            State::Data { remaining: size }
        }
    }

    fn count_ext(&mut self, size: u64, limits: &Limits) -> Result<State, ProtoError> {
        self.ext_bytes += 1;
        if self.ext_bytes > limits.max_chunk_ext_bytes {
            return Err(ProtoError::new(
                ProtoErrorKind::TooLarge,
                format!(
                    "chunk extensions exceed {} bytes",
                    limits.max_chunk_ext_bytes
                ),
            ));
        }
        Ok(State::Extension { size })
    }

    /// One byte of a trailer field line (not a line end).
    fn trailer_byte(&mut self, b: u8, colon: bool, limits: &Limits) -> Result<State, ProtoError> {
        if (b < b' ' && b != b'\t') || b == 0x7f {
            return Err(invalid(format!(
                "trailer contains control byte {}",
                show(b)
            )));
        }
        self.count_trailer(
            State::TrailerLine {
                colon: colon || b == b':',
            },
            limits,
        )
    }

    fn count_trailer(&mut self, next: State, limits: &Limits) -> Result<State, ProtoError> {
        self.trailer_bytes += 1;
        if self.trailer_bytes > limits.max_trailer_bytes {
            return Err(ProtoError::new(
                ProtoErrorKind::TooLarge,
                format!("chunked trailers exceed {} bytes", limits.max_trailer_bytes),
            ));
        }
        Ok(next)
    }

    /// Where in the body the decoder is, for "connection closed ..." messages.
    pub(crate) fn position(&self) -> String {
        match self.state {
            State::Data { remaining } => format!("with {remaining} bytes of a chunk still missing"),
            State::TrailerStart | State::TrailerLine { .. } | State::TrailerLf | State::EndLf => {
                "in the trailer section of a chunked body".to_owned()
            }
            State::Done => "after the chunked body was complete".to_owned(),
            _ => "before the terminating zero-size chunk of a chunked body".to_owned(),
        }
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A byte as it should appear in an error message.
fn show(b: u8) -> String {
    format!("'{}'", std::ascii::escape_default(b))
}

fn bare_lf_after_size() -> ProtoError {
    invalid("chunk-size line ends in a bare LF, not CRLF (RFC 9112 §7.1 requires CRLF)")
}

fn invalid(detail: impl Into<String>) -> ProtoError {
    ProtoError::new(ProtoErrorKind::InvalidChunk, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a complete chunked body fed at once, returning the data or the error.
    fn decode_all(input: &[u8]) -> Result<(Vec<u8>, usize), ProtoError> {
        let limits = Limits::default();
        let mut dec = ChunkedDecoder::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        for _ in 0..10_000 {
            match dec.decode(&mut buf, &limits)? {
                Step::Data(d) => out.extend_from_slice(&d),
                Step::End => return Ok((out, buf.len())),
                Step::NeedMore => return Err(invalid("test: needs more")),
            }
        }
        panic!("decoder did not finish");
    }

    #[test]
    fn sizes_in_any_case_and_extensions() {
        let (data, rest) =
            decode_all(b"A\r\n0123456789\r\nb;x=\"y z\"\r\n0123456789a\r\n0\r\n\r\nNEXT").unwrap();
        assert_eq!(data, b"01234567890123456789a");
        assert_eq!(rest, 4);
    }

    #[test]
    fn size_lines_rejected() {
        for bad in [
            &b"\r\n"[..],
            b"-5\r\n",
            b"+5\r\n",
            b"0x5\r\n",
            b"5 5\r\n",
            b"10000000000000000\r\n",
            b"5\rX",
            b"5;a\x01\r\n",
        ] {
            let e = decode_all(bad).unwrap_err();
            assert_eq!(e.kind(), ProtoErrorKind::InvalidChunk, "{bad:?}: {e}");
        }
        // Sixteen digits are fine (leading zeros count).
        assert!(decode_all(b"0000000000000001\r\nx\r\n0\r\n\r\n").is_ok());
    }

    #[test]
    fn trailers_consumed_and_checked() {
        // Trailer fields and the final blank line may end in a bare LF (they are field lines).
        let (data, rest) = decode_all(b"1\r\nx\r\n0\r\nA: b\nC: d\r\n  folded\r\n\n").unwrap();
        assert_eq!((data.as_slice(), rest), (&b"x"[..], 0));
        assert_eq!(
            decode_all(b"0\r\nnocolon\r\n\r\n").unwrap_err().kind(),
            ProtoErrorKind::InvalidChunk
        );
        assert_eq!(
            decode_all(b"1\r\nxy\r\n").unwrap_err().kind(),
            ProtoErrorKind::InvalidChunk
        );
    }

    #[test]
    fn bare_lf_refused_in_chunk_framing() {
        for (bad, what) in [
            (&b"5\nhello\r\n0\r\n\r\n"[..], "chunk-size line"),
            (b"5;ext\nhello\r\n0\r\n\r\n", "chunk-size line"),
            (b"5 \nhello\r\n0\r\n\r\n", "chunk-size line"),
            (b"5\r\nhello\n0\r\n\r\n", "chunk data"),
            (b"5\r\nhello\r\n0\n\r\n", "chunk-size line"),
            (b"5\r\nhello\r\n0;last\n\r\n", "chunk-size line"),
            // Found by the `chunked` fuzz target before the fix (an extension with obs-text, then LF).
            (
                b"3;name=\"v;x\"\r\nabc\r\n0;last\xf7\nX-Sum: 1\r\n\r\n",
                "chunk-size line",
            ),
        ] {
            let e = decode_all(bad).unwrap_err();
            assert_eq!(e.kind(), ProtoErrorKind::InvalidChunk, "{bad:?}");
            let msg = e.to_string();
            assert!(
                msg.contains(what) && msg.contains("bare LF"),
                "{bad:?}: {msg}"
            );
        }
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_chunk_ext_bytes: 8,
            max_trailer_bytes: 8,
            ..Limits::default()
        };
        let mut dec = ChunkedDecoder::default();
        let mut buf = BytesMut::from(&b"1;123456789"[..]);
        assert_eq!(
            dec.decode(&mut buf, &limits).unwrap_err().kind(),
            ProtoErrorKind::TooLarge
        );
        let mut dec = ChunkedDecoder::default();
        let mut buf = BytesMut::from(&b"0\r\nA: 12345678"[..]);
        assert_eq!(
            dec.decode(&mut buf, &limits).unwrap_err().kind(),
            ProtoErrorKind::TooLarge
        );
    }
}
