//! The driver boundary: the only place that knows *how* the operating system reports I/O readiness.
//!
//! Everything above this module (the reactor, the executor, timers, sockets) speaks in three small words:
//! a [`Token`] names a registered file descriptor, an [`Event`] says which of its directions became ready,
//! and an [`Unparker`] lets another thread interrupt a blocking [`Driver::poll`]. Today the only backend is
//! [`mio`](self::mio) (epoll on Linux). A completion-based backend such as io_uring would be a second file
//! here, selected by the [`Driver`] alias, without edits to the executor, the timers or the net types.
//!
//! Contract every backend keeps (the reactor relies on it):
//! - Registration is **edge-triggered** for both directions at once: an event is reported when a direction
//!   *becomes* ready, not while it stays ready. Whoever reads or writes must keep going until the kernel
//!   says `WouldBlock`, and only then wait for the next event.
//! - Events are **hints**: a readable event may be followed by `WouldBlock` (spurious), so callers always
//!   retry the operation rather than trusting the event.
//! - `poll(None)` blocks until an event or an unpark; `poll(Some(d))` blocks at most `d`, rounding
//!   sub-millisecond waits *up*, so a short timer never turns into a busy loop.

mod mio;

use std::time::Duration;

/// The backend in use. A second backend would be chosen here (by `cfg` or a builder option).
pub(crate) type Driver = self::mio::MioDriver;

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

/// A handle another thread uses to make a blocked [`Driver::poll`] return early.
pub(crate) type Unparker = self::mio::MioUnparker;

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
}
