//! The timer store of the runtime running on this thread (see [`crate::context`] for why each layer
//! keeps its own slot).

use super::timers::Timers;
use crate::context::{self, Current, Entered};
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    static TIMERS: Current<RefCell<Timers>> = const { Current::new() };
}

/// Run `f` with the current timer store; panics outside a runtime, naming `what` needed one.
#[inline]
pub(crate) fn with<R>(what: &str, f: impl FnOnce(&mut Timers) -> R) -> R {
    context::with(&TIMERS, what, |t| f(&mut t.borrow_mut()))
}

/// Like [`with`], `None` outside a runtime (for destructors).
#[inline]
pub(crate) fn try_with<R>(f: impl FnOnce(&mut Timers) -> R) -> Option<R> {
    context::try_with(&TIMERS, |t| f(&mut t.borrow_mut()))
}

/// Make `timers` current until the guard drops (`block_on`).
pub(crate) fn enter(timers: Rc<RefCell<Timers>>) -> Entered<RefCell<Timers>> {
    context::enter(&TIMERS, timers)
}
