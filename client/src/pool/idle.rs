//! The idle side of the pool: the connections waiting for their next request, as owned parts that
//! know nothing of the pool around them:
//! - [`IdleStack`]: one host's idle connections, oldest first; checkout takes the newest;
//! - [`AgeOrder`]: the idle periods of every host in the order they began, so that the pool can
//!   close the oldest idle connection anywhere;
//! - [`idle_lifetime`]: how long a connection may stay idle.
//!
//! Which connection is kept, evicted or expired is decided in `state.rs`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Pooled;

/// A connection waiting in the pool for its next request.
struct Idle {
    conn: Box<Pooled>,
    /// Unique over the pool's life: identifies this idle period in the [`AgeOrder`].
    seq: u64,
    expires: Instant,
}

/// One host's idle connections, oldest first, so sorted by `seq` (each is pushed with a fresh,
/// larger one and only ever removed from).
#[derive(Default)]
pub(super) struct IdleStack {
    conns: Vec<Idle>,
}

impl IdleStack {
    /// `seq` must be larger than any before it.
    pub(super) fn push(&mut self, conn: Box<Pooled>, seq: u64, expires: Instant) {
        debug_assert!(self.conns.last().is_none_or(|last| last.seq < seq));
        self.conns.push(Idle { conn, seq, expires });
    }

    pub(super) fn len(&self) -> usize {
        self.conns.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// The newest (the least likely to have been closed by the server).
    pub(super) fn pop_newest(&mut self) -> Option<Box<Pooled>> {
        self.conns.pop().map(|idle| idle.conn)
    }

    /// The idle period of the oldest.
    pub(super) fn oldest_seq(&self) -> Option<u64> {
        self.conns.first().map(|idle| idle.seq)
    }

    pub(super) fn pop_oldest(&mut self) -> Option<Box<Pooled>> {
        (!self.conns.is_empty()).then(|| self.conns.remove(0).conn)
    }

    /// Whether idle period `seq` is still going on here (a binary search: the stack is sorted).
    pub(super) fn holds(&self, seq: u64) -> bool {
        self.conns
            .binary_search_by_key(&seq, |idle| idle.seq)
            .is_ok()
    }

    /// Takes out every connection that expired by `now` or that the server closed, handing each to
    /// `dead`; returns the earliest expiry of those that stay.
    pub(super) fn take_dead(
        &mut self,
        now: Instant,
        mut dead: impl FnMut(Box<Pooled>),
    ) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut i = 0;
        while i < self.conns.len() {
            let idle = &mut self.conns[i];
            if idle.expires <= now || !idle.conn.is_reusable() {
                dead(self.conns.remove(i).conn);
            } else {
                next = Some(next.map_or(idle.expires, |n| n.min(idle.expires)));
                i += 1;
            }
        }
        next
    }
}

/// `(seq, host id)` of idle periods in the order they began. Entries of periods that ended (the
/// connection was reused or closed) stay behind until skipped or compacted.
#[derive(Default)]
pub(super) struct AgeOrder {
    entries: VecDeque<(u64, usize)>,
}

impl AgeOrder {
    pub(super) fn push(&mut self, seq: u64, host: usize) {
        self.entries.push_back((seq, host));
    }

    pub(super) fn pop_oldest(&mut self) -> Option<(u64, usize)> {
        self.entries.pop_front()
    }

    /// Entries, stale ones included.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Keeps only the entries for which `alive(seq, host)` holds.
    pub(super) fn retain(&mut self, mut alive: impl FnMut(u64, usize) -> bool) {
        self.entries.retain(|&(seq, host)| alive(seq, host));
    }
}

/// How long a connection may stay idle: the client's limit, shortened to a little less than the
/// server's announced keep-alive timeout so that we stop using it before the server closes it.
pub(super) fn idle_lifetime(limit: Option<Duration>, server: Option<Duration>) -> Option<Duration> {
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
