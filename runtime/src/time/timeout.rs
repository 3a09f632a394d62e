//! `timeout`: race a future against a deadline.

use super::sleep::{deadline_after, sleep_until};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::{Duration, Instant};

/// The error of a [`timeout`] whose deadline passed first. Distinct from the inner future's own errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Run `future`, giving up after `duration` (counted from this call, not from the first poll).
///
/// The future is polled first, so one that is already complete wins even at a zero timeout. When the
/// deadline passes, the future is dropped, which cancels whatever it was doing.
///
/// Memory: like any `async fn` today, this keeps both the future it was given and its pinned copy in its
/// state, so wrapping a large future (kilobytes, e.g. a connect with a TLS handshake) costs twice its
/// size. Pass `Box::pin(fut)` for such futures when many run at once.
///
/// ```
/// use spool_runtime::time::{sleep, timeout};
/// use std::time::Duration;
/// spool_runtime::block_on(async {
///     assert_eq!(timeout(Duration::from_secs(1), async { 5 }).await, Ok(5));
///     assert!(timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await.is_err());
/// });
/// ```
pub fn timeout<F: Future>(
    duration: Duration,
    future: F,
) -> impl Future<Output = Result<F::Output, Elapsed>> {
    timeout_at(deadline_after(duration), future)
}

/// Like [`timeout`], with an absolute deadline.
pub async fn timeout_at<F: Future>(deadline: Instant, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    let mut sleep = sleep_until(deadline);
    poll_fn(|cx| {
        if let Poll::Ready(v) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
