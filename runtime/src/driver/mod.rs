//! The driver boundary: the only place that knows *how* the operating system does I/O for the loop.
//!
//! spool has two backends, chosen once per runtime by [`Driver`] (`Builder::driver`, or the
//! `SPOOL_DRIVER` environment variable for runtimes built without an explicit choice):
//!
//! | | epoll ([`epoll`], readiness) | io_uring ([`uring`], completion) |
//! |---|---|---|
//! | the kernel tells the loop | "this socket *can* be read / written" | "this read / write *happened*: n bytes, or this error" |
//! | who makes the syscall | the net type, after the edge (`recv`, `send`, `accept`, ...) | the kernel, from a submission queue entry (SQE) the net type queued |
//! | per keep-alive request | one `sendto` + one `recvfrom`, `epoll_wait` amortised | nothing of its own: SQEs and completions ride on the loop's one `io_uring_enter` per turn |
//! | where received bytes land | the caller's buffer, during the call | a driver-owned buffer from a *provided-buffer ring*, copied to the caller's buffer when it polls |
//! | where bytes to send sit | the caller's buffer, during the call | a driver-owned copy, until the send's completion arrives |
//! | a dropped future | nothing to undo: no syscall outlives a poll | nothing is lost either: the operation belongs to the *socket*, not the future; dropping the socket cancels it, and its memory lives until the kernel says it is done |
//! | an idle connection holds | a registration | an armed receive (multishot where the kernel has it) and **no** buffer |
//! | waiting for the next timer | `epoll_wait(timeout)` in milliseconds, rounded up | the `io_uring_enter` wait itself, with a nanosecond timeout |
//! | a wake from another thread | `mio::Waker` (an eventfd) | an eventfd too, with a read of it always in flight |
//!
//! Why the net types are shaped as they are: their public API (`poll_read(&self, cx, &mut [u8])`,
//! `futures-io`) lends a buffer for the length of one poll. A readiness driver can use it directly. A
//! completion driver must never hand it to the kernel, because the caller may drop or reuse it while the
//! kernel still writes; so io_uring receives into ring buffers the driver owns and copies out, and sends
//! from a copy it owns. That copy is what lets one API run on both models without `unsafe` in the net
//! types. Each operation has one file under [`crate::net`]'s `op` folder showing both models side by side.
//!
//! Contract of the readiness backend (the [`crate::reactor`] relies on it):
//! - Registration is **edge-triggered** for both directions at once: an event is reported when a direction
//!   *becomes* ready, not while it stays ready. Whoever reads or writes must keep going until the kernel
//!   says `WouldBlock`, and only then wait for the next event.
//! - Events are **hints**: a readable event may be followed by `WouldBlock` (spurious), so callers always
//!   retry the operation rather than trusting the event.
//! - `poll(None)` blocks until an event or an unpark; `poll(Some(d))` blocks at most `d`, rounding
//!   sub-millisecond waits *up*, so a short timer never turns into a busy loop.
//!
//! Contract of the completion backend: see [`uring`]'s module docs (buffer ownership, cancellation, one
//! submission per turn).

pub(crate) mod epoll;
pub(crate) mod uring;

use std::io;
use std::time::Duration;

/// Which I/O driver a runtime uses (see `Builder::driver`).
///
/// The default for runtimes built without an explicit choice comes from the environment variable
/// `SPOOL_DRIVER` (`epoll`, `io_uring` or `auto`), and is [`Driver::Epoll`] when it is unset.
///
/// ```
/// use spool_runtime::{Driver, Runtime};
/// let rt = Runtime::builder().driver(Driver::Auto).build().unwrap();
/// // Auto picks io_uring when the kernel offers every operation spool needs, else epoll.
/// assert!(matches!(rt.stats().driver, Driver::Epoll | Driver::IoUring));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Driver {
    /// Readiness through epoll (via mio): works on every Linux kernel.
    Epoll,
    /// Completion through io_uring. `Builder::build` fails, naming the reason, when the kernel refuses
    /// it (no io_uring, blocked by seccomp or `kernel.io_uring_disabled`, a missing operation).
    IoUring,
    /// io_uring when the kernel offers everything the driver needs, else epoll.
    Auto,
}

impl Driver {
    /// The name used by `SPOOL_DRIVER`, `fetch --driver` and summaries: `epoll`, `io_uring`, `auto`.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Epoll => "epoll",
            Driver::IoUring => "io_uring",
            Driver::Auto => "auto",
        }
    }

    /// Parse a name as `SPOOL_DRIVER` spells it (`io-uring` and `uring` are accepted too).
    pub fn from_name(name: &str) -> Option<Driver> {
        match name.trim().to_ascii_lowercase().as_str() {
            "epoll" => Some(Driver::Epoll),
            "io_uring" | "io-uring" | "uring" => Some(Driver::IoUring),
            "auto" => Some(Driver::Auto),
            _ => None,
        }
    }

    /// The driver runtimes use when none is chosen: `SPOOL_DRIVER`, else [`Driver::Epoll`].
    ///
    /// # Errors
    /// `SPOOL_DRIVER` is set to something that is not a driver name.
    pub fn from_env() -> io::Result<Driver> {
        match std::env::var("SPOOL_DRIVER") {
            Err(_) => Ok(Driver::Epoll),
            Ok(v) if v.trim().is_empty() => Ok(Driver::Epoll),
            Ok(v) => Driver::from_name(&v).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "spool: SPOOL_DRIVER={v:?} is not a driver (use epoll, io_uring or auto)"
                    ),
                )
            }),
        }
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Identifies one registered source; the reactor uses its slab key as the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token(pub(crate) usize);

/// What a source became ready for, as reported by one poll.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) token: Token,
    pub(crate) ready: Ready,
}

/// A small set of readiness flags. Closed and error states count as "ready" in that direction, because
/// the next read or write will return immediately (with 0 bytes or the error), which is what wakes the
/// waiting task up to see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ready(pub(crate) u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// Bytes can be read (or the peer closed, or an error is pending).
    pub const READABLE: Ready = Ready(0b0001);
    /// Bytes can be written (or the connection failed).
    pub const WRITABLE: Ready = Ready(0b0010);
    /// The peer shut down its write side: a read will return 0 once the buffer is drained.
    pub const READ_CLOSED: Ready = Ready(0b0100);
    /// Our write side is closed or the socket is in error.
    pub const WRITE_CLOSED: Ready = Ready(0b1000);

    /// Whether any flag of `other` is set in `self`.
    pub fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }

    /// Flags of `self` that are not in `other`.
    pub fn without(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }

    /// Flags set in both `self` and `other`.
    pub fn intersection(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }

    /// Readiness meaning "a read will not block".
    pub fn read_side() -> Ready {
        Ready(Ready::READABLE.0 | Ready::READ_CLOSED.0)
    }

    /// Readiness meaning "a write will not block".
    pub fn write_side() -> Ready {
        Ready(Ready::WRITABLE.0 | Ready::WRITE_CLOSED.0)
    }
}

impl std::ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

/// A handle another thread uses to make a blocked driver poll return early (clonable, cheap).
#[derive(Clone)]
pub(crate) enum Unparker {
    Epoll(epoll::MioUnparker),
    Uring(uring::UringUnparker),
}

impl Unparker {
    /// Make the loop's current or next poll return at once.
    pub(crate) fn unpark(&self) {
        match self {
            Unparker::Epoll(u) => u.unpark(),
            Unparker::Uring(u) => u.unpark(),
        }
    }
}

/// Round a wait up to whole milliseconds (epoll's resolution), so a 0.3 ms timer sleeps 1 ms instead of
/// spinning with zero-timeout polls until it is due.
pub(crate) fn round_up_to_ms(d: Duration) -> Duration {
    let ms = d.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(ms.min(u64::MAX as u128) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_millisecond_waits_round_up() {
        assert_eq!(
            round_up_to_ms(Duration::from_micros(1)),
            Duration::from_millis(1)
        );
        assert_eq!(
            round_up_to_ms(Duration::from_micros(1500)),
            Duration::from_millis(2)
        );
        assert_eq!(round_up_to_ms(Duration::ZERO), Duration::ZERO);
        assert_eq!(
            round_up_to_ms(Duration::from_millis(7)),
            Duration::from_millis(7)
        );
    }

    #[test]
    fn driver_names_round_trip() {
        for d in [Driver::Epoll, Driver::IoUring, Driver::Auto] {
            assert_eq!(Driver::from_name(d.name()), Some(d));
        }
        assert_eq!(Driver::from_name(" IO-URING "), Some(Driver::IoUring));
        assert_eq!(Driver::from_name("kqueue"), None);
    }
}
