//! The transport under a connection: one enum with poll-style read and write, so that TLS slots in
//! as one more variant without `io.rs` changing.
//!
//! Every method takes `&mut self` because a TLS stream needs it (its record buffers change on every
//! call); a plain `TcpStream` does not care.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;
use spool_runtime::net::TcpStream;

use crate::tls::TlsStream;

/// A connected byte stream to a server.
#[derive(Debug)]
pub(crate) enum Stream {
    /// Clear-text TCP (`http://`).
    Plain(TcpStream),
    /// TLS over TCP (`https://`). Its reads report a close without `close_notify` as
    /// `UnexpectedEof`, never as `Ok(0)`: see the contract in [`crate::tls`].
    Tls(Box<TlsStream>),
}

impl Stream {
    /// Waits until a read would (probably) return data or EOF, without reading.
    ///
    /// `io.rs` calls this before taking a read buffer, so a request waiting for a slow server
    /// holds no buffer memory at all.
    pub(crate) fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Stream::Plain(tcp) => tcp.poll_read_ready(cx),
            Stream::Tls(tls) => tls.poll_read_ready(cx),
        }
    }

    /// Reads into `buf`; `Ok(0)` is EOF.
    ///
    /// A read that does not fill `buf` tells the runtime the socket is drained, so the next read
    /// waits for new readiness instead of costing a `read` that says `WouldBlock`.
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Stream::Plain(tcp) => tcp.poll_read(cx, buf),
            Stream::Tls(tls) => futures_io::AsyncRead::poll_read(Pin::new(&mut **tls), cx, buf),
        }
    }

    /// Writes some of `buf`.
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Stream::Plain(tcp) => tcp.poll_write(cx, buf),
            // Bytes rustls could not send yet go out with the next read (which flushes first).
            Stream::Tls(tls) => Pin::new(&mut **tls).poll_write(cx, buf),
        }
    }

    /// Writes from several buffers in one call (a request head and a large body).
    pub(crate) fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self {
            Stream::Plain(tcp) => tcp.poll_write_vectored(cx, bufs),
            Stream::Tls(tls) => Pin::new(&mut **tls).poll_write_vectored(cx, bufs),
        }
    }

    /// The pool's liveness check for an idle connection: `true` when nothing arrived and the server
    /// has not closed it.
    ///
    /// Costs no system call unless the reactor saw the socket become readable: then it reads one
    /// byte, and EOF, data (an idle connection must get none) or an error all mean "discard".
    pub(crate) fn is_idle_and_open(&mut self) -> bool {
        match self {
            Stream::Plain(tcp) => {
                let mut probe = [0u8; 1];
                matches!(tcp.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
            // The same probe through TLS (a session ticket arriving while idle is no reason to
            // discard; close_notify, a bare close or data are).
            Stream::Tls(tls) => {
                let mut probe = [0u8; 1];
                matches!(tls.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
        }
    }

    /// Gives back memory not needed while the connection sits idle in the pool.
    pub(crate) fn shrink_idle(&mut self) {
        if let Stream::Tls(tls) = self {
            tls.shrink_idle_buffers();
        }
    }
}
