//! The watch: "one blocking call ruins everything", made visible.
//!
//! A task that blocks its thread (`std::thread::sleep`, a blocking read, a long computation) freezes
//! every other task of the loop. The watch reports two things:
//! - a **slow poll**: one poll of a task ran longer than a threshold (default 100 ms). Reported after
//!   the poll returns, once per spawn site (later ones are counted in [`crate::Stats`]), with the task's
//!   name or spawn site, how long it took, and the usual cure (`spawn_blocking`);
//! - a **stall**: the loop has not finished a turn for a threshold (default 1 s). Reported *while it is
//!   still stuck*, from another thread, naming the task being polled and for how long.
//!
//! # How it is timed without a clock read per poll
//! Reading the clock costs about 25 ns, as much as a whole `yield_now` round trip, so the loop does not
//! time its polls. Instead it publishes what it is doing with plain atomic stores (a poll sequence
//! number and a state, [`Watch::activity`]), and one process-wide thread ([`monitor`]) samples every
//! runtime's watch every *period* (a fifth of the smaller threshold). When the monitor sees the same
//! poll running at two samples, that poll has run for at least a period: it marks it ([`Watch::timed`])
//! with the instant it first saw it. After the poll the loop sees the mark (one atomic load) and only
//! then reads the clock, so only long polls pay for timing. The duration reported is a lower bound,
//! short by at most one period; a poll just over the threshold may therefore go unreported.
//!
//! ```text
//!   loop thread                                 monitor thread (every period)
//!   activity = seq<<2 | POLLING ──► poll ──┐    same activity as last sample? → timed = seq, since
//!                                          │    turns unchanged for the stall threshold, loop not
//!   timed == seq? → clock, report if slow ◄┘    waiting in the kernel? → report the stall now
//! ```
//!
//! The monitor reads the polled task's label from [`Watch::label`], which the loop updates only when the
//! label changes (a pointer comparison per poll), so thousands of tasks from one spawn site cost no
//! locking. Builder settings: `slow_poll_threshold`, `watchdog`, `on_slow_poll`, `on_stall`,
//! `time_every_poll` (exact timing of every poll, at the price of two clock reads each).

pub(crate) mod monitor;
mod report;

pub(crate) use report::{print_slow_poll, print_stall, SlowPollHook, StallHook};
pub use report::{SlowPoll, Stall};

use super::task_info::TaskLabel;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the loop is doing, in the low bits of [`Watch::activity`].
pub(crate) const STOPPED: u64 = 0; // not inside block_on
pub(crate) const WAITING: u64 = 1; // blocked in the kernel: idle, not stuck
pub(crate) const LOOP: u64 = 2; // the loop's own work (timers, wakes)
pub(crate) const POLLING: u64 = 3; // polling a task (or block_on's future)
const STATE_BITS: u32 = 2;
const STATE_MASK: u64 = (1 << STATE_BITS) - 1;

/// The state one runtime shares with the monitor thread. Written by the loop, read by the monitor,
/// except `timed`/`timed_since`, written by the monitor and read by the loop.
pub(crate) struct Watch {
    /// `poll sequence << 2 | state`. The sequence numbers polls from 1, so equal values at two samples
    /// mean "the same poll is still running".
    activity: AtomicU64,
    /// Finished loop turns.
    turns: AtomicU64,
    /// The label of the task being polled (`None`: the watch has not seen a poll yet).
    label: Mutex<Option<TaskLabel>>,
    /// The sequence number of a poll the monitor saw running at two samples (0: none)...
    timed: AtomicU64,
    /// ...and when it first saw it, in nanoseconds since `base` (written before `timed`).
    timed_since: AtomicU64,
    base: Instant,
    pub(crate) slow: Option<Duration>,
    pub(crate) stall: Option<Duration>,
    on_stall: StallHook,
}

impl Watch {
    pub(crate) fn new(
        slow: Option<Duration>,
        stall: Option<Duration>,
        on_stall: StallHook,
    ) -> Watch {
        Watch {
            activity: AtomicU64::new(STOPPED),
            turns: AtomicU64::new(0),
            label: Mutex::new(None),
            timed: AtomicU64::new(0),
            timed_since: AtomicU64::new(0),
            base: Instant::now(),
            slow,
            stall,
            on_stall,
        }
    }

    /// How often the monitor samples this watch: a fifth of the smaller threshold, within 1 ms..250 ms.
    pub(crate) fn period(&self) -> Duration {
        let smaller = match (self.slow, self.stall) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Duration::from_secs(1),
        };
        (smaller / 5).clamp(Duration::from_millis(1), Duration::from_millis(250))
    }

    /// The loop is now in `state` (`WAITING`, `LOOP` or `STOPPED`); keeps the poll sequence.
    #[inline]
    pub(crate) fn set_state(&self, state: u64) {
        let a = self.activity.load(Ordering::Relaxed);
        self.activity
            .store((a & !STATE_MASK) | state, Ordering::Relaxed);
    }

    /// Poll number `seq` starts, of the task labelled `label`. `published` is the loop's memory of the
    /// label last written, so the lock is taken only when the label changes.
    #[inline]
    pub(crate) fn poll_starts(
        &self,
        seq: u64,
        label: &TaskLabel,
        published: &mut Option<TaskLabel>,
    ) {
        if !matches!(published, Some(p) if p.same_as(label)) {
            *published = Some(label.clone());
            *self.lock_label() = Some(label.clone());
        }
        self.activity
            .store((seq << STATE_BITS) | POLLING, Ordering::Relaxed);
    }

    /// After poll `seq`: if the monitor timed it, how long it ran (at least; see the module docs).
    #[inline]
    pub(crate) fn poll_ended(&self, seq: u64) -> Option<Duration> {
        if self.timed.load(Ordering::Acquire) != seq {
            return None;
        }
        self.timed_duration()
    }

    #[cold]
    fn timed_duration(&self) -> Option<Duration> {
        let since = self.base + Duration::from_nanos(self.timed_since.load(Ordering::Relaxed));
        Some(Instant::now().saturating_duration_since(since))
    }

    /// A turn of the loop finished.
    #[inline]
    pub(crate) fn turn_finished(&self, turns: u64) {
        self.turns.store(turns, Ordering::Relaxed);
    }

    fn lock_label(&self) -> std::sync::MutexGuard<'_, Option<TaskLabel>> {
        // A panic while holding the lock only ever interrupts a plain store: the value is whole.
        self.label.lock().unwrap_or_else(|p| p.into_inner())
    }
}
