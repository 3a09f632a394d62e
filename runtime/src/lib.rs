//! # spool-runtime
//!
//! A small, single-threaded, cooperative async runtime built by hand on [`mio`](https://docs.rs/mio):
//! one thread runs thousands of tasks and sockets, with std's `Future` and `Waker` and nothing else.
//!
//! ## Layout
//! Layers, each importing only those below it:
//! `lib → runtime/builder → {net, sync, executor, time} → context → reactor → driver`.
//! - [`runtime`](Runtime) — `block_on` and the loop: run ready tasks → fire timers → wait in the kernel →
//!   dispatch; [`Builder`] makes a runtime's parts and wires them.
//! - `executor` — tasks in a slab, a ready queue, one allocation per task (`executor::raw`, the crate's
//!   `unsafe`, with `driver::uring`), wakers over that allocation; the cooperative budget (`executor::coop`); the
//!   slow-poll watch and watchdog thread (`executor::watch`), task labels and counters;
//!   [`spawn`], [`spawn_named`], [`JoinHandle`], [`JoinSet`], [`yield_now`], [`tasks`].
//! - [`time`] — a timer heap with O(log n) insert and O(1) cancel: `sleep`, `timeout`, `interval`.
//! - [`net`] — `TcpStream`, `TcpListener`, `UdpSocket`, each over an `IoSource` (a reactor registration).
//! - [`sync`] — single-threaded `Semaphore`, `Notify`, `oneshot`, bounded `mpsc` (slots allocated as
//!   used), unbounded `mpsc`, and a `broadcast` ring whose lagging receivers are told how much they lost.
//! - [`io`] — `BufReader` (with `lines`) and `BufWriter` over the net types, buffers allocated on first use.
//! - [`future`] — [`join_all`] over futures that may borrow (nothing spawned, results in input order).
//! - `context` — "the runtime running on this thread": one thread-local slot per layer, and the runtime
//!   identity that sockets and timers check, so they cannot be used in a runtime they do not belong to.
//! - `reactor` — one registration per socket, separate read and write wakers, edge-triggered readiness.
//! - `driver` — the boundary to the OS, two backends chosen per runtime ([`Driver`]): epoll through mio
//!   (readiness) and io_uring (completion). Nothing else names mio or io_uring.
//! - [`spawn_blocking`] — run a blocking call on a helper thread, await it on the loop.
//!
//! ## How a poll flows
//! 1. The loop pops a task pointer off the ready queue. `Executor::run_task` counts the poll in
//!    the task's slab entry, tells the watch which task runs (two atomic stores), gives the poll a coop
//!    budget of 128 ready operations and polls the future with a waker built over the task's allocation.
//! 2. The task calls `stream.read(..)`. `IoSource::poll_io` checks the budget, then the socket's reactor
//!    slot: not marked readable, so it parks the waker there and returns `Pending`; the task's `poll`
//!    returns `Pending`.
//! 3. With no task ready, the loop calls `epoll_wait` with a timeout equal to the next timer deadline.
//! 4. Bytes arrive: epoll reports the socket readable; the reactor marks it and wakes the waker, which
//!    sets the task's `SCHEDULED` flag and pushes a pointer to the task on the ready queue.
//! 5. Next turn, the executor polls the task again; the read now returns the bytes and spends one unit of
//!    budget. A task that spends all 128 is woken and queued again, and the loop checks timers and I/O
//!    before it continues, so an always-ready socket cannot starve the rest.
//! 6. If the poll ran long (a blocking call), the watchdog thread will have marked it, and the loop reports
//!    it as a slow poll once per spawn site; a poll that never returns is reported by the watchdog while
//!    it is stuck.
//!
//! ```
//! use std::time::Duration;
//! let answer = spool_runtime::block_on(async {
//!     let task = spool_runtime::spawn(async {
//!         spool_runtime::time::sleep(Duration::from_millis(1)).await;
//!         40
//!     });
//!     task.await.unwrap() + 2
//! });
//! assert_eq!(answer, 42);
//! ```
// `unsafe` is denied everywhere but in `executor::raw` (one allocation per task) and `driver::uring`
// (memory shared with the kernel); each explains there why every use is sound.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod blocking;
mod builder;
mod context;
mod driver;
mod executor;
mod reactor;
mod runtime;

pub mod future;
pub mod io;
pub mod net;
pub mod sync;
pub mod time;

pub use blocking::{spawn_blocking, BlockingTask};
pub use builder::Builder;
pub use driver::Driver;
pub use executor::join::JoinHandle;
pub use executor::join_error::JoinError;
pub use executor::join_set::JoinSet;
pub use executor::spawn::{spawn, spawn_named};
pub use executor::task_info::{TaskInfo, TaskLabel};
pub use executor::watch::{SlowPoll, Stall};
pub use executor::yield_now;
pub use future::join_all;
pub use runtime::{block_on, current_stats, in_runtime, tasks, Runtime, Stats};
