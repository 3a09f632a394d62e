//! Sending on a stream: `write`, vectored writes, flush, waiting until writable.
//!
//! - **epoll**: wait until writable, `send` from the caller's buffer; a short write filled the kernel
//!   buffer, so `WRITABLE` is cleared at once.
//! - **io_uring**: the bytes are copied into the socket's send window (64 KiB) and `Ok(n)` returns at once,
//!   as a kernel socket buffer would; the driver keeps one `SEND` in flight per socket, in order, and
//!   continues short sends itself. The first error is reported by every later write and by flush.
//!   `Pending` only while the window is full. Flush waits until the window is empty.

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

/// epoll: nothing is buffered in user space, so always done. io_uring: wait for the window to drain.
pub(crate) fn poll_flush(io: &IoSource<TcpStream>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    if io.completion().is_some() {
        return io.with_uring(|d, key| d.poll_flush(key, cx));
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
