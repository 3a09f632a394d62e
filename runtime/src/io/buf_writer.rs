//! `BufWriter`: gathers small writes and sends them to the stream in one write on flush.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::AsyncWrite;

/// Adds a buffer (allocated on first write, released after a complete flush) to an `AsyncWrite`.
///
/// Writes are copied into the buffer; [`flush`](Self::flush) writes it out, as few system calls as
/// the kernel allows (usually one). A write that does not fit flushes what is buffered first; one
/// at least as large as the buffer goes straight to the stream. **Nothing is written until the
/// buffer fills or you flush**, and dropping a `BufWriter` discards what is still buffered.
///
/// ```
/// use spool_runtime::io::BufWriter;
///
/// spool_runtime::block_on(async {
///     let mut out = BufWriter::new(Vec::new());
///     out.write_all(b"one\n").await.unwrap();
///     out.write_all(b"two\n").await.unwrap();
///     assert!(out.get_ref().is_empty(), "still buffered");
///     out.flush().await.unwrap();
///     assert_eq!(out.get_ref(), b"one\ntwo\n");
/// });
/// ```
pub struct BufWriter<W> {
    inner: W,
    /// `buf[written..]` is waiting to be written; no allocation while empty after a flush.
    pub(super) buf: Vec<u8>,
    written: usize,
    capacity: usize,
}

impl<W: AsyncWrite + Unpin> BufWriter<W> {
    /// A writer with the default buffer size ([`DEFAULT_BUF_SIZE`](super::DEFAULT_BUF_SIZE)).
    pub fn new(inner: W) -> Self {
        Self::with_capacity(super::DEFAULT_BUF_SIZE, inner)
    }

    /// A writer that buffers up to `capacity` bytes before writing.
    pub fn with_capacity(capacity: usize, inner: W) -> Self {
        BufWriter {
            inner,
            buf: Vec::new(),
            written: 0,
            capacity: capacity.max(1),
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Bytes buffered and not yet written.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.written
    }

    /// The wrapped stream; unwritten bytes are lost (flush first).
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Buffers all of `data` (writing out the buffer first whenever it is full).
    pub async fn write_all(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = poll_fn(|cx| Pin::new(&mut *self).poll_write(cx, data)).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            data = &data[n..];
        }
        Ok(())
    }

    /// Writes out everything buffered, then flushes the stream.
    pub async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| Pin::new(&mut *self).poll_flush(cx)).await
    }

    /// Writes the buffer to the stream until it is empty, then releases it.
    fn poll_write_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let pending = &self.buf[self.written..];
            match ready!(Pin::new(&mut self.inner).poll_write(cx, pending)) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.written += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        // All out: an idle writer holds no memory.
        self.buf = Vec::new();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for BufWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() + data.len() > this.capacity {
            ready!(this.poll_write_buf(cx))?;
        }
        if data.len() >= this.capacity {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        if this.buf.capacity() == 0 {
            this.buf.reserve_exact(this.capacity); // the buffer is (re)allocated on first use
        }
        this.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_buf(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_buf(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

impl<W> std::fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufWriter")
            .field("buffered", &(self.buf.len() - self.written))
            .field("capacity", &self.capacity)
            .finish()
    }
}
