//! The pool's bookkeeping and its decisions: per-host slot counts, idle stacks and wait queues, the
//! global queue; what a request gets at checkout, where a finished connection goes at checkin, who
//! gets a freed slot.
//!
//! Everything here runs inside one `RefCell` borrow and never awaits. Connections the pool closes
//! are disarmed (their [`Permit`](super::Permit) would otherwise borrow the pool again from `Drop`) and
//! accounted for in place by [`PoolState::release`].
//!
//! It is built from owned parts that know nothing of it: the waiters and their queues
//! (`waiters.rs`), the idle stacks and their age order (`idle.rs`). The decisions that need more than
//! one part are all in this file.
//!
//! Invariants (checked by the tests through [`PoolState::status`] and the limit tests):
//! - `host.open` counts host slots: connections of the host (open, opening or idle) plus waiters
//!   holding a host slot while they wait for a global one; `total` counts global slots.
//! - a host with waiting requests has no idle connection (a finished connection is handed to them);
//! - while any request waits for a global slot, no connection is idle anywhere.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use super::idle::{idle_lifetime, AgeOrder, IdleStack};
use super::waiters::{Given, Queue, Wait, WaiterRef, Waiters};
use super::{PoolConfig, PoolStatus, Pooled};
use crate::origin::Origin;

/// One origin's connections and waiters.
struct Host {
    /// The pool key (`scheme://host:port`), to remove the index entry when the host goes away.
    key: Box<str>,
    /// Host slots held (see the module invariants).
    open: usize,
    idle: IdleStack,
    /// Requests waiting for a host slot.
    queue: Queue,
}

/// What [`PoolState::start`] decided.
pub(super) enum Start {
    Reused(Box<Pooled>),
    /// Both slots taken for this host id: open a new connection.
    Slot(usize),
    Wait(WaiterRef),
}

/// The sweeper task's coordination with the pool (see `sweeper.rs`).
#[derive(Default)]
pub(super) struct SweeperState {
    /// A sweeper task exists for this pool.
    pub(super) running: bool,
    /// The sweeper asked to be woken: set by the pool when an earlier expiry appears.
    pub(super) notified: bool,
    pub(super) waker: Option<Waker>,
    /// When the sweeper will wake next (`None`: it waits for a notification).
    pub(super) wake_at: Option<Instant>,
}

pub(crate) struct PoolState {
    cfg: PoolConfig,
    hosts: Slab<Host>,
    index: HashMap<Box<str>, usize>,
    /// Global slots held.
    total: usize,
    /// Idle connections over all hosts.
    idle_total: usize,
    ages: AgeOrder,
    /// Source of the unique `seq` of waiters and idle periods.
    next_seq: u64,
    waiters: Waiters,
    /// Requests holding a host slot and waiting for a global one.
    global_queue: Queue,
    pub(super) sweeper: SweeperState,
    /// Scratch space for building lookup keys without allocating.
    key: String,
    /// Handed to the sweeper task, which must not keep the pool alive.
    this: Weak<RefCell<PoolState>>,
}

impl PoolState {
    pub(super) fn new(cfg: PoolConfig) -> Rc<RefCell<PoolState>> {
        Rc::new_cyclic(|this| {
            RefCell::new(PoolState {
                cfg,
                hosts: Slab::new(),
                index: HashMap::new(),
                total: 0,
                idle_total: 0,
                ages: AgeOrder::default(),
                next_seq: 0,
                waiters: Waiters::default(),
                global_queue: Queue::default(),
                sweeper: SweeperState::default(),
                key: String::new(),
                this: this.clone(),
            })
        })
    }

    pub(super) fn status(&self) -> PoolStatus {
        let host_waiting: usize = self.hosts.iter().map(|(_, h)| h.queue.live()).sum();
        PoolStatus {
            open: self.total,
            idle: self.idle_total,
            waiting: self.global_queue.live() + host_waiting,
            hosts: self.hosts.len(),
        }
    }

    /// The sweeper's handle on this pool.
    pub(super) fn weak(&self) -> Weak<RefCell<PoolState>> {
        self.this.clone()
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// The id of `origin`'s host record, created if needed.
    fn host_id(&mut self, origin: &Origin<'_>) -> usize {
        origin.write_key(&mut self.key);
        if let Some(&id) = self.index.get(self.key.as_str()) {
            return id;
        }
        let key: Box<str> = self.key.as_str().into();
        let id = self.hosts.insert(Host {
            key: key.clone(),
            open: 0,
            idle: IdleStack::default(),
            queue: Queue::default(),
        });
        self.index.insert(key, id);
        id
    }

    /// Forgets host `h` once nothing refers to it, so that a long list of distinct hosts does not
    /// grow the pool.
    pub(super) fn gc_host(&mut self, h: usize) {
        let unused = self
            .hosts
            .get(h)
            .is_some_and(|host| host.open == 0 && host.queue.live() == 0 && host.idle.is_empty());
        if unused {
            let host = self.hosts.remove(h);
            self.index.remove(&host.key);
        }
    }

    // -------------------------------------------------------------------------------------------
    // Checkout: a request arrives, or a waiting one is polled or goes away.

    /// A request for `origin` arrives: reuse, open, or wait.
    pub(super) fn start(&mut self, origin: &Origin<'_>, fresh: bool) -> Start {
        let h = self.host_id(origin);
        if let Some(conn) = self.reuse_idle(h, fresh) {
            return Start::Reused(conn);
        }
        let host = &mut self.hosts[h];
        if host.queue.live() > 0 || host.open >= self.cfg.max_per_host {
            return Start::Wait(self.enqueue(h, Wait::Host));
        }
        host.open += 1;
        if self.take_global() {
            return Start::Slot(h);
        }
        Start::Wait(self.enqueue(h, Wait::Global))
    }

    /// The newest idle connection of host `h` that is still usable, closing the ones found dead on
    /// the way; with `fresh`, closes them all (one just turned out to be stale) and returns none.
    fn reuse_idle(&mut self, h: usize, fresh: bool) -> Option<Box<Pooled>> {
        while let Some(mut conn) = self.hosts[h].idle.pop_newest() {
            self.idle_total -= 1;
            if !fresh && conn.is_reusable() {
                return Some(conn);
            }
            self.close(h, conn);
        }
        None
    }

    fn enqueue(&mut self, h: usize, state: Wait) -> WaiterRef {
        let seq = self.seq();
        let global = matches!(state, Wait::Global);
        let w = self.waiters.add(h, seq, state);
        if global {
            self.global_queue.push(w);
        } else {
            self.hosts[h].queue.push(w);
        }
        w
    }

    /// Polls a waiting request: its connection or slot if it got one.
    pub(super) fn poll_waiter(&mut self, w: WaiterRef, cx: &mut Context<'_>) -> Poll<Given> {
        self.waiters.poll(w, cx)
    }

    /// A waiting request went away: give back what it held. True if the sweeper must be told (see
    /// [`PoolState::checkin`]).
    #[must_use]
    pub(super) fn cancel(&mut self, w: WaiterRef, now: Instant) -> bool {
        let Some((h, held)) = self.waiters.remove(w) else {
            return false;
        };
        let mut tell_sweeper = false;
        match held {
            Wait::Host => self.hosts[h].queue.forget_one(),
            Wait::Global => {
                self.global_queue.forget_one();
                self.hosts[h].open -= 1;
                self.host_slot_freed(h);
            }
            Wait::Slot => self.release(h),
            Wait::Conn(conn) => tell_sweeper = self.checkin(conn, now),
        }
        self.gc_host(h);
        tell_sweeper
    }

    // -------------------------------------------------------------------------------------------
    // Slots: taken, freed, passed on.

    /// Takes a global slot if one is free and nobody queues for it, closing the oldest idle
    /// connection (of another host) if that is what it takes.
    fn take_global(&mut self) -> bool {
        if self.global_queue.live() > 0 {
            return false;
        }
        if self.total < self.cfg.max_connections || self.evict_oldest_idle() {
            self.total += 1;
            return true;
        }
        false
    }

    /// A connection of host `h` closed: free its two slots and pass them on.
    pub(super) fn release(&mut self, h: usize) {
        self.hosts[h].open -= 1;
        self.total -= 1;
        self.host_slot_freed(h);
        self.global_slot_freed();
    }

    /// Hands free host slots of `h` to its waiters, in order.
    fn host_slot_freed(&mut self, h: usize) {
        loop {
            let host = &mut self.hosts[h];
            if host.open >= self.cfg.max_per_host {
                return;
            }
            let Some(w) = host.queue.pop(&self.waiters) else {
                return;
            };
            host.open += 1;
            if self.take_global() {
                self.waiters.give(w, Wait::Slot);
            } else {
                self.waiters.advance(w, Wait::Global);
                self.global_queue.push(w);
            }
        }
    }

    /// Hands free global slots to the global queue, in order.
    fn global_slot_freed(&mut self) {
        while self.total < self.cfg.max_connections {
            let Some(w) = self.global_queue.pop(&self.waiters) else {
                return;
            };
            self.total += 1;
            self.waiters.give(w, Wait::Slot);
        }
    }

    // -------------------------------------------------------------------------------------------
    // Checkin: a connection finished a response.

    /// A connection finished a response and may be reused: it goes to a waiting request, into its
    /// host's idle stack, or is closed (see the module docs of `pool`).
    ///
    /// True if the sweeper must be told: the connection went idle with an expiry earlier than the
    /// sweeper's next wake-up (the caller, above this file, does that with `sweeper::notify`).
    #[must_use]
    pub(super) fn checkin(&mut self, conn: Box<Pooled>, now: Instant) -> bool {
        let h = conn.permit.host();
        let Some(conn) = self.hand_to_waiter(h, conn) else {
            return false;
        };
        let lifetime = idle_lifetime(self.cfg.idle_timeout, conn.keep_alive_hint());
        if !self.may_keep_idle(lifetime) {
            self.close(h, conn);
            self.gc_host(h);
            return false;
        }
        // `None`: no client-side limit; the server's close (seen by the probe) ends it.
        let expires = lifetime
            .and_then(|d| now.checked_add(d))
            .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365));
        self.keep_idle(h, conn, expires);
        self.sweeper.wake_at.is_none_or(|at| at > expires)
    }

    /// Gives `conn` to the first request waiting for its host: in the host's queue, or first in the
    /// global queue (which holds a host slot of its own, freed then, since the connection comes with
    /// one). Gives `conn` back if nobody takes it.
    fn hand_to_waiter(&mut self, h: usize, conn: Box<Pooled>) -> Option<Box<Pooled>> {
        if let Some(w) = self.hosts[h].queue.pop(&self.waiters) {
            self.waiters.give(w, Wait::Conn(conn));
            return None;
        }
        let first = self.global_queue.peek(&self.waiters);
        if let Some(w) = first.filter(|&w| self.waiters.host(w) == h) {
            self.global_queue.pop(&self.waiters);
            self.hosts[h].open -= 1;
            self.waiters.give(w, Wait::Conn(conn));
            self.host_slot_freed(h);
            return None;
        }
        Some(conn)
    }

    /// Whether a finished connection that nobody waits for may stay idle. Not while requests of
    /// other hosts wait for a global slot (closing it makes room for them).
    fn may_keep_idle(&self, lifetime: Option<Duration>) -> bool {
        self.global_queue.live() == 0
            // Outside a runtime (a response finished after `block_on` returned) the connection's
            // reactor is gone or going: it cannot be reused.
            && spool_runtime::in_runtime()
            && self.cfg.max_idle_per_host > 0
            && self.cfg.max_idle > 0
            && lifetime != Some(Duration::ZERO)
    }

    /// Pushes `conn` on its host's idle stack, then closes the oldest idle connections over the
    /// per-host and the total idle limits.
    fn keep_idle(&mut self, h: usize, conn: Box<Pooled>, expires: Instant) {
        let seq = self.seq();
        self.hosts[h].idle.push(conn, seq, expires);
        self.idle_total += 1;
        self.ages.push(seq, h);
        if self.hosts[h].idle.len() > self.cfg.max_idle_per_host {
            if let Some(oldest) = self.hosts[h].idle.pop_oldest() {
                self.idle_total -= 1;
                self.close(h, oldest);
            }
        }
        while self.idle_total > self.cfg.max_idle {
            if !self.evict_oldest_idle() {
                break;
            }
        }
        self.compact_ages();
    }

    /// Drops the age-order entries of idle periods that ended (reused or closed connections) once
    /// they outnumber the live ones. Membership is a binary search in the host's sorted stack: a
    /// linear scan made this quadratic with thousands of idle connections on one host.
    fn compact_ages(&mut self) {
        if self.ages.len() <= 2 * self.idle_total + 64 {
            return;
        }
        let hosts = &self.hosts;
        self.ages
            .retain(|seq, h| hosts.get(h).is_some_and(|host| host.idle.holds(seq)));
    }

    // -------------------------------------------------------------------------------------------
    // Closing idle connections: one the pool holds, the oldest, the expired, all.

    /// Closes a connection the pool holds (already out of any idle stack).
    fn close(&mut self, h: usize, mut conn: Box<Pooled>) {
        conn.permit.disarm();
        self.release(h);
        drop(conn);
    }

    /// Closes the oldest idle connection of any host; false if none is idle.
    fn evict_oldest_idle(&mut self) -> bool {
        while let Some((seq, h)) = self.ages.pop_oldest() {
            let Some(host) = self.hosts.get_mut(h) else {
                continue;
            };
            // A host's idle stack is in age order, so its oldest is the one to check; a host id
            // reused by another host cannot match, since `seq` is unique over the pool's life.
            if host.idle.oldest_seq() != Some(seq) {
                continue;
            }
            let Some(conn) = host.idle.pop_oldest() else {
                continue;
            };
            self.idle_total -= 1;
            self.close(h, conn);
            self.gc_host(h);
            return true;
        }
        false
    }

    /// Closes expired (or server-closed) idle connections; returns the next expiry.
    pub(super) fn sweep(&mut self, now: Instant) -> Option<Instant> {
        let mut dead = Vec::new();
        let mut next: Option<Instant> = None;
        for (h, host) in self.hosts.iter_mut() {
            let here = host.idle.take_dead(now, |conn| dead.push((h, conn)));
            next = match (next, here) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        self.idle_total -= dead.len();
        for (h, conn) in dead {
            self.close(h, conn);
            self.gc_host(h);
        }
        next
    }

    /// Closes every idle connection (their runtime is ending).
    pub(super) fn close_all_idle(&mut self) {
        let ids: Vec<usize> = self.hosts.iter().map(|(h, _)| h).collect();
        for h in ids {
            // `get_mut`: closing one connection may hand its slots on and evict (and forget)
            // another host.
            while let Some(conn) = self
                .hosts
                .get_mut(h)
                .and_then(|host| host.idle.pop_newest())
            {
                self.idle_total -= 1;
                self.close(h, conn);
            }
            self.gc_host(h);
        }
        self.ages.clear();
    }
}

impl Drop for PoolState {
    fn drop(&mut self) {
        // Let the sweeper task see that the pool is gone and end.
        if let Some(waker) = self.sweeper.waker.take() {
            waker.wake();
        }
    }
}
