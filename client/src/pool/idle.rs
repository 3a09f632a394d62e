//! The idle side of the pool: closing connections the pool holds, evicting the oldest idle one,
//! expiry, and how long a connection may stay idle.

use std::time::{Duration, Instant};

use super::state::PoolState;
use super::Pooled;

/// A connection waiting in the pool for its next request.
pub(super) struct Idle {
    pub(super) conn: Box<Pooled>,
    /// Unique over the pool's life: identifies this idle period in `idle_order`.
    pub(super) seq: u64,
    pub(super) expires: Instant,
}

impl PoolState {
    /// Closes a connection the pool holds (already out of any idle stack).
    pub(super) fn close(&mut self, h: usize, mut conn: Box<Pooled>) {
        conn.permit.disarm();
        self.release(h);
        drop(conn);
    }

    /// Closes the oldest idle connection of any host; false if none is idle.
    pub(super) fn evict_oldest_idle(&mut self) -> bool {
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
