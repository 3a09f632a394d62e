//! `IoSource`: a non-blocking socket joined to the reactor; the piece every net type is built on.
//!
//! It owns the socket and its reactor registration, and runs the one loop every async I/O operation
//! needs:
//!
//! ```text
//!   loop {
//!       wait until the reactor marks the direction ready   (parks the task's waker, returns Pending)
//!       try the syscall
//!       WouldBlock  → clear the mark, go round again       (edge-triggered: only now may we wait)
//!       otherwise   → return the result
//!   }
//! ```
//!
//! Dropping an `IoSource` deregisters the socket and then closes it, so a task that is aborted closes its
//! connections and the peer sees EOF.
//!
//! The reactor key is only meaningful in the runtime that issued it, so the source keeps that runtime's
//! id beside it and every use checks it ([`IoSource::reactor`]): a socket carried into another
//! `block_on` panics with a message naming the problem, instead of reading (or, on drop, deregistering)
//! whatever socket holds the same key there. Every completed operation also spends the task's
//! cooperative budget ([`poll_io`](IoSource::poll_io), see `executor/coop.rs`).

use crate::context::{self, RuntimeId};
use crate::driver::Ready;
use crate::executor::coop;
use crate::reactor::{Direction, Reactor};
use std::io;
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

pub(crate) struct IoSource<S: AsRawFd> {
    /// `None` only during drop.
    sock: Option<S>,
    key: usize,
    /// The runtime whose reactor issued `key`.
    runtime: RuntimeId,
}

impl<S: AsRawFd> IoSource<S> {
    /// Register `sock` (already non-blocking) with the current runtime's reactor.
    pub(crate) fn new(sock: S, initial: Ready) -> io::Result<IoSource<S>> {
        let fd = sock.as_raw_fd();
        let (key, runtime) = context::with_io("creating a socket", |io| {
            io.reactor.register(fd, initial).map(|key| (key, io.id))
        })?;
        Ok(IoSource {
            sock: Some(sock),
            key,
            runtime,
        })
    }

    /// Run `f` with the reactor of the current runtime, which must be the one this socket registered
    /// with (else a panic saying so).
    #[inline]
    fn reactor<R>(&self, f: impl FnOnce(&Reactor) -> R) -> R {
        context::with_io("socket I/O", |io| {
            self.runtime
                .check(io.id, "socket (TcpStream, TcpListener or UdpSocket)");
            f(&io.reactor)
        })
    }

    pub(crate) fn get(&self) -> &S {
        self.sock.as_ref().expect("socket present until drop")
    }

    /// Wait until `dir` is (probably) ready.
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<Ready> {
        self.reactor(|r| r.poll_ready(self.key, dir, cx))
    }

    /// Whether `dir` is marked ready, without parking a waker.
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.reactor(|r| r.is_ready(self.key, dir))
    }

    pub(crate) fn clear_ready(&self, dir: Direction) {
        self.reactor(|r| r.clear_ready(self.key, dir));
    }

    /// Forget one readiness flag only (see [`crate::reactor::Reactor::clear_flag`]).
    pub(crate) fn clear_flag(&self, flag: Ready) {
        self.reactor(|r| r.clear_flag(self.key, flag));
    }

    /// Run `op` until it does not say `WouldBlock`, waiting for readiness in `dir` in between; under the
    /// task's cooperative budget (`Pending` once the poll has done its share of ready operations).
    pub(crate) fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        coop::poll_budgeted(cx, |cx| self.poll_io_unbudgeted(dir, cx, op))
    }

    fn poll_io_unbudgeted<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            if self.poll_ready(dir, cx).is_pending() {
                return Poll::Pending;
            }
            match op(self.get()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_ready(dir),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    /// Try `op` once if `dir` is marked ready; never waits. `WouldBlock` if it is not ready.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        if !self.is_ready(dir) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let result = op(self.get());
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.clear_ready(dir);
        }
        result
    }
}

impl<S: AsRawFd> Drop for IoSource<S> {
    fn drop(&mut self) {
        if let Some(sock) = self.sock.take() {
            let fd = sock.as_raw_fd();
            // Deregister first, while the fd number still names this socket; then close it. Only in our
            // own runtime: elsewhere `key` names another socket. (Closing the fd removes it from our
            // epoll set anyway; the slot stays in our runtime's slab until that runtime is dropped.)
            context::try_with_io(|io| {
                if io.id == self.runtime {
                    io.reactor.deregister(self.key, fd)
                }
            });
            drop(sock);
        }
    }
}
