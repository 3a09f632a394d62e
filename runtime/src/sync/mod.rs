//! Coordination between tasks on the one loop thread: [`Semaphore`], [`Notify`], [`oneshot`],
//! [`mpsc`] and [`broadcast`].
//!
//! Every task of a spool runtime runs on the same thread, so these primitives need no locks or
//! atomics: state lives in `Cell`/`RefCell` (shared through `Rc` where two ends need it), and the
//! types are `!Send` on purpose. What they do need is the waker discipline of the whole runtime:
//!
//! 1. A future that cannot make progress stores the waker of its latest poll (replacing the old one
//!    only when it would wake a different task) and returns `Pending`.
//! 2. Whoever makes progress possible — a permit released, a value sent, the last sender dropped —
//!    takes exactly the waker(s) that can now advance and wakes them. The executor then polls
//!    those tasks again; nobody else is disturbed.
//! 3. Dropping a waiting future is always safe: it leaves the queue, and anything it was already
//!    handed (a permit) is passed on to the next waiter, so nothing is ever lost.
//!
//! Wakers are always called after the internal `RefCell` borrow is released, so a waker that
//! re-enters the primitive cannot trip a borrow panic.
//!
//! # Layout
//! - `wait_list` — the FIFO of parked waiters (slab-backed linked list, O(1) removal).
//! - [`semaphore`] — counted permits, FIFO-fair, closable; the basis of the bounded channel.
//! - [`oneshot`] — one value from one task to another.
//! - [`mpsc`] — bounded multi-producer queue with back-pressure on senders (its queue allocated
//!   as values arrive), and an unbounded one whose `send` never waits.
//! - [`broadcast`] — one ring shared by many receivers; a receiver that falls behind is told how
//!   many values it missed (`Lagged`), never holds memory.
//! - [`notify`] — wake one waiter (or store a permit) or all of them, without data.

pub mod broadcast;
pub mod mpsc;
pub mod notify;
pub mod oneshot;
pub mod semaphore;
mod wait_list;

#[cfg(test)]
mod testing;

pub use notify::{Notified, Notify};
pub use semaphore::{AcquireError, OwnedPermit, Permit, Semaphore, TryAcquireError};

use std::task::{Context, Waker};

/// Keeps the waker of the latest poll in `slot`, cloning only when it would wake someone else:
/// a task may be polled with a fresh waker (or moved to another `select`), and waking a stale one
/// would lose the wake-up.
fn store_waker(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(old) if old.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}
