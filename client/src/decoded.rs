//! Transparent decompression of a response body: the [`decode`](crate::decode) stages put
//! between the connection's body and the caller's `chunk()` / `bytes()` / `text()`.
//!
//! Made by `Response::new` when the client decompresses (the default), the response has a body
//! and it carries `Content-Encoding`. Wire pieces are fed through
//! [`Decoder::decode_some`](crate::decode::Decoder::decode_some) with a budget, so one `chunk()`
//! hands out about [`BUDGET`] bytes (plus one decoding step) however far a piece would expand:
//! streaming a decompression bomb costs bounded memory, and `bytes()` stops it at
//! `max_body_bytes` decoded bytes.

use bytes::{Buf, Bytes, BytesMut};

use crate::body::Body;
use crate::decode::{DecodeError, Decoder};
use crate::error::{Error, ErrorKind};

/// Decoded bytes one `chunk()` aims to return (the decoder may add one step of at most 128 KiB).
pub(crate) const BUDGET: usize = 64 * 1024;

/// The decoding half of a compressed response.
#[derive(Debug)]
pub(crate) struct Decoding {
    decoder: Decoder,
    /// A coding spool does not decode: every read fails with it.
    unsupported: Option<DecodeError>,
    /// Wire bytes received but not yet fed to the decoder.
    rest: Bytes,
    /// Wire bytes received from the connection.
    wire: u64,
    /// The decoder has been finished: the body is over.
    done: bool,
}

impl Decoding {
    /// Decoding for a body whose `Content-Encoding` headers `codings` read to (or failed with).
    pub(crate) fn new(codings: Result<Vec<crate::decode::Coding>, DecodeError>) -> Decoding {
        let (codings, unsupported) = match codings {
            Ok(codings) => (codings, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        Decoding {
            decoder: Decoder::new(&codings, None),
            unsupported,
            rest: Bytes::new(),
            wire: 0,
            done: false,
        }
    }

    /// Compressed bytes received so far.
    pub(crate) fn wire_bytes(&self) -> u64 {
        self.wire
    }

    /// The next decoded piece of `body`, `None` at its end.
    pub(crate) async fn chunk(&mut self, body: &mut Body) -> Result<Option<Bytes>, Error> {
        if let Some(e) = &self.unsupported {
            return Err(decode_error(e.clone()));
        }
        let mut out = Vec::new();
        loop {
            if self.done {
                return Ok(None);
            }
            if !self.rest.is_empty() || self.decoder.has_pending() {
                let taken = self
                    .decoder
                    .decode_some(&self.rest, &mut out, BUDGET)
                    .map_err(decode_error)?;
                self.rest.advance(taken);
                if !out.is_empty() {
                    return Ok(Some(Bytes::from(out)));
                }
                if taken == 0 && !self.decoder.has_pending() && !self.rest.is_empty() {
                    return Err(Error::new(
                        ErrorKind::Decode,
                        "the body decoder stopped taking input",
                    ));
                }
                continue;
            }
            match body.chunk().await? {
                Some(data) => {
                    self.wire += data.len() as u64;
                    self.rest = data;
                }
                None => {
                    self.decoder.finish(&mut out).map_err(decode_error)?;
                    self.done = true;
                    if !out.is_empty() {
                        return Ok(Some(Bytes::from(out)));
                    }
                }
            }
        }
    }

    /// The whole decoded body, failing once it passes `limit` decoded bytes.
    pub(crate) async fn collect(&mut self, body: &mut Body, limit: u64) -> Result<Bytes, Error> {
        let Some(first) = self.chunk(body).await? else {
            return Ok(Bytes::new());
        };
        let mut total = first.len() as u64;
        check(total, limit)?;
        let Some(second) = self.chunk(body).await? else {
            return Ok(first);
        };
        total += second.len() as u64;
        check(total, limit)?;
        let mut all = BytesMut::with_capacity(first.len() + second.len());
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(piece) = self.chunk(body).await? {
            total += piece.len() as u64;
            check(total, limit)?;
            all.extend_from_slice(&piece);
        }
        Ok(all.freeze())
    }
}

fn check(total: u64, limit: u64) -> Result<(), Error> {
    if total > limit {
        return Err(Error::new(
            ErrorKind::TooLarge,
            format!(
                "the decoded response body is more than {limit} bytes, over the limit for \
                 bytes()/text(): a small compressed body can expand without bound, so the limit \
                 counts decoded bytes (raise max_body_bytes, stream it with chunk(), or turn \
                 decompress off)"
            ),
        ));
    }
    Ok(())
}

fn decode_error(e: DecodeError) -> Error {
    let kind = match e {
        DecodeError::TooLarge { .. } => ErrorKind::TooLarge,
        _ => ErrorKind::Decode,
    };
    Error::new(kind, e.to_string()).with_source(e)
}
