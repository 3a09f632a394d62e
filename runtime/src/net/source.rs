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

use crate::context;
use crate::driver::Ready;
use crate::reactor::Direction;
use std::io;
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

pub(crate) struct IoSource<S: AsRawFd> {
    /// `None` only during drop.
    sock: Option<S>,
    key: usize,
}

impl<S: AsRawFd> IoSource<S> {
    /// Register `sock` (already non-blocking) with the current runtime's reactor.
    pub(crate) fn new(sock: S, initial: Ready) -> io::Result<IoSource<S>> {
        let fd = sock.as_raw_fd();
        let key = context::with_core("creating a socket", |core| {
            core.reactor.register(fd, initial)
        })?;
        Ok(IoSource {
            sock: Some(sock),
            key,
        })
    }

    pub(crate) fn get(&self) -> &S {
        self.sock.as_ref().expect("socket present until drop")
    }

    /// Wait until `dir` is (probably) ready.
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<Ready> {
        context::with_core("socket I/O", |core| {
            core.reactor.poll_ready(self.key, dir, cx)
        })
    }

    /// Whether `dir` is marked ready, without parking a waker.
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        context::with_core("socket I/O", |core| core.reactor.is_ready(self.key, dir))
    }

    pub(crate) fn clear_ready(&self, dir: Direction) {
        context::with_core("socket I/O", |core| core.reactor.clear_ready(self.key, dir));
    }

    /// Forget one readiness flag only (see [`crate::reactor::Reactor::clear_flag`]).
    pub(crate) fn clear_flag(&self, flag: Ready) {
        context::with_core("socket I/O", |core| core.reactor.clear_flag(self.key, flag));
    }

    /// Run `op` until it does not say `WouldBlock`, waiting for readiness in `dir` in between.
    pub(crate) fn poll_io<R>(
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
            // Deregister first, while the fd number still names this socket; then close it.
            context::try_with_core(|core| core.reactor.deregister(self.key, fd));
            drop(sock);
        }
    }
}
