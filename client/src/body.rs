//! A response body being read off its connection, and what becomes of the connection.
//!
//! - When the body ends cleanly and the connection is reusable, the connection goes back to the
//!   pool as soon as the end is decoded: when the caller asks for the piece after the last one
//!   (`chunk()` returns `None`, or `bytes()` finishes), or earlier when the whole rest of the body
//!   was already buffered (next point).
//! - A small body that arrived with the head is decoded right away, so its connection returns to
//!   the pool while the caller still holds the response.
//! - A response dropped before its end closes the connection, unless the rest of the body is
//!   already buffered: a half-read connection would hand the next request the previous body.
//! - After an error, the body stays failed: it never reports a clean end it did not see.

use std::future::poll_fn;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::conn::{ConnError, Timer};
use crate::error::{Error, ErrorKind};
use crate::pool::{self, Pooled};
use crate::proto::Event;

/// Bodies (or their start) up to this size are decoded eagerly when they are already buffered.
const EAGER_MAX: usize = 64 * 1024;

/// The body half of a response.
#[derive(Debug)]
pub(crate) struct Body {
    /// `None` once the body ended (connection returned or closed).
    conn: Option<Box<Pooled>>,
    timer: Timer,
    /// Bytes decoded ahead of the caller.
    pending: Option<Bytes>,
    /// An error found while decoding ahead, reported after `pending`.
    failed: Option<ConnError>,
    /// An error was reported: every later read fails too.
    broken: bool,
    /// Some body bytes were handed out (so an announced length no longer says what is left).
    touched: bool,
}

impl Body {
    /// The body of a response whose head was just read from `conn`.
    ///
    /// `length`: the body length if the head announced one (`Some(0)` for bodiless responses); it
    /// tells whether the whole body is already buffered.
    ///
    /// `now`: when the head arrived; used as the time the connection went idle if the whole body
    /// was already there.
    pub(crate) fn new(conn: Box<Pooled>, timer: Timer, length: Option<u64>, now: Instant) -> Body {
        let mut body = Body {
            conn: Some(conn),
            timer,
            pending: None,
            failed: None,
            broken: false,
            touched: false,
        };
        body.decode_buffered(length, now);
        body
    }

    /// Decodes what is already buffered, when that cannot split a body that is still arriving
    /// (keeping a large body in one piece lets [`collect`](Self::collect) avoid a copy).
    fn decode_buffered(&mut self, length: Option<u64>, now: Instant) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if length.is_some_and(|n| (conn.buffered() as u64) < n) {
            return;
        }
        loop {
            match conn.buffered_event() {
                Ok(Some(Event::Data(data))) => {
                    self.pending = Some(match self.pending.take() {
                        None => data,
                        Some(before) => concat(&before, &data),
                    });
                    if self.pending.as_ref().map_or(0, Bytes::len) > EAGER_MAX {
                        return;
                    }
                }
                Ok(Some(Event::End { reusable })) => {
                    self.finish(reusable, Some(now));
                    return;
                }
                Ok(Some(Event::Head(_))) | Ok(None) => return,
                Err(e) => {
                    self.failed = Some(e);
                    self.conn = None;
                    return;
                }
            }
        }
    }

    /// Whether the body has been read to its end (nothing more will come).
    pub(crate) fn is_complete(&self) -> bool {
        self.conn.is_none() && self.pending.is_none() && self.failed.is_none() && !self.broken
    }

    /// The next piece of the body, `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        self.touched = true;
        if let Some(data) = self.pending.take() {
            return Ok(Some(data));
        }
        if let Some(e) = self.failed.take() {
            self.broken = true;
            return Err(e.into_error());
        }
        if self.broken {
            return Err(Error::new(
                ErrorKind::IncompleteBody,
                "the body failed earlier and cannot be read further",
            ));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(None);
        };
        let timer = &mut self.timer;
        match poll_fn(|cx| conn.poll_event(cx, timer)).await {
            Ok(Event::Data(data)) => Ok(Some(data)),
            Ok(Event::End { reusable }) => {
                self.finish(reusable, None);
                Ok(None)
            }
            Ok(Event::Head(_)) => {
                self.fail();
                Err(Error::new(
                    ErrorKind::Protocol,
                    "a second response head arrived inside a body",
                ))
            }
            Err(e) => {
                self.fail();
                Err(e.into_error())
            }
        }
    }

    /// The whole body, at most `limit` bytes.
    ///
    /// `length` is the announced length, so that an oversized body fails before it is read and the
    /// result is allocated once.
    pub(crate) async fn collect(
        &mut self,
        limit: u64,
        length: Option<u64>,
    ) -> Result<Bytes, Error> {
        if let Some(n) = length.filter(|&n| n > limit) {
            self.fail();
            return Err(too_large(format!("{n} bytes (Content-Length)"), limit));
        }
        // A body of known length is gathered in one buffer before it is decoded, so that it comes
        // out as one chunk and is returned without a copy.
        let whole = length.filter(|&n| n > 0 && !self.touched && self.pending.is_none());
        if let (Some(n), Some(conn)) = (whole, self.conn.as_mut()) {
            let timer = &mut self.timer;
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if let Err(e) = poll_fn(|cx| conn.poll_buffer(cx, n, timer)).await {
                self.fail();
                return Err(e.into_error());
            }
        }
        let Some(first) = self.chunk().await? else {
            return Ok(Bytes::new());
        };
        self.check_limit(first.len() as u64, limit)?;
        let Some(second) = self.chunk().await? else {
            // The common case: the body came in one piece, which is returned as it is.
            return Ok(first);
        };
        let mut total = (first.len() + second.len()) as u64;
        self.check_limit(total, limit)?;
        let capacity = length.unwrap_or(total).min(limit);
        let mut all = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(usize::MAX));
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(data) = self.chunk().await? {
            total += data.len() as u64;
            self.check_limit(total, limit)?;
            all.extend_from_slice(&data);
        }
        Ok(all.freeze())
    }

    fn check_limit(&mut self, total: u64, limit: u64) -> Result<(), Error> {
        if total > limit {
            self.fail();
            return Err(too_large(format!("more than {limit} bytes"), limit));
        }
        Ok(())
    }

    /// The body ended: the connection goes back to the pool or is closed.
    fn finish(&mut self, reusable: bool, now: Option<Instant>) {
        if let Some(conn) = self.conn.take() {
            if reusable {
                pool::checkin(conn, now);
            }
        }
    }

    /// The body cannot be finished: close the connection, fail later reads.
    fn fail(&mut self) {
        self.conn = None;
        self.pending = None;
        self.broken = true;
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        // Not read to the end. If the rest is already buffered, finish it here and keep the
        // connection; otherwise close it (reading more would mean waiting inside a destructor).
        loop {
            match conn.buffered_event() {
                Ok(Some(Event::Data(_))) => {}
                Ok(Some(Event::End { reusable })) => return self.finish(reusable, None),
                _ => break,
            }
        }
        self.conn = None;
    }
}

fn concat(a: &Bytes, b: &Bytes) -> Bytes {
    let mut joined = BytesMut::with_capacity(a.len() + b.len());
    joined.extend_from_slice(a);
    joined.extend_from_slice(b);
    joined.freeze()
}

fn too_large(what: String, limit: u64) -> Error {
    Error::new(
        ErrorKind::TooLarge,
        format!(
            "the response body is {what}, over the limit of {limit} bytes for bytes()/text() \
             (raise max_body_bytes, or stream it with chunk())"
        ),
    )
}
