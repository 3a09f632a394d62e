//! The waiting side of the pool: requests queued for a host slot or a global slot, how they are
//! woken with what they were given, and what a cancelled request gives back.
//!
//! Queues hold `WaiterRef`s and are cleaned lazily: a cancelled waiter leaves its entry behind,
//! recognised as stale because its `seq` no longer matches. Counts (`waiting`, `global_waiting`)
//! are exact, and only they decide whether anyone waits.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use slab::Slab;

use super::state::{PoolState, Start};
use super::Pooled;

/// A queue entry: valid while the waiter at `id` still has this `seq`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WaiterRef {
    pub(super) id: usize,
    pub(super) seq: u64,
}

/// A request waiting for a connection.
pub(super) struct Waiter {
    pub(super) host: usize,
    pub(super) seq: u64,
    pub(super) state: Wait,
    pub(super) waker: Option<Waker>,
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

impl PoolState {
    pub(super) fn enqueue(&mut self, h: usize, state: Wait) -> WaiterRef {
        let seq = self.seq();
        let global = matches!(state, Wait::Global);
        let id = self.waiters.insert(Waiter {
            host: h,
            seq,
            state,
            waker: None,
        });
        let waiter = WaiterRef { id, seq };
        if global {
            self.global_queue.push_back(waiter);
            self.global_waiting += 1;
        } else {
            let host = &mut self.hosts[h];
            host.queue.push_back(waiter);
            host.waiting += 1;
        }
        waiter
    }

    pub(super) fn give(&mut self, w: WaiterRef, state: Wait) {
        let waiter = &mut self.waiters[w.id];
        waiter.state = state;
        if let Some(waker) = waiter.waker.take() {
            waker.wake();
        }
    }

    /// Polls a waiting request: its connection or slot if it got one.
    pub(crate) fn poll_waiter(&mut self, w: WaiterRef, cx: &mut Context<'_>) -> Poll<Start> {
        let waiter = &mut self.waiters[w.id];
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
                let waiter = self.waiters.remove(w.id);
                Poll::Ready(match waiter.state {
                    Wait::Conn(conn) => Start::Reused(conn),
                    _ => Start::Slot(waiter.host),
                })
            }
        }
    }

    /// A waiting request went away: give back what it held.
    pub(crate) fn cancel(&mut self, w: WaiterRef, now: Instant) {
        if !matches!(self.waiters.get(w.id), Some(x) if x.seq == w.seq) {
            return;
        }
        let waiter = self.waiters.remove(w.id);
        let h = waiter.host;
        match waiter.state {
            Wait::Host => self.hosts[h].waiting -= 1,
            Wait::Global => {
                self.global_waiting -= 1;
                self.hosts[h].open -= 1;
                self.host_slot_freed(h);
            }
            Wait::Slot => self.release(h),
            Wait::Conn(conn) => self.checkin(conn, now),
        }
        self.gc_host(h);
    }
}

/// The first entry of `queue` that still names a live waiter, left in the queue (stale entries
/// before it are dropped).
pub(super) fn peek_valid(
    queue: &mut VecDeque<WaiterRef>,
    waiters: &Slab<Waiter>,
) -> Option<WaiterRef> {
    while let Some(&w) = queue.front() {
        if waiters.get(w.id).is_some_and(|x| x.seq == w.seq) {
            return Some(w);
        }
        queue.pop_front();
    }
    None
}

/// The first entry of `queue` that still names a live waiter.
pub(super) fn pop_valid(
    queue: &mut VecDeque<WaiterRef>,
    waiters: &Slab<Waiter>,
) -> Option<WaiterRef> {
    while let Some(w) = queue.pop_front() {
        if waiters.get(w.id).is_some_and(|x| x.seq == w.seq) {
            return Some(w);
        }
    }
    None
}
