//! The thread-local "current runtime": how `spawn`, `sleep` and sockets find the loop they belong to.
//!
//! `block_on` installs the runtime's [`Core`] here for as long as it runs and removes it afterwards. Free
//! functions such as [`crate::spawn`] then reach the executor, the timers and the reactor without threading
//! a handle through every call, the same ergonomics tokio and smol give.

use crate::executor::Executor;
use crate::reactor::Reactor;
use crate::time::timers::Timers;
use std::cell::RefCell;
use std::rc::Rc;

/// Everything one runtime owns. Shared by `Rc` between the `Runtime` value and the thread-local.
pub(crate) struct Core {
    pub(crate) executor: Executor,
    pub(crate) timers: RefCell<Timers>,
    pub(crate) reactor: Reactor,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Run `f` with the current runtime's core.
///
/// # Panics
/// Outside `block_on`, with a message saying so: spawning a task or creating a socket needs a running loop.
pub(crate) fn with_core<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    CURRENT.with(|cur| match cur.borrow().as_ref() {
        Some(core) => f(core),
        None => panic!(
            "spool: {what} needs a running spool runtime, but none is running on this thread \
             (call it inside `spool_runtime::block_on` or a task it spawned)"
        ),
    })
}

/// Like [`with_core`], but `None` when no runtime runs here (used by destructors, which must not panic).
pub(crate) fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    CURRENT
        .try_with(|cur| cur.borrow().as_ref().map(|core| f(core)))
        .ok()
        .flatten()
}

/// Whether a runtime is running on this thread right now.
pub(crate) fn is_running() -> bool {
    CURRENT.with(|cur| cur.borrow().is_some())
}

/// Installs `core` as current; the returned guard uninstalls it, even when the future panics.
pub(crate) fn enter(core: Rc<Core>) -> EnterGuard {
    CURRENT.with(|cur| {
        let mut cur = cur.borrow_mut();
        assert!(
            cur.is_none(),
            "spool: block_on was called while a spool runtime is already running on this thread; \
             nested block_on would deadlock the loop — `.await` the future or `spawn` it instead"
        );
        *cur = Some(core);
    });
    EnterGuard(())
}

pub(crate) struct EnterGuard(());

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let core = CURRENT.with(|cur| cur.borrow_mut().take());
        drop(core);
    }
}
