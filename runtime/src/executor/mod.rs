//! The executor: a slab of tasks and a queue of the ids that are ready to be polled.
//!
//! A task's life (numbers are the functions that make each move):
//!
//! ```text
//!   spawn ──(1)──► Ready ──(2)──► Running ──Pending──► Waiting ──(3) wake──► Ready ...
//!                                    │                     │
//!                                    └──Ready(out)──► Done  └──(4) abort──► Dropped (destructors run)
//! ```
//! 1. [`crate::spawn`] boxes the future, inserts it in the slab and pushes its id on the ready queue.
//! 2. [`Executor::run_task`] takes the future out of its slot, polls it with the task's waker, and puts it
//!    back if it is still pending (taking it out lets the task spawn or abort others while it runs).
//! 3. [`TaskWaker`] pushes the id back on the queue; a `scheduled` flag makes repeated wakes before the next
//!    poll cost nothing and poll the task once. From another thread, the id goes through a mutex-protected
//!    queue and the driver's unparker interrupts `epoll_wait`.
//! 4. [`JoinHandle::abort`](crate::JoinHandle::abort) removes the task and drops its future at once (or,
//!    when the task aborts itself, right after its current poll), so its sockets close and timers go.
//!
//! A stale wake (a waker kept after its task finished, whose slab key was reused) can poll another task
//! once; that is only a spurious poll, which every `Future` must tolerate.

pub(crate) mod join;
pub(crate) mod join_set;
pub(crate) mod spawn;
pub(crate) mod waker;
mod yield_now;

pub(crate) use waker::{Shared, TaskWaker};
pub use yield_now::yield_now;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};

use slab::Slab;

/// A spawned task as the executor stores it: the type-erased future and its waker.
pub(crate) struct Task {
    /// `None` while the task is being polled (it was taken out of its slot for the poll).
    future: Option<Pin<Box<dyn Future<Output = ()>>>>,
    waker: Arc<TaskWaker>,
    /// Set when the task aborts itself during its own poll: drop it as soon as the poll returns.
    aborted: bool,
}

pub(crate) struct Executor {
    tasks: RefCell<Slab<Task>>,
    /// Ids of tasks to poll, in wake order. `MAIN` stands for `block_on`'s own future.
    ready: RefCell<VecDeque<usize>>,
    /// Tasks polled since the runtime started (for tests and stats).
    polls: Cell<u64>,
    /// Wakers of finished tasks that nobody else holds, reused by new tasks: spawning then costs one
    /// allocation fewer. Bounded, so a burst of tasks does not pin memory afterwards.
    spare_wakers: RefCell<Vec<Arc<TaskWaker>>>,
}

/// At most this many spare wakers are kept.
const MAX_SPARE_WAKERS: usize = 4096;

/// The id used for the future passed to `block_on`, which is not stored in the slab.
pub(crate) const MAIN: usize = usize::MAX;

impl Executor {
    pub(crate) fn new() -> Executor {
        Executor {
            tasks: RefCell::new(Slab::new()),
            ready: RefCell::new(VecDeque::new()),
            polls: Cell::new(0),
            spare_wakers: RefCell::new(Vec::new()),
        }
    }

    /// Store a new task and schedule its first poll.
    pub(crate) fn insert(
        &self,
        future: Pin<Box<dyn Future<Output = ()>>>,
        shared: &Arc<Shared>,
    ) -> usize {
        let mut tasks = self.tasks.borrow_mut();
        let entry = tasks.vacant_entry();
        let id = entry.key();
        let waker = match self.spare_wakers.borrow_mut().pop() {
            Some(w) => {
                w.reset(id);
                w
            }
            None => Arc::new(TaskWaker::new(id, shared.clone(), true)),
        };
        entry.insert(Task {
            future: Some(future),
            waker,
            aborted: false,
        });
        drop(tasks);
        self.ready.borrow_mut().push_back(id);
        id
    }

    pub(crate) fn push_ready(&self, id: usize) {
        self.ready.borrow_mut().push_back(id);
    }

    pub(crate) fn pop_ready(&self) -> Option<usize> {
        self.ready.borrow_mut().pop_front()
    }

    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.borrow().is_empty()
    }

    pub(crate) fn polls(&self) -> u64 {
        self.polls.get()
    }

    /// Number of live (not yet finished) spawned tasks.
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Poll task `id` once (step 2 of the life above).
    pub(crate) fn run_task(&self, id: usize) {
        let (mut future, waker) = {
            let mut tasks = self.tasks.borrow_mut();
            // A missing task or one already taken out is a stale wake: nothing to do.
            let Some(task) = tasks.get_mut(id) else {
                return;
            };
            let Some(future) = task.future.take() else {
                return;
            };
            task.waker.clear_scheduled();
            (future, Waker::from(task.waker.clone()))
        };
        self.polls.set(self.polls.get() + 1);
        let mut cx = Context::from_waker(&waker);
        let poll = future.as_mut().poll(&mut cx);
        {
            let mut tasks = self.tasks.borrow_mut();
            let task = &mut tasks[id];
            if poll.is_pending() && !task.aborted {
                task.future = Some(future);
                return;
            }
        }
        // Finished, or aborted itself while running: remove it.
        let task = self.tasks.borrow_mut().remove(id);
        drop(waker);
        self.recycle(task.waker);
        // Drop the future after the borrow ends: its destructors may deregister sockets or abort tasks.
        drop(future);
    }

    /// Keep a finished task's waker for reuse, if no clone of it is still out there (a clone could wake
    /// whichever task gets the waker next: harmless, but a wasted poll).
    fn recycle(&self, waker: Arc<TaskWaker>) {
        if Arc::strong_count(&waker) == 1 {
            let mut spare = self.spare_wakers.borrow_mut();
            if spare.len() < MAX_SPARE_WAKERS {
                spare.push(waker);
            }
        }
    }

    /// Cancel task `id` (step 4): drop its future now, or after its poll if it is the one running.
    pub(crate) fn abort(&self, id: usize) {
        let removed = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get_mut(id) {
                Some(task) if task.future.is_some() => Some(tasks.remove(id)),
                Some(task) => {
                    task.aborted = true;
                    None
                }
                None => None,
            }
        };
        if let Some(task) = removed {
            // Drop the future first (outside any borrow): its destructors may touch the runtime.
            drop(task.future);
            self.recycle(task.waker);
        }
    }

    /// Drop every remaining task (the end of `block_on`). Destructors may spawn or abort, so loop until empty.
    pub(crate) fn drop_all(&self) {
        loop {
            let batch: Vec<Task> = {
                let mut tasks = self.tasks.borrow_mut();
                if tasks.is_empty() {
                    break;
                }
                tasks.drain().collect()
            };
            drop(batch);
        }
        self.ready.borrow_mut().clear();
    }
}
