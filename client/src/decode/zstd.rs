//! `zstd`, on the `zstd` crate: the reference C library (compiled from source with `cc`, like
//! rustls's `ring`), through its streaming interface (`ZSTD_decompressStream`: bounded output per
//! call).
//!
//! Why not the pure-Rust `ruzstd`: measured on 8 MiB of JSON-like text (level 3, one core,
//! release build), it decoded at ~470 MB/s against ~1,700 MB/s for the C library — fast enough
//! — but its push interface (`FrameDecoder::decode_from_to`) decodes every complete block of
//! the input slice into its own buffer before returning, so one piece of input can expand
//! without bound before the limit is checked. The C decoder fills at most the buffer it is given.
//!
//! The window is capped at 8 MiB (window log 23): RFC 9659 says an HTTP zstd stream must not ask
//! for more, and a frame that does is an error rather than an 8 GiB allocation. Several frames in
//! a row are decoded one after another, as `zstd -d` does.

use zstd::stream::raw::{DParameter, Decoder as RawDecoder, InBuffer, Operation, OutBuffer};

use super::coding::Coding;
use super::error::DecodeError;
use super::stage::Sink;
use super::SCRATCH;

/// log2 of the largest window accepted (RFC 9659 §3: 8 MiB).
const WINDOW_LOG_MAX: u32 = 23;

/// The `zstd` stage.
pub(super) struct Zstd {
    /// Made at the first byte (the C context is ~100 KiB before its window).
    raw: Option<RawDecoder<'static>>,
    scratch: Vec<u8>,
    /// Whether the last call ended a frame (so the body may end here).
    at_frame_end: bool,
}

impl std::fmt::Debug for Zstd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zstd")
            .field("at_frame_end", &self.at_frame_end)
            .finish()
    }
}

impl Zstd {
    pub(super) fn new() -> Zstd {
        Zstd {
            raw: None,
            scratch: Vec::new(),
            at_frame_end: false,
        }
    }

    fn raw(&mut self) -> Result<&mut RawDecoder<'static>, DecodeError> {
        if self.raw.is_none() {
            let mut raw = RawDecoder::new().map_err(|e| DecodeError::corrupt(Coding::Zstd, e))?;
            raw.set_parameter(DParameter::WindowLogMax(WINDOW_LOG_MAX))
                .map_err(|e| DecodeError::corrupt(Coding::Zstd, e))?;
            self.raw = Some(raw);
            self.scratch = vec![0; SCRATCH];
        }
        Ok(self.raw.as_mut().expect("just made"))
    }

    pub(super) fn push(&mut self, input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        if input.is_empty() {
            return Ok(());
        }
        self.raw()?;
        let raw = self.raw.as_mut().expect("made above");
        let mut src = InBuffer::around(input);
        loop {
            let mut dst = OutBuffer::around(&mut self.scratch[..]);
            let hint = raw
                .run(&mut src, &mut dst)
                .map_err(|e| DecodeError::corrupt(Coding::Zstd, window_hint(e.to_string())))?;
            let made = dst.pos();
            // 0 means a frame just ended and everything it held has been written out.
            self.at_frame_end = hint == 0;
            if made > 0 {
                sink(&self.scratch[..made])?;
            }
            // Done once all input is taken and the output buffer was not filled (a full
            // buffer may mean more output is waiting).
            if src.pos() == input.len() && made < self.scratch.len() {
                return Ok(());
            }
        }
    }

    pub(super) fn finish(&mut self, _sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        if self.at_frame_end {
            Ok(())
        } else {
            Err(DecodeError::Truncated {
                coding: Coding::Zstd,
            })
        }
    }
}

/// The C library's "Frame requires too much memory for decoding", with the reason spelled out.
fn window_hint(message: String) -> String {
    if message.contains("too much memory") {
        format!("{message} (its window is over the 8 MiB that HTTP allows zstd, RFC 9659)")
    } else {
        message
    }
}
