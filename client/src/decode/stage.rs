//! What the codec stages (`flate.rs`, `brotli.rs`, `zstd.rs`) share with the decoder that stacks
//! them: the [`Sink`] each stage hands its decoded pieces to.

use super::error::DecodeError;

/// Where a stage hands each decoded piece: the next stage, or the output.
pub(super) type Sink<'a> = dyn FnMut(&[u8]) -> Result<(), DecodeError> + 'a;
