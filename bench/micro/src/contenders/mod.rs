//! The three runtimes under test, each behind the same [`Contender`] interface, so that every figure in
//! the table comes from the same work written three times, measured in the same process and run.
//!
//! Each method builds its own runtime (not timed), does the work inside it, and times only the work.

pub mod smol;
pub mod spool;
pub mod tokio;

use crate::counting_alloc::Snapshot;
use std::time::Duration;

/// One runtime's implementation of every benchmark.
pub trait Contender {
    /// The column header.
    const NAME: &'static str;

    /// `reps` times: spawn `n` tasks returning a number, then await every handle. One total per rep.
    fn spawn_join(n: usize, reps: usize) -> Vec<Duration>;

    /// One spawned task calls `yield_now` `n` times.
    fn yields(n: u64) -> Duration;

    /// With `pending` far-future timers registered, create, register (poll once) and drop `iters` more.
    fn timer_register_cancel(pending: usize, iters: usize) -> Duration;

    /// Register `n` timers (deadlines spread over 100 ms), then, once all are due, await them all.
    /// Returns (time to register, time from "all due" to "all awaited").
    fn timer_insert_fire(n: usize) -> (Duration, Duration);

    /// Two spawned tasks pass a [`crate::baton::Baton`] back and forth `n` times.
    fn round_trips(n: usize) -> Duration;

    /// `samples` sequential `sleep(1 ms)`, each timed from just before the call to its completion.
    fn sleep_1ms(samples: usize) -> Vec<Duration>;

    /// Heap allocated by spawning `n` never-finishing tasks (handles kept) and polling each once.
    fn task_bytes(n: usize) -> Snapshot;
}

/// Deadline offset of timer `i` in the insert+fire benchmark: spread over 100 ms in 100 µs steps.
pub fn spread(i: usize) -> Duration {
    Duration::from_micros((i % 1000) as u64 * 100)
}
