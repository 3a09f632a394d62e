//! `Sleep`: a future that completes at a deadline.
//!
//! A `Sleep` registers with the timer store only when it is first polled and would have to wait, so a
//! sleep that is created and dropped (e.g. a timeout around a request that finishes first) costs nothing
//! more than an `Instant` comparison, and one that is polled costs an O(log n) insert and an O(1) cancel.

use super::current;
use super::timers::TimerKey;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Wait until `duration` has passed.
///
/// Never completes early; it completes at the first loop turn at or after the deadline (the kernel wait is
/// rounded up to whole milliseconds).
///
/// A `Sleep` belongs to the runtime it is first polled in: polling it later in another runtime panics
/// with a message saying so (its timer lives in the first runtime's store).
///
/// ```
/// use std::time::{Duration, Instant};
/// spool_runtime::block_on(async {
///     let start = Instant::now();
///     spool_runtime::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// Wait until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
    }
}

/// `now + duration`, saturating far in the future instead of overflowing.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 30))
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    key: Option<TimerKey>,
}

impl Sleep {
    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Move the deadline (earlier or later); the sleep can be awaited again.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            // Only the runtime that holds the timer can remove it; anywhere else this does nothing
            // (the entry then stays in its store until that runtime is dropped).
            current::try_with(|timers| timers.cancel(key));
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        match self.key {
            Some(key) => {
                // Panics, naming the problem, if the sleep was first polled in another runtime.
                let fired = current::with("sleep", |timers| timers.poll_fired(key, cx.waker()));
                if fired.is_none() {
                    self.key = None;
                    return self.poll(cx);
                }
                if fired == Some(true) {
                    // The store fires a timer only once `Instant::now()` has reached its deadline, so no
                    // second clock read is needed here.
                    self.cancel();
                    return Poll::Ready(());
                }
                Poll::Pending
            }
            None => {
                // The one clock read of a sleep, at its first poll. It stays: a sleep whose deadline has
                // already passed (`sleep(ZERO)`, `sleep_until(past)`, a zero `timeout`) must complete at
                // once without a timer, and only a fresh reading can tell that. Later polls read no clock.
                if Instant::now() >= deadline {
                    return Poll::Ready(());
                }
                let key = current::with("sleep", |timers| timers.insert(deadline, cx.waker()));
                self.key = Some(key);
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
