//! Time: sleeping, timeouts and intervals, driven by the loop's timer store.
//!
//! Each loop turn fires the timers that are due, and the next deadline becomes the timeout of the kernel
//! wait, so a runtime with only sleeping tasks blocks in `epoll_wait` and uses no CPU until then.

pub(crate) mod current;
mod heap;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod timers;

pub use interval::{interval, interval_at, Interval};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed};
