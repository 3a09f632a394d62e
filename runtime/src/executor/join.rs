//! `JoinHandle` and `JoinError`: how a task's result (or its panic, or its cancellation) reaches whoever
//! awaits it.
//!
//! A spawned future is wrapped so that its outcome is handed to a *sink* exactly once: the `JoinHandle`'s
//! shared cell, or a `JoinSet`'s completion queue. If the task is dropped before it finishes (abort, or
//! the end of `block_on`), the wrapper's guard hands the sink a "cancelled" error instead, so a waiter is
//! never left hanging.

use crate::context;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

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

/// Why a task produced no value.
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled() -> JoinError {
        JoinError {
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            repr: Repr::Panic(payload),
        }
    }

    /// The task was aborted, or dropped when its runtime stopped.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task did not panic.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.repr {
            Repr::Panic(p) => p,
            Repr::Cancelled => panic!("JoinError::into_panic called on a cancelled task"),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => f.write_str("task was cancelled"),
            (Repr::Panic(_), Some(msg)) => write!(f, "task panicked: {msg}"),
            (Repr::Panic(_), None) => f.write_str("task panicked"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}

enum State<T> {
    Running,
    Done(Result<T, JoinError>),
    Taken,
}

/// The cell shared by a task and its `JoinHandle`.
pub(crate) struct JoinInner<T> {
    state: RefCell<State<T>>,
    waiter: Cell<Option<Waker>>,
    /// The task's slab id; valid only while the state is `Running` (the slot is freed when it finishes).
    id: Cell<usize>,
}

impl<T: 'static> Sink<T> for Rc<JoinInner<T>> {
    fn complete(self, result: Result<T, JoinError>) {
        *self.state.borrow_mut() = State::Done(result);
        if let Some(w) = self.waiter.take() {
            w.wake();
        }
    }
}

/// An owned permission to await a spawned task's result, or to abort it.
///
/// Awaiting gives `Ok(value)`, or `Err(JoinError)` if the task panicked or was cancelled. Dropping the
/// handle *detaches* the task: it keeps running.
///
/// ```
/// let v = spool_runtime::block_on(async {
///     let h = spool_runtime::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(v, 42);
/// ```
pub struct JoinHandle<T> {
    inner: Rc<JoinInner<T>>,
}

impl<T: 'static> JoinHandle<T> {
    pub(crate) fn new() -> (JoinHandle<T>, Rc<JoinInner<T>>) {
        let inner = Rc::new(JoinInner {
            state: RefCell::new(State::Running),
            waiter: Cell::new(None),
            id: Cell::new(usize::MAX),
        });
        (
            JoinHandle {
                inner: inner.clone(),
            },
            inner,
        )
    }

    pub(crate) fn set_id(&self, id: usize) {
        self.inner.id.set(id);
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
        if matches!(*self.inner.state.borrow(), State::Running) {
            let id = self.inner.id.get();
            context::try_with_core(|core| core.executor.abort(id));
        }
    }

    /// Whether the task has finished (with a value, a panic or a cancellation).
    pub fn is_finished(&self) -> bool {
        !matches!(*self.inner.state.borrow(), State::Running)
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.inner.state.borrow_mut();
        match std::mem::replace(&mut *state, State::Taken) {
            State::Done(result) => Poll::Ready(result),
            State::Running => {
                *state = State::Running;
                self.inner.waiter.set(Some(cx.waker().clone()));
                Poll::Pending
            }
            State::Taken => panic!("JoinHandle polled again after it returned its result"),
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.inner.id.get())
            .finish()
    }
}
