//! `Interval`: ticks at a fixed period.

use super::sleep::{sleep_until, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Ticks every `period`, the first tick at once.
///
/// Ticks stay on the fixed schedule `start + k·period`: a slow consumer does not make the schedule drift.
/// If the consumer falls more than a whole period behind, the missed ticks are skipped (not delivered in a
/// burst) and the schedule continues from the next multiple of the period.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// spool_runtime::block_on(async {
///     let mut every = spool_runtime::time::interval(Duration::from_millis(2));
///     for _ in 0..3 {
///         every.tick().await;
///     }
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "interval period must be greater than zero"
    );
    Interval {
        sleep: sleep_until(start),
        period,
    }
}

/// The stream of ticks returned by [`interval`].
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
}

impl Interval {
    /// Wait for the next tick; returns its scheduled time.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Poll form of [`Interval::tick`].
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        let mut next = scheduled + self.period;
        if next <= now {
            // Behind by more than a period: skip to the next point of the schedule after now.
            let behind = now.duration_since(scheduled).as_nanos() / self.period.as_nanos();
            next = scheduled + self.period * (behind as u32 + 1);
        }
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}
