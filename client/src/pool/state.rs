//! The pool's bookkeeping: per-host idle stacks and wait queues, slot counts, the global queue.
//!
//! Everything here runs inside one `RefCell` borrow and never awaits. Connections the pool closes
//! are disarmed (their [`Slot`](super::Slot) would otherwise borrow the pool again from `Drop`) and
//! accounted for in place by [`PoolState::release`].
//!
//! Invariants (checked by the tests through [`PoolState::status`] and the limit tests):
//! - `host.open` counts host slots: connections of the host (open, opening or idle) plus waiters
//!   holding a host slot while they wait for a global one; `total` counts global slots.
//! - a host with waiting requests has no idle connection (a finished connection is handed to them);
//! - while any request waits for a global slot, no connection is idle anywhere.
//!
//! Queues hold `WaiterRef`s and are cleaned lazily: a cancelled waiter leaves its entry behind,
//! recognised as stale because its `seq` no longer matches. Counts (`waiting`, `global_waiting`)
//! are exact, and only they decide whether anyone waits.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use super::{sweeper, PoolConfig, PoolStatus};
use crate::conn::Connection;
use crate::url::Origin;

/// One origin's connections and waiters.
struct Host {
    /// The pool key (`scheme://host:port`), to remove the index entry when the host goes away.
    key: Box<str>,
    /// Host slots held (see the module invariants).
    open: usize,
    /// Idle connections, oldest first; checkout pops the newest.
    idle: Vec<Idle>,
    /// Requests waiting for a host slot, in arrival order (may hold stale entries).
    queue: VecDeque<WaiterRef>,
    /// Live entries in `queue`.
    waiting: usize,
}

struct Idle {
    conn: Box<Connection>,
    /// Unique over the pool's life: identifies this idle period in `idle_order`.
    seq: u64,
    expires: Instant,
}

/// A queue entry: valid while the waiter at `id` still has this `seq`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WaiterRef {
    id: usize,
    seq: u64,
}

/// A request waiting for a connection.
struct Waiter {
    host: usize,
    seq: u64,
    state: Wait,
    waker: Option<Waker>,
}

/// How far a waiting request has got.
enum Wait {
    /// In its host's queue, waiting for a host slot.
    Host,
    /// Holds a host slot; in the global queue, waiting for a global slot.
    Global,
    /// Holds both slots: may open a new connection.
    Slot,
    /// Was handed a connection that just finished a response.
    Conn(Box<Connection>),
}

/// What [`PoolState::start`] decided.
pub(crate) enum Start {
    Reused(Box<Connection>),
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
    cfg: PoolConfig,
    hosts: Slab<Host>,
    index: HashMap<Box<str>, usize>,
    /// Global slots held.
    total: usize,
    idle_total: usize,
    /// `(seq, host)` of idle periods in the order they began; stale entries are skipped.
    idle_order: VecDeque<(u64, usize)>,
    next_seq: u64,
    waiters: Slab<Waiter>,
    global_queue: VecDeque<WaiterRef>,
    global_waiting: usize,
    pub(super) sweeper: SweeperState,
    /// Scratch space for building lookup keys without allocating.
    key: String,
    /// Handed to the sweeper task, which must not keep the pool alive.
    this: Weak<RefCell<PoolState>>,
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

    fn enqueue(&mut self, h: usize, state: Wait) -> WaiterRef {
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

    /// Takes a global slot if one is free and nobody queues for it, closing the oldest idle
    /// connection (of another host) if that is what it takes.
    fn take_global(&mut self) -> bool {
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
    fn host_slot_freed(&mut self, h: usize) {
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

    fn give(&mut self, w: WaiterRef, state: Wait) {
        let waiter = &mut self.waiters[w.id];
        waiter.state = state;
        if let Some(waker) = waiter.waker.take() {
            waker.wake();
        }
    }

    /// Closes a connection the pool holds (already out of any idle stack).
    fn close(&mut self, h: usize, mut conn: Box<Connection>) {
        conn.slot_mut().disarm();
        self.release(h);
        drop(conn);
    }

    /// Closes the oldest idle connection of any host; false if none is idle.
    fn evict_oldest_idle(&mut self) -> bool {
        while let Some((seq, h)) = self.idle_order.pop_front() {
            let Some(host) = self.hosts.get_mut(h) else {
                continue;
            };
            // A host's idle stack is in `idle_order` order, so its oldest is the first entry.
            if host.idle.first().map(|i| i.seq) != Some(seq) {
                continue;
            }
            let idle = host.idle.remove(0);
            self.idle_total -= 1;
            self.close(h, idle.conn);
            self.gc_host(h);
            return true;
        }
        false
    }

    /// A connection finished a response and may be reused.
    pub(crate) fn checkin(&mut self, conn: Box<Connection>, now: Instant) {
        let h = conn.slot().host();
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
            let hosts = &self.hosts;
            self.idle_order.retain(|&(seq, h)| {
                hosts
                    .get(h)
                    .is_some_and(|host| host.idle.iter().any(|i| i.seq == seq))
            });
        }
        if !matches!(self.sweeper.wake_at, Some(at) if at <= expires) {
            sweeper::notify(self);
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

    /// Closes every idle connection (their runtime is ending).
    pub(crate) fn close_all_idle(&mut self) {
        let ids: Vec<usize> = self.hosts.iter().map(|(h, _)| h).collect();
        for h in ids {
            while let Some(idle) = self.hosts[h].idle.pop() {
                self.idle_total -= 1;
                self.close(h, idle.conn);
            }
            self.gc_host(h);
        }
        self.idle_order.clear();
    }

    /// Closes expired (or server-closed) idle connections; returns the next expiry.
    pub(crate) fn sweep(&mut self, now: Instant) -> Option<Instant> {
        let mut dead = Vec::new();
        let mut next: Option<Instant> = None;
        for (h, host) in self.hosts.iter_mut() {
            let mut i = 0;
            while i < host.idle.len() {
                let idle = &mut host.idle[i];
                if idle.expires <= now || !idle.conn.is_reusable() {
                    dead.push((h, host.idle.remove(i).conn));
                } else {
                    next = Some(next.map_or(idle.expires, |n| n.min(idle.expires)));
                    i += 1;
                }
            }
        }
        self.idle_total -= dead.len();
        for (h, conn) in dead {
            self.close(h, conn);
            self.gc_host(h);
        }
        next
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

/// The first entry of `queue` that still names a live waiter, left in the queue (stale entries
/// before it are dropped).
fn peek_valid(queue: &mut VecDeque<WaiterRef>, waiters: &Slab<Waiter>) -> Option<WaiterRef> {
    while let Some(&w) = queue.front() {
        if waiters.get(w.id).is_some_and(|x| x.seq == w.seq) {
            return Some(w);
        }
        queue.pop_front();
    }
    None
}

/// The first entry of `queue` that still names a live waiter.
fn pop_valid(queue: &mut VecDeque<WaiterRef>, waiters: &Slab<Waiter>) -> Option<WaiterRef> {
    while let Some(w) = queue.pop_front() {
        if waiters.get(w.id).is_some_and(|x| x.seq == w.seq) {
            return Some(w);
        }
    }
    None
}

/// How long a connection may stay idle: the client's limit, shortened to a little less than the
/// server's announced keep-alive timeout so that we stop using it before the server closes it.
fn idle_lifetime(limit: Option<Duration>, server: Option<Duration>) -> Option<Duration> {
    let server = server.map(|s| s.saturating_sub(Duration::from_secs(1)).max(s / 2));
    match (limit, server) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_lifetime_follows_the_server_hint() {
        let s = Duration::from_secs;
        assert_eq!(idle_lifetime(Some(s(15)), None), Some(s(15)));
        assert_eq!(idle_lifetime(Some(s(15)), Some(s(5))), Some(s(4)));
        assert_eq!(
            idle_lifetime(Some(s(15)), Some(s(1))),
            Some(Duration::from_millis(500))
        );
        assert_eq!(idle_lifetime(Some(s(15)), Some(s(0))), Some(s(0)));
        assert_eq!(idle_lifetime(Some(s(15)), Some(s(60))), Some(s(15)));
        assert_eq!(idle_lifetime(None, Some(s(60))), Some(s(59)));
        assert_eq!(idle_lifetime(None, None), None);
    }
}
