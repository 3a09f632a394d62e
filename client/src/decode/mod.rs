//! Content codings (RFC 9110 §8.4): the body a server compressed with `Content-Encoding: gzip`,
//! `deflate`, `br` or `zstd`, decoded as it streams in, never past a size limit.
//!
//! # Layout
//!
//! - `coding.rs` — [`Coding`]: one token of a `Content-Encoding` list.
//! - `header.rs` — [`codings`]: the whole header (`gzip, br`) read into the codings to undo.
//! - `decoder.rs` — [`Decoder`]: the stack of stages for one response; bytes in, decoded bytes
//!   out, counted against the limit.
//! - `flate.rs` — `gzip` (one or more gzip members) and `deflate` (zlib-wrapped, or raw deflate as
//!   some servers send and curl accepts), on flate2's pure-Rust miniz_oxide backend.
//! - `brotli.rs` — `br`, on the pure-Rust `brotli-decompressor`.
//! - `zstd.rs` — `zstd`, on the `zstd` crate (the reference C library, compiled with `cc`).
//! - `stage.rs` — the `Sink` every codec stage writes its decoded pieces into.
//! - `error.rs` — [`DecodeError`]: too large, unsupported coding, corrupt or truncated data.
//!
//! # How a body is decoded
//!
//! ```text
//!  wire bytes ──► stage for the last coding listed ──► … ──► stage for the first ──► limit ──► out
//!                 (each stage decodes into a fixed 32 KiB scratch buffer and hands every
//!                  piece on at once, so no stage ever holds a whole body)
//! ```
//!
//! 1. [`Decoder::new`] takes the codings in header order; `Content-Encoding: gzip, br` means the
//!    server gzipped, then brotli-compressed, so the decoder undoes `br` first, then `gzip`.
//! 2. [`Decoder::decode`] takes each piece of the body as it arrives and appends what it decodes
//!    to the caller's buffer. A piece of input is decoded in bounded steps; each step's output goes
//!    straight through the next stages to the limit check.
//! 3. [`Decoder::finish`] at the end of the body checks that every stage saw the end of its
//!    stream: a gzip member cut short is an error, never a short success.
//!
//! # The limit, and decompression bombs
//!
//! A 10 KiB brotli body can decode to 1 GiB. The limit counts **decoded** bytes: the step that
//! would cross it appends only the bytes up to the limit and returns
//! [`DecodeError::TooLarge`]; the decoder is then failed. Memory stays bounded by the limit plus
//! each stage's working set: a 32 KiB scratch buffer, and the codec's window (deflate 32 KiB;
//! brotli up to 16 MiB as the stream declares; zstd capped at 8 MiB, the most RFC 9659 lets an
//! HTTP zstd stream ask for: a frame asking for more is refused rather than obeyed).
//! Every stage's output is held to the same limit: in a stack, an inner stage cannot balloon
//! either.
//!
//! # Unknown codings
//!
//! A coding other than the four (and `identity`, which means none) is an error,
//! [`DecodeError::Unsupported`], as curl does ("Unrecognized content encoding type"): handing
//! compressed bytes to a program that asked for decoded ones would be a silent wrong answer.
//! To get the bytes exactly as sent, turn decoding off and no decoder is made at all.

mod brotli;
mod coding;
mod decoder;
mod error;
mod flate;
mod header;
mod stage;
mod zstd;

pub use coding::Coding;
pub use decoder::Decoder;
pub use error::DecodeError;
pub use header::codings;

/// The `Accept-Encoding` value that lists every coding this module decodes, in the order of
/// preference a server is free to ignore.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// Each stage decodes into a scratch buffer of this size: the most one step produces.
pub(crate) const SCRATCH: usize = 32 * 1024;

#[cfg(test)]
mod tests;
