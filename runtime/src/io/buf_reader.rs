//! `BufReader`: reads a stream in large chunks and hands them out in small pieces.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead};

use super::Lines;

/// Adds a buffer (allocated on first read, released when idle) to an `AsyncRead`.
///
/// ```
/// use spool_runtime::io::BufReader;
///
/// spool_runtime::block_on(async {
///     let mut reader = BufReader::new(&b"hello\nworld"[..]);
///     let mut line = String::new();
///     assert_eq!(reader.read_line(&mut line).await.unwrap(), 6);
///     assert_eq!(line, "hello\n");
///     let mut lines = reader.lines();
///     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("world"));
///     assert_eq!(lines.next_line().await.unwrap(), None);
/// });
/// ```
pub struct BufReader<R> {
    inner: R,
    /// Empty (no allocation) whenever there is nothing buffered and the stream is idle.
    pub(super) buf: Box<[u8]>,
    /// `buf[pos..filled]` is read from the stream but not yet handed out.
    pos: usize,
    filled: usize,
    capacity: usize,
}

impl<R: AsyncRead + Unpin> BufReader<R> {
    /// A reader with the default buffer size ([`DEFAULT_BUF_SIZE`](super::DEFAULT_BUF_SIZE)).
    pub fn new(inner: R) -> Self {
        Self::with_capacity(super::DEFAULT_BUF_SIZE, inner)
    }

    /// A reader whose buffer, once allocated, holds `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: R) -> Self {
        BufReader {
            inner,
            buf: Box::default(),
            pos: 0,
            filled: 0,
            capacity: capacity.max(1),
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The wrapped stream; reading from it directly skips what is buffered.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The bytes read from the stream but not handed out yet.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }

    /// The wrapped stream; buffered bytes are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// A stream of lines read from this reader (see [`Lines`]).
    pub fn lines(self) -> Lines<R> {
        Lines::new(self)
    }

    /// Reads up to and including the next `\n`, appending it to `line`; returns the bytes read,
    /// 0 at the end of the stream.
    ///
    /// Not cancel-safe: if the future is dropped midway, the part of the line read so far is lost.
    /// In a `select`-style loop use [`lines`](Self::lines), which keeps that part itself.
    /// Fails with `InvalidData` (and appends nothing) if the line is not UTF-8.
    pub async fn read_line(&mut self, line: &mut String) -> io::Result<usize> {
        let mut bytes = Vec::new();
        let n = self.read_until(b'\n', &mut bytes).await?;
        let text = String::from_utf8(bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "line is not valid UTF-8"))?;
        line.push_str(&text);
        Ok(n)
    }

    /// Reads up to and including `byte`, appending to `out`; returns the bytes read, 0 at the end.
    pub async fn read_until(&mut self, byte: u8, out: &mut Vec<u8>) -> io::Result<usize> {
        let start = out.len();
        poll_fn(|cx| self.poll_read_until(cx, byte, out, usize::MAX)).await?;
        Ok(out.len() - start)
    }

    /// Moves bytes into `out` until one equal to `byte` has been moved (or the stream ends).
    ///
    /// Progress lives in `out`, so a `Pending` loses nothing: call again with the same `out`.
    /// `Ready(Ok(()))` means the delimiter was moved or the stream ended (compare `out`'s length);
    /// fails with `InvalidData` once `out` would hold more than `limit` bytes before the delimiter.
    pub(crate) fn poll_read_until(
        &mut self,
        cx: &mut Context<'_>,
        byte: u8,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Poll<io::Result<()>> {
        loop {
            let available = match Pin::new(&mut *self).poll_fill_buf(cx) {
                Poll::Ready(Ok(available)) => available,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if available.is_empty() {
                return Poll::Ready(Ok(())); // end of stream
            }
            let (take, found) = match memchr(byte, available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            // The limit counts the line's bytes, not its delimiter.
            if out.len() + take - usize::from(found) > limit {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line longer than {limit} bytes"),
                )));
            }
            out.extend_from_slice(&available[..take]);
            Pin::new(&mut *self).consume(take);
            if found {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

/// The index of the first `byte` in `haystack` (a plain loop: the compiler vectorises it well).
fn memchr(byte: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}

impl<R: AsyncRead + Unpin> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.pos == this.filled {
            if this.buf.is_empty() {
                this.buf = vec![0; this.capacity].into_boxed_slice();
            }
            match Pin::new(&mut this.inner).poll_read(cx, &mut this.buf) {
                Poll::Ready(Ok(n)) => (this.pos, this.filled) = (0, n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    // Nothing buffered, nothing to read: an idle reader holds no memory.
                    this.buf = Box::default();
                    (this.pos, this.filled) = (0, 0);
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Ok(&this.buf[this.pos..this.filled]))
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        let this = self.get_mut();
        this.pos = (this.pos + amount).min(this.filled);
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // A read at least as large as the buffer skips it when nothing is buffered.
        if self.pos == self.filled && out.len() >= self.capacity {
            return Pin::new(&mut self.inner).poll_read(cx, out);
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

impl<R> std::fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufReader")
            .field("buffered", &(self.filled - self.pos))
            .field("capacity", &self.capacity)
            .finish()
    }
}
