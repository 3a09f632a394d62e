//! The reactor: the runtime's one handle on its I/O driver, and for epoll the piece that turns readiness
//! events into task wake-ups.
//!
//! A runtime runs one of two backends (see [`crate::driver`]): [`Backend::Readiness`] (epoll, the slot
//! protocol below) or [`Backend::Completion`] (io_uring, whose per-socket state lives in the driver
//! itself). The net types ask [`Reactor::backend`] which one they talk to.
//!
//! ## Readiness (epoll)
//!
//! Each socket registers once and gets a slot in a slab; the slot's key is the driver [`Token`]. The slot
//! remembers which directions are ready and holds **two** wakers, one for the task waiting to read and one
//! for the task waiting to write, so a task blocked on a write is not woken by incoming bytes and vice versa.
//!
//! The readiness protocol (edge-triggered, see [`crate::driver`]):
//! 1. An I/O operation first checks the slot: if the direction is not marked ready, it parks its waker
//!    here and returns `Pending`.
//! 2. When epoll reports an edge, [`dispatch`] marks the direction ready and wakes the waker.
//! 3. The woken task retries the syscall. The mark is cleared only when the kernel has shown the buffer
//!    drained (or full): it answered `WouldBlock` ([`Readiness::clear_ready`]), or a read or write moved
//!    fewer bytes than asked, which clears the plain `READABLE`/`WRITABLE` flag but never a closed flag
//!    ([`Readiness::clear_flag`]). Then the task goes back to step 1. Clearing at any other time would lose
//!    an edge and hang the task forever: this is the classic edge-triggered pitfall.
//!
//! Everything here runs on the loop thread; the `RefCell`s are never borrowed across a poll of user code.

use crate::driver::epoll::MioDriver;
use crate::driver::uring::UringDriver;
use crate::driver::{Driver, Event, Ready, Token};
use std::cell::{RefCell, RefMut};
use std::io;
use std::os::fd::RawFd;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use slab::Slab;

/// Which way an operation moves bytes; each direction has its own readiness and waker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Reading (or accepting, or receiving datagrams).
    Read,
    /// Writing (or connecting, or sending datagrams).
    Write,
}

impl Direction {
    fn mask(self) -> Ready {
        match self {
            Direction::Read => Ready::read_side(),
            Direction::Write => Ready::write_side(),
        }
    }
}

/// What the reactor keeps per registered source: its readiness and the tasks waiting on it.
struct SourceState {
    ready: Ready,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// The I/O backend of one runtime.
pub(crate) enum Backend {
    /// epoll: registrations with readiness slots.
    Readiness(Readiness),
    /// io_uring: submissions and completions; sockets live in the driver.
    Completion(Box<RefCell<UringDriver>>),
}

pub(crate) struct Reactor {
    backend: Backend,
}

impl Reactor {
    pub(crate) fn with_epoll(driver: MioDriver) -> Reactor {
        Reactor {
            backend: Backend::Readiness(Readiness {
                driver: RefCell::new(driver),
                slots: RefCell::new(Slab::new()),
            }),
        }
    }

    pub(crate) fn with_uring(driver: UringDriver) -> Reactor {
        Reactor {
            backend: Backend::Completion(Box::new(RefCell::new(driver))),
        }
    }

    pub(crate) fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Which driver runs.
    pub(crate) fn driver(&self) -> Driver {
        match self.backend {
            Backend::Readiness(_) => Driver::Epoll,
            Backend::Completion(_) => Driver::IoUring,
        }
    }

    /// The readiness half; panics on io_uring (net types check [`Reactor::backend`] first).
    pub(crate) fn readiness(&self) -> &Readiness {
        match &self.backend {
            Backend::Readiness(r) => r,
            Backend::Completion(_) => unreachable!("a readiness call on the io_uring driver"),
        }
    }

    /// The completion driver, borrowed for one call; `None` on epoll.
    pub(crate) fn uring(&self) -> Option<RefMut<'_, UringDriver>> {
        match &self.backend {
            Backend::Readiness(_) => None,
            Backend::Completion(d) => Some(d.borrow_mut()),
        }
    }

    /// Block in the driver for at most `timeout`, then wake the tasks whose I/O is ready or done.
    /// Returns whether another thread unparked the loop.
    pub(crate) fn poll(&self, timeout: Option<Duration>) -> io::Result<bool> {
        match &self.backend {
            Backend::Readiness(r) => r.poll(timeout),
            Backend::Completion(d) => {
                let mut woken = Vec::new();
                let unparked = {
                    let mut d = d.borrow_mut();
                    let unparked = d.poll(timeout)?;
                    d.take_woken(&mut woken);
                    unparked
                };
                // Woken after the borrow ends: a foreign waker may run code that touches the driver.
                for w in woken {
                    w.wake();
                }
                Ok(unparked)
            }
        }
    }

    /// io_uring operations whose final completion has not been reaped (0 on epoll).
    pub(crate) fn ops_in_flight(&self) -> usize {
        match &self.backend {
            Backend::Readiness(_) => 0,
            Backend::Completion(d) => d.borrow().ops_in_flight(),
        }
    }

    /// io_uring receives that ran into an empty buffer ring (0 on epoll).
    pub(crate) fn receives_starved(&self) -> u64 {
        match &self.backend {
            Backend::Readiness(_) => 0,
            Backend::Completion(d) => d.borrow().receives_starved(),
        }
    }

    /// How many sources are registered (used by tests and debugging output).
    pub(crate) fn registered(&self) -> usize {
        match &self.backend {
            Backend::Readiness(r) => r.slots.borrow().len(),
            Backend::Completion(d) => d.borrow().registered(),
        }
    }
}

/// epoll's half: the driver and one slot per registered socket.
pub(crate) struct Readiness {
    driver: RefCell<MioDriver>,
    slots: RefCell<Slab<SourceState>>,
}

impl Readiness {
    /// Register `fd` and return its key. `initial` is the readiness assumed before the first event: a
    /// freshly accepted or connected socket is assumed ready both ways (the first syscall finds out, which
    /// saves a loop turn); a socket still connecting starts with nothing.
    pub(crate) fn register(&self, fd: RawFd, initial: Ready) -> io::Result<usize> {
        let key = self.slots.borrow_mut().insert(SourceState {
            ready: initial,
            reader: None,
            writer: None,
        });
        if let Err(e) = self.driver.borrow().register(fd, Token(key)) {
            self.slots.borrow_mut().remove(key);
            return Err(e);
        }
        Ok(key)
    }

    /// Forget `key` and stop watching `fd`. Must be called before the fd is closed.
    pub(crate) fn deregister(&self, key: usize, fd: RawFd) {
        // Failure means the fd is already gone from epoll, which is what we want anyway.
        let _ = self.driver.borrow().deregister(fd);
        // Take the slot out first and drop its wakers after the borrow ends.
        let slot = self.slots.borrow_mut().try_remove(key);
        drop(slot);
    }

    /// Is `dir` ready? If not, park the task's waker for it.
    pub(crate) fn poll_ready(
        &self,
        key: usize,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<Ready> {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[key];
        let ready = slot.ready.intersection(dir.mask());
        if ready != Ready::EMPTY {
            return Poll::Ready(ready);
        }
        let waiter = match dir {
            Direction::Read => &mut slot.reader,
            Direction::Write => &mut slot.writer,
        };
        match waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *waiter = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Non-blocking check of `dir` without parking any waker.
    pub(crate) fn is_ready(&self, key: usize, dir: Direction) -> bool {
        self.slots.borrow()[key].ready.intersects(dir.mask())
    }

    /// The kernel said `WouldBlock` in direction `dir`: forget that it was ready.
    pub(crate) fn clear_ready(&self, key: usize, dir: Direction) {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[key];
        slot.ready = slot.ready.without(dir.mask());
    }

    /// Block in epoll for at most `timeout`, then mark and wake.
    fn poll(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let mut driver = self.driver.borrow_mut();
        let mut slots = self.slots.borrow_mut();
        driver.poll(timeout, |event| dispatch(&mut slots, event))
    }

    /// A short read or write drained the kernel buffer (or filled it): forget only `flag` (`READABLE` or
    /// `WRITABLE`), never a closed flag. A FIN that arrived with the data was reported in the same edge and
    /// will not be reported again, so clearing `READ_CLOSED` here would make the next read wait forever.
    pub(crate) fn clear_flag(&self, key: usize, flag: Ready) {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[key];
        slot.ready = slot.ready.without(flag);
    }
}

/// Mark the event's directions ready and wake whoever waits on them.
fn dispatch(slots: &mut Slab<SourceState>, event: Event) {
    // A missing slot means the source was deregistered after the kernel queued the event: ignore it.
    let Some(slot) = slots.get_mut(event.token.0) else {
        return;
    };
    slot.ready |= event.ready;
    // Our wakers only push a task pointer onto the ready queue, so waking while the slab is borrowed is safe.
    if event.ready.intersects(Ready::read_side()) {
        if let Some(w) = slot.reader.take() {
            w.wake();
        }
    }
    if event.ready.intersects(Ready::write_side()) {
        if let Some(w) = slot.writer.take() {
            w.wake();
        }
    }
}
