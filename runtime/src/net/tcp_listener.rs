//! `TcpListener`: accepts connections without blocking the loop.

use super::op;
use super::source::{completion_driver, IoSource};
use super::tcp_stream::TcpStream;
use crate::driver::Ready;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// The accept backlog: large, because a loop serving thousands of clients accepts in bursts.
const BACKLOG: i32 = 4096;

/// A listening TCP socket.
///
/// ```
/// use spool_runtime::net::TcpListener;
/// spool_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     assert!(listener.local_addr().unwrap().port() != 0);
/// });
/// ```
pub struct TcpListener {
    io: IoSource<std::net::TcpListener>,
}

impl TcpListener {
    /// Bind to `addr` (port 0 picks a free port) with `SO_REUSEADDR` and start listening.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.cloexec(),
            Some(Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        Self::from_std(socket.into())
    }

    /// Adopt a bound, listening std listener (switched to the mode the driver wants: non-blocking on
    /// epoll, blocking on io_uring).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(!completion_driver("creating a socket"))?;
        Ok(TcpListener {
            io: IoSource::new(listener, Ready::read_side())?,
        })
    }

    /// Wait for the next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = poll_fn(|cx| op::accept::poll_accept(&self.io, cx)).await?;
        Ok((TcpStream::from_std(stream)?, addr))
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }
}

/// The socket's descriptor, for socket options spool does not wrap. Do not read, write or close it:
/// on io_uring the driver owns the operations on it, and closes it after the last one completes.
impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get().as_raw_fd()
    }
}
