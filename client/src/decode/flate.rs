//! `gzip` and `deflate`, on flate2 with its pure-Rust miniz_oxide backend.
//!
//! - `gzip`: flate2's push-style (`Write`) multi-member decoder parses the gzip header and
//!   trailer (CRC and length checked). Its `write` decodes at most one 32 KiB buffer per call
//!   and writes that buffer out at the *next* call, so draining its output vector after every
//!   call keeps each step bounded.
//! - `deflate`: RFC 9110 means zlib (RFC 1950), but some servers send raw deflate (RFC 1951),
//!   and curl and browsers accept both. The first two bytes decide: a valid zlib header
//!   (compression method 8, window ≤ 32 KiB, header check a multiple of 31) is zlib; anything
//!   else is taken as raw deflate — the same outcome as curl's retry-as-raw on a bad zlib header.

use std::io::Write;

use flate2::write::MultiGzDecoder;
use flate2::{Decompress, FlushDecompress, Status};

use super::coding::Coding;
use super::error::DecodeError;
use super::stage::Sink;
use super::SCRATCH;

/// The `gzip` stage.
pub(super) struct Gzip {
    inner: MultiGzDecoder<Vec<u8>>,
}

impl std::fmt::Debug for Gzip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gzip")
    }
}

impl Gzip {
    pub(super) fn new() -> Gzip {
        Gzip {
            inner: MultiGzDecoder::new(Vec::with_capacity(SCRATCH)),
        }
    }

    pub(super) fn push(
        &mut self,
        mut input: &[u8],
        sink: &mut Sink<'_>,
    ) -> Result<(), DecodeError> {
        while !input.is_empty() {
            let taken = self
                .inner
                .write(input)
                .map_err(|e| DecodeError::corrupt(Coding::Gzip, e))?;
            self.drain(sink)?;
            if taken == 0 {
                return Err(DecodeError::corrupt(
                    Coding::Gzip,
                    "data after the end of the gzip stream",
                ));
            }
            input = &input[taken..];
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        let result = self.inner.try_finish();
        self.drain(sink)?;
        result.map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => DecodeError::Truncated {
                coding: Coding::Gzip,
            },
            _ => DecodeError::corrupt(Coding::Gzip, e),
        })
    }

    fn drain(&mut self, sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        let buffered = self.inner.get_mut();
        let result = if buffered.is_empty() {
            Ok(())
        } else {
            sink(buffered)
        };
        buffered.clear();
        result
    }
}

/// The `deflate` stage.
pub(super) struct Deflate {
    /// `None` until two bytes have told zlib from raw deflate.
    inflate: Option<Decompress>,
    /// The first byte, when it came alone.
    held: Option<u8>,
    scratch: Vec<u8>,
    ended: bool,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("ended", &self.ended)
            .finish()
    }
}

/// Whether two bytes open a zlib stream (RFC 1950 §2.2).
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

impl Deflate {
    pub(super) fn new() -> Deflate {
        Deflate {
            inflate: None,
            held: None,
            scratch: Vec::new(),
            ended: false,
        }
    }

    pub(super) fn push(&mut self, input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        if input.is_empty() {
            return Ok(());
        }
        if self.inflate.is_none() {
            let Some(&first) = self.held.as_ref().or(input.first()) else {
                return Ok(());
            };
            let second = if self.held.is_some() {
                input[0]
            } else if let Some(&b) = input.get(1) {
                b
            } else {
                self.held = Some(first);
                return Ok(());
            };
            self.inflate = Some(Decompress::new(is_zlib_header(first, second)));
            self.scratch = vec![0; SCRATCH];
            if let Some(byte) = self.held.take() {
                self.inflate_from(&[byte], sink)?;
            }
        }
        self.inflate_from(input, sink)
    }

    fn inflate_from(&mut self, mut input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        let inflate = self.inflate.as_mut().expect("chosen before inflating");
        loop {
            if self.ended {
                if input.is_empty() {
                    return Ok(());
                }
                return Err(DecodeError::corrupt(
                    Coding::Deflate,
                    "data after the end of the deflate stream",
                ));
            }
            let (in_before, out_before) = (inflate.total_in(), inflate.total_out());
            let status = inflate
                .decompress(input, &mut self.scratch, FlushDecompress::None)
                .map_err(|e| DecodeError::corrupt(Coding::Deflate, e))?;
            // Both deltas are bounded by the slices just passed in.
            let taken = (inflate.total_in() - in_before) as usize;
            let made = (inflate.total_out() - out_before) as usize;
            input = &input[taken..];
            if made > 0 {
                sink(&self.scratch[..made])?;
            }
            if status == Status::StreamEnd {
                self.ended = true;
                continue;
            }
            // Done when nothing moved: all input taken and no output pending.
            if taken == 0 && made == 0 {
                if input.is_empty() {
                    return Ok(());
                }
                return Err(DecodeError::corrupt(Coding::Deflate, "the decoder stalled"));
            }
        }
    }

    pub(super) fn finish(&mut self, sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        if self.inflate.is_some() && !self.ended {
            // Output still inside the inflater (the scratch buffer was full) comes out now.
            self.inflate_from(&[], sink)?;
        }
        if self.ended {
            Ok(())
        } else {
            Err(DecodeError::Truncated {
                coding: Coding::Deflate,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_zlib_header;

    #[test]
    fn zlib_headers_are_told_from_raw_deflate() {
        assert!(is_zlib_header(0x78, 0x9c)); // default compression
        assert!(is_zlib_header(0x78, 0x01)); // fastest
        assert!(is_zlib_header(0x78, 0xda)); // best
        assert!(!is_zlib_header(0x78, 0x9d)); // check bits wrong
        assert!(!is_zlib_header(0xcb, 0x48)); // raw deflate of "hello"
        assert!(!is_zlib_header(0x88, 0x1d)); // window 2^16: not valid zlib
    }
}
