//! UDP datagrams: `send_to` and `recv_from` (what the DNS resolver uses).
//!
//! - **epoll**: `sendto` / `recvfrom` on the caller's buffer after readiness, `WouldBlock` → wait.
//! - **io_uring**: `IORING_OP_SENDMSG` / `IORING_OP_RECVMSG` with the datagram, its address, iovec and
//!   msghdr in one box owned by the op. `send_to` returns once the driver holds the copy (an error is
//!   reported by the next `send_to`); a datagram received after its `recv_from` future was dropped is
//!   kept for the next `recv_from`, as the kernel would keep it.

use crate::net::source::{poll_budgeted, IoSource};
use crate::reactor::Direction;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::task::{Context, Poll};

pub(crate) fn poll_send_to(
    io: &IoSource<UdpSocket>,
    cx: &mut Context<'_>,
    buf: &[u8],
    target: SocketAddr,
) -> Poll<io::Result<usize>> {
    if io.completion().is_some() {
        return poll_budgeted(cx, |cx| {
            io.with_uring(|d, key| d.poll_send_to(key, cx, buf, target))
        });
    }
    io.poll_io(Direction::Write, cx, |s| s.send_to(buf, target))
}

pub(crate) fn poll_recv_from(
    io: &IoSource<UdpSocket>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<(usize, SocketAddr)>> {
    if io.completion().is_some() {
        return poll_budgeted(cx, |cx| {
            io.with_uring(|d, key| d.poll_recv_from(key, cx, buf))
        });
    }
    io.poll_io(Direction::Read, cx, |s| s.recv_from(buf))
}
