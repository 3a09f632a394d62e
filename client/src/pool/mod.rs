//! The connection pool and the connection limits, one structure because they decide together.
//!
//! # What it guarantees
//! - Idle connections are kept per origin (scheme + host + port) and reused newest first (LIFO:
//!   the newest is the least likely to have been closed by the server).
//! - At most `max_connections` connections are open over all hosts, and `max_per_host` per origin,
//!   idle ones included. A connection holds two slots, its host's and a global one, from before it
//!   connects until it closes.
//! - Requests beyond a limit wait in arrival order (FIFO), first for a host slot, then for a global
//!   slot. A request never holds a global slot while it waits for a host slot, so a host at its cap
//!   never holds back requests to other hosts.
//! - A connection that finishes a response goes straight to the first request waiting for its host;
//!   if requests for other hosts wait for a global slot, it is closed to make room for them; only
//!   otherwise is it kept idle. So idle connections never exist while a request waits for a global
//!   slot, and a request that needs a global slot when none is free closes the oldest idle
//!   connection of another host instead of waiting.
//! - Idle connections expire after the idle timeout (shortened by the server's `Keep-Alive:
//!   timeout`), at most `max_idle_per_host` per origin and `max_idle` in all are kept (the oldest
//!   closes first), and a connection the server closed is discarded at checkout by a probe that
//!   costs no system call when nothing happened on the socket.
//! - A waiting request that is dropped (timeout, cancellation) gives back whatever it was handed.
//!
//! # Layout
//! From the top down; each file imports only from the ones below it.
//! - `mod.rs` — [`Pool`], the handle: [`Pool::checkout`], [`checkin`], [`PoolStatus`]; and the
//!   [`Slots`] a permit reaches the pool through.
//! - `acquire.rs` — [`Acquire`], the future of a request waiting for a connection or slot.
//! - `sweeper.rs` — the task that closes idle connections when they expire.
//! - `state.rs` — the bookkeeping and every decision: hosts, slot counts, checkout and checkin.
//! - `waiters.rs` — requests waiting for a slot, and their queues (owned parts of the state).
//! - `idle.rs` — idle connections: per-host stacks, their age order, the server's keep-alive hint.
//! - `permit.rs` — [`Permit`], the guard that frees a connection's slots when it is dropped, and
//!   [`Pooled`], a connection with its permit.

mod acquire;
mod idle;
mod permit;
mod state;
mod sweeper;
mod waiters;

pub(crate) use acquire::Acquire;
pub(crate) use permit::{Permit, Pooled};

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use crate::origin::Origin;
use permit::Slots;
use state::{PoolState, Start};

/// Sizes and timeouts of the pool (the client builder fills in the defaults; 0 limits are already
/// turned into `usize::MAX`).
#[derive(Debug, Clone)]
pub(crate) struct PoolConfig {
    pub idle_timeout: Option<Duration>,
    pub max_idle_per_host: usize,
    pub max_idle: usize,
    pub max_connections: usize,
    pub max_per_host: usize,
}

/// What a request gets from the pool.
#[derive(Debug)]
pub(crate) enum Checkout {
    /// An idle connection that passed the liveness probe (or one handed over by a finished request).
    Reused(Box<Pooled>),
    /// Permission to open a new connection; the permit goes with it into a [`Pooled`].
    New(Permit),
}

/// Connection counts at one moment.
///
/// ```
/// let client = spool_client::Client::new();
/// let status = client.pool_status();
/// assert_eq!((status.open, status.idle, status.waiting), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolStatus {
    /// Connections open or being opened, idle ones included.
    pub open: usize,
    /// Connections idle in the pool.
    pub idle: usize,
    /// Requests waiting for a connection slot.
    pub waiting: usize,
    /// Origins with any connection or waiting request.
    pub hosts: usize,
}

/// The handle the client keeps.
#[derive(Clone)]
pub(crate) struct Pool {
    state: Rc<RefCell<PoolState>>,
}

impl Pool {
    pub(crate) fn new(config: PoolConfig) -> Pool {
        Pool {
            state: PoolState::new(config),
        }
    }

    /// A connection for `origin` now, or the future to wait for one.
    ///
    /// `fresh`: skip (and close) idle connections of this origin, because one of them just turned
    /// out to be stale.
    pub(crate) fn checkout(&self, origin: &Origin<'_>, fresh: bool) -> Result<Checkout, Acquire> {
        let start = self.state.borrow_mut().start(origin, fresh);
        match start {
            Start::Reused(conn) => Ok(Checkout::Reused(conn)),
            Start::Slot(host) => Ok(Checkout::New(Permit::new(slots(&self.state), host))),
            Start::Wait(waiter) => Err(Acquire::new(self.state.clone(), waiter)),
        }
    }

    pub(crate) fn status(&self) -> PoolStatus {
        self.state.borrow().status()
    }
}

/// Returns a connection whose response completed and that may carry another request.
///
/// It goes to a waiting request, into the idle pool, or is closed (see the module docs). If the
/// client is gone, it is simply closed.
///
/// `now`: the current time if the caller just read the clock (saves reading it again).
pub(crate) fn checkin(mut conn: Box<Pooled>, now: Option<Instant>) {
    conn.release_buffers();
    let Some(pool) = conn.permit.pool() else {
        return;
    };
    pool.checkin(conn, now.unwrap_or_else(Instant::now));
}

/// The pool as a permit sees it.
fn slots(state: &Rc<RefCell<PoolState>>) -> Weak<dyn Slots> {
    Rc::downgrade(state) as Weak<dyn Slots>
}

impl Slots for RefCell<PoolState> {
    fn release(&self, host: usize) {
        let mut state = self.borrow_mut();
        state.release(host);
        state.gc_host(host);
    }

    fn checkin(&self, conn: Box<Pooled>, now: Instant) {
        let mut state = self.borrow_mut();
        if state.checkin(conn, now) {
            sweeper::notify(&mut state);
        }
    }
}
