//! The runtime and its loop: `block_on` drives everything.
//!
//! One turn of the loop:
//!
//! ```text
//!   ┌─► 1. run ready tasks: at most `max_tasks_per_turn` polls, and fewer if one poll spends its whole
//!   │      coop budget (128 ready operations), so timers and I/O are never starved by a busy task
//!   │   2. fire due timers            → their tasks join the ready queue
//!   │   3. poll the driver: timeout 0 if tasks are ready, else until the next deadline (or forever)
//!   │   4. dispatch readiness         → read/write wakers push their tasks on the ready queue
//!   │      (and collect wakes that came from other threads, and fire timers that fell due meanwhile)
//!   └── until the future given to block_on completes
//! ```
//!
//! Around each poll the executor tells the watch (`executor/watch`) what runs, so a slow poll or a stuck
//! turn is reported; around step 3 the loop tells it that it is waiting, which is not being stuck.
//!
//! Step 3 is the driver's wait: `epoll_wait` on epoll; on io_uring one `io_uring_enter` that submits every
//! operation the tasks queued in step 1 and waits for completions, with the next timer deadline as its
//! timeout. Step 4 is readiness dispatch on epoll and completion handling on io_uring; either way it
//! ends in wakers pushing tasks on the ready queue.
//!
//! When nothing is ready and no timer is pending, step 3 blocks in the kernel with no timeout: an idle
//! runtime's loop uses no CPU at all (the process-wide watchdog thread wakes every 20 ms by default, a few
//! microseconds each time; turn it and slow-poll reports off to have none).

use crate::context::{self, Io};
use crate::driver::Driver;
use crate::executor::task_info::{TaskInfo, TaskLabel};
use crate::executor::watch;
use crate::executor::{current, Executor, MainWaker, Runnable};
use crate::time;
use crate::time::timers::Timers;
use std::cell::RefCell;
use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Everything one runtime owns: one part per layer, each installed in that layer's thread-local slot
/// while `block_on` runs (see [`crate::context`]).
pub(crate) struct Core {
    pub(crate) executor: Rc<Executor>,
    pub(crate) timers: Rc<RefCell<Timers>>,
    pub(crate) io: Rc<Io>,
}

/// A single-threaded runtime: an executor, a timer store and a reactor, driven by [`Runtime::block_on`].
pub struct Runtime {
    core: Core,
    max_tasks_per_turn: usize,
}

/// Counters about a runtime, for tests and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Spawned tasks that have not finished.
    pub live_tasks: usize,
    /// Timers registered and not yet dropped.
    pub timers: usize,
    /// Sockets registered with the reactor.
    pub registered_sources: usize,
    /// Task polls since the runtime was created (`block_on`'s own future included).
    pub polls: u64,
    /// Loop turns since the runtime was created (see [`Runtime::block_on`] for what a turn is).
    pub turns: u64,
    /// Polls that ran longer than the slow-poll threshold (each one, also those not reported because
    /// their spawn site had been reported before).
    pub slow_polls: u64,
    /// The longest timed poll and its task (`None` until a poll was timed: see
    /// [`Builder::slow_poll_threshold`](crate::Builder::slow_poll_threshold) for which polls are).
    pub longest_poll: Option<(Duration, TaskLabel)>,
    /// The I/O driver that runs ([`Driver::Epoll`] or [`Driver::IoUring`], never `Auto`).
    pub driver: Driver,
    /// io_uring: operations submitted (or queued for the next submission) whose final completion has
    /// not been reaped yet, the driver's own eventfd read included; their memory is still lent to the
    /// kernel. Always 0 on epoll, which has nothing in flight between syscalls.
    pub ops_in_flight: usize,
    /// io_uring: receives that found the provided-buffer ring empty (`ENOBUFS`) and were re-armed once
    /// buffers came back; no byte is lost, but many of these mean the ring is too small for the load
    /// (see [`Builder::io_uring_buffers`](crate::Builder::io_uring_buffers)). Always 0 on epoll.
    pub receives_starved: u64,
}

impl Runtime {
    pub(crate) fn from_parts(core: Core, max_tasks_per_turn: usize) -> Runtime {
        Runtime {
            core,
            max_tasks_per_turn,
        }
    }

    /// Run the loop until `future` completes, and return its output.
    ///
    /// Tasks spawned meanwhile run too; any still pending when `future` completes are dropped (their
    /// destructors run) before this returns. Diagnostics label `future` itself "block_on" with the
    /// location of this call.
    ///
    /// # Panics
    /// If called while a spool runtime is already running on this thread (from inside a task): that would
    /// block the loop that must drive it. Also propagates a panic of `future` itself.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let main_label = TaskLabel::new(Location::caller(), Some("block_on".into()));
        let core = &self.core;
        // Each layer's part becomes current (the first refuses a nested block_on)...
        let _io = context::enter_io(core.io.clone());
        let _executor = current::enter(core.executor.clone());
        let _timers = time::current::enter(core.timers.clone());
        // ...and leftover tasks are dropped (even if `future` panics) while they still are.
        let _cleanup = DropTasks(&core.executor);
        let ex = &*core.executor;
        ex.loop_state(watch::LOOP);
        let _stopped = Stopped(ex);
        let main = Arc::new(MainWaker::new(ex.shared().clone()));
        let main_waker = Waker::from(main.clone());
        let mut future = pin!(future);
        ex.push_main();
        ex.set_turn_start(Instant::now());

        loop {
            // 1. Run ready tasks, a bounded number of them, each under a fresh coop budget.
            // A poll that spent its whole budget ends the run early, so timers and I/O come next.
            for _ in 0..self.max_tasks_per_turn {
                let spent = match ex.pop_ready() {
                    None => break,
                    Some(Runnable::Main) => {
                        main.clear_scheduled();
                        let mut cx = Context::from_waker(&main_waker);
                        let (poll, spent) =
                            ex.run_main(&main_label, || future.as_mut().poll(&mut cx));
                        if let Poll::Ready(out) = poll {
                            return out;
                        }
                        spent
                    }
                    Some(Runnable::Task(task)) => ex.run_task(task),
                };
                if spent {
                    break;
                }
            }
            ex.loop_state(watch::LOOP);

            // 2. Fire due timers.
            let next_deadline = {
                let mut timers = core.timers.borrow_mut();
                timers.fire_due(Instant::now());
                timers.next_deadline()
            };

            // 3. Wait for I/O: not at all if tasks are ready, else until the next timer (or indefinitely).
            let timeout = if ex.has_ready() {
                Some(Duration::ZERO)
            } else {
                next_deadline.map(|d| d.saturating_duration_since(Instant::now()))
            };
            // 4. Dispatch readiness (inside `poll`), then pick up wakes from other threads.
            ex.loop_state(watch::WAITING);
            let polled = core.io.reactor.poll(timeout);
            ex.loop_state(watch::LOOP);
            if let Err(e) = polled {
                panic!("spool: the I/O driver failed while polling: {e}");
            }
            if ex.take_remote() {
                ex.push_main();
            }
            // Timers that fell due while we waited fire now, so their tasks run in the very next step 1.
            let now = Instant::now();
            if next_deadline.is_some_and(|deadline| deadline <= now) {
                core.timers.borrow_mut().fire_due(now);
            }
            ex.finish_turn();
            ex.set_turn_start(now);
        }
    }

    /// Counters about this runtime.
    pub fn stats(&self) -> Stats {
        let core = &self.core;
        stats(&core.executor, &core.timers.borrow(), &core.io)
    }

    /// Every live task of this runtime: name or spawn site, polls, busy time, idle since.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.core.executor.task_infos()
    }
}

/// The watchdog sees the loop as stopped once `block_on` returns or unwinds.
struct Stopped<'a>(&'a Executor);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.loop_state(watch::STOPPED);
    }
}

struct DropTasks<'a>(&'a Executor);

impl Drop for DropTasks<'_> {
    fn drop(&mut self) {
        self.0.drop_all();
    }
}

/// Run `future` to completion on a new runtime with default settings.
///
/// # Panics
/// If the runtime cannot be created (the process is out of file descriptors), or if called from inside a
/// running spool runtime.
///
/// ```
/// let out = spool_runtime::block_on(async { "done" });
/// assert_eq!(out, "done");
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    if context::is_running() {
        panic!(
            "spool: block_on was called while a spool runtime is already running on this thread; \
             nested block_on would deadlock the loop — `.await` the future or `spawn` it instead"
        );
    }
    let rt = Runtime::new().unwrap_or_else(|e| panic!("spool: cannot create a runtime: {e}"));
    rt.block_on(future)
}

/// Whether a runtime is running on this thread (the caller is inside [`block_on`]), so that
/// [`spawn`](crate::spawn), timers and sockets can be used here.
///
/// ```
/// assert!(!spool_runtime::in_runtime());
/// spool_runtime::block_on(async { assert!(spool_runtime::in_runtime()) });
/// ```
pub fn in_runtime() -> bool {
    context::try_with_io(|_| current::try_with(|_| ()).is_some()) == Some(true)
}

/// Counters about the runtime running on this thread, if any.
pub fn current_stats() -> Option<Stats> {
    context::try_with_io(|io| {
        current::try_with(|ex| time::current::try_with(|timers| stats(ex, timers, io)))
    })
    .flatten()
    .flatten()
}

/// Every live task of the runtime running on this thread: name or spawn site, polls, busy time, idle
/// since (see [`TaskInfo`]).
///
/// # Panics
/// Outside a running runtime.
///
/// ```
/// spool_runtime::block_on(async {
///     let h = spool_runtime::spawn(async { 7 });
///     let tasks = spool_runtime::tasks();
///     assert_eq!(tasks.len(), 1);
///     assert!(tasks[0].label.spawn_site().file().ends_with(".rs"));
///     assert_eq!(h.await.unwrap(), 7);
/// });
/// ```
pub fn tasks() -> Vec<TaskInfo> {
    current::with("spool_runtime::tasks", Executor::task_infos)
}

fn stats(ex: &Executor, timers: &Timers, io: &Io) -> Stats {
    Stats {
        live_tasks: ex.live_tasks(),
        timers: timers.len(),
        registered_sources: io.reactor.registered(),
        polls: ex.polls(),
        turns: ex.turns(),
        slow_polls: ex.diag.slow_polls(),
        longest_poll: ex.diag.longest(),
        driver: io.reactor.driver(),
        ops_in_flight: io.reactor.ops_in_flight(),
        receives_starved: io.reactor.receives_starved(),
    }
}
