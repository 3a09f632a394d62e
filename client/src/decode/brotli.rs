//! `br`, on the pure-Rust `brotli-decompressor` crate, through its push interface
//! (`BrotliDecompressStream`: input slice in, at most one output buffer out per call).
//!
//! Memory: the decoder allocates the window the stream declares, at most 16 MiB (window bits
//! ≤ 24; the "large window" extension, which allows 1 GiB, is not turned on).

use std::cell::Cell;

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
    /// A paused call left output inside the decoder.
    pending: bool,
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
            pending: false,
        }
    }

    pub(super) fn push(
        &mut self,
        input: &[u8],
        sink: &mut Sink<'_>,
        full: &Cell<bool>,
    ) -> Result<usize, DecodeError> {
        let mut offset = 0;
        self.pending = false;
        loop {
            if self.ended {
                if offset == input.len() {
                    return Ok(offset);
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
                BrotliResult::NeedsMoreOutput if full.get() => {
                    // Paused: the state may hold more output even with all input taken.
                    self.pending = true;
                    return Ok(offset);
                }
                // The scratch buffer was full: go round for the rest.
                BrotliResult::NeedsMoreOutput => {}
                BrotliResult::NeedsMoreInput => return Ok(offset),
                BrotliResult::ResultFailure => {
                    return Err(DecodeError::corrupt(
                        Coding::Brotli,
                        format!("{:?}", self.state.error_code),
                    ))
                }
            }
        }
    }

    /// Whether a paused call left output inside the decoder (drained by pushing no input).
    pub(super) fn pending(&self) -> bool {
        self.pending
    }

    pub(super) fn finish(&mut self, sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        // An unpaused `push` drains every output the input allows; a paused one is drained here.
        if self.pending {
            self.push(&[], sink, &Cell::new(false))?;
        }
        if self.ended {
            Ok(())
        } else {
            Err(DecodeError::Truncated {
                coding: Coding::Brotli,
            })
        }
    }
}
