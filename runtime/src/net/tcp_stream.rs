//! `TcpStream`: a TCP connection whose reads and writes wait on the reactor instead of blocking.
//!
//! Reads and writes follow the edge-triggered protocol of [`IoSource`]. One saving on top: a read that
//! returns fewer bytes than asked for has drained the kernel buffer, so readiness is cleared right away and
//! the next read waits for a new edge instead of spending a syscall to learn `WouldBlock` (the same holds
//! for a short write). With epoll in edge-triggered mode every new arrival of data is a new edge, so
//! nothing is lost. Only the plain `READABLE`/`WRITABLE` flag is cleared this way: a FIN that arrived
//! together with the last bytes is reported once, in the same edge, so `READ_CLOSED` must survive the
//! short read, or the next read (which would return EOF at once) waits forever.

use super::source::IoSource;
use crate::driver::Ready;
use crate::reactor::Direction;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, Socket, Type};

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
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            // EINPROGRESS: the non-blocking connect has started.
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let stream: std::net::TcpStream = socket.into();
        stream.set_nodelay(true)?;
        // Not writable until the handshake completes: start with no readiness.
        let io = IoSource::new(stream, Ready::EMPTY)?;
        poll_fn(|cx| io.poll_ready(Direction::Write, cx)).await;
        // Writable means "handshake finished", successfully or not: SO_ERROR says which.
        if let Some(e) = io.get().take_error()? {
            return Err(e);
        }
        match io.get().peer_addr() {
            Ok(_) => Ok(TcpStream { io }),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "connection failed",
            )),
            Err(e) => Err(e),
        }
    }

    /// Adopt a connected std stream (it is switched to non-blocking mode, and Nagle's algorithm is
    /// turned off as on every stream spool opens: see [`set_nodelay`](Self::set_nodelay)).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
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
        let wanted = buf.len();
        let result = self.io.poll_io(Direction::Read, cx, |mut s| s.read(buf));
        if let Poll::Ready(Ok(n)) = result {
            if n > 0 && n < wanted {
                // Keep READ_CLOSED: if the FIN came with these bytes, no new edge will announce it.
                self.io.clear_flag(Ready::READABLE);
            }
        }
        result
    }

    /// Poll form of [`TcpStream::write`].
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let wanted = buf.len();
        let result = self.io.poll_io(Direction::Write, cx, |mut s| s.write(buf));
        if let Poll::Ready(Ok(n)) = result {
            if n < wanted {
                self.io.clear_flag(Ready::WRITABLE);
            }
        }
        result
    }

    /// Write from several buffers in one syscall (e.g. a request head and its body).
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(Direction::Write, cx, |mut s| s.write_vectored(bufs))
    }

    /// Read without waiting: `WouldBlock` unless the reactor has seen the socket readable. Costs no
    /// syscall when it is not readable, which makes it a cheap liveness probe for pooled connections.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |mut s| s.read(buf))
    }

    /// Wait until the socket is (probably) readable.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(Direction::Read, cx).map(|_| Ok(()))
    }

    /// Wait until the socket is (probably) writable.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(Direction::Write, cx).map(|_| Ok(()))
    }

    /// Shut down one or both directions (`Write` sends FIN: the peer reads EOF).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
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

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the kernel; there is no user-space buffer to flush.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
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

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}
