//! Wakes: how "this task can make progress" travels back to the loop.
//!
//! A task's `Waker` is built over its raw cell (see [`super::raw`]); waking it sets the task's `SCHEDULED`
//! flag and, if that flag was clear, hands a queue entry to the [`Schedule`] in the task's header: this
//! module's [`Shared`], which delivers it:
//! - on the loop's own thread, straight onto the executor's ready queue (no lock);
//! - from any other thread (or when the loop is not running), onto [`Shared`]'s remote queue under a
//!   mutex, then the driver's unparker makes a blocked `epoll_wait` return so the loop picks it up.
//!
//! `block_on`'s own future is not a spawned task; its waker is a [`MainWaker`] (safe `std::task::Wake`)
//! that goes the same two ways.

use super::current;
use super::raw::{Notified, Schedule};
use crate::driver::Unparker;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

/// The part of a runtime that other threads can reach.
pub(crate) struct Shared {
    remote: Mutex<Remote>,
    /// Cheap check so the loop only takes the mutex when something is there.
    remote_pending: AtomicBool,
    /// `None` only for executors built by unit tests without a driver.
    unparker: Option<Unparker>,
}

/// Wakes that came from other threads, waiting for the loop.
#[derive(Default)]
struct Remote {
    tasks: Vec<Notified>,
    /// `block_on`'s future was woken.
    main: bool,
    /// The executor is gone: refuse new entries. Entries hold a reference to their task, and tasks hold
    /// the `Shared`: a queue that nobody drains any more would keep both alive forever.
    closed: bool,
}

impl Shared {
    pub(crate) fn new(unparker: Option<Unparker>) -> Shared {
        Shared {
            remote: Mutex::new(Remote::default()),
            remote_pending: AtomicBool::new(false),
            unparker,
        }
    }

    /// Take the wakes that came from other threads since the last call: the tasks, and whether
    /// `block_on`'s future was among them.
    pub(crate) fn take_remote(&self, into: &mut Vec<Notified>) -> bool {
        if !self.remote_pending.swap(false, Ordering::AcqRel) {
            return false;
        }
        let mut remote = self.lock();
        into.append(&mut remote.tasks);
        std::mem::take(&mut remote.main)
    }

    /// Refuse further remote wakes and drop the queued ones (the executor is being dropped).
    pub(crate) fn close(&self) {
        let queued = {
            let mut remote = self.lock();
            remote.closed = true;
            std::mem::take(&mut remote.tasks)
        };
        drop(queued); // outside the lock: dropping an entry may free a task
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Remote> {
        // A panic while holding this lock cannot leave the queue inconsistent (pushes and takes only).
        self.remote.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push_remote(&self, task: Notified) {
        let refused = {
            let mut remote = self.lock();
            if remote.closed {
                Some(task)
            } else {
                remote.tasks.push(task);
                None
            }
        };
        match refused {
            // Dropped outside the lock: it may be the task's last reference.
            Some(task) => drop(task),
            None => self.notify(),
        }
    }

    fn wake_main_remote(&self) {
        self.lock().main = true;
        self.notify();
    }

    fn notify(&self) {
        self.remote_pending.store(true, Ordering::Release);
        if let Some(unparker) = &self.unparker {
            unparker.unpark();
        }
    }
}

impl Schedule for Shared {
    /// Deliver a woken task to its ready queue (the raw waker calls this once `SCHEDULED` was set).
    fn schedule(&self, task: Notified) {
        // Fast path: we are on the thread running this very runtime.
        let mut task = Some(task);
        current::try_with(|ex| {
            if let Some(t) = task.take() {
                match t.into_local(ex.shared()) {
                    Ok(local) => ex.push_ready(local),
                    Err(t) => task = Some(t),
                }
            }
        });
        if let Some(task) = task {
            // Our own strong count on `self`: once the entry is queued the loop may run and free the
            // task (and with it the task's `Arc` of us) before `push_remote` has finished unparking.
            let _keep = task.scheduler().clone();
            self.push_remote(task);
        }
    }
}

/// The waker of `block_on`'s own future.
pub(crate) struct MainWaker {
    /// True while `MAIN` sits in a ready queue (so further wakes can be skipped).
    scheduled: AtomicBool,
    shared: Arc<Shared>,
}

impl MainWaker {
    /// Created scheduled: `block_on` queues the first poll itself.
    pub(crate) fn new(shared: Arc<Shared>) -> MainWaker {
        MainWaker {
            scheduled: AtomicBool::new(true),
            shared,
        }
    }

    /// Called just before the future is polled: wakes from now on must queue it again.
    pub(crate) fn clear_scheduled(&self) {
        self.scheduled.store(false, Ordering::Release);
    }
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return; // already queued; it will be polled once
        }
        let queued_locally = current::try_with(|ex| {
            let mine = Arc::ptr_eq(ex.shared(), &self.shared);
            if mine {
                ex.push_main();
            }
            mine
        });
        if queued_locally != Some(true) {
            self.shared.wake_main_remote();
        }
    }
}
