//! `TcpStream`: a TCP connection whose reads and writes wait on the driver instead of blocking.
//!
//! Each operation is one file in [`super::op`] (`recv`, `send`, `connect`, `shutdown`) with its epoll and
//! io_uring halves side by side; this file is the public face, identical on both drivers.

use super::op;
use super::source::{completion_driver, IoSource};
use crate::driver::Ready;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A TCP connection driven by the spool reactor.
///
/// ```
/// use spool_runtime::net::{TcpListener, TcpStream};
/// spool_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = spool_runtime::spawn(async move {
///         let (conn, _) = listener.accept().await.unwrap();
///         let mut buf = [0u8; 5];
///         conn.read_exact(&mut buf).await.unwrap();
///         conn.write_all(&buf).await.unwrap(); // echo
///     });
///     let conn = TcpStream::connect(addr).await.unwrap();
///     conn.write_all(b"hello").await.unwrap();
///     let mut back = [0u8; 5];
///     conn.read_exact(&mut back).await.unwrap();
///     assert_eq!(&back, b"hello");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpStream {
    io: IoSource<std::net::TcpStream>,
}

impl TcpStream {
    /// Open a connection to `addr` without blocking the loop.
    ///
    /// Fails with the connect error itself (e.g. `ConnectionRefused`). There is no built-in time limit:
    /// wrap it in [`crate::time::timeout`].
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: op::connect::connect(addr).await?,
        })
    }

    /// Adopt a connected std stream (switched to the mode the driver wants: non-blocking on epoll,
    /// blocking on io_uring), with Nagle's algorithm turned off as on every stream spool opens: see
    /// [`set_nodelay`](Self::set_nodelay).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(!completion_driver("creating a socket"))?;
        stream.set_nodelay(true)?;
        Ok(TcpStream {
            io: IoSource::new(stream, Ready::read_side() | Ready::write_side())?,
        })
    }

    /// Read into `buf`; `Ok(0)` means the peer closed its side (or `buf` is empty).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Fill `buf` completely; `UnexpectedEof` if the peer closes first.
    pub async fn read_exact(&self, buf: &mut [u8]) -> io::Result<()> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..]).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => filled += n,
            }
        }
        Ok(())
    }

    /// Write some of `buf`; returns how much was written.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Write all of `buf`.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Poll form of [`TcpStream::read`].
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        op::recv::poll_read(&self.io, cx, buf)
    }

    /// Poll form of [`TcpStream::write`].
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        op::send::poll_write(&self.io, cx, buf)
    }

    /// Write from several buffers in one syscall (e.g. a request head and its body).
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        op::send::poll_write_vectored(&self.io, cx, bufs)
    }

    /// Flush: never waits, as on tokio's `TcpStream`. On epoll a write goes straight into the kernel's
    /// send buffer. On io_uring it goes into a send window in user space (at most 64 KiB) that the
    /// loop hands to the kernel in its next submission, in order, even if the stream is dropped
    /// meanwhile. Either way the bytes will be sent without the task's help, so a flush only reports a
    /// send error the runtime already knows of. To wait until the kernel holds every byte (before
    /// `std::process::exit`, say), use [`sent`](Self::sent).
    pub fn poll_flush(&self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        op::send::poll_flush(&self.io)
    }

    /// Poll form of [`TcpStream::sent`].
    pub fn poll_sent(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        op::send::poll_sent(&self.io, cx)
    }

    /// Wait until every byte written so far is in the kernel's hands; reports a send error. Ready at
    /// once on epoll (a write that returned put its bytes there); on io_uring it waits for the sends
    /// in flight to complete.
    pub async fn sent(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_sent(cx)).await
    }

    /// Read without waiting: `WouldBlock` unless bytes (or the end of the stream) are already known to
    /// be there. Costs no syscall either way, which makes it a cheap liveness probe for pooled connections.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        op::recv::try_read(&self.io, buf)
    }

    /// Wait until the socket is (probably) readable.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        op::recv::poll_read_ready(&self.io, cx)
    }

    /// Wait until the socket is (probably) writable.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        op::send::poll_write_ready(&self.io, cx)
    }

    /// Shut down one or both directions (`Write` sends FIN: the peer reads EOF). On io_uring a write
    /// shutdown goes out after the bytes already written.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        op::shutdown::shutdown(&self.io, how)
    }

    /// Disable Nagle's algorithm, so small writes go out at once (what a request/response client wants).
    ///
    /// **On by default**: every stream from [`connect`](Self::connect), [`from_std`](Self::from_std) and
    /// [`TcpListener::accept`](crate::net::TcpListener::accept) starts with `TCP_NODELAY` set, as
    /// asyncio's streams do (CPython bpo-27456 and bpo-35380): with Nagle on, a small write after a
    /// small write waits for the peer's delayed ACK (up to 40 ms on Linux). Call `set_nodelay(false)`
    /// for bulk senders that write in small pieces and prefer fewer packets.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get().set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is disabled.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get().nodelay()
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Take the pending socket error, if any (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get().take_error()
    }
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl futures_io::AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_read(&self, cx, buf)
    }
}

impl futures_io::AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_write(&self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_write_vectored(&self, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_flush(&self, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        op::shutdown::poll_close(&self.io, cx)
    }
}

impl futures_io::AsyncRead for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_read(self.get_mut(), cx, buf)
    }
}

impl futures_io::AsyncWrite for &TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        TcpStream::poll_write(self.get_mut(), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_flush(self.get_mut(), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        op::shutdown::poll_close(&self.get_mut().io, cx)
    }
}

/// The socket's descriptor, for socket options spool does not wrap. Do not read, write or close it:
/// on io_uring the driver owns the operations on it, and closes it after the last one completes.
impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get().as_raw_fd()
    }
}
