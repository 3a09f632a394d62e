//! The loop side of the watch: what the executor does around each poll so slow polls are seen, and the
//! counters it keeps (slow polls, the longest poll, per-task busy time). See [`super::watch`] for the
//! design; this file is the part that runs on the loop thread.

use super::task_info::TaskLabel;
use super::watch::{SlowPoll, SlowPollHook, Watch};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The executor's diagnostics settings and counters.
pub(crate) struct Diag {
    /// Shared with the watchdog thread; `None` when both thresholds are off and polls are not timed.
    pub(crate) watch: Option<Arc<Watch>>,
    /// Time every poll with the clock (`Builder::time_every_poll`) instead of by sampling.
    exact: bool,
    slow: Option<Duration>,
    on_slow: SlowPollHook,
    /// The label last handed to the watch (so it is locked only when the label changes).
    published: RefCell<Option<TaskLabel>>,
    /// Slow polls per spawn site: the first is reported, the rest counted.
    slow_sites: RefCell<HashMap<&'static Location<'static>, u64>>,
    slow_polls: Cell<u64>,
    longest: RefCell<Option<(Duration, TaskLabel)>>,
}

/// What to do about one poll, decided before it runs.
pub(crate) struct PollWatch {
    seq: u64,
    started: Option<Instant>,
}

impl Diag {
    /// No watch, no timing (unit tests' executors).
    #[cfg(test)]
    pub(crate) fn off() -> Diag {
        Diag::new(None, false, None, Arc::new(|_: &SlowPoll| {}))
    }

    pub(crate) fn new(
        watch: Option<Arc<Watch>>,
        exact: bool,
        slow: Option<Duration>,
        on_slow: SlowPollHook,
    ) -> Diag {
        Diag {
            watch,
            exact,
            slow,
            on_slow,
            published: RefCell::new(None),
            slow_sites: RefCell::new(HashMap::new()),
            slow_polls: Cell::new(0),
            longest: RefCell::new(None),
        }
    }

    /// Poll number `seq` of the task labelled `label` is about to run.
    #[inline]
    pub(crate) fn before(&self, seq: u64, label: &TaskLabel) -> PollWatch {
        if let Some(w) = &self.watch {
            w.poll_starts(seq, label, &mut self.published.borrow_mut());
        }
        PollWatch {
            seq,
            started: if self.exact {
                Some(Instant::now())
            } else {
                None
            },
        }
    }

    /// The poll returned: how long it ran, if it was timed (every poll in exact mode, else only the
    /// long ones the watchdog thread marked).
    #[inline]
    pub(crate) fn after(&self, poll: PollWatch) -> Option<Duration> {
        match poll.started {
            Some(t0) => Some(t0.elapsed()),
            None => self.watch.as_ref()?.poll_ended(poll.seq),
        }
    }

    /// Account for a timed poll of `label`: the longest poll, and a slow-poll report.
    #[cold]
    pub(crate) fn timed(&self, label: &TaskLabel, took: Duration) {
        {
            let mut longest = self.longest.borrow_mut();
            let longer = match &*longest {
                Some((d, _)) => took > *d,
                None => true,
            };
            if longer {
                *longest = Some((took, label.clone()));
            }
        }
        let Some(threshold) = self.slow else { return };
        if took < threshold {
            return;
        }
        self.slow_polls.set(self.slow_polls.get() + 1);
        let first = {
            let mut sites = self.slow_sites.borrow_mut();
            let n = sites.entry(label.spawn_site()).or_insert(0);
            *n += 1;
            *n == 1
        };
        if first {
            let report = SlowPoll {
                task: label.clone(),
                duration: took,
                threshold,
            };
            (self.on_slow)(&report);
        }
    }

    pub(crate) fn slow_polls(&self) -> u64 {
        self.slow_polls.get()
    }

    pub(crate) fn longest(&self) -> Option<(Duration, TaskLabel)> {
        self.longest.borrow().clone()
    }
}
