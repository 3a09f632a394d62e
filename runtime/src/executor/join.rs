//! `JoinHandle`: how a task's result (or its panic, or its cancellation, as a [`JoinError`]) reaches
//! whoever awaits it.
//!
//! A `JoinHandle` holds a reference to the task's own allocation (see [`super::raw`]): the output waits
//! there until the handle takes it. If the task is dropped before it finishes (abort, or the end of
//! `block_on`), the outcome is a "cancelled" error instead, so a waiter is never left hanging.
//!
//! `JoinSet` members deliver their outcome to the set instead, through a [`Sink`]: the task's future is
//! wrapped so that its outcome is handed to the sink exactly once, and a [`SinkGuard`] reports
//! "cancelled" if the wrapper is dropped first.

use super::join_error::JoinError;

use super::current;
use super::JoinRef;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Where a finished task's outcome goes. Called exactly once per task.
pub(crate) trait Sink<T>: 'static {
    fn complete(self, result: Result<T, JoinError>);
}

/// Hands `Cancelled` to the sink if the task is dropped before it completes.
pub(crate) struct SinkGuard<T, S: Sink<T>> {
    sink: Option<S>,
    _out: std::marker::PhantomData<fn(T)>,
}

impl<T, S: Sink<T>> SinkGuard<T, S> {
    pub(crate) fn new(sink: S) -> Self {
        SinkGuard {
            sink: Some(sink),
            _out: std::marker::PhantomData,
        }
    }

    pub(crate) fn complete(mut self, result: Result<T, JoinError>) {
        if let Some(sink) = self.sink.take() {
            sink.complete(result);
        }
    }
}

impl<T, S: Sink<T>> Drop for SinkGuard<T, S> {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            sink.complete(Err(JoinError::cancelled()));
        }
    }
}

/// An owned permission to await a spawned task's result, or to abort it.
///
/// Awaiting gives `Ok(value)`, or `Err(JoinError)` if the task panicked or was cancelled. Dropping the
/// handle *detaches* the task: it keeps running, and its output is dropped when it finishes.
///
/// ```
/// let v = spool_runtime::block_on(async {
///     let h = spool_runtime::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(v, 42);
/// ```
pub struct JoinHandle<T> {
    raw: JoinRef<T>,
}

impl<T: 'static> JoinHandle<T> {
    pub(crate) fn new(raw: JoinRef<T>) -> JoinHandle<T> {
        JoinHandle { raw }
    }

    /// Cancel the task: its future is dropped (destructors run, sockets close, timers are removed) and
    /// awaiting the handle gives a cancelled `JoinError`. Does nothing if the task already finished.
    ///
    /// ```
    /// use std::time::Duration;
    /// spool_runtime::block_on(async {
    ///     let h = spool_runtime::spawn(spool_runtime::time::sleep(Duration::from_secs(3600)));
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        if self.raw.is_finished() {
            return;
        }
        let task = self.raw.task();
        if task.cancel() {
            // The task was dropped: take it out of the slab of the runtime running here (the handle is
            // `!Send`, so that is the task's own runtime if any runs).
            current::try_with(|ex| ex.remove(&task));
        }
    }

    /// Whether the task has finished (with a value, a panic or a cancellation).
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().raw.poll(cx)
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.raw.id())
            .finish()
    }
}
