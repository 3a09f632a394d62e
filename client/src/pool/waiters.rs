//! The waiting side of the pool: requests queued for a host slot or a global slot, how they are
//! woken with what they were given, and how a cancelled one is recognised.
//!
//! Two owned parts, both knowing nothing of the pool around them:
//! - [`Waiters`]: every waiting request, with how far it has got ([`Wait`]) and its waker;
//! - [`Queue`]: an arrival-order queue of [`WaiterRef`]s (one per host, one global), cleaned lazily:
//!   a cancelled waiter leaves its entry behind, recognised as stale because its `seq` no longer
//!   matches. The count of live entries is exact, and only it decides whether anyone waits.
//!
//! Which waiter gets a freed slot or a finished connection is decided in `state.rs`.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::Pooled;

/// A queue entry, and the handle of a waiting request: valid while the waiter at `id` still has
/// this `seq`.
#[derive(Debug, Clone, Copy)]
pub(super) struct WaiterRef {
    id: usize,
    seq: u64,
}

/// How far a waiting request has got.
pub(super) enum Wait {
    /// In its host's queue, waiting for a host slot.
    Host,
    /// Holds a host slot; in the global queue, waiting for a global slot.
    Global,
    /// Holds both slots: may open a new connection.
    Slot,
    /// Was handed a connection that just finished a response.
    Conn(Box<Pooled>),
}

/// What a waiting request was given in the end.
pub(super) enum Given {
    /// A connection that just finished a response.
    Conn(Box<Pooled>),
    /// Both slots of this host id: open a new connection.
    Slot(usize),
}

/// A request waiting for a connection.
struct Waiter {
    host: usize,
    seq: u64,
    state: Wait,
    waker: Option<Waker>,
}

/// Every waiting request of a pool.
#[derive(Default)]
pub(super) struct Waiters {
    slab: Slab<Waiter>,
}

impl Waiters {
    /// A new waiter for host id `host`; `seq` must be unique over the pool's life.
    pub(super) fn add(&mut self, host: usize, seq: u64, state: Wait) -> WaiterRef {
        let id = self.slab.insert(Waiter {
            host,
            seq,
            state,
            waker: None,
        });
        WaiterRef { id, seq }
    }

    fn is_live(&self, w: WaiterRef) -> bool {
        self.slab.get(w.id).is_some_and(|x| x.seq == w.seq)
    }

    /// The host id a live waiter waits for.
    pub(super) fn host(&self, w: WaiterRef) -> usize {
        self.slab[w.id].host
    }

    /// Moves a live waiter along without waking it (it got a host slot and now queues globally).
    pub(super) fn advance(&mut self, w: WaiterRef, state: Wait) {
        self.slab[w.id].state = state;
    }

    /// Hands a live waiter what it waited for ([`Wait::Slot`] or [`Wait::Conn`]) and wakes it.
    pub(super) fn give(&mut self, w: WaiterRef, state: Wait) {
        let waiter = &mut self.slab[w.id];
        waiter.state = state;
        if let Some(waker) = waiter.waker.take() {
            waker.wake();
        }
    }

    /// Polls a waiting request: what it was given, if anything yet (then it is gone from here).
    pub(super) fn poll(&mut self, w: WaiterRef, cx: &mut Context<'_>) -> Poll<Given> {
        let waiter = &mut self.slab[w.id];
        debug_assert_eq!(waiter.seq, w.seq);
        match waiter.state {
            Wait::Host | Wait::Global => {
                match &waiter.waker {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    _ => waiter.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Wait::Slot | Wait::Conn(_) => {
                let waiter = self.slab.remove(w.id);
                Poll::Ready(match waiter.state {
                    Wait::Conn(conn) => Given::Conn(conn),
                    _ => Given::Slot(waiter.host),
                })
            }
        }
    }

    /// Removes a waiter that went away; its host id and what it held, or `None` if it had already
    /// taken what it was given.
    pub(super) fn remove(&mut self, w: WaiterRef) -> Option<(usize, Wait)> {
        if !self.is_live(w) {
            return None;
        }
        let waiter = self.slab.remove(w.id);
        Some((waiter.host, waiter.state))
    }
}

/// Waiting requests in arrival order (may hold stale entries; `live` counts the others).
#[derive(Default)]
pub(super) struct Queue {
    entries: VecDeque<WaiterRef>,
    live: usize,
}

impl Queue {
    pub(super) fn push(&mut self, w: WaiterRef) {
        self.entries.push_back(w);
        self.live += 1;
    }

    /// How many requests wait here.
    pub(super) fn live(&self) -> usize {
        self.live
    }

    /// One of the waiters queued here was cancelled (its entry is now stale).
    pub(super) fn forget_one(&mut self) {
        self.live -= 1;
    }

    /// The first live waiter, left in the queue (stale entries before it are dropped).
    pub(super) fn peek(&mut self, waiters: &Waiters) -> Option<WaiterRef> {
        self.drop_stale(waiters);
        self.entries.front().copied()
    }

    /// Takes the first live waiter out of the queue.
    pub(super) fn pop(&mut self, waiters: &Waiters) -> Option<WaiterRef> {
        self.drop_stale(waiters);
        let w = self.entries.pop_front()?;
        self.live -= 1;
        Some(w)
    }

    fn drop_stale(&mut self, waiters: &Waiters) {
        if self.live == 0 {
            self.entries.clear();
            return;
        }
        while self.entries.front().is_some_and(|&w| !waiters.is_live(w)) {
            self.entries.pop_front();
        }
    }
}
