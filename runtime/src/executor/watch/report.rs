//! The two reports of the watch, [`SlowPoll`] and [`Stall`], and where they go by default: one line on
//! standard error each.

use crate::executor::task_info::TaskLabel;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One poll of a task ran longer than [`crate::Builder::slow_poll_threshold`].
///
/// Handed to the hook set with [`crate::Builder::on_slow_poll`] (on the loop thread, right after the
/// poll), the first time a task from a given spawn site is slow; later slow polls from that site are only
/// counted ([`crate::Stats::slow_polls`]).
#[derive(Clone, Debug)]
pub struct SlowPoll {
    /// The task (`block_on`'s own future is labelled with the `block_on` call site).
    pub task: TaskLabel,
    /// How long the poll ran: at least this long (exact with [`crate::Builder::time_every_poll`]).
    pub duration: Duration,
    /// The threshold it crossed.
    pub threshold: Duration,
}

/// `spool: slow poll: task spawned at src/main.rs:9:5 ran 402 ms in one poll ...`
impl fmt::Display for SlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "spool: slow poll: {} ran {:?} in one poll (threshold {:?}), blocking every other task of \
             its loop; move blocking calls into `spool_runtime::spawn_blocking` (later slow polls from \
             this spawn site are only counted in Stats::slow_polls)",
            self.task, self.duration, self.threshold
        )
    }
}

/// The loop has not finished a turn for [`crate::Builder::watchdog`]'s threshold: it is stuck now.
///
/// Handed to the hook set with [`crate::Builder::on_stall`], on the watchdog's own thread, while the
/// loop is still stuck; once per stuck turn.
#[derive(Clone, Debug)]
pub struct Stall {
    /// The task being polled right now, or `None` if the loop is stuck in its own work (a timer's or a
    /// socket's waker, a destructor) rather than in a poll.
    pub task: Option<TaskLabel>,
    /// How long the current poll has run so far (at least; zero when not in a poll).
    pub polling_for: Duration,
    /// How long the current turn of the loop has lasted so far (at least).
    pub turn_for: Duration,
}

/// `spool: watchdog: the loop has not finished a turn for 1.2 s; polling task spawned at ... for 1.2 s`
impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "spool: watchdog: the loop has not finished a turn for {:?}; ",
            self.turn_for
        )?;
        match &self.task {
            Some(task) => write!(
                f,
                "it has been polling {task} for {:?} (a blocking call? use `spool_runtime::spawn_blocking`)",
                self.polling_for
            ),
            None => write!(f, "it is not in a task poll (a waker or destructor is blocking)"),
        }
    }
}

/// Where slow-poll reports go (loop thread).
pub(crate) type SlowPollHook = Arc<dyn Fn(&SlowPoll) + Send + Sync>;
/// Where stall reports go (the watchdog thread).
pub(crate) type StallHook = Arc<dyn Fn(&Stall) + Send + Sync>;

/// The default: one line on standard error.
pub(crate) fn print_slow_poll(report: &SlowPoll) {
    eprintln!("{report}");
}

/// The default: one line on standard error.
pub(crate) fn print_stall(report: &Stall) {
    eprintln!("{report}");
}
