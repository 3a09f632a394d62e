//! The executor: a slab of tasks and a queue of the tasks that are ready to be polled.
//!
//! A task's life (numbers are the functions that make each move):
//!
//! ```text
//!   spawn ──(1)──► Ready ──(2)──► Running ──Pending──► Waiting ──(3) wake──► Ready ...
//!                                    │                     │
//!                                    └──Ready(out)──► Done  └──(4) abort──► Dropped (destructors run)
//! ```
//! 1. [`crate::spawn`] allocates the task (one allocation: see [`raw`]), registers it in the slab and
//!    queues it.
//! 2. [`Executor::run_task`] polls it with a waker built over the same allocation. A finished task leaves
//!    the slab; its output waits in the allocation for the `JoinHandle`.
//! 3. The waker queues the task again; a `SCHEDULED` flag makes repeated wakes before the next poll cost
//!    nothing and poll the task once. From another thread, the task goes through a mutex-protected queue
//!    and the driver's unparker interrupts `epoll_wait` (see [`waker`]).
//! 4. [`JoinHandle::abort`](crate::JoinHandle::abort) drops the future at once (or, when the task aborts
//!    itself, right after its current poll), so its sockets close and its timers go.
//!
//! Queue entries point at the task itself, not at a slab key, so a stale wake (a waker kept after its task
//! finished) finds that task complete and does nothing, whatever now occupies its old slab slot.

pub(crate) mod coop;
pub(crate) mod current;
pub(crate) mod diag;
pub(crate) mod join;
pub(crate) mod join_error;
pub(crate) mod join_set;
mod raw;
pub(crate) mod spawn;
pub(crate) mod task_info;
pub(crate) mod waker;
pub(crate) mod watch;
mod yield_now;

pub(crate) use raw::JoinRef;
pub(crate) use waker::{MainWaker, Shared};
pub use yield_now::yield_now;

use crate::driver::Unparker;
use diag::Diag;
use raw::{Notified, Run, Task};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use task_info::{Entry, TaskInfo, TaskLabel};

use slab::Slab;

/// An entry of the ready queue.
pub(crate) enum Runnable {
    /// The future passed to `block_on`, which is not a spawned task.
    Main,
    /// A spawned task (the entry owns a reference to it).
    Task(Task),
}

pub(crate) struct Executor {
    /// Every live task, so `block_on` can drop them all when it returns, with its label and counters
    /// (`task_info.rs`). A task leaves when it finishes.
    tasks: RefCell<Slab<Entry>>,
    /// What to poll next, in wake order.
    ready: RefCell<VecDeque<Runnable>>,
    /// Tasks polled since the runtime started (for tests and stats).
    polls: Cell<u64>,
    /// This executor's own remote-wake queue and unparker; every task it spawns points at it.
    shared: Arc<Shared>,
    /// Scratch space for [`Executor::take_remote`], kept to avoid an allocation per turn.
    remote: RefCell<Vec<Notified>>,
    /// When the current loop turn started (a task's "idle since"), in nanoseconds since `base`; set once
    /// per turn by the loop.
    turn_start: Cell<u64>,
    base: Instant,
    /// Finished loop turns.
    turns: Cell<u64>,
    /// Slow-poll watch and counters.
    pub(crate) diag: Diag,
}

impl Executor {
    /// An executor whose cross-thread wakes interrupt the driver through `unparker` (`None` in unit tests
    /// that run without a driver).
    #[cfg(test)]
    pub(crate) fn new(unparker: Option<Unparker>) -> Executor {
        Executor::with_diag(unparker, Diag::off())
    }

    /// An executor with diagnostics settings (what `Builder::build` makes).
    pub(crate) fn with_diag(unparker: Option<Unparker>, diag: Diag) -> Executor {
        Executor {
            tasks: RefCell::new(Slab::new()),
            ready: RefCell::new(VecDeque::new()),
            polls: Cell::new(0),
            shared: Arc::new(Shared::new(unparker)),
            remote: RefCell::new(Vec::new()),
            turn_start: Cell::new(0),
            base: Instant::now(),
            turns: Cell::new(0),
            diag,
        }
    }

    /// A new loop turn starts at `now` (the clock reading the loop makes anyway).
    pub(crate) fn set_turn_start(&self, now: Instant) {
        let ns = now.saturating_duration_since(self.base).as_nanos();
        self.turn_start
            .set(u64::try_from(ns).unwrap_or(u64::MAX - 1));
    }

    /// The loop finished a turn (counted, and shown to the watchdog).
    #[inline]
    pub(crate) fn finish_turn(&self) {
        let n = self.turns.get() + 1;
        self.turns.set(n);
        if let Some(w) = &self.diag.watch {
            w.turn_finished(n);
        }
    }

    /// Tell the watchdog what the loop is doing between polls (`watch::WAITING`, `LOOP`, `STOPPED`).
    #[inline]
    pub(crate) fn loop_state(&self, state: u64) {
        if let Some(w) = &self.diag.watch {
            w.set_state(state);
        }
    }

    pub(crate) fn turns(&self) -> u64 {
        self.turns.get()
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Store a new task and schedule its first poll (step 1).
    pub(crate) fn spawn<F>(&self, future: F, label: TaskLabel) -> JoinRef<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let mut tasks = self.tasks.borrow_mut();
        let entry = tasks.vacant_entry();
        let (registered, first_poll, join) = raw::spawn(future, entry.key(), &self.shared);
        entry.insert(Entry::new(registered, label));
        drop(tasks);
        self.ready
            .borrow_mut()
            .push_back(Runnable::Task(first_poll));
        join
    }

    /// [`Executor::spawn`] labelled with the caller's location (unit tests).
    #[cfg(test)]
    #[track_caller]
    pub(crate) fn spawn_here<F>(&self, future: F) -> JoinRef<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn(future, TaskLabel::new(std::panic::Location::caller(), None))
    }

    pub(crate) fn push_ready(&self, task: Task) {
        self.ready.borrow_mut().push_back(Runnable::Task(task));
    }

    pub(crate) fn push_main(&self) {
        self.ready.borrow_mut().push_back(Runnable::Main);
    }

    pub(crate) fn pop_ready(&self) -> Option<Runnable> {
        self.ready.borrow_mut().pop_front()
    }

    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.borrow().is_empty()
    }

    /// Queue the tasks woken from other threads since the last call; true if `block_on`'s future was.
    pub(crate) fn take_remote(&self) -> bool {
        let mut remote = self.remote.borrow_mut();
        let main = self.shared.take_remote(&mut remote);
        let mut ready = self.ready.borrow_mut();
        for notified in remote.drain(..) {
            // Every entry of our queue is one of our tasks (wakes queue a task on its own `Shared`).
            match notified.into_local(&self.shared) {
                Ok(task) => ready.push_back(Runnable::Task(task)),
                Err(_) => unreachable!("a task woken into another runtime's queue"),
            }
        }
        main
    }

    pub(crate) fn polls(&self) -> u64 {
        self.polls.get()
    }

    /// Number of live (not yet finished) spawned tasks.
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Poll `task` once (step 2) under a fresh coop budget; `task` is the ready-queue entry, dropped
    /// afterwards. Counts the poll in the task's entry and tells the watch which task is running.
    ///
    /// Returns true if the poll spent its whole coop budget (the loop then checks timers and I/O before
    /// polling more tasks).
    pub(crate) fn run_task(&self, task: Task) -> bool {
        let id = task.id();
        let watch = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get_mut(id) {
                Some(e) if e.task.ptr_eq(&task) => {
                    e.polls += 1;
                    e.last_turn = self.turn_start.get();
                    let seq = self.polls.get() + 1;
                    self.polls.set(seq);
                    Some(self.diag.before(seq, &e.label))
                }
                // Not in the slab: it already completed (a late wake), and `run` will do nothing.
                _ => None,
            }
        };
        let Some(watch) = watch else {
            let run = task.run();
            debug_assert_eq!(run, Run::Stale);
            return false;
        };
        let (run, spent) = {
            let budget = coop::Budget::start();
            let run = task.run();
            (run, budget.spent())
        };
        if let Some(took) = self.diag.after(watch) {
            self.timed(&task, took);
        }
        if run == Run::Finished {
            self.remove(&task);
        }
        spent
    }

    /// Poll `block_on`'s own future (labelled `label`) the way tasks are polled: under a budget, watched.
    /// Returns its output and whether it spent its whole budget, as [`Executor::run_task`] does.
    pub(crate) fn run_main<R>(&self, label: &TaskLabel, poll: impl FnOnce() -> R) -> (R, bool) {
        let seq = self.polls.get() + 1;
        self.polls.set(seq);
        let watch = self.diag.before(seq, label);
        let (out, spent) = {
            let budget = coop::Budget::start();
            let out = poll();
            (out, budget.spent())
        };
        if let Some(took) = self.diag.after(watch) {
            self.diag.timed(label, took);
        }
        (out, spent)
    }

    /// A timed poll of `task`: add it to the task's busy time and to the diagnostics.
    #[cold]
    fn timed(&self, task: &Task, took: std::time::Duration) {
        let label = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get_mut(task.id()) {
                Some(e) if e.task.ptr_eq(task) => {
                    e.busy_ns = e.busy_ns.saturating_add(took.as_nanos() as u64);
                    e.label.clone()
                }
                _ => return,
            }
        };
        self.diag.timed(&label, took);
    }

    /// Every live task's label and counters, in slab order.
    pub(crate) fn task_infos(&self) -> Vec<TaskInfo> {
        let base = self.base;
        self.tasks
            .borrow()
            .iter()
            .map(|(_, e)| e.info(base))
            .collect()
    }

    /// Cancel `task` (step 4): drop its future now, or after its poll if it is the one running.
    pub(crate) fn abort(&self, task: &Task) {
        if task.cancel() {
            self.remove(task);
        }
    }

    /// Cancel the task registered under slab key `id`, if any.
    pub(crate) fn abort_id(&self, id: usize) {
        let task = self.tasks.borrow().get(id).map(|e| e.task.clone());
        if let Some(task) = task {
            self.abort(&task);
        }
    }

    /// Take `task` out of the slab, if it is still there (it is, unless `drop_all` already took it).
    pub(crate) fn remove(&self, task: &Task) {
        let removed = {
            let mut tasks = self.tasks.borrow_mut();
            let id = task.id();
            match tasks.get(id) {
                Some(e) if e.task.ptr_eq(task) => Some(tasks.remove(id)),
                _ => None,
            }
        };
        drop(removed); // after the borrow: it may be the last reference
    }

    /// Drop every remaining task (the end of `block_on`). Destructors may spawn or abort, so loop until
    /// empty. Each task stays in the slab until it is cancelled, so an abort by slab key from a destructor
    /// still finds the right task.
    pub(crate) fn drop_all(&self) {
        loop {
            let batch: Vec<Task> = self
                .tasks
                .borrow()
                .iter()
                .map(|(_, e)| e.task.clone())
                .collect();
            if batch.is_empty() {
                break;
            }
            for task in batch {
                task.cancel();
                self.remove(&task); // even if `cancel` declined: this loop must end
            }
        }
        let queued = std::mem::take(&mut *self.ready.borrow_mut());
        drop(queued);
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.drop_all();
        // No loop will drain the remote queue any more: empty it and refuse new entries.
        self.shared.close();
    }
}
