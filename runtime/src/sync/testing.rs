//! Test helpers: a waker that counts its wake-ups, and a one-line manual poll.
//!
//! The sync primitives are tested without any executor: a test polls futures by hand and checks,
//! through the counter, that a wake happens exactly when progress became possible.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Counts how often any waker made from it was woken.
#[derive(Default)]
pub(crate) struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A fresh waker and the counter behind it.
pub(crate) fn counting_waker() -> (Waker, Arc<Counter>) {
    let counter = Arc::new(Counter::default());
    (Waker::from(counter.clone()), counter)
}

impl Counter {
    pub(crate) fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Polls `fut` once with `waker`.
pub(crate) fn poll<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}
