//! The thread-local "current runtime": how `spawn`, `sleep` and sockets find the loop they belong to.
//!
//! `block_on` installs the runtime's parts here for as long as it runs and removes them afterwards. Free
//! functions such as [`crate::spawn`] then reach the executor, the timers and the reactor without threading
//! a handle through every call, the same ergonomics tokio and smol give.
//!
//! # One slot per layer
//! This module sits *below* the executor and the timers: it knows the reactor (one layer down) and
//! nothing above it. Each layer above keeps its own part of the current runtime in a [`Current`] of its own
//! (the executor in `executor/current.rs`, the timer store in `time/current.rs`, the reactor here), and
//! `Runtime::block_on` enters all of them. So no layer names a layer above it, and a lookup costs what it
//! did with one shared slot: one thread-local access and a `RefCell` borrow.
//!
//! # Runtime identity
//! Every runtime gets a [`RuntimeId`], unique in the process. Resources that keep a key into one
//! runtime's tables (a socket's reactor slot, a sleep's timer entry) keep the id beside it and check it
//! on every use, so a socket or a sleep carried into another runtime fails with a message naming the
//! problem instead of reading a stranger's slot (see [`RuntimeId::check`]).

use crate::reactor::Reactor;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::LocalKey;

/// Which runtime a resource belongs to. Never reused within a process (64 bits do not wrap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct RuntimeId(u64);

impl RuntimeId {
    /// A fresh id, different from every other runtime's in this process.
    pub(crate) fn next() -> RuntimeId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        RuntimeId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// Panic with a message naming `what` if it was registered with runtime `self` but is used in
    /// `current`. Each runtime's keys index its own tables only: used elsewhere, a key would name some
    /// other resource (a read that hangs, a drop that deregisters a stranger's socket).
    #[inline]
    pub(crate) fn check(self, current: RuntimeId, what: &str) {
        if self != current {
            panic!(
                "spool: this {what} was registered with another runtime (#{}) and is used in runtime #{}; \
                 sockets and timers belong to the runtime they were first used in, so create them inside \
                 the `block_on` (or a task of it) that uses them",
                self.0, current.0
            );
        }
    }
}

/// The part of the current runtime this layer owns: its identity and its reactor.
pub(crate) struct Io {
    pub(crate) id: RuntimeId,
    pub(crate) reactor: Reactor,
}

/// One layer's part of the current runtime, `None` outside `block_on`.
pub(crate) struct Current<T: 'static>(RefCell<Option<Rc<T>>>);

impl<T> Current<T> {
    pub(crate) const fn new() -> Current<T> {
        Current(RefCell::new(None))
    }
}

thread_local! {
    static IO: Current<Io> = const { Current::new() };
}

/// Panic because `what` was called with no runtime running on this thread.
#[cold]
#[inline(never)]
fn no_runtime(what: &str) -> ! {
    panic!(
        "spool: {what} needs a running spool runtime, but none is running on this thread \
         (call it inside `spool_runtime::block_on` or a task it spawned)"
    )
}

/// Run `f` with the value in `slot`.
///
/// # Panics
/// Outside `block_on`, with a message saying so: spawning a task or creating a socket needs a running loop.
#[inline]
pub(crate) fn with<T, R>(
    slot: &'static LocalKey<Current<T>>,
    what: &str,
    f: impl FnOnce(&T) -> R,
) -> R {
    slot.with(|s| match s.0.borrow().as_deref() {
        Some(value) => f(value),
        None => no_runtime(what),
    })
}

/// Like [`with`], but `None` when no runtime runs here (used by destructors, which must not panic).
#[inline]
pub(crate) fn try_with<T, R>(
    slot: &'static LocalKey<Current<T>>,
    f: impl FnOnce(&T) -> R,
) -> Option<R> {
    slot.try_with(|s| s.0.borrow().as_deref().map(f))
        .ok()
        .flatten()
}

/// Installs `value` in `slot`; the returned guard takes it out again, even when the future panics.
pub(crate) fn enter<T>(slot: &'static LocalKey<Current<T>>, value: Rc<T>) -> Entered<T> {
    slot.with(|s| {
        let mut cur = s.0.borrow_mut();
        assert!(
            cur.is_none(),
            "spool: block_on was called while a spool runtime is already running on this thread; \
             nested block_on would deadlock the loop — `.await` the future or `spawn` it instead"
        );
        *cur = Some(value);
    });
    Entered(slot)
}

/// Takes a layer's part out of its slot when dropped (the end of `block_on`).
pub(crate) struct Entered<T: 'static>(&'static LocalKey<Current<T>>);

impl<T> Drop for Entered<T> {
    fn drop(&mut self) {
        let value = self.0.with(|s| s.0.borrow_mut().take());
        drop(value); // after the borrow: dropping may run destructors that look at the slot
    }
}

/// Run `f` with the current runtime's reactor part (see [`with`]).
#[inline]
pub(crate) fn with_io<R>(what: &str, f: impl FnOnce(&Io) -> R) -> R {
    with(&IO, what, f)
}

/// Like [`with_io`], `None` outside a runtime.
#[inline]
pub(crate) fn try_with_io<R>(f: impl FnOnce(&Io) -> R) -> Option<R> {
    try_with(&IO, f)
}

/// Install the reactor part of a runtime (the first of the slots `block_on` enters: it also refuses a
/// nested `block_on`).
pub(crate) fn enter_io(io: Rc<Io>) -> Entered<Io> {
    enter(&IO, io)
}

/// Whether a runtime is running on this thread right now.
pub(crate) fn is_running() -> bool {
    IO.with(|s| s.0.borrow().is_some())
}
