//! Receiving on a stream: `read`, `try_read`, waiting until readable.
//!
//! - **epoll**: wait until the reactor marks the socket readable, `recv` straight into the caller's
//!   buffer, and on `WouldBlock` clear the mark and wait for the next edge. A short read drained the kernel
//!   buffer, so `READABLE` is cleared at once (saving a syscall that would only say `WouldBlock`), but
//!   `READ_CLOSED` is kept: a FIN that came with the last bytes is reported once, in the same edge.
//! - **io_uring**: the caller's buffer never reaches the kernel. The socket's receive (multishot where the
//!   kernel has it) fills buffers from the provided-buffer ring; a read copies queued bytes out and gives
//!   emptied buffers back. With nothing queued, it arms the receive and parks the waker. Dropping the read
//!   future loses nothing: the bytes wait on the socket for the next read.

use crate::driver::Ready;
use crate::net::source::{poll_budgeted, IoSource};
use crate::reactor::Direction;
use std::io::{self, Read};
use std::net::TcpStream;
use std::task::{Context, Poll};

/// Read into `buf`; `Ok(0)` at EOF (or for an empty `buf`).
pub(crate) fn poll_read(
    io: &IoSource<TcpStream>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    if io.completion().is_some() {
        return poll_budgeted(cx, |cx| {
            io.with_uring(|d, key| d.poll_recv(key, Some(cx), buf))
        });
    }
    let wanted = buf.len();
    let result = io.poll_io(Direction::Read, cx, |mut s| s.read(buf));
    if let Poll::Ready(Ok(n)) = result {
        if n > 0 && n < wanted {
            // Keep READ_CLOSED: if the FIN came with these bytes, no new edge will announce it.
            io.clear_flag(Ready::READABLE);
        }
    }
    result
}

/// Read without waiting: `WouldBlock` unless bytes (or the end) are already known to be there.
pub(crate) fn try_read(io: &IoSource<TcpStream>, buf: &mut [u8]) -> io::Result<usize> {
    if io.completion().is_some() {
        return match io.with_uring(|d, key| d.poll_recv(key, None, buf)) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        };
    }
    io.try_io(Direction::Read, |mut s| s.read(buf))
}

/// Wait until a read would (probably) not wait.
pub(crate) fn poll_read_ready(
    io: &IoSource<TcpStream>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    if io.completion().is_some() {
        return io.with_uring(|d, key| d.poll_recv_ready(key, cx)).map(Ok);
    }
    io.poll_ready(Direction::Read, cx).map(|_| Ok(()))
}
