//! [`TlsStream`]: a TLS client connection over the runtime's `TcpStream`, readable and writable
//! like the socket itself (`futures_io::AsyncRead + AsyncWrite`).
//!
//! rustls is sans-IO at heart: it takes TLS bytes in (`read_tls`, then `process_new_packets`) and
//! hands plaintext out (`reader`); it takes plaintext in (`writer`) and hands TLS records out
//! (`write_tls`). This file is the pump between rustls and the socket:
//!
//! ```text
//!   poll_read:  plaintext buffered? ──yes──► copy it out
//!                    │ no
//!                    ▼
//!               read_tls(socket) ──WouldBlock──► Pending (the reactor wakes us)
//!                    │ bytes or EOF
//!                    ▼
//!               process_new_packets ──error──► send rustls's alert, return the error
//!                    └──► back to the top (a record may hold no plaintext: tickets, key updates)
//!
//!   poll_write: flush queued records first (backpressure), encrypt into rustls, flush again
//!   poll_flush: write_tls until rustls has nothing queued
//!   poll_close: queue close_notify, flush, shut down the TCP write side
//! ```
//!
//! See the [module docs](super) for the end-of-stream contract (close_notify vs. a bare TCP close).

use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::AsyncWrite;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, HandshakeKind, ProtocolVersion};
use spool_runtime::net::TcpStream;

use super::error::{TlsError, TlsErrorKind};
use super::io::{NothingYet, PollIo, TryIo};

/// An established TLS connection (made by [`TlsConnector::connect`](super::TlsConnector::connect)).
///
/// Read and write it through `futures_io::AsyncRead`/`AsyncWrite`, exactly like a `TcpStream`,
/// with two differences the HTTP layer must respect (see the [module docs](super)):
/// - written bytes may wait inside rustls until [`poll_flush`](futures_io::AsyncWrite::poll_flush)
///   (or the next read, which flushes first);
/// - end of stream is `Ok(0)` only after the server's `close_notify`; a bare TCP close is
///   `Err(UnexpectedEof)`.
pub struct TlsStream {
    tcp: TcpStream,
    tls: ClientConnection,
    /// Set once `close_notify` is queued, so a repeated `poll_close` does not queue another.
    close_notify_queued: bool,
    /// The socket returned EOF; rustls knows too, but has no getter for it.
    eof_seen: bool,
}

/// What a read reports after a TCP close without `close_notify` (kind `UnexpectedEof`).
const TRUNCATED: &str = "the server closed the connection without a TLS close_notify, \
                         so what it sent may have been cut short";

/// The TLS protocol version in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl TlsStream {
    pub(super) fn new(tcp: TcpStream, tls: ClientConnection) -> TlsStream {
        TlsStream {
            tcp,
            tls,
            close_notify_queued: false,
            eof_seen: false,
        }
    }

    /// Drives the handshake to its end: send what rustls wants sent, feed it what arrives.
    pub(super) fn poll_handshake(
        &mut self,
        cx: &mut Context<'_>,
        name: &ServerName<'_>,
    ) -> Poll<Result<(), TlsError>> {
        loop {
            let write_blocked = match self.poll_flush_tls(cx) {
                Poll::Ready(Ok(())) => false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(TlsError::io(e, name))),
                Poll::Pending => true,
            };
            if !self.tls.is_handshaking() {
                // Done once our last flight (the client Finished) is on the wire.
                return if write_blocked {
                    Poll::Pending
                } else {
                    Poll::Ready(Ok(()))
                };
            }
            if !self.tls.wants_read() {
                // rustls waits only for its queued records to leave: the write waker is parked.
                if write_blocked {
                    return Poll::Pending;
                }
                // Not expected from rustls; waiting here would hang with no waker parked.
                return Poll::Ready(Err(TlsError::new(
                    TlsErrorKind::Handshake,
                    "TLS handshake stalled: rustls wants neither to read nor to write",
                )));
            }
            let mut io = PollIo { tcp: &self.tcp, cx };
            match self.tls.read_tls(&mut io) {
                Ok(0) => {
                    let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
                    return Poll::Ready(Err(TlsError::io(eof, name)));
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(TlsError::io(e, name))),
            }
            if let Err(e) = self.tls.process_new_packets() {
                // rustls queued an alert telling the server why (e.g. bad_certificate).
                let _ = self.poll_flush_tls(cx);
                return Poll::Ready(Err(TlsError::handshake(e, name)));
            }
        }
    }

    /// Writes queued TLS records until none are left; `Pending` while the socket is full.
    fn poll_flush_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.tls.wants_write() {
            let mut io = PollIo { tcp: &self.tcp, cx };
            match self.tls.write_tls(&mut io) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads TLS bytes from the socket into rustls and decrypts them. `Ready(Ok)` after progress
    /// (which may be EOF: rustls remembers it and its reader reports it).
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut io = PollIo { tcp: &self.tcp, cx };
        match self.tls.read_tls(&mut io) {
            Ok(0) => self.eof_seen = true,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        }
        if let Err(e) = self.tls.process_new_packets() {
            let _ = self.poll_flush_tls(cx); // the alert rustls queued, if the socket takes it
            return Poll::Ready(Err(TlsError::protocol(e).into_io()));
        }
        Poll::Ready(Ok(()))
    }

    /// Plaintext already decrypted: `Some(result)`, or `None` when rustls has none buffered.
    fn read_buffered(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        match self.tls.reader().read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            // TCP closed without close_notify. rustls's own message points at its manual; ours
            // says what it means for the reader.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Some(Err(io::Error::new(io::ErrorKind::UnexpectedEof, TRUNCATED)))
            }
            // Ok(0): close_notify received.
            result => Some(result),
        }
    }

    /// Reads plaintext into `buf`: `Ok(0)` after the server's `close_notify`, `Err(UnexpectedEof)`
    /// after a TCP close without it. The `AsyncRead` impl as an async fn, like `TcpStream::read`.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| futures_io::AsyncRead::poll_read(Pin::new(&mut *self), cx, buf)).await
    }

    /// Writes all of `buf` and flushes it to the socket.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = poll_fn(|cx| Pin::new(&mut *self).poll_write(cx, buf)).await?;
            buf = &buf[n..];
        }
        poll_fn(|cx| Pin::new(&mut *self).poll_flush(cx)).await
    }

    /// Sends `close_notify` and shuts down the TCP write side (see `poll_close`).
    pub async fn close(&mut self) -> io::Result<()> {
        poll_fn(|cx| Pin::new(&mut *self).poll_close(cx)).await
    }

    /// Reads without waiting, for checking an idle pooled connection outside a task poll:
    /// `Err(WouldBlock)` means nothing happened (still usable); `Ok(0)` or `Err(UnexpectedEof)`
    /// mean the server closed it (with or without `close_notify`); `Ok(n)` is stray data.
    ///
    /// Like `TcpStream::try_read`, it costs no syscall unless the reactor has seen the socket
    /// readable.
    pub fn try_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(result) = self.read_buffered(buf) {
                return result;
            }
            if self.tls.read_tls(&mut TryIo(&self.tcp))? == 0 {
                self.eof_seen = true;
            }
            if let Err(e) = self.tls.process_new_packets() {
                return Err(TlsError::protocol(e).into_io());
            }
        }
    }

    /// Waits until a read would (probably) make progress, without reading: plaintext or an end
    /// of stream is already buffered, or the socket is readable. A readable socket may carry
    /// records with no plaintext (a session ticket), so a read after this can still be `Pending`.
    ///
    /// Records still queued for sending are flushed first, as in `poll_read`: a driver that writes
    /// a request and then waits here must not wait for a response to a request stuck in rustls.
    pub fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Poll::Ready(Err(e)) = self.poll_flush_tls(cx) {
            return Poll::Ready(Err(e));
        }
        if !self.tls.wants_read() || self.eof_seen {
            return Poll::Ready(Ok(()));
        }
        self.tcp.poll_read_ready(cx)
    }

    /// Lets rustls give back the memory of its incoming-record buffer (up to ~18 KiB after a large
    /// record) down to its 4 KiB floor. Call it when the connection goes idle, e.g. when it is
    /// returned to a pool; it changes nothing else.
    ///
    /// rustls resizes that buffer only at the start of a read; this starts a read whose source
    /// has nothing yet.
    pub fn shrink_idle_buffers(&mut self) {
        let _ = self.tls.read_tls(&mut NothingYet);
    }

    /// Whether this connection resumed an earlier session (an abbreviated handshake) instead of
    /// a full one.
    pub fn is_resumed(&self) -> bool {
        self.tls.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    /// The protocol the server chose by ALPN (`b"http/1.1"`), if it chose one.
    pub fn negotiated_alpn(&self) -> Option<&[u8]> {
        self.tls.alpn_protocol()
    }

    /// The TLS version in use.
    pub fn protocol_version(&self) -> Option<TlsVersion> {
        match self.tls.protocol_version()? {
            ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    /// The TCP connection underneath (for `peer_addr`, `set_nodelay`). Reading or writing it
    /// directly would corrupt the TLS session.
    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }
}

impl futures_io::AsyncRead for TlsStream {
    /// Reads plaintext. `Ok(0)` is the server's `close_notify`; `Err(UnexpectedEof)` is a TCP
    /// close without it (possible truncation: see the module docs).
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Records still queued (the tail of a write that met a full socket) go out first: a
        // driver that writes a request and then only reads must not wait forever for a response
        // to a request stuck in rustls. `Pending` here just parks the write waker too.
        if let Poll::Ready(Err(e)) = this.poll_flush_tls(cx) {
            return Poll::Ready(Err(e));
        }
        loop {
            if let Some(result) = this.read_buffered(buf) {
                return Poll::Ready(result);
            }
            ready!(this.poll_fill(cx))?;
        }
    }
}

impl futures_io::AsyncWrite for TlsStream {
    /// Encrypts `buf` into rustls and pushes records to the socket. Accepted bytes may stay
    /// queued in rustls when the socket is full: `poll_flush` (or the next read) sends them.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Backpressure: take no new bytes while earlier records still wait for the socket, so
        // rustls never holds more than one write's worth.
        ready!(this.poll_flush_tls(cx))?;
        let accepted = this.tls.writer().write(buf)?;
        if accepted == 0 {
            // rustls's queue was empty, so its limit cannot be what refused the bytes.
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        // Best effort: the bytes are accepted whether or not the socket takes them now.
        if let Poll::Ready(Err(e)) = this.poll_flush_tls(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(accepted))
    }

    /// Like `poll_write`, with the slices encrypted together into as few records as fit.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        ready!(this.poll_flush_tls(cx))?;
        let accepted = this.tls.writer().write_vectored(bufs)?;
        if accepted == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        if let Poll::Ready(Err(e)) = this.poll_flush_tls(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(accepted))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.tls.writer().flush()?;
        this.poll_flush_tls(cx)
    }

    /// Sends `close_notify` (so the server knows nothing was cut off), then shuts down the TCP
    /// write side.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_notify_queued {
            this.tls.send_close_notify();
            this.close_notify_queued = true;
        }
        ready!(this.poll_flush_tls(cx))?;
        match this.tcp.shutdown(std::net::Shutdown::Write) {
            // The server may have closed first; the goal (no more writes) is reached anyway.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            result => Poll::Ready(result),
        }
    }
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("tcp", &self.tcp)
            .field("version", &self.protocol_version())
            .field("resumed", &self.is_resumed())
            .finish()
    }
}
