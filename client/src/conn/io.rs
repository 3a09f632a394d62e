//! The I/O half of a connection: writes what the state machine encodes, reads what it needs, and
//! hands it its bytes. It never looks inside them.
//!
//! Hot-path choices (a keep-alive request should cost one `write` and one `read`):
//! - head and a body of up to [`INLINE_BODY`] bytes are copied into one buffer and written with one
//!   `write`; larger bodies go with the head in one `writev`;
//! - nothing is read until the reactor says the socket is readable, and only then is a read buffer
//!   taken (so waiting requests hold no buffer);
//! - a read that does not fill the buffer has drained the socket, so the runtime waits for the next
//!   readiness edge instead of spending a `read` to learn `WouldBlock`;
//! - read bytes are joined to the undecoded ones without a copy (they are adjacent in one
//!   allocation), and body chunks are split off the front as `Bytes`.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::task::{ready, Context, Poll};

use http::HeaderName;

use crate::buffers;
use crate::proto::{ChunkWriter, Event, ProtoError, ProtoErrorKind, RequestHead};

use super::timer::Expired;
use super::{ConnError, Connection, Timer};
use crate::upload::{Source, CHUNK};

/// `Keep-Alive`, which `http` has no constant for.
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");

/// How far a request write got.
#[derive(Default)]
struct Progress {
    written: usize,
    /// The last attempt returned `Pending`.
    waited: bool,
}

/// Bodies up to this size are copied next to the head and sent in one plain `write`.
const INLINE_BODY: usize = 16 * 1024;

impl Connection {
    /// Encodes the request and writes it (head and body) completely.
    ///
    /// On an encode error nothing was written and the connection is still idle.
    pub(crate) async fn send_request(
        &mut self,
        head: &RequestHead<'_>,
        body: &[u8],
        timer: &mut Timer,
    ) -> Result<(), ConnError> {
        let mut out = buffers::take_write();
        // The response head will be parsed into a map an earlier response gave back, if any.
        self.proto.reuse_header_map(buffers::take_header_map());
        if let Err(e) = self.proto.encode_request(head, &mut out) {
            buffers::give_write(out);
            return Err(ConnError::encode(e));
        }
        self.got_response_bytes = false;
        let rest = if body.len() <= INLINE_BODY {
            out.extend_from_slice(body);
            &[][..]
        } else {
            body
        };
        let mut progress = Progress::default();
        let result = poll_fn(|cx| self.poll_write_all(cx, &out, rest, &mut progress, timer)).await;
        buffers::give_write(out);
        result
    }

    /// Writes the body read from `source` after [`send_request`](Self::send_request) wrote the
    /// head: exactly `len` bytes, or (`None`) chunks until the source ends. While the source has
    /// nothing, the whole-request and read-idle limits still run (a source idle that long is a
    /// `TimedOut` source error); a source that fails, or ends before `len` bytes, fails the
    /// request, whose connection then closes (the server still waits for the rest).
    pub(crate) async fn send_body_from(
        &mut self,
        source: &mut Source,
        len: Option<u64>,
        timer: &mut Timer,
    ) -> Result<(), ConnError> {
        match len {
            Some(len) => self.send_sized_body(source, len, timer).await,
            None => self.send_chunked_body(source, timer).await,
        }
    }

    async fn send_sized_body(
        &mut self,
        source: &mut Source,
        len: u64,
        timer: &mut Timer,
    ) -> Result<(), ConnError> {
        // One buffer for the whole body, never larger than it.
        let mut chunk = vec![0; usize::try_from(len).map_or(CHUNK, |n| n.min(CHUNK))];
        let mut sent = 0u64;
        while sent < len {
            let want = usize::try_from(len - sent).map_or(chunk.len(), |n| n.min(chunk.len()));
            let n = poll_fn(|cx| poll_source(cx, source, &mut chunk[..want], timer)).await?;
            if n == 0 {
                return Err(ConnError::source(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the body reader ended after {sent} of {len} bytes"),
                )));
            }
            timer.progress();
            let mut progress = Progress::default();
            poll_fn(|cx| self.poll_write_all(cx, &chunk[..n], &[], &mut progress, timer)).await?;
            sent += n as u64;
        }
        Ok(())
    }

    /// One chunk per read: its framing and data go in one vectored write, straight from the
    /// read buffer; the end goes when the source returns 0.
    async fn send_chunked_body(
        &mut self,
        source: &mut Source,
        timer: &mut Timer,
    ) -> Result<(), ConnError> {
        let mut chunk = vec![0; CHUNK];
        let mut framing = ChunkWriter::new();
        let mut prefix = Vec::with_capacity(24);
        loop {
            let n = poll_fn(|cx| poll_source(cx, source, &mut chunk, timer)).await?;
            prefix.clear();
            if n == 0 {
                framing.finish(&mut prefix);
            } else {
                timer.progress();
                framing.prefix(n, &mut prefix);
            }
            let mut progress = Progress::default();
            poll_fn(|cx| self.poll_write_all(cx, &prefix, &chunk[..n], &mut progress, timer))
                .await?;
            if n == 0 {
                return Ok(());
            }
        }
    }

    fn poll_write_all(
        &mut self,
        cx: &mut Context<'_>,
        head: &[u8],
        body: &[u8],
        progress: &mut Progress,
        timer: &mut Timer,
    ) -> Poll<Result<(), ConnError>> {
        let Progress { written, waited } = progress;
        loop {
            let total = head.len() + body.len();
            if *written >= total {
                return Poll::Ready(Ok(()));
            }
            let result = if *written < head.len() && !body.is_empty() {
                let bufs = [IoSlice::new(&head[*written..]), IoSlice::new(body)];
                self.stream.poll_write_vectored(cx, &bufs)
            } else if *written < head.len() {
                self.stream.poll_write(cx, &head[*written..])
            } else {
                self.stream.poll_write(cx, &body[*written - head.len()..])
            };
            match result {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(ConnError::write(io::ErrorKind::WriteZero.into())))
                }
                Poll::Ready(Ok(n)) => {
                    *written += n;
                    // Only a write that had to wait restarts the idle limit: the usual one-shot
                    // write keeps the limit the timer started with (no clock read).
                    if std::mem::take(waited) {
                        timer.progress();
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(ConnError::write(e))),
                Poll::Pending => {
                    *waited = true;
                    let expired = ready!(timer.poll_expired(cx));
                    return Poll::Ready(Err(ConnError::timeout(expired, true)));
                }
            }
        }
    }

    /// The next event of the response: reads as needed, waiting under `timer`'s limits.
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
        timer: &mut Timer,
    ) -> Poll<Result<Event, ConnError>> {
        loop {
            if let Some(event) = self.decode()? {
                return Poll::Ready(Ok(event));
            }
            if self.eof {
                // decode_eof never asks for more after EOF mid-response; this is a broken contract.
                return Poll::Ready(Err(ConnError::proto(ProtoError::new(
                    ProtoErrorKind::IncompleteBody,
                    "the connection closed",
                ))));
            }
            match self.poll_fill(cx, timer) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    let expired = ready!(timer.poll_expired(cx));
                    return Poll::Ready(Err(ConnError::timeout(expired, false)));
                }
            }
        }
    }

    /// Reads until at least `len` undecoded bytes are buffered (or the server closes), all in one
    /// allocation, so that a body of known length is then decoded as a single chunk, without the
    /// copy that joining many chunks would need.
    pub(crate) fn poll_buffer(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        timer: &mut Timer,
    ) -> Poll<Result<(), ConnError>> {
        loop {
            if self.data.len() >= len || self.eof {
                return Poll::Ready(Ok(()));
            }
            if self.data.len() + self.spare.len() < len + buffers::MIN_READ {
                self.reserve_contiguous(len + buffers::MIN_READ, len + buffers::MIN_READ);
            }
            match self.poll_fill(cx, timer) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    let expired = ready!(timer.poll_expired(cx));
                    return Poll::Ready(Err(ConnError::timeout(expired, false)));
                }
            }
        }
    }

    /// The next event from bytes already received, without reading; `None` if more are needed.
    pub(crate) fn buffered_event(&mut self) -> Result<Option<Event>, ConnError> {
        self.decode()
    }

    /// Runs the state machine over the received bytes.
    fn decode(&mut self) -> Result<Option<Event>, ConnError> {
        let result = if self.eof {
            self.proto.decode_eof(&mut self.data)
        } else {
            self.proto.decode(&mut self.data)
        };
        match result {
            Ok(Some(Event::Head(head))) => {
                // A typed lookup first: parsing the name for every response costs more than this.
                self.keep_alive = if head.headers.contains_key(&KEEP_ALIVE) {
                    head.keep_alive_timeout()
                } else {
                    None
                };
                Ok(Some(Event::Head(head)))
            }
            Ok(Some(Event::End { reusable })) => {
                self.served += 1;
                Ok(Some(Event::End { reusable }))
            }
            Ok(other) => Ok(other),
            Err(e) => Err(ConnError::proto(e)),
        }
    }

    /// Reads once into the spare space, joining the bytes to `data`; sets `eof` on EOF.
    fn poll_fill(
        &mut self,
        cx: &mut Context<'_>,
        timer: &mut Timer,
    ) -> Poll<Result<(), ConnError>> {
        let before_response = !self.got_response_bytes;
        if let Err(e) = ready!(self.stream.poll_read_ready(cx)) {
            return Poll::Ready(Err(ConnError::read(e, before_response)));
        }
        self.ensure_spare();
        let room = self.spare.len();
        match ready!(self.stream.poll_read(cx, &mut self.spare[..])) {
            Ok(0) => self.eof = true,
            Ok(n) => {
                let bytes = self.spare.split_to(n);
                // Adjacent in one allocation: `unsplit` just extends `data` (no copy).
                self.data.unsplit(bytes);
                self.got_response_bytes = true;
                timer.progress();
                if n == room && self.read_size < buffers::MAX_READ {
                    self.read_size *= 2;
                }
            }
            Err(e) => return Poll::Ready(Err(ConnError::read(e, before_response))),
        }
        Poll::Ready(Ok(()))
    }

    /// Makes sure the next read has room, keeping `data` and `spare` adjacent.
    fn ensure_spare(&mut self) {
        if self.spare.len() < buffers::MIN_READ {
            let keep = self.data.len();
            // Any recycled buffer with room for a decent read will do; a new one gets the full
            // read size.
            self.reserve_contiguous(keep + buffers::MIN_READ, keep + self.read_size);
        }
    }

    /// Moves to a buffer where `data` and `spare` together hold at least `min` bytes (`size` if a
    /// new buffer has to be allocated).
    fn reserve_contiguous(&mut self, min: usize, size: usize) {
        let keep = self.data.len();
        let mut fresh = buffers::take_read(min.max(keep + buffers::MIN_READ), size.max(min));
        if keep > 0 {
            // A partial head or chunk is still undecoded: move it to the front of the new buffer so
            // that new bytes land right after it.
            fresh[..keep].copy_from_slice(&self.data);
            self.data = fresh.split_to(keep);
        }
        self.spare = fresh;
    }
}

/// One read from a streamed body's source, under the exchange's time limits.
fn poll_source(
    cx: &mut Context<'_>,
    source: &mut Source,
    buf: &mut [u8],
    timer: &mut Timer,
) -> Poll<Result<usize, ConnError>> {
    match source.as_mut().poll_read(cx, buf) {
        Poll::Ready(Ok(n)) => Poll::Ready(Ok(n)),
        Poll::Ready(Err(e)) => Poll::Ready(Err(ConnError::source(e))),
        Poll::Pending => match ready!(timer.poll_expired(cx)) {
            Expired::Idle(limit) => Poll::Ready(Err(ConnError::source(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the body reader gave nothing for {limit:?} (read timeout)"),
            )))),
            expired => Poll::Ready(Err(ConnError::timeout(expired, true))),
        },
    }
}
