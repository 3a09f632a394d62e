//! The executor of the runtime running on this thread: where `spawn` puts a task and where a wake on the
//! loop thread queues it (see [`crate::context`] for why each layer keeps its own slot).

use super::Executor;
use crate::context::{self, Current, Entered};
use std::rc::Rc;

thread_local! {
    static EXECUTOR: Current<Executor> = const { Current::new() };
}

/// Run `f` with the current executor; panics outside a runtime, naming `what` needed one.
#[inline]
pub(crate) fn with<R>(what: &str, f: impl FnOnce(&Executor) -> R) -> R {
    context::with(&EXECUTOR, what, f)
}

/// Like [`with`], `None` outside a runtime (for destructors and wakers, which must not panic).
#[inline]
pub(crate) fn try_with<R>(f: impl FnOnce(&Executor) -> R) -> Option<R> {
    context::try_with(&EXECUTOR, f)
}

/// Make `executor` current until the guard drops (`block_on`).
pub(crate) fn enter(executor: Rc<Executor>) -> Entered<Executor> {
    context::enter(&EXECUTOR, executor)
}
