//! [`Permit`]: a connection's place in the pool's limits (one host slot and one global slot), freed
//! when it is dropped, whatever the reason; and [`Pooled`], a connection together with its permit,
//! which is what the pool stores and hands out.
//!
//! Being a guard is what makes the limits leak-proof: a connection closed by an error, a dropped
//! response or an aborted task frees its slots through `Drop`, and the next waiting request is
//! woken. The pool itself, when it closes a connection it holds, disarms the slot and does the
//! bookkeeping in place (it is already borrowed then).
//!
//! This is the pool's bottom floor: it names no other part of the pool. A permit reaches the pool
//! through the [`Slots`] trait, which the pool's state implements (in `mod.rs`).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::rc::{Rc, Weak};
use std::time::Instant;

use crate::conn::Connection;

/// What a connection and its permit need from the pool.
pub(crate) trait Slots {
    /// A connection of host `host` closed: free its two slots and pass them on.
    fn release(&self, host: usize);
    /// `conn` finished a response and may carry another request: hand it to a waiting request, keep
    /// it idle, or close it. `now`: the current time.
    fn checkin(&self, conn: Box<Pooled>, now: Instant);
}

/// The right to keep one connection open to one host.
pub(crate) struct Permit {
    /// Weak, so that idle connections stored in the pool do not keep it alive: when the client is
    /// dropped, the pool and its idle connections go with it.
    pool: Weak<dyn Slots>,
    host: usize,
    armed: bool,
}

impl Permit {
    pub(super) fn new(pool: Weak<dyn Slots>, host: usize) -> Permit {
        Permit {
            pool,
            host,
            armed: true,
        }
    }

    /// The pool's id of the host this slot belongs to.
    pub(super) fn host(&self) -> usize {
        self.host
    }

    /// The pool, if the client still exists.
    pub(crate) fn pool(&self) -> Option<Rc<dyn Slots>> {
        self.pool.upgrade()
    }

    /// The pool has accounted for this slot itself: dropping it must do nothing.
    pub(super) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(pool) = self.pool.upgrade() {
            pool.release(self.host);
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("host", &self.host).finish()
    }
}

/// A connection and its permit: owned together from the moment a new connection is opened, so
/// that the connection itself knows nothing of the pool.
///
/// It reads as the connection it holds (`Deref`), like a guard.
#[derive(Debug)]
pub(crate) struct Pooled {
    pub(crate) conn: Connection,
    pub(super) permit: Permit,
}

impl Pooled {
    /// A new connection opened under `permit`.
    pub(crate) fn new(conn: Connection, permit: Permit) -> Box<Pooled> {
        Box::new(Pooled { conn, permit })
    }
}

impl Deref for Pooled {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}
