//! The epoll backend of the driver boundary (readiness), through mio.
//!
//! This is the only file in the runtime that names `mio`. It registers raw file descriptors (the net types
//! own plain `std`/`socket2` sockets), translates mio's events into the runtime's [`Ready`] flags, and
//! owns the `mio::Waker` through which a wake from another thread interrupts `epoll_wait`.

use super::{round_up_to_ms, Event, Ready, Token};
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll};

/// The token reserved for the cross-thread waker; slab keys never reach it.
const UNPARK_TOKEN: mio::Token = mio::Token(usize::MAX);

/// epoll behind mio: one `Poll`, a reusable event buffer, and the cross-thread waker.
pub(crate) struct MioDriver {
    poll: Poll,
    events: Events,
    unparker: MioUnparker,
}

/// Wakes a blocked poll from any thread (clonable, cheap).
#[derive(Clone)]
pub(crate) struct MioUnparker(Arc<mio::Waker>);

impl MioUnparker {
    /// Make the loop's current or next `poll` return at once.
    pub(crate) fn unpark(&self) {
        // A failed wake can only mean the eventfd is gone, i.e. the runtime is shutting down: nothing to do.
        let _ = self.0.wake();
    }
}

impl MioDriver {
    /// `event_capacity` bounds how many events one poll can return; more simply wait for the next turn.
    pub(crate) fn new(event_capacity: usize) -> io::Result<MioDriver> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), UNPARK_TOKEN)?;
        Ok(MioDriver {
            poll,
            events: Events::with_capacity(event_capacity.max(1)),
            unparker: MioUnparker(Arc::new(waker)),
        })
    }

    pub(crate) fn unparker(&self) -> MioUnparker {
        self.unparker.clone()
    }

    /// Register `fd` for both directions, edge-triggered, once for its whole life (no re-registration per
    /// operation: that would cost a syscall each time).
    pub(crate) fn register(&self, fd: RawFd, token: Token) -> io::Result<()> {
        self.poll.registry().register(
            &mut SourceFd(&fd),
            mio::Token(token.0),
            Interest::READABLE | Interest::WRITABLE,
        )
    }

    /// Remove `fd` from the interest list. Called before the socket is closed.
    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.poll.registry().deregister(&mut SourceFd(&fd))
    }

    /// Wait for readiness (at most `timeout`), then hand each event to `dispatch`.
    /// Returns whether an unpark from another thread was seen.
    pub(crate) fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut dispatch: impl FnMut(Event),
    ) -> io::Result<bool> {
        let timeout = timeout.map(round_up_to_ms);
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            // A signal interrupted epoll_wait: not an error, the loop simply turns again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(false),
            Err(e) => return Err(e),
        }
        let mut unparked = false;
        for ev in self.events.iter() {
            if ev.token() == UNPARK_TOKEN {
                unparked = true;
                continue;
            }
            let mut ready = Ready::EMPTY;
            if ev.is_readable() {
                ready |= Ready::READABLE;
            }
            if ev.is_writable() {
                ready |= Ready::WRITABLE;
            }
            if ev.is_read_closed() {
                ready |= Ready::READ_CLOSED;
            }
            if ev.is_write_closed() {
                ready |= Ready::WRITE_CLOSED;
            }
            if ev.is_error() {
                // An error is delivered by the next read or write, so both directions must wake.
                ready |= Ready::READABLE | Ready::WRITABLE;
            }
            dispatch(Event {
                token: Token(ev.token().0),
                ready,
            });
        }
        Ok(unparked)
    }
}
