//! # spool-runtime
//!
//! A small, single-threaded, cooperative async runtime built by hand on [`mio`](https://docs.rs/mio):
//! one thread runs thousands of tasks and sockets, with std's `Future` and `Waker` and nothing else.
//!
//! ## Layout
//! - [`runtime`](Runtime) — `block_on` and the loop: run ready tasks → fire timers → poll → dispatch.
//! - `executor` — tasks in a slab, a ready queue, one allocation per task (`executor::raw`, the crate's
//!   only `unsafe`), wakers over that allocation;
//!   [`spawn`], [`JoinHandle`], [`JoinSet`], [`yield_now`].
//! - `reactor` — one registration per socket, separate read and write wakers, edge-triggered readiness.
//! - `driver` — the boundary to the OS, two backends chosen per runtime ([`Driver`]): epoll through mio
//!   (readiness) and io_uring (completion). Nothing else names mio or io_uring.
//! - [`time`] — a timer heap with O(log n) insert and O(1) cancel: `sleep`, `timeout`, `interval`.
//! - [`net`] — `TcpStream`, `TcpListener`, `UdpSocket`.
//! - [`sync`] — single-threaded `Semaphore`, `oneshot`, bounded `mpsc`.
//! - [`spawn_blocking`] — run a blocking call on a helper thread, await it on the loop.
//!
//! ## How a poll flows
//! 1. A task calls `stream.read(..)`. The socket is not marked readable, so the read parks the task's
//!    waker in the socket's reactor slot and returns `Pending`; the task's `poll` returns `Pending`.
//! 2. With no task ready, the loop calls `epoll_wait` with a timeout equal to the next timer deadline.
//! 3. Bytes arrive: epoll reports the socket readable; the reactor marks it and wakes the waker, which
//!    pushes the task's id on the ready queue.
//! 4. Next turn, the executor polls the task again; the read now returns the bytes.
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
mod context;
mod driver;
mod executor;
mod reactor;
mod runtime;

pub mod net;
pub mod sync;
pub mod time;

pub use blocking::{spawn_blocking, BlockingTask};
pub use driver::Driver;
pub use executor::join::{JoinError, JoinHandle};
pub use executor::join_set::JoinSet;
pub use executor::spawn::spawn;
pub use executor::yield_now;
pub use runtime::{block_on, current_stats, Builder, Runtime, Stats};
