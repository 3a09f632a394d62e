//! Happy Eyeballs (RFC 8305): connecting to a host that has several addresses, IPv6 and IPv4, without
//! letting one dead address (a blackholed IPv6 route, a server that drops SYNs) stall the connection.
//!
//! The race, as the RFC asks:
//!
//! ```text
//!  addresses: interleave the families, the preferred one first (§4):  v6a v4a v6b v4b v4c ...
//!  t=0      start attempt 1 ───────────────(pending)──────────── dropped when another wins
//!  t=250ms  start attempt 2 (or at once when attempt 1 has failed) ── connected: wins
//!  t=500ms  start attempt 3 ...                      (never started, attempt 2 won)
//! ```
//!
//! Attempts run concurrently inside this one future (no spawned tasks): each is a
//! `TcpStream::connect` future polled in turn. The first to connect is returned; the other futures
//! are dropped with the race, which closes their half-open sockets (the "losers are closed" rule).
//! When every attempt fails, the error lists each address with its own failure, and keeps the last
//! attempt's `io::Error` (with its OS code, e.g. `EMFILE`) as its source ([`AttemptsFailed`]).
//!
//! With [`connect_resolving`], the race also overlaps name resolution (§3): it starts on the AAAA
//! answer at once; if the A answer arrives first it waits up to the resolution delay (50 ms) for
//! AAAA before starting on IPv4; addresses arriving later join the queue of untried addresses.
//!
//! There is no time limit here: wrap the call in `spool_runtime::time::timeout` with the caller's
//! connect timeout, which then covers resolution and every attempt together.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use spool_runtime::net::TcpStream;
use spool_runtime::time::{sleep_until, Sleep};

use crate::error::describe_io;
use spool_dns::{DnsError, QueryType, Resolver, Resolving};

/// RFC 8305 §5's recommended delay between starting two connection attempts.
pub const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);
/// The shortest delay between two attempts the race accepts (RFC 8305 §5's lower bound).
pub const MIN_ATTEMPT_DELAY: Duration = Duration::from_millis(10);
/// RFC 8305 §3's recommended wait for AAAA after A has arrived first.
pub const RESOLUTION_DELAY: Duration = Duration::from_millis(50);

/// Timing of the race.
///
/// ```
/// use spool_client::connect::HappyEyeballs;
/// use std::time::Duration;
///
/// let fast = HappyEyeballs { attempt_delay: Duration::from_millis(100), ..HappyEyeballs::default() };
/// assert_eq!(fast.resolution_delay, Duration::from_millis(50));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HappyEyeballs {
    /// How long an attempt runs alone before the next one starts (default 250 ms; values below
    /// [`MIN_ATTEMPT_DELAY`] are raised to it).
    pub attempt_delay: Duration,
    /// How long to wait for AAAA once A has arrived (default 50 ms).
    pub resolution_delay: Duration,
}

impl Default for HappyEyeballs {
    fn default() -> Self {
        HappyEyeballs {
            attempt_delay: CONNECTION_ATTEMPT_DELAY,
            resolution_delay: RESOLUTION_DELAY,
        }
    }
}

/// Why [`connect_resolving`] gave no connection.
#[derive(Debug)]
pub enum ConnectError {
    /// The name gave no address to try.
    Resolve(DnsError),
    /// Addresses were found, and every connection attempt failed.
    Connect(io::Error),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Resolve(e) => e.fmt(f),
            ConnectError::Connect(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Resolve(e) => Some(e),
            ConnectError::Connect(e) => Some(e),
        }
    }
}

impl From<ConnectError> for io::Error {
    fn from(e: ConnectError) -> io::Error {
        match e {
            ConnectError::Resolve(e) => e.into(),
            ConnectError::Connect(e) => e,
        }
    }
}

/// Connects to the first of `addrs` that accepts, racing them per Happy Eyeballs: the families are
/// interleaved starting with the family of `addrs[0]`, and a new attempt starts every
/// `attempt_delay` (at least [`MIN_ATTEMPT_DELAY`]), or at once when an attempt fails.
///
/// ```
/// use spool_client::connect::{connect_happy, CONNECTION_ATTEMPT_DELAY};
/// use spool_runtime::net::TcpListener;
///
/// spool_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
///     let good = listener.local_addr().unwrap();
///     // Nothing listens on 127.0.0.2 at that port: refused at once, so the next starts at once.
///     let refused = std::net::SocketAddr::new("127.0.0.2".parse().unwrap(), good.port());
///     let stream = connect_happy(vec![refused, good], CONNECTION_ATTEMPT_DELAY).await.unwrap();
///     assert_eq!(stream.peer_addr().unwrap(), good);
/// });
/// ```
pub async fn connect_happy(
    addrs: Vec<SocketAddr>,
    attempt_delay: Duration,
) -> io::Result<TcpStream> {
    let prefer_v6 = addrs.first().is_some_and(SocketAddr::is_ipv6);
    let mut race = Race::new(attempt_delay, prefer_v6);
    race.add(addrs);
    let won = poll_fn(|cx| race.poll_race(cx, true, false)).await;
    won.ok_or_else(|| race.into_error())
}

/// Resolves `host` with `resolver` and connects per Happy Eyeballs, overlapping the two (see the
/// module docs).
pub async fn connect_host(
    resolver: &Resolver,
    host: &str,
    port: u16,
    timing: HappyEyeballs,
) -> Result<TcpStream, ConnectError> {
    connect_resolving(resolver.resolve(host, port), port, timing).await
}

/// Connects to `port` on the addresses `resolving` produces, starting as soon as the first usable
/// family arrives (RFC 8305 §3) and racing the attempts (§5).
pub async fn connect_resolving(
    mut resolving: Resolving,
    port: u16,
    timing: HappyEyeballs,
) -> Result<TcpStream, ConnectError> {
    let mut race = Race::new(timing.attempt_delay, true);
    let mut aaaa_pending = true;
    // Set when A arrives with addresses before AAAA: IPv4 attempts wait for it.
    let mut hold: Option<Sleep> = None;
    let won = poll_fn(|cx| {
        while let Poll::Ready(Some((qtype, outcome))) = resolving.poll_next(cx) {
            let addrs = outcome.unwrap_or_default();
            if qtype == QueryType::Aaaa {
                aaaa_pending = false;
            } else if aaaa_pending && !addrs.is_empty() {
                hold = Some(sleep_until(Instant::now() + timing.resolution_delay));
            }
            race.add(addrs.into_iter().map(|ip| SocketAddr::new(ip, port)));
        }
        // IPv4 may start once AAAA is in, or once the resolution delay after A has passed.
        let can_start = match (&mut hold, aaaa_pending) {
            (_, false) | (None, true) => true,
            (Some(delay), true) => Pin::new(delay).poll(cx).is_ready(),
        };
        race.poll_race(cx, can_start, !resolving.is_done())
    })
    .await;
    match won {
        Some(stream) => Ok(stream),
        None if race.errors.is_empty() => Err(ConnectError::Resolve(resolving.error())),
        None => Err(ConnectError::Connect(race.into_error())),
    }
}

type Attempt = Pin<Box<dyn Future<Output = io::Result<TcpStream>>>>;

/// The connection race: untried addresses per family, running attempts, and what failed.
struct Race {
    v6: VecDeque<SocketAddr>,
    v4: VecDeque<SocketAddr>,
    /// The family of the next attempt when both have addresses (alternates after each start).
    next_v6: bool,
    running: Vec<(SocketAddr, Attempt)>,
    /// When the next attempt may start while others still run.
    next_start: Sleep,
    /// An attempt failed since the last start: the next one need not wait for `next_start`.
    start_now: bool,
    delay: Duration,
    errors: Vec<(SocketAddr, io::Error)>,
}

impl Race {
    fn new(delay: Duration, prefer_v6: bool) -> Race {
        Race {
            v6: VecDeque::new(),
            v4: VecDeque::new(),
            next_v6: prefer_v6,
            running: Vec::new(),
            next_start: sleep_until(Instant::now()),
            start_now: true,
            // RFC 8305 §5: the delay MUST NOT be less than 10 ms, or a slow network gets a burst
            // of parallel handshakes.
            delay: delay.max(MIN_ATTEMPT_DELAY),
            errors: Vec::new(),
        }
    }

    /// Queues addresses, keeping their order within each family and skipping repeats.
    fn add(&mut self, addrs: impl IntoIterator<Item = SocketAddr>) {
        for addr in addrs {
            let queue = if addr.is_ipv6() {
                &mut self.v6
            } else {
                &mut self.v4
            };
            if !queue.contains(&addr) {
                queue.push_back(addr);
            }
        }
    }

    /// The next address per the interleaving rule: the other family than last time, if it has one.
    fn pick(&mut self) -> Option<SocketAddr> {
        let (first, second) = if self.next_v6 {
            (&mut self.v6, &mut self.v4)
        } else {
            (&mut self.v4, &mut self.v6)
        };
        let addr = first.pop_front().or_else(|| second.pop_front())?;
        self.next_v6 = !addr.is_ipv6();
        Some(addr)
    }

    /// Drives the race: `Some(stream)` for the winner, `None` when every attempt failed and nothing
    /// is left to try (`more_coming` false). `can_start` false holds back new attempts (resolution
    /// delay).
    fn poll_race(
        &mut self,
        cx: &mut Context<'_>,
        can_start: bool,
        more_coming: bool,
    ) -> Poll<Option<TcpStream>> {
        loop {
            let mut i = 0;
            while i < self.running.len() {
                match self.running[i].1.as_mut().poll(cx) {
                    Poll::Ready(Ok(stream)) => return Poll::Ready(Some(stream)),
                    Poll::Ready(Err(e)) => {
                        let (addr, _) = self.running.swap_remove(i);
                        self.errors.push((addr, e));
                        self.start_now = true;
                    }
                    Poll::Pending => i += 1,
                }
            }
            let have_next = !self.v6.is_empty() || !self.v4.is_empty();
            if have_next && can_start {
                let due = self.running.is_empty()
                    || self.start_now
                    || Pin::new(&mut self.next_start).poll(cx).is_ready();
                if due {
                    let addr = self.pick().expect("an address is queued");
                    self.running
                        .push((addr, Box::pin(TcpStream::connect(addr))));
                    self.next_start.reset(Instant::now() + self.delay);
                    self.start_now = false;
                    // Poll the new attempt at once, so it registers for wake-ups.
                    continue;
                }
            }
            if self.running.is_empty() && !have_next && !more_coming {
                return Poll::Ready(None);
            }
            return Poll::Pending;
        }
    }

    /// The error for a race that nobody won, worded like the rest of the client's errors: the last
    /// failure and its address, then every earlier one (kind: the last failure's). The last
    /// failure's own `io::Error` is kept as the source ([`AttemptsFailed`]).
    fn into_error(mut self) -> io::Error {
        let Some((addr, last)) = self.errors.pop() else {
            return io::Error::new(io::ErrorKind::InvalidInput, "no addresses to connect to");
        };
        let mut text = format!("{} while connecting to {addr}", describe_io(&last));
        if !self.errors.is_empty() {
            let others: Vec<String> = self
                .errors
                .iter()
                .map(|(addr, e)| format!("{addr}: {}", describe_io(e)))
                .collect();
            let n = others.len();
            text.push_str(&format!(
                " (after {n} other address{} failed: {})",
                if n == 1 { "" } else { "es" },
                others.join("; ")
            ));
        }
        io::Error::new(last.kind(), AttemptsFailed { text, last })
    }
}

/// The error inside the `io::Error` of a connection race that nobody won: the summary of every
/// attempt as its text, and the last attempt's own `io::Error` as its
/// [`source`](std::error::Error::source).
///
/// Why keep it: the summary is for people, but programs need the operating system's code of the
/// failure, e.g. `EMFILE` ("out of file descriptors, retry later") as opposed to "connection
/// refused". `io::Error::source` passes through to this error's source, so walking the `source()`
/// chain of a [`crate::Error`] reaches the original `io::Error` and its
/// [`raw_os_error`](io::Error::raw_os_error):
///
/// ```
/// use spool_client::connect::{connect_happy, CONNECTION_ATTEMPT_DELAY};
/// use std::error::Error as _;
///
/// spool_runtime::block_on(async {
///     let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
///     // Nothing listens there any more: refused.
///     let err = connect_happy(vec![free], CONNECTION_ATTEMPT_DELAY).await.unwrap_err();
///     let os = err.source().and_then(|e| e.downcast_ref::<std::io::Error>()).unwrap();
///     assert_eq!(os.kind(), std::io::ErrorKind::ConnectionRefused);
///     assert!(os.raw_os_error().is_some());
/// });
/// ```
#[derive(Debug)]
pub struct AttemptsFailed {
    /// "connection refused while connecting to 127.0.0.1:80 (after 1 other address failed: ...)".
    text: String,
    /// The last attempt's error, untouched (its OS code included).
    last: io::Error,
}

impl AttemptsFailed {
    /// The error of the last attempt that failed.
    pub fn last_error(&self) -> &io::Error {
        &self.last
    }
}

impl fmt::Display for AttemptsFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for AttemptsFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// Walks `err`'s `source()` chain to the first `io::Error` with an OS code.
    fn os_code(err: &(dyn std::error::Error + 'static)) -> Option<i32> {
        let mut cur = Some(err);
        while let Some(e) = cur {
            if let Some(code) = e
                .downcast_ref::<io::Error>()
                .and_then(io::Error::raw_os_error)
            {
                return Some(code);
            }
            cur = e.source();
        }
        None
    }

    #[test]
    fn the_last_attempts_os_error_stays_in_the_source_chain() {
        spool_runtime::block_on(async {
            let mut race = Race::new(CONNECTION_ATTEMPT_DELAY, false);
            let first: SocketAddr = "127.0.0.2:80".parse().unwrap();
            let last: SocketAddr = "127.0.0.3:80".parse().unwrap();
            race.errors
                .push((first, io::Error::from_raw_os_error(libc::ECONNREFUSED)));
            race.errors
                .push((last, io::Error::from_raw_os_error(libc::EMFILE)));
            let err = race.into_error();
            // The text summarises both attempts, in the client's words (no "os error" suffix).
            let text = err.to_string();
            assert!(
                text.starts_with("too many open files while connecting to 127.0.0.3:80"),
                "{text}"
            );
            assert!(text.contains("127.0.0.2:80: connection refused"), "{text}");
            // The summary itself has no code; the chain leads to the last attempt's.
            assert_eq!(err.raw_os_error(), None);
            assert_eq!(os_code(&err), Some(libc::EMFILE));
            let inner = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<AttemptsFailed>());
            assert_eq!(
                inner.unwrap().last_error().raw_os_error(),
                Some(libc::EMFILE)
            );
            // Wrapped as the client wraps it, the code is still found.
            let client_err = crate::Error::new(crate::ErrorKind::Connect, text).with_source(err);
            assert_eq!(os_code(&client_err), Some(libc::EMFILE));
        });
    }

    #[test]
    fn a_refused_connection_keeps_its_code() {
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = spool_runtime::block_on(connect_happy(vec![free], CONNECTION_ATTEMPT_DELAY))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(os_code(&err), Some(libc::ECONNREFUSED));
        assert!(err.source().is_some());
    }
}
