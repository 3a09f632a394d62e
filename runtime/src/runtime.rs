//! The runtime and its loop: `block_on` drives everything.
//!
//! One turn of the loop:
//!
//! ```text
//!   ┌─► 1. run ready tasks (at most `max_tasks_per_turn`, so I/O and timers are never starved)
//!   │   2. fire due timers            → their tasks join the ready queue
//!   │   3. poll the driver: timeout 0 if tasks are ready, else until the next deadline (or forever)
//!   │   4. dispatch readiness         → read/write wakers push their tasks on the ready queue
//!   │      (and collect wakes that came from other threads, and fire timers that fell due meanwhile)
//!   └── until the future given to block_on completes
//! ```
//!
//! When nothing is ready and no timer is pending, step 3 blocks in `epoll_wait` with no timeout: an idle
//! runtime uses no CPU at all.

use crate::context::{self, Core};
use crate::driver::epoll::MioDriver;
use crate::driver::uring::{BufferConfig, UringDriver};
use crate::driver::{Driver, Unparker};
use crate::executor::{Executor, MainWaker, Runnable};
use crate::reactor::Reactor;
use crate::time::timers::Timers;
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Settings for a [`Runtime`].
///
/// ```
/// let rt = spool_runtime::Runtime::builder().event_capacity(256).max_tasks_per_turn(32).build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    event_capacity: usize,
    max_tasks_per_turn: usize,
    driver: Option<Driver>,
    uring_buffers: BufferConfig,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            event_capacity: 1024,
            max_tasks_per_turn: 128,
            driver: None,
            uring_buffers: BufferConfig::default(),
        }
    }
}

impl Builder {
    /// How many readiness events one kernel poll may return (default 1024). More are simply reported by
    /// the next poll.
    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n.max(1);
        self
    }

    /// How many task polls may run before the loop checks I/O and timers again (default 128). Lower means
    /// fairer to I/O, higher means fewer kernel polls when many tasks are ready.
    pub fn max_tasks_per_turn(mut self, n: usize) -> Self {
        self.max_tasks_per_turn = n.max(1);
        self
    }

    /// Which I/O driver to use (default: `SPOOL_DRIVER`, else [`Driver::Epoll`]; see [`Driver`]).
    pub fn driver(mut self, driver: Driver) -> Self {
        self.driver = Some(driver);
        self
    }

    /// The io_uring driver's provided-buffer ring: `count` receive buffers (rounded up to a power of two,
    /// at most 32768) of `size` bytes each (default 256 × 4096). Ignored on epoll.
    pub fn io_uring_buffers(mut self, count: u16, size: u32) -> Self {
        self.uring_buffers = BufferConfig {
            count: count.clamp(1, 32768).next_power_of_two(),
            size: size.max(1),
        };
        self
    }

    /// Create the runtime (opens the epoll instance or the io_uring).
    ///
    /// # Errors
    /// The OS refuses the driver: for [`Driver::IoUring`] the message names why (no io_uring in this
    /// kernel, blocked by seccomp or `kernel.io_uring_disabled`, a missing operation). Also when
    /// `SPOOL_DRIVER` names no driver.
    pub fn build(self) -> io::Result<Runtime> {
        let choice = match self.driver {
            Some(d) => d,
            None => Driver::from_env()?,
        };
        let (reactor, unparker) = match choice {
            Driver::Epoll => Self::epoll(self.event_capacity)?,
            Driver::IoUring => Self::uring(self.event_capacity, self.uring_buffers)?,
            Driver::Auto => match Self::uring(self.event_capacity, self.uring_buffers) {
                Ok(r) => r,
                Err(_) => Self::epoll(self.event_capacity)?,
            },
        };
        let core = Rc::new(Core {
            executor: Executor::new(Some(unparker)),
            timers: RefCell::new(Timers::new()),
            reactor,
        });
        Ok(Runtime { core, config: self })
    }
}

impl Builder {
    fn epoll(capacity: usize) -> io::Result<(Reactor, Unparker)> {
        let d = MioDriver::new(capacity)?;
        let u = Unparker::Epoll(d.unparker());
        Ok((Reactor::with_epoll(d), u))
    }

    fn uring(capacity: usize, buffers: BufferConfig) -> io::Result<(Reactor, Unparker)> {
        let d = UringDriver::new(capacity, buffers)?;
        let u = Unparker::Uring(d.unparker());
        Ok((Reactor::with_uring(d), u))
    }
}

/// A single-threaded runtime: an executor, a timer store and a reactor, driven by [`Runtime::block_on`].
pub struct Runtime {
    core: Rc<Core>,
    config: Builder,
}

/// Counters about a runtime, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Spawned tasks that have not finished.
    pub live_tasks: usize,
    /// Timers registered and not yet dropped.
    pub timers: usize,
    /// Sockets registered with the reactor.
    pub registered_sources: usize,
    /// Task polls since the runtime was created.
    pub polls: u64,
    /// The I/O driver that runs ([`Driver::Epoll`] or [`Driver::IoUring`], never `Auto`).
    pub driver: Driver,
}

impl Runtime {
    /// A runtime with default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::default().build()
    }

    /// Settings for a new runtime.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Run the loop until `future` completes, and return its output.
    ///
    /// Tasks spawned meanwhile run too; any still pending when `future` completes are dropped (their
    /// destructors run) before this returns.
    ///
    /// # Panics
    /// If called while a spool runtime is already running on this thread (from inside a task): that would
    /// block the loop that must drive it. Also propagates a panic of `future` itself.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = context::enter(self.core.clone());
        // Drop leftover tasks even if `future` panics, while the runtime is still current.
        let _cleanup = DropTasks(&self.core);
        let core = &*self.core;
        let main = Arc::new(MainWaker::new(core.executor.shared().clone()));
        let main_waker = Waker::from(main.clone());
        let mut future = pin!(future);
        core.executor.push_main();

        loop {
            // 1. Run ready tasks, a bounded number of them.
            for _ in 0..self.config.max_tasks_per_turn {
                match core.executor.pop_ready() {
                    None => break,
                    Some(Runnable::Main) => {
                        main.clear_scheduled();
                        let mut cx = Context::from_waker(&main_waker);
                        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                            return out;
                        }
                    }
                    Some(Runnable::Task(task)) => core.executor.run_task(task),
                }
            }

            // 2. Fire due timers.
            let next_deadline = {
                let mut timers = core.timers.borrow_mut();
                timers.fire_due(Instant::now());
                timers.next_deadline()
            };

            // 3. Wait for I/O: not at all if tasks are ready, else until the next timer (or indefinitely).
            let timeout = if core.executor.has_ready() {
                Some(std::time::Duration::ZERO)
            } else {
                next_deadline.map(|d| d.saturating_duration_since(Instant::now()))
            };
            // 4. Dispatch readiness (inside `poll`), then pick up wakes from other threads.
            if let Err(e) = core.reactor.poll(timeout) {
                panic!("spool: the I/O driver failed while polling: {e}");
            }
            if core.executor.take_remote() {
                core.executor.push_main();
            }
            // Timers that fell due while we waited fire now, so their tasks run in the very next step 1.
            if let Some(deadline) = next_deadline {
                let now = Instant::now();
                if deadline <= now {
                    core.timers.borrow_mut().fire_due(now);
                }
            }
        }
    }

    /// Counters about this runtime.
    pub fn stats(&self) -> Stats {
        self.core.stats()
    }
}

struct DropTasks<'a>(&'a Core);

impl Drop for DropTasks<'_> {
    fn drop(&mut self) {
        self.0.executor.drop_all();
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

/// Counters about the runtime running on this thread, if any.
pub fn current_stats() -> Option<Stats> {
    context::try_with_core(Core::stats)
}

impl Core {
    fn stats(&self) -> Stats {
        Stats {
            live_tasks: self.executor.live_tasks(),
            timers: self.timers.borrow().len(),
            registered_sources: self.reactor.registered(),
            polls: self.executor.polls(),
            driver: self.reactor.driver(),
        }
    }
}
