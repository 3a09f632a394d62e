//! The bridge between rustls's blocking-style `std::io` calls and the runtime's poll-based socket.
//!
//! rustls reads and writes TLS records through `&mut dyn std::io::Read` / `Write`. [`PollIo`] is
//! such a reader and writer over a [`TcpStream`] and the current task's [`Context`]: a socket that
//! is not ready makes the poll return `Pending` (which parks the task's waker in the reactor), and
//! that is handed to rustls as `WouldBlock`. rustls leaves its state untouched on `WouldBlock`, so
//! the caller simply returns `Pending` and tries again when the reactor wakes the task.
//!
//! The edge-triggered rule holds because `TcpStream::poll_read`/`poll_write` return `Pending`
//! only after the kernel said `EAGAIN` (or a short transfer proved the buffer drained or full):
//! a wakeup is always coming.

use std::io::{self, IoSlice, Read, Write};
use std::task::{Context, Poll};

use spool_runtime::net::TcpStream;

/// `std::io::Read + Write` over a runtime socket, for one poll of one task.
pub(super) struct PollIo<'a, 'b> {
    pub(super) tcp: &'a TcpStream,
    pub(super) cx: &'a mut Context<'b>,
}

/// `Pending` becomes `WouldBlock`, which rustls passes back to us untouched.
fn would_block<T>(poll: Poll<io::Result<T>>) -> io::Result<T> {
    match poll {
        Poll::Ready(result) => result,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

impl Read for PollIo<'_, '_> {
    /// A short read clears the socket's READABLE mark (the kernel buffer is drained) but keeps a
    /// peer close that came with the bytes, so the next read sees EOF without waiting for an edge.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        would_block(self.tcp.poll_read(self.cx, buf))
    }
}

impl Write for PollIo<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        would_block(self.tcp.poll_write(self.cx, buf))
    }

    /// rustls writes queued records with one vectored write (up to 64 records per syscall).
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        would_block(self.tcp.poll_write_vectored(self.cx, bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        // TcpStream has no user-space buffer.
        Ok(())
    }
}

/// A reader that never waits: bytes only if the reactor already marked the socket readable
/// (`TcpStream::try_read`, no syscall otherwise), else `WouldBlock`. For probing idle connections
/// outside any task poll.
pub(super) struct TryIo<'a>(pub(super) &'a TcpStream);

impl Read for TryIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

/// A reader with nothing to give, ever: `WouldBlock`. Passing it to `read_tls` makes rustls size
/// its incoming-record buffer for the next read (shrinking it when it is empty) and change nothing
/// else.
pub(super) struct NothingYet;

impl Read for NothingYet {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}
