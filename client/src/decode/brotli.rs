//! `br`, on the pure-Rust `brotli-decompressor` crate, through its push interface
//! (`BrotliDecompressStream`: input slice in, at most one output buffer out per call).
//!
//! Memory: the decoder allocates the window the stream declares, at most 16 MiB (window bits
//! ≤ 24; the "large window" extension, which allows 1 GiB, is not turned on).

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};

use super::coding::Coding;
use super::error::DecodeError;
use super::stage::Sink;
use super::SCRATCH;

/// The `br` stage.
pub(super) struct Brotli {
    state: BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>,
    scratch: Vec<u8>,
    ended: bool,
}

impl std::fmt::Debug for Brotli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Brotli")
            .field("ended", &self.ended)
            .finish()
    }
}

impl Brotli {
    pub(super) fn new() -> Brotli {
        Brotli {
            state: BrotliState::new(
                StandardAlloc::default(),
                StandardAlloc::default(),
                StandardAlloc::default(),
            ),
            scratch: vec![0; SCRATCH],
            ended: false,
        }
    }

    pub(super) fn push(&mut self, input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        let mut offset = 0;
        loop {
            if self.ended {
                if offset == input.len() {
                    return Ok(());
                }
                return Err(DecodeError::corrupt(
                    Coding::Brotli,
                    "data after the end of the brotli stream",
                ));
            }
            let mut available_in = input.len() - offset;
            let mut available_out = self.scratch.len();
            let mut out_offset = 0;
            let mut total_out = 0;
            let result = BrotliDecompressStream(
                &mut available_in,
                &mut offset,
                input,
                &mut available_out,
                &mut out_offset,
                &mut self.scratch,
                &mut total_out,
                &mut self.state,
            );
            if out_offset > 0 {
                sink(&self.scratch[..out_offset])?;
            }
            match result {
                BrotliResult::ResultSuccess => self.ended = true,
                // The scratch buffer was full: go round for the rest.
                BrotliResult::NeedsMoreOutput => {}
                BrotliResult::NeedsMoreInput => return Ok(()),
                BrotliResult::ResultFailure => {
                    return Err(DecodeError::corrupt(
                        Coding::Brotli,
                        format!("{:?}", self.state.error_code),
                    ))
                }
            }
        }
    }

    pub(super) fn finish(&mut self, _sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        // `push` drains every output the input allows, so there is nothing left to flush.
        if self.ended {
            Ok(())
        } else {
            Err(DecodeError::Truncated {
                coding: Coding::Brotli,
            })
        }
    }
}
