//! Loopback ports for test servers, and the one bounded polling loop every readiness check uses.

use std::net::{Ipv4Addr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to become ready (or to stop) before the harness gives up.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause between two probes of [`poll_until`]: short enough not to slow tests, long enough not to
/// burn a core that two cores' worth of parallel builds are competing for.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// The kernel picks it (bind to port 0), then the listener is dropped so a server can take it.
/// Another process may grab the port in between; the server guards notice ("Address already in
/// use") and retry with fresh ports. For several ports at once use [`free_ports`]: two calls of
/// this function may return the same port.
///
/// ```ignore
/// let port = support::free_port();
/// assert_ne!(port, 0);
/// ```
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `count` distinct TCP ports on 127.0.0.1 that were free a moment ago.
///
/// All listeners are held until every port is chosen: once released, a port can be handed out
/// again at once, and one server given the same port twice would silently merge two listeners.
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0 to find a free port: {e}"))
        })
        .collect();
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .expect("a bound listener has an address")
                .port()
        })
        .collect()
}

/// Calls `probe` until it returns `Some`, pausing between calls, for at most `timeout`.
///
/// Returns `None` when the time ran out. `probe` runs at least once, so a zero timeout is one try.
pub fn poll_until<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL_INTERVAL);
    }
}
