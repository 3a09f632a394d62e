//! Accepting a connection.
//!
//! - **epoll**: wait until the listener is readable, `accept4` (non-blocking, close-on-exec), and on
//!   `WouldBlock` wait for the next edge.
//! - **io_uring**: `IORING_OP_ACCEPT` with close-on-exec; the peer address is written into a box the op
//!   owns. The accepted socket stays in blocking mode, as the driver wants it. A result that arrives after
//!   the accept future was dropped is kept for the next `accept` (or closed with the listener).

use crate::net::source::{poll_budgeted, IoSource};
use crate::reactor::Direction;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::task::{Context, Poll};

pub(crate) fn poll_accept(
    io: &IoSource<TcpListener>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
    if io.completion().is_some() {
        return poll_budgeted(cx, |cx| io.with_uring(|d, key| d.poll_accept(key, cx)))
            .map(|r| r.map(|(fd, addr)| (TcpStream::from(fd), addr)));
    }
    io.poll_io(Direction::Read, cx, |l| l.accept())
}
