//! [`Slot`]: a connection's place in the pool's limits (one host slot and one global slot), freed
//! when the connection is dropped, whatever the reason.
//!
//! Being a guard is what makes the limits leak-proof: a connection closed by an error, a dropped
//! response or an aborted task frees its slots through `Drop`, and the next waiting request is
//! woken. The pool itself, when it closes a connection it holds, disarms the slot and does the
//! bookkeeping in place (it is already borrowed then).

use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};

use super::state::PoolState;

/// The right to keep one connection open to one host.
pub(crate) struct Slot {
    /// Weak, so that idle connections stored in the pool do not keep it alive: when the client is
    /// dropped, the pool and its idle connections go with it.
    pool: Weak<RefCell<PoolState>>,
    host: usize,
    armed: bool,
}

impl Slot {
    pub(super) fn new(pool: Weak<RefCell<PoolState>>, host: usize) -> Slot {
        Slot {
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
    pub(crate) fn pool(&self) -> Option<Rc<RefCell<PoolState>>> {
        self.pool.upgrade()
    }

    /// The pool has accounted for this slot itself: dropping it must do nothing.
    pub(super) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(pool) = self.pool.upgrade() {
            let mut state = pool.borrow_mut();
            state.release(self.host);
            state.gc_host(self.host);
        }
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").field("host", &self.host).finish()
    }
}
