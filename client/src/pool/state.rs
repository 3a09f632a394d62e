//! The pool's bookkeeping: per-host idle stacks and wait queues, slot counts, the global queue.
//!
//! Everything here runs inside one `RefCell` borrow and never awaits. Connections the pool closes
//! are disarmed (their [`Permit`](super::Permit) would otherwise borrow the pool again from `Drop`) and
//! accounted for in place by [`PoolState::release`].
//!
//! Invariants (checked by the tests through [`PoolState::status`] and the limit tests):
//! - `host.open` counts host slots: connections of the host (open, opening or idle) plus waiters
//!   holding a host slot while they wait for a global one; `total` counts global slots.
//! - a host with waiting requests has no idle connection (a finished connection is handed to them);
//! - while any request waits for a global slot, no connection is idle anywhere.
//!
//! The waiting side (queues, wake-ups, cancellation) is in `waiters.rs`, the idle side (eviction,
//! expiry) in `idle.rs`: both are more `impl PoolState` blocks over the same fields.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

use super::idle::{idle_lifetime, Idle};
use super::waiters::{peek_valid, pop_valid, Wait, Waiter, WaiterRef};
use super::{sweeper, PoolConfig, PoolStatus, Pooled};
use crate::origin::Origin;

/// One origin's connections and waiters.
pub(super) struct Host {
    /// The pool key (`scheme://host:port`), to remove the index entry when the host goes away.
    pub(super) key: Box<str>,
    /// Host slots held (see the module invariants).
    pub(super) open: usize,
    /// Idle connections, oldest first, so sorted by `seq` (the compaction in `checkin` relies on
    /// it); checkout pops the newest.
    pub(super) idle: Vec<Idle>,
    /// Requests waiting for a host slot, in arrival order (may hold stale entries).
    pub(super) queue: VecDeque<WaiterRef>,
    /// Live entries in `queue`.
    pub(super) waiting: usize,
}

/// What [`PoolState::start`] decided.
pub(crate) enum Start {
    Reused(Box<Pooled>),
    /// Both slots taken for this host id: open a new connection.
    Slot(usize),
    Wait(WaiterRef),
}

/// The sweeper task's coordination with the pool (see `sweeper.rs`).
#[derive(Default)]
pub(crate) struct SweeperState {
    /// A sweeper task exists for this pool.
    pub running: bool,
    /// The sweeper asked to be woken: set by the pool when an earlier expiry appears.
    pub notified: bool,
    pub waker: Option<Waker>,
    /// When the sweeper will wake next (`None`: it waits for a notification).
    pub wake_at: Option<Instant>,
}

pub(crate) struct PoolState {
    pub(super) cfg: PoolConfig,
    pub(super) hosts: Slab<Host>,
    pub(super) index: HashMap<Box<str>, usize>,
    /// Global slots held.
    pub(super) total: usize,
    pub(super) idle_total: usize,
    /// `(seq, host)` of idle periods in the order they began; stale entries are skipped.
    pub(super) idle_order: VecDeque<(u64, usize)>,
    pub(super) next_seq: u64,
    pub(super) waiters: Slab<Waiter>,
    pub(super) global_queue: VecDeque<WaiterRef>,
    pub(super) global_waiting: usize,
    pub(super) sweeper: SweeperState,
    /// Scratch space for building lookup keys without allocating.
    pub(super) key: String,
    /// Handed to the sweeper task, which must not keep the pool alive.
    pub(super) this: Weak<RefCell<PoolState>>,
}

impl PoolState {
    pub(crate) fn new(cfg: PoolConfig) -> Rc<RefCell<PoolState>> {
        Rc::new_cyclic(|this| {
            RefCell::new(PoolState {
                cfg,
                hosts: Slab::new(),
                index: HashMap::new(),
                total: 0,
                idle_total: 0,
                idle_order: VecDeque::new(),
                next_seq: 0,
                waiters: Slab::new(),
                global_queue: VecDeque::new(),
                global_waiting: 0,
                sweeper: SweeperState::default(),
                key: String::new(),
                this: this.clone(),
            })
        })
    }

    pub(crate) fn status(&self) -> PoolStatus {
        PoolStatus {
            open: self.total,
            idle: self.idle_total,
            waiting: self.global_waiting + self.hosts.iter().map(|(_, h)| h.waiting).sum::<usize>(),
            hosts: self.hosts.len(),
        }
    }

    pub(super) fn seq(&mut self) -> u64 {
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
            idle: Vec::new(),
            queue: VecDeque::new(),
            waiting: 0,
        });
        self.index.insert(key, id);
        id
    }

    /// A request for `origin` arrives: reuse, open, or wait.
    pub(crate) fn start(&mut self, origin: &Origin<'_>, fresh: bool) -> Start {
        let h = self.host_id(origin);
        if fresh {
            while let Some(idle) = self.hosts[h].idle.pop() {
                self.idle_total -= 1;
                self.close(h, idle.conn);
            }
        } else {
            while let Some(mut idle) = self.hosts[h].idle.pop() {
                self.idle_total -= 1;
                if idle.conn.is_reusable() {
                    return Start::Reused(idle.conn);
                }
                self.close(h, idle.conn);
            }
        }
        let host = &mut self.hosts[h];
        if host.waiting > 0 || host.open >= self.cfg.max_per_host {
            return Start::Wait(self.enqueue(h, Wait::Host));
        }
        host.open += 1;
        if self.take_global() {
            return Start::Slot(h);
        }
        Start::Wait(self.enqueue(h, Wait::Global))
    }

    /// Takes a global slot if one is free and nobody queues for it, closing the oldest idle
    /// connection (of another host) if that is what it takes.
    pub(super) fn take_global(&mut self) -> bool {
        if self.global_waiting > 0 {
            return false;
        }
        if self.total < self.cfg.max_connections || self.evict_oldest_idle() {
            self.total += 1;
            return true;
        }
        false
    }

    /// A connection of host `h` closed: free its two slots and pass them on.
    pub(crate) fn release(&mut self, h: usize) {
        self.hosts[h].open -= 1;
        self.total -= 1;
        self.host_slot_freed(h);
        self.global_slot_freed();
    }

    /// Hands free host slots of `h` to its waiters, in order.
    pub(super) fn host_slot_freed(&mut self, h: usize) {
        loop {
            let host = &mut self.hosts[h];
            if host.waiting == 0 || host.open >= self.cfg.max_per_host {
                return;
            }
            let Some(w) = pop_valid(&mut host.queue, &self.waiters) else {
                return;
            };
            host.waiting -= 1;
            host.open += 1;
            if self.take_global() {
                self.give(w, Wait::Slot);
            } else {
                self.waiters[w.id].state = Wait::Global;
                self.global_queue.push_back(w);
                self.global_waiting += 1;
            }
        }
    }

    /// Hands free global slots to the global queue, in order.
    fn global_slot_freed(&mut self) {
        while self.global_waiting > 0 && self.total < self.cfg.max_connections {
            let Some(w) = pop_valid(&mut self.global_queue, &self.waiters) else {
                return;
            };
            self.global_waiting -= 1;
            self.total += 1;
            self.give(w, Wait::Slot);
        }
    }

    /// A connection finished a response and may be reused.
    pub(crate) fn checkin(&mut self, conn: Box<Pooled>, now: Instant) {
        let h = conn.permit.host();
        let host = &mut self.hosts[h];
        if host.waiting > 0 {
            if let Some(w) = pop_valid(&mut host.queue, &self.waiters) {
                host.waiting -= 1;
                self.give(w, Wait::Conn(conn));
                return;
            }
        }
        if self.global_waiting > 0 {
            // Someone waits for a global slot. If the first in line wants this very host, the
            // connection is exactly what it waits for; otherwise close it to free the slot.
            let first = peek_valid(&mut self.global_queue, &self.waiters);
            if let Some(w) = first.filter(|w| self.waiters[w.id].host == h) {
                self.global_queue.pop_front();
                self.global_waiting -= 1;
                // The waiter's own host slot is not needed: the connection comes with one.
                self.hosts[h].open -= 1;
                self.give(w, Wait::Conn(conn));
                self.host_slot_freed(h);
                return;
            }
        }
        let lifetime = idle_lifetime(self.cfg.idle_timeout, conn.keep_alive_hint());
        // Outside a runtime (a response finished after `block_on` returned) the connection's
        // reactor is gone or going: it cannot be reused.
        let keep = self.global_waiting == 0
            && spool_runtime::current_stats().is_some()
            && self.cfg.max_idle_per_host > 0
            && self.cfg.max_idle > 0
            && lifetime != Some(Duration::ZERO);
        if !keep {
            self.close(h, conn);
            self.gc_host(h);
            return;
        }
        // `None`: no client-side limit; the server's close (seen by the probe) ends it.
        let expires = lifetime
            .and_then(|d| now.checked_add(d))
            .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365));
        let seq = self.seq();
        let host = &mut self.hosts[h];
        host.idle.push(Idle { conn, seq, expires });
        self.idle_total += 1;
        self.idle_order.push_back((seq, h));
        if host.idle.len() > self.cfg.max_idle_per_host {
            let oldest = host.idle.remove(0);
            self.idle_total -= 1;
            self.close(h, oldest.conn);
        }
        while self.idle_total > self.cfg.max_idle {
            if !self.evict_oldest_idle() {
                break;
            }
        }
        if self.idle_order.len() > 2 * self.idle_total + 64 {
            // Drop the entries of idle periods that ended (reused or closed connections). A host's
            // idle stack is sorted by `seq` (pushed with a fresh, larger one; only ever removed
            // from), so membership is a binary search: a linear scan made this quadratic with
            // thousands of idle connections on one host (measured: 4% of all CPU at c=10,000).
            let hosts = &self.hosts;
            self.idle_order.retain(|&(seq, h)| {
                hosts.get(h).is_some_and(|host| {
                    host.idle
                        .binary_search_by_key(&seq, |idle| idle.seq)
                        .is_ok()
                })
            });
        }
        if !matches!(self.sweeper.wake_at, Some(at) if at <= expires) {
            sweeper::notify(self);
        }
    }

    /// Forgets host `h` once nothing refers to it, so that a long list of distinct hosts does not
    /// grow the pool.
    pub(crate) fn gc_host(&mut self, h: usize) {
        let unused = self
            .hosts
            .get(h)
            .is_some_and(|host| host.open == 0 && host.waiting == 0 && host.idle.is_empty());
        if unused {
            let host = self.hosts.remove(h);
            self.index.remove(&host.key);
        }
    }

    /// The sweeper's handle on this pool.
    pub(super) fn weak(&self) -> Weak<RefCell<PoolState>> {
        self.this.clone()
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
