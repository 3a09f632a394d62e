//! Connecting a TCP socket.
//!
//! - **epoll**: a non-blocking `connect` returns `EINPROGRESS`; the socket is registered with no readiness
//!   and becomes writable when the handshake ends, successfully or not; `SO_ERROR` says which.
//! - **io_uring**: `IORING_OP_CONNECT` on a blocking socket; the kernel waits for the handshake and the
//!   completion carries the result. The address lives in the op until that completion.

use crate::driver::Ready;
use crate::net::source::{completion_driver, IoSource};
use crate::reactor::Direction;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, TcpStream};

use socket2::{Domain, Protocol, Socket, Type};

/// Open a connection to `addr`; the registered socket on success.
pub(crate) async fn connect(addr: SocketAddr) -> io::Result<IoSource<TcpStream>> {
    let completion = completion_driver("connecting a socket");
    let ty = if completion {
        Type::STREAM.cloexec()
    } else {
        Type::STREAM.nonblocking().cloexec()
    };
    let socket = Socket::new(Domain::for_address(addr), ty, Some(Protocol::TCP))?;
    // Nagle off, as on every stream spool opens (see `TcpStream::set_nodelay`).
    socket.set_tcp_nodelay(true)?;
    if completion {
        let io = IoSource::new(TcpStream::from(socket), Ready::EMPTY)?;
        poll_fn(|cx| io.with_uring(|d, key| d.poll_connect(key, cx, addr))).await?;
        return Ok(io);
    }
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        // EINPROGRESS: the non-blocking connect has started.
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    // Not writable until the handshake completes: start with no readiness.
    let io = IoSource::new(TcpStream::from(socket), Ready::EMPTY)?;
    poll_fn(|cx| io.poll_ready(Direction::Write, cx)).await;
    // Writable means "handshake finished", successfully or not: SO_ERROR says which.
    if let Some(e) = io.get().take_error()? {
        return Err(e);
    }
    match io.get().peer_addr() {
        Ok(_) => Ok(io),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connection failed",
        )),
        Err(e) => Err(e),
    }
}
