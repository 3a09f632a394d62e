//! `spawn`: turning a future into a task the executor owns.
//!
//! A task is one allocation holding the future, its state and, later, its output (see [`super::raw`]).
//! The executor polls it inside `catch_unwind`, so a panicking task is reported through its handle and
//! the loop keeps running.
//!
//! `JoinSet` members are spawned the same way around a small wrapper that hands the outcome to the set
//! (its sink) instead of keeping it for a `JoinHandle`.

use super::current;
use super::join::{JoinHandle, Sink, SinkGuard};
use super::join_error::JoinError;
use super::task_info::TaskLabel;
use super::Executor;
use std::borrow::Cow;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;

/// Run `future` as a new task on the current runtime and return a handle to its result.
///
/// The future need not be `Send`: everything runs on the loop's one thread. The task starts at the next
/// turn of the loop, not inside `spawn`.
///
/// Diagnostics (slow-poll reports, the watchdog, [`crate::tasks`]) name the task by the `file:line` of
/// this call; give it a name with [`spawn_named`].
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
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // Read here, outside the closure: `#[track_caller]` does not reach into closures.
    let label = TaskLabel::new(Location::caller(), None);
    current::with("spawn", |ex| JoinHandle::new(ex.spawn(future, label)))
}

/// [`spawn`] with a name that diagnostics show beside the spawn site.
///
/// The name is copied into an `Arc<str>` (one allocation per named spawn), which the watchdog thread can
/// share; unnamed tasks allocate nothing for their label.
///
/// ```
/// spool_runtime::block_on(async {
///     let h = spool_runtime::spawn_named("answer", async { 42 });
///     let names: Vec<_> = spool_runtime::tasks().iter().map(|t| t.label.name().map(String::from)).collect();
///     assert_eq!(names, [Some("answer".to_string())]);
///     assert_eq!(h.await.unwrap(), 42);
/// });
/// ```
#[track_caller]
pub fn spawn_named<F>(name: impl Into<Cow<'static, str>>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let label = TaskLabel::new(Location::caller(), Some(name.into()));
    current::with("spawn", |ex| JoinHandle::new(ex.spawn(future, label)))
}

/// Futures larger than this are boxed on their own before being wrapped (see [`spawn_member`]).
const INLINE_FUTURE_MAX: usize = 128;

/// Spawn `future`, delivering its outcome to `sink`. Returns the task's slab key.
#[track_caller]
pub(crate) fn spawn_with_sink<F, S>(future: F, sink: S) -> usize
where
    F: Future + 'static,
    F::Output: 'static,
    S: Sink<F::Output>,
{
    let label = TaskLabel::new(Location::caller(), None);
    current::with("spawn", |ex| spawn_member(ex, future, sink, label))
}

/// Spawn the wrapper for `future` on `executor`, detached (the sink receives the outcome).
///
/// The wrapper is an `async` block that pins the future in its own state. Today's compiler keeps both
/// the captured future and the pinned copy in that state, so a 4 KiB future would make an 8 KiB task. A
/// large future is therefore boxed first (the wrapper then holds an 8-byte pointer); a small one stays
/// inline, where the copy costs less than a second allocation would.
fn spawn_member<F, S>(executor: &Executor, future: F, sink: S, label: TaskLabel) -> usize
where
    F: Future + 'static,
    F::Output: 'static,
    S: Sink<F::Output>,
{
    let join = if std::mem::size_of::<F>() > INLINE_FUTURE_MAX {
        executor.spawn(wrap(Box::pin(future), sink), label)
    } else {
        executor.spawn(wrap(future, sink), label)
    };
    join.id() // the handle is dropped here: the task is detached
}

/// Poll `future` under `catch_unwind` and hand its outcome to `sink`.
fn wrap<F, S>(future: F, sink: S) -> impl Future<Output = ()>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Sink<F::Output>,
{
    // The guard is created out here and moved in, so that it exists (and reports "cancelled" when dropped)
    // even if the task is aborted before its first poll.
    let guard = SinkGuard::new(sink);
    async move {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn big_future() -> u8 {
        let a = [7u8; 4096];
        std::future::ready(()).await;
        a[0]
    }

    /// A `JoinSet` member for a large future costs about the future itself, not twice it: the wrapper
    /// around the boxed future (what `spawn_member` spawns for it) is small.
    #[test]
    fn a_large_member_future_is_not_stored_twice() {
        assert!(std::mem::size_of_val(&big_future()) >= 4096);
        let size = std::mem::size_of_val(&wrap(Box::pin(big_future()), Discard));
        assert!(size < 256, "the wrapper holds {size} bytes");
    }

    /// A small member future stays inline (no second allocation), and its wrapper stays small.
    #[test]
    fn a_small_member_future_stays_inline() {
        let size = std::mem::size_of_val(&wrap(async { 1u8 }, Discard));
        assert!(size <= INLINE_FUTURE_MAX * 2 + 64, "{size}");
    }

    struct Discard;
    impl Sink<u8> for Discard {
        fn complete(self, _: Result<u8, JoinError>) {}
    }
}
