//! Wakers: how "this task can make progress" travels back to the loop.
//!
//! Each task owns one `Arc<TaskWaker>` for its whole life; `std::task::Wake` turns it into a `Waker`
//! without any `unsafe`. Waking pushes the task id onto a ready queue:
//! - on the loop's own thread, straight onto the executor's queue (no lock);
//! - from any other thread, onto [`Shared::remote`] under a mutex, then the driver's unparker makes a
//!   blocked `epoll_wait` return so the loop picks the id up.
//!
//! The `scheduled` flag makes a burst of wakes before the next poll queue the task only once.

use crate::context;
use crate::driver::Unparker;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

/// The part of a runtime that other threads can reach.
pub(crate) struct Shared {
    /// Task ids woken from other threads, drained by the loop after each poll.
    remote: Mutex<Vec<usize>>,
    /// Cheap check so the loop only takes the mutex when something is there.
    remote_pending: AtomicBool,
    unparker: Unparker,
}

impl Shared {
    pub(crate) fn new(unparker: Unparker) -> Shared {
        Shared {
            remote: Mutex::new(Vec::new()),
            remote_pending: AtomicBool::new(false),
            unparker,
        }
    }

    /// Take the ids woken from other threads since the last call.
    pub(crate) fn take_remote(&self, into: &mut Vec<usize>) {
        if self.remote_pending.swap(false, Ordering::AcqRel) {
            let mut remote = self.remote.lock().unwrap_or_else(|p| p.into_inner());
            into.append(&mut remote);
        }
    }

    fn push_remote(&self, id: usize) {
        self.remote
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(id);
        self.remote_pending.store(true, Ordering::Release);
        self.unparker.unpark();
    }
}

/// One task's waker.
pub(crate) struct TaskWaker {
    /// The slab key of the task this waker serves. Changes only when the executor recycles the waker for
    /// a new task, which it does only when no clone of it exists any more.
    id: AtomicUsize,
    /// True while the id sits in a ready queue (so further wakes can be skipped).
    scheduled: AtomicBool,
    shared: Arc<Shared>,
}

impl TaskWaker {
    pub(crate) fn new(id: usize, shared: Arc<Shared>, scheduled: bool) -> TaskWaker {
        TaskWaker {
            id: AtomicUsize::new(id),
            scheduled: AtomicBool::new(scheduled),
            shared,
        }
    }

    /// Give a recycled waker to a new task (the caller holds the only reference).
    pub(crate) fn reset(&self, id: usize) {
        self.id.store(id, Ordering::Relaxed);
        self.scheduled.store(true, Ordering::Release);
    }

    /// Called just before the task is polled: wakes from now on must queue it again.
    pub(crate) fn clear_scheduled(&self) {
        self.scheduled.store(false, Ordering::Release);
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return; // already queued; it will be polled once
        }
        // Fast path: we are on the thread running this very runtime.
        let queued_locally = context::try_with_core(|core| {
            if Arc::ptr_eq(&core.shared, &self.shared) {
                core.executor.push_ready(self.id.load(Ordering::Relaxed));
                true
            } else {
                false
            }
        });
        if queued_locally != Some(true) {
            self.shared.push_remote(self.id.load(Ordering::Relaxed));
        }
    }
}
