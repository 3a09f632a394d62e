//! Shutting down a direction of a stream.
//!
//! - **epoll**: `shutdown(2)` at once; the kernel sends its buffered bytes before the FIN.
//! - **io_uring**: bytes may still sit in the socket's send window (user space), so a write shutdown is
//!   queued behind them and submitted as `IORING_OP_SHUTDOWN` after the last send completes; a read
//!   shutdown is submitted at once. Either way the FIN never overtakes written bytes.

use crate::net::source::IoSource;
use std::io;
use std::net::{Shutdown, TcpStream};
use std::task::{ready, Context, Poll};

pub(crate) fn shutdown(io: &IoSource<TcpStream>, how: Shutdown) -> io::Result<()> {
    if io.completion().is_some() {
        return io.with_uring(|d, key| d.shutdown(key, how));
    }
    io.get().shutdown(how)
}

/// `AsyncWrite::poll_close`: wait until every written byte is in the kernel's hands (io_uring), then
/// shut down the write side; so a closed stream holds nothing in user space.
pub(crate) fn poll_close(io: &IoSource<TcpStream>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    ready!(super::send::poll_sent(io, cx))?;
    Poll::Ready(shutdown(io, Shutdown::Write))
}
