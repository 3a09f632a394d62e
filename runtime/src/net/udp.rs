//! `UdpSocket`: datagrams without blocking the loop (what the DNS resolver runs on).

use super::op::datagram;
use super::source::{completion_driver, IoSource};
use crate::driver::Ready;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

/// A UDP socket driven by the spool reactor.
///
/// ```
/// use spool_runtime::net::UdpSocket;
/// spool_runtime::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     assert_eq!(from, a.local_addr().unwrap());
/// });
/// ```
pub struct UdpSocket {
    io: IoSource<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Bind to `addr` (port 0: the kernel picks a fresh random port).
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        Self::from_std(std::net::UdpSocket::bind(addr)?)
    }

    /// Adopt a bound std socket (switched to the mode the driver wants: non-blocking on epoll, blocking
    /// on io_uring).
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(!completion_driver("creating a socket"))?;
        Ok(UdpSocket {
            io: IoSource::new(socket, Ready::read_side() | Ready::write_side())?,
        })
    }

    /// Send one datagram to `target`.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        poll_fn(|cx| datagram::poll_send_to(&self.io, cx, buf, target)).await
    }

    /// Receive one datagram; returns its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Poll form of [`UdpSocket::recv_from`].
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        datagram::poll_recv_from(&self.io, cx, buf)
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }
}

/// The socket's descriptor, for socket options spool does not wrap. Do not read, write or close it:
/// on io_uring the driver owns the operations on it, and closes it after the last one completes.
impl std::os::fd::AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get().as_raw_fd()
    }
}
