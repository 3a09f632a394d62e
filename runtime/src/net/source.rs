//! `IoSource`: a socket joined to the runtime's driver; the piece every net type is built on.
//!
//! It owns the socket and its registration, which is one of two kinds (see [`crate::driver`]):
//! - **readiness** (epoll): a reactor slot. The socket is non-blocking and `poll_io` runs the one loop
//!   every readiness operation needs:
//!
//!   ```text
//!     loop {
//!         wait until the reactor marks the direction ready   (parks the task's waker, returns Pending)
//!         try the syscall
//!         WouldBlock  → clear the mark, go round again       (edge-triggered: only now may we wait)
//!         otherwise   → return the result
//!     }
//!   ```
//! - **completion** (io_uring): a socket slot in the driver, which owns the operations in flight. The
//!   socket is in blocking mode (io_uring waits by itself and would answer EAGAIN for a non-blocking one),
//!   and the net types never make data syscalls on it: the `op` files ask the driver.
//!
//! Dropping an `IoSource` deregisters the socket and closes it, so a task that is aborted closes its
//! connections and the peer sees EOF. On io_uring the fd goes to the driver, which cancels the socket's
//! receive and closes the fd once no operation names it any more.
//!
//! The registration key is only meaningful in the runtime that issued it, so the source keeps that
//! runtime's id beside it and every use checks it: a socket carried into another `block_on` panics with a
//! message naming the problem, instead of reading (or, on drop, deregistering) whatever socket holds the
//! same key there. Every completed operation also spends the task's cooperative budget (`poll_io` and
//! `poll_budgeted`, see `executor/coop.rs`), on both drivers.

use crate::context::{self, RuntimeId};
use crate::driver::uring::UringDriver;
use crate::driver::Ready;
use crate::executor::coop;
use crate::reactor::{Backend, Direction, Readiness};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::task::{Context, Poll};

/// The registration, by backend.
#[derive(Clone, Copy, Debug)]
enum Reg {
    /// The reactor slot's key.
    Readiness(usize),
    /// The io_uring driver's socket key.
    Completion(usize),
}

pub(crate) struct IoSource<S: AsRawFd + Into<OwnedFd>> {
    /// `None` only during drop.
    sock: Option<S>,
    reg: Reg,
    /// The runtime whose driver issued `reg`.
    runtime: RuntimeId,
}

/// Whether the current runtime's driver is completion-based: sockets must then be created in blocking
/// mode (see the module docs).
pub(crate) fn completion_driver(what: &str) -> bool {
    context::with_io(what, |io| {
        matches!(io.reactor.backend(), Backend::Completion(_))
    })
}

/// Run `op` under the task's cooperative budget (see `executor/coop.rs`).
pub(crate) fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    coop::poll_budgeted(cx, op)
}

impl<S: AsRawFd + Into<OwnedFd>> IoSource<S> {
    /// Register `sock` with the current runtime's driver. On epoll it must be non-blocking already, and
    /// `initial` is the readiness assumed before the first event; on io_uring it must be blocking.
    pub(crate) fn new(sock: S, initial: Ready) -> io::Result<IoSource<S>> {
        let fd = sock.as_raw_fd();
        let (reg, runtime) = context::with_io("creating a socket", |io| {
            let reg = match io.reactor.backend() {
                Backend::Readiness(r) => r.register(fd, initial).map(Reg::Readiness),
                Backend::Completion(d) => Ok(Reg::Completion(d.borrow_mut().register(fd))),
            };
            reg.map(|reg| (reg, io.id))
        })?;
        Ok(IoSource {
            sock: Some(sock),
            reg,
            runtime,
        })
    }

    pub(crate) fn get(&self) -> &S {
        self.sock.as_ref().expect("socket present until drop")
    }

    /// The io_uring socket key, or `None` on epoll.
    pub(crate) fn completion(&self) -> Option<usize> {
        match self.reg {
            Reg::Completion(k) => Some(k),
            Reg::Readiness(_) => None,
        }
    }

    /// Run `f` on the io_uring driver with this socket's key.
    ///
    /// # Panics
    /// On an epoll registration (callers check [`IoSource::completion`] first), or in a runtime other
    /// than the one the socket registered with.
    pub(crate) fn with_uring<R>(&self, f: impl FnOnce(&mut UringDriver, usize) -> R) -> R {
        let key = self.completion().expect("an io_uring socket");
        context::with_io("socket I/O", |io| {
            self.runtime
                .check(io.id, "socket (TcpStream, TcpListener or UdpSocket)");
            let mut d = io
                .reactor
                .uring()
                .expect("an io_uring socket in an io_uring runtime");
            f(&mut d, key)
        })
    }

    /// Run `f` with the readiness half of the current runtime, which must be the one this socket
    /// registered with (else a panic saying so).
    #[inline]
    fn readiness<R>(&self, f: impl FnOnce(&Readiness, usize) -> R) -> R {
        let key = match self.reg {
            Reg::Readiness(k) => k,
            Reg::Completion(_) => unreachable!("a readiness call on an io_uring socket"),
        };
        context::with_io("socket I/O", |io| {
            self.runtime
                .check(io.id, "socket (TcpStream, TcpListener or UdpSocket)");
            f(io.reactor.readiness(), key)
        })
    }

    /// Wait until `dir` is (probably) ready (epoll).
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<Ready> {
        self.readiness(|r, key| r.poll_ready(key, dir, cx))
    }

    /// Whether `dir` is marked ready, without parking a waker (epoll).
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.readiness(|r, key| r.is_ready(key, dir))
    }

    pub(crate) fn clear_ready(&self, dir: Direction) {
        self.readiness(|r, key| r.clear_ready(key, dir));
    }

    /// Forget one readiness flag only (see [`crate::reactor::Readiness::clear_flag`]).
    pub(crate) fn clear_flag(&self, flag: Ready) {
        self.readiness(|r, key| r.clear_flag(key, flag));
    }

    /// Run `op` until it does not say `WouldBlock`, waiting for readiness in `dir` in between (epoll);
    /// under the task's cooperative budget (`Pending` once the poll has done its share of ready
    /// operations).
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

    /// Try `op` once if `dir` is marked ready; never waits. `WouldBlock` if it is not ready (epoll).
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

impl<S: AsRawFd + Into<OwnedFd>> Drop for IoSource<S> {
    fn drop(&mut self) {
        let Some(sock) = self.sock.take() else {
            return;
        };
        let fd = sock.as_raw_fd();
        let runtime = self.runtime;
        match self.reg {
            Reg::Readiness(key) => {
                // Deregister first, while the fd number still names this socket; then close it. Only in
                // our own runtime: elsewhere `key` names another socket. (Closing the fd removes it from
                // our epoll set anyway; the slot stays in our runtime's slab until that runtime is dropped.)
                context::try_with_io(|io| {
                    if io.id == runtime {
                        if let Backend::Readiness(r) = io.reactor.backend() {
                            r.deregister(key, fd);
                        }
                    }
                });
                drop(sock);
            }
            Reg::Completion(key) => {
                // The driver closes the fd after the socket's last operation completes. Dropped outside
                // its own runtime, the fd is closed now; any op still in flight keeps its memory in the
                // driver (and the kernel its own reference to the file), so nothing is freed early.
                let mut sock = Some(sock);
                context::try_with_io(|io| {
                    if io.id == runtime {
                        if let Some(mut d) = io.reactor.uring() {
                            d.release(key, sock.take().expect("not yet given").into());
                        }
                    }
                });
                drop(sock);
            }
        }
    }
}
