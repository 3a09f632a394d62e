//! [`Decoder`]: the stages that undo one response's content codings, fed as the body arrives.

use std::cell::Cell;

use super::brotli::Brotli;
use super::coding::Coding;
use super::error::DecodeError;
use super::flate::{Deflate, Gzip};
use super::stage::Sink;
use super::zstd::Zstd;

/// Decodes one response body, coding by coding, never producing more than its limit.
///
/// ```
/// use spool_client::decode::{Coding, DecodeError, Decoder};
/// // "hello" compressed by `gzip -n`.
/// let gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcbH\xcd\xc9\xc9\x07\x00\x86\xa6\x106\x05\x00\x00\x00";
/// let mut out = Vec::new();
/// let mut d = Decoder::new(&[Coding::Gzip], None);
/// d.decode(&gz[..10], &mut out)?; // any split of the input works
/// d.decode(&gz[10..], &mut out)?;
/// d.finish(&mut out)?;
/// assert_eq!(out, b"hello");
/// assert_eq!((d.wire_bytes(), d.decoded_bytes()), (25, 5));
///
/// let mut small = Decoder::new(&[Coding::Gzip], Some(3));
/// let mut out = Vec::new();
/// let err = small.decode(gz, &mut out).and_then(|()| small.finish(&mut out)).unwrap_err();
/// assert_eq!(out, b"hel");
/// assert_eq!(err, DecodeError::TooLarge { limit: 3 });
/// # Ok::<(), DecodeError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    /// In the order they are undone: the last coding listed first.
    stages: Vec<Layer>,
    /// Most bytes any stage may produce.
    limit: u64,
    /// Compressed bytes taken in.
    wire: u64,
    /// Set by the first error; every later call returns it again.
    failed: Option<DecodeError>,
    finished: bool,
}

/// One content coding to undo: its decoder and how much it has handed on.
#[derive(Debug)]
struct Layer {
    stage: Stage,
    /// Bytes this stage has handed on (the last stage's count is the decoded size).
    produced: u64,
}

/// One coding's decoder. An enum rather than trait objects: the set is closed and small.
#[derive(Debug)]
enum Stage {
    Gzip(Gzip),
    Deflate(Deflate),
    /// Boxed: brotli's state is several times the size of the other stages'.
    Brotli(Box<Brotli>),
    Zstd(Zstd),
}

impl Stage {
    fn new(coding: Coding) -> Stage {
        match coding {
            Coding::Gzip => Stage::Gzip(Gzip::new()),
            Coding::Deflate => Stage::Deflate(Deflate::new()),
            Coding::Brotli => Stage::Brotli(Box::new(Brotli::new())),
            Coding::Zstd => Stage::Zstd(Zstd::new()),
        }
    }

    /// Decodes `input` until it is used up or `full` is set (by the sink); returns how much of
    /// it was taken.
    fn push(
        &mut self,
        input: &[u8],
        sink: &mut Sink<'_>,
        full: &Cell<bool>,
    ) -> Result<usize, DecodeError> {
        match self {
            Stage::Gzip(s) => s.push(input, sink, full),
            Stage::Deflate(s) => s.push(input, sink, full),
            Stage::Brotli(s) => s.push(input, sink, full),
            Stage::Zstd(s) => s.push(input, sink, full),
        }
    }

    /// A paused push left output inside the codec, which a push of no input drains.
    fn pending(&self) -> bool {
        match self {
            Stage::Gzip(_) | Stage::Deflate(_) => false,
            Stage::Brotli(s) => s.pending(),
            Stage::Zstd(s) => s.pending(),
        }
    }

    fn finish(&mut self, sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        match self {
            Stage::Gzip(s) => s.finish(sink),
            Stage::Deflate(s) => s.finish(sink),
            Stage::Brotli(s) => s.finish(sink),
            Stage::Zstd(s) => s.finish(sink),
        }
    }
}

impl Decoder {
    /// A decoder for a body with `codings` in header order (as [`codings`](super::codings)
    /// returns them), producing at most `limit` decoded bytes (`None`: no limit). With no
    /// codings it passes bytes through, still counting them against the limit.
    pub fn new(codings: &[Coding], limit: Option<u64>) -> Decoder {
        Decoder {
            stages: codings
                .iter()
                .rev()
                .map(|&c| Layer {
                    stage: Stage::new(c),
                    produced: 0,
                })
                .collect(),
            limit: limit.unwrap_or(u64::MAX),
            wire: 0,
            failed: None,
            finished: false,
        }
    }

    /// Decodes the next piece of the body, appending the decoded bytes to `out`.
    ///
    /// Output may lag the input by one step: flate2's gzip writer hands out what a call decoded
    /// at the next call (or at [`finish`](Self::finish)), so a piece's bytes can appear with the
    /// next piece's.
    ///
    /// On [`DecodeError::TooLarge`], `out` has received the bytes up to the limit and no more.
    /// After any error the decoder is failed: later calls return the same error.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.wire += input.len() as u64;
        let limit = self.limit;
        let result = if self.stages.is_empty() {
            let mut produced = self.wire - input.len() as u64;
            forward(&mut produced, input, &mut [], out, limit)
        } else {
            push_through(&mut self.stages, input, out, limit)
        };
        self.fail_on(result)
    }

    /// Like [`decode`](Self::decode), but stops once `out` holds `budget` bytes or more, and
    /// returns how much of `input` it took: feed the rest (and, while
    /// [`has_pending`](Self::has_pending), an empty slice) on later calls. This bounds the memory
    /// one call costs even when the limit is high: a call hands out at most `budget` plus one
    /// decoding step (32 KiB, or a zstd block of 128 KiB) from the first stage. (In a stack of
    /// codings, the inner stages decode each 32 KiB piece of the first whole, under the limit.)
    ///
    /// ```
    /// use spool_client::decode::{Coding, Decoder};
    /// let wire = {
    ///     use std::io::Write;
    ///     let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    ///     e.write_all(&vec![b'a'; 1 << 20]).unwrap();
    ///     e.finish().unwrap()
    /// };
    /// let mut d = Decoder::new(&[Coding::Gzip], None);
    /// let (mut rest, mut total) = (&wire[..], 0);
    /// while !rest.is_empty() || d.has_pending() {
    ///     let mut out = Vec::new();
    ///     let taken = d.decode_some(rest, &mut out, 16 * 1024).unwrap();
    ///     assert!(out.len() <= 16 * 1024 + 32 * 1024);
    ///     total += out.len();
    ///     rest = &rest[taken..];
    /// }
    /// let mut out = Vec::new();
    /// d.finish(&mut out).unwrap();
    /// assert_eq!(total + out.len(), 1 << 20);
    /// ```
    pub fn decode_some(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        budget: usize,
    ) -> Result<usize, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let limit = self.limit;
        let Some((first, rest)) = self.stages.split_first_mut() else {
            let take = input.len().min(budget.saturating_sub(out.len()).max(1));
            let mut produced = self.wire;
            self.wire += take as u64;
            let result = forward(&mut produced, &input[..take], &mut [], out, limit);
            return self.fail_on(result).map(|()| take);
        };
        let full = Cell::new(out.len() >= budget);
        if full.get() {
            return Ok(0);
        }
        let produced = &mut first.produced;
        let result = first.stage.push(
            input,
            &mut |piece| {
                let r = forward(produced, piece, rest, out, limit);
                full.set(out.len() >= budget);
                r
            },
            &full,
        );
        match result {
            Ok(taken) => {
                self.wire += taken as u64;
                Ok(taken)
            }
            Err(e) => self.fail_on(Err(e)).map(|()| 0),
        }
    }

    /// Whether the first stage holds decoded output from a paused
    /// [`decode_some`](Self::decode_some), to be drained by calling it with no input.
    pub fn has_pending(&self) -> bool {
        self.failed.is_none() && self.stages.first().is_some_and(|s| s.stage.pending())
    }

    /// Ends the body: flushes what the stages still hold and checks each saw the end of its
    /// stream ([`DecodeError::Truncated`] if not). A body of no bytes at all is fine: a `HEAD`
    /// response, a 204 or a 304 carry the header but no body.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished || self.wire == 0 {
            self.finished = true;
            return Ok(());
        }
        let limit = self.limit;
        let mut result = Ok(());
        for i in 0..self.stages.len() {
            let (done, rest) = self.stages.split_at_mut(i + 1);
            let slot = &mut done[i];
            let produced = &mut slot.produced;
            result = slot
                .stage
                .finish(&mut |piece| forward(produced, piece, rest, out, limit));
            if result.is_err() {
                break;
            }
        }
        self.finished = result.is_ok();
        self.fail_on(result)
    }

    /// Compressed bytes taken in so far (what came over the wire, after transfer framing).
    pub fn wire_bytes(&self) -> u64 {
        self.wire
    }

    /// Decoded bytes handed out so far.
    pub fn decoded_bytes(&self) -> u64 {
        match self.stages.last() {
            Some(slot) => slot.produced,
            None => self.wire.min(self.limit),
        }
    }

    fn fail_on(&mut self, result: Result<(), DecodeError>) -> Result<(), DecodeError> {
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }
}

/// Feeds `input` to the first of `stages`, each of its output pieces going on through the rest.
fn push_through(
    stages: &mut [Layer],
    input: &[u8],
    out: &mut Vec<u8>,
    limit: u64,
) -> Result<(), DecodeError> {
    match stages.split_first_mut() {
        None => {
            out.extend_from_slice(input);
            Ok(())
        }
        Some((first, rest)) => {
            let produced = &mut first.produced;
            let never = Cell::new(false);
            first
                .stage
                .push(
                    input,
                    &mut |piece| forward(produced, piece, rest, out, limit),
                    &never,
                )
                .map(drop)
        }
    }
}

/// Counts a stage's output `piece` against the limit and passes it on; a piece that crosses the
/// limit is cut at it, the cut part passed on, and the error returned.
fn forward(
    produced: &mut u64,
    piece: &[u8],
    rest: &mut [Layer],
    out: &mut Vec<u8>,
    limit: u64,
) -> Result<(), DecodeError> {
    let room = limit - *produced;
    if piece.len() as u64 > room {
        // `room` < piece.len() <= usize::MAX, so the cast is exact.
        let cut = &piece[..room as usize];
        *produced = limit;
        push_through(rest, cut, out, limit)?;
        return Err(DecodeError::TooLarge { limit });
    }
    *produced += piece.len() as u64;
    push_through(rest, piece, out, limit)
}
