//! Sending on a stream: `write`, vectored writes, flush, "sent", waiting until writable.
//!
//! - **epoll**: wait until writable, `send` from the caller's buffer; a short write filled the kernel
//!   buffer, so `WRITABLE` is cleared at once.
//! - **io_uring**: the bytes are copied into the socket's send window (64 KiB) and `Ok(n)` returns at once,
//!   as a kernel socket buffer would; the driver keeps one `SEND` in flight per socket, in order, and
//!   continues short sends itself. The first error is reported by every later write and by flush.
//!   `Pending` only while the window is full. Flush does not wait (the bytes go out without the task's
//!   help, as they do from a kernel buffer); `sent` waits until the window is empty.

use crate::driver::Ready;
use crate::net::source::{poll_budgeted, IoSource};
use crate::reactor::Direction;
use std::io::{self, IoSlice, Write};
use std::net::TcpStream;
use std::task::{Context, Poll};

pub(crate) fn poll_write(
    io: &IoSource<TcpStream>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    if io.completion().is_some() {
        return poll_budgeted(cx, |cx| {
            io.with_uring(|d, key| d.poll_send(key, cx, &[IoSlice::new(buf)]))
        });
    }
    let wanted = buf.len();
    let result = io.poll_io(Direction::Write, cx, |mut s| s.write(buf));
    if let Poll::Ready(Ok(n)) = result {
        if n < wanted {
            io.clear_flag(Ready::WRITABLE);
        }
    }
    result
}

pub(crate) fn poll_write_vectored(
    io: &IoSource<TcpStream>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    if io.completion().is_some() {
        return poll_budgeted(cx, |cx| io.with_uring(|d, key| d.poll_send(key, cx, bufs)));
    }
    io.poll_io(Direction::Write, cx, |mut s| s.write_vectored(bufs))
}

/// A flush never waits. epoll: nothing is buffered in user space. io_uring: bytes in the send window
/// are the driver's to send in order (the loop's next submission hands them to the kernel), so only a
/// send error already known is reported.
pub(crate) fn poll_flush(io: &IoSource<TcpStream>) -> Poll<io::Result<()>> {
    if io.completion().is_some() {
        return io.with_uring(|d, key| d.poll_flush(key));
    }
    Poll::Ready(Ok(()))
}

/// Every written byte handed to the kernel. epoll: a write that returned did that, so always done.
/// io_uring: wait until the send window has drained (every send completed).
pub(crate) fn poll_sent(io: &IoSource<TcpStream>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    if io.completion().is_some() {
        return io.with_uring(|d, key| d.poll_sent(key, cx));
    }
    Poll::Ready(Ok(()))
}

pub(crate) fn poll_write_ready(
    io: &IoSource<TcpStream>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    if io.completion().is_some() {
        return io.with_uring(|d, key| d.poll_send_ready(key, cx)).map(Ok);
    }
    io.poll_ready(Direction::Write, cx).map(|_| Ok(()))
}
