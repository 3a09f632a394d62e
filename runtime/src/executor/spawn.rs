//! `spawn`: turning a future into a task the executor owns.
//!
//! The future is wrapped in an `async` block that polls it inside `catch_unwind` (so a panicking task is
//! reported through its handle and the loop keeps running) and then hands the outcome to a sink. The whole
//! wrapper is boxed once: that box is the task's only per-task allocation besides its waker and the
//! result cell.

use super::join::{JoinError, JoinHandle, Sink, SinkGuard};
use crate::context;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;

/// Run `future` as a new task on the current runtime and return a handle to its result.
///
/// The future need not be `Send`: everything runs on the loop's one thread. The task starts at the next
/// turn of the loop, not inside `spawn`.
///
/// # Panics
/// When called outside a running runtime.
///
/// ```
/// spool_runtime::block_on(async {
///     let handles: Vec<_> = (0..3).map(|i| spool_runtime::spawn(async move { i * 2 })).collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     assert_eq!(sum, 6);
/// });
/// ```
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let (handle, inner) = JoinHandle::new();
    let id = spawn_with_sink(future, inner);
    handle.set_id(id);
    handle
}

/// Spawn `future`, delivering its outcome to `sink`. Returns the task id.
pub(crate) fn spawn_with_sink<F, S>(future: F, sink: S) -> usize
where
    F: Future + 'static,
    F::Output: 'static,
    S: Sink<F::Output>,
{
    // The guard is created out here and moved in, so that it exists (and reports "cancelled" when dropped)
    // even if the task is aborted before its first poll.
    let guard = SinkGuard::new(sink);
    let task = async move {
        let outcome = {
            // Pinned inside this block so the user's future is dropped (its destructors run) before the
            // outcome is published to whoever waits for it.
            let mut future = pin!(future);
            poll_fn(
                |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                    Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
                    Ok(Poll::Pending) => Poll::Pending,
                    Err(payload) => Poll::Ready(Err(JoinError::panic(payload))),
                },
            )
            .await
        };
        guard.complete(outcome);
    };
    context::with_core("spawn", |core| {
        core.executor.insert(Box::pin(task), &core.shared)
    })
}
