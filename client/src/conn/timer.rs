//! The time limits of one exchange on a connection, folded into a single timer.
//!
//! Two limits can apply at once: the whole-request deadline (fixed) and the read-idle limit (restarts
//! whenever bytes move). Only the earlier one matters at any moment, so one [`Sleep`] serves both:
//! it is registered only when the I/O half actually has to wait, and moved only when the earlier
//! deadline changed. A request that never waits never touches the timer heap; one that waits once
//! (the usual keep-alive request) costs one insert and one cancel.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use spool_runtime::time::{sleep_until, Sleep};

/// Which limit passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// The whole-request timeout (its configured length).
    Request(Duration),
    /// No bytes moved for the read timeout (its configured length).
    Idle(Duration),
}

/// The deadlines of one request's I/O.
#[derive(Debug)]
pub(crate) struct Timer {
    /// Whole-request deadline and the timeout it came from (for the message).
    request: Option<(Instant, Duration)>,
    /// The read-idle limit.
    idle: Option<Duration>,
    /// When the current wait times out for idleness; `None` until a wait starts after progress.
    idle_deadline: Option<Instant>,
    /// Created on the first wait, then reset as deadlines move.
    sleep: Option<Sleep>,
}

impl Timer {
    /// `started`: when the exchange began. The first wait's idle limit counts from there, which
    /// saves reading the clock again for the usual single wait of a keep-alive request.
    pub(crate) fn new(
        request: Option<(Instant, Duration)>,
        idle: Option<Duration>,
        started: Instant,
    ) -> Timer {
        Timer {
            request,
            idle,
            idle_deadline: idle.and_then(|d| started.checked_add(d)),
            sleep: None,
        }
    }

    /// Bytes moved: the read-idle limit starts again at the next wait.
    #[inline]
    pub(crate) fn progress(&mut self) {
        self.idle_deadline = None;
    }

    /// Called when I/O returned `Pending`: `Ready` if a limit has passed (the caller gives up),
    /// otherwise the task will be woken when the earlier deadline comes.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<Expired> {
        if self.idle_deadline.is_none() {
            if let Some(idle) = self.idle {
                let now = Instant::now();
                self.idle_deadline = Some(now.checked_add(idle).unwrap_or(now));
            }
        }
        let (deadline, which) = match (self.request, self.idle_deadline) {
            (None, None) => return Poll::Pending,
            (Some((at, total)), None) => (at, Expired::Request(total)),
            (None, Some(at)) => (at, Expired::Idle(self.idle.unwrap_or_default())),
            (Some((r, total)), Some(i)) if r <= i => (r, Expired::Request(total)),
            (Some(_), Some(i)) => (i, Expired::Idle(self.idle.unwrap_or_default())),
        };
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != deadline {
                    sleep.reset(deadline);
                }
                sleep
            }
            None => self.sleep.insert(sleep_until(deadline)),
        };
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(which),
            Poll::Pending => Poll::Pending,
        }
    }
}
