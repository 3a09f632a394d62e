//! What the runtime knows about each task for diagnostics: its label (a name, or where it was spawned)
//! and a few counters, kept beside the task in the executor's slab.
//!
//! Nothing here allocates for an unnamed task: the spawn site is the `&'static Location` that
//! `#[track_caller]` hands to [`crate::spawn`], and a name is stored only when one is given
//! ([`crate::spawn_named`]).

use super::raw::Task;
use std::borrow::Cow;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a task is named in reports: its name if it has one, and always the place it was spawned.
///
/// Cheap to clone (a pointer, plus a reference count for a name) and `Send`, so the
/// watchdog thread can hold the label of the task it reports.
#[derive(Clone, PartialEq, Eq)]
pub struct TaskLabel {
    site: &'static Location<'static>,
    /// 16 bytes, and `None` costs nothing; a name is copied into an `Arc` once, at spawn.
    name: Option<Arc<str>>,
}

impl TaskLabel {
    pub(crate) fn new(
        site: &'static Location<'static>,
        name: Option<Cow<'static, str>>,
    ) -> TaskLabel {
        TaskLabel {
            site,
            name: name.map(Arc::from),
        }
    }

    /// The name given to [`crate::spawn_named`], if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The `file:line:column` of the `spawn` (or `block_on`) call that started the task.
    pub fn spawn_site(&self) -> &'static Location<'static> {
        self.site
    }

    /// Whether two labels are the same label object (same site, same name storage): a pointer test, for
    /// the loop's "has the label changed" check, which must not compare strings.
    pub(crate) fn same_as(&self, other: &TaskLabel) -> bool {
        let name_ptr = |l: &TaskLabel| l.name.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        std::ptr::eq(self.site, other.site) && name_ptr(self) == name_ptr(other)
    }
}

/// `"name" (src/main.rs:12:5)` for a named task, `task spawned at src/main.rs:12:5` otherwise.
impl fmt::Display for TaskLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "task {name:?} (spawned at {})", self.site),
            None => write!(f, "task spawned at {}", self.site),
        }
    }
}

impl fmt::Debug for TaskLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One live task as [`crate::tasks`] and [`crate::Runtime::tasks`] report it.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    /// Its name and spawn site.
    pub label: TaskLabel,
    /// How many times it has been polled.
    pub polls: u64,
    /// Time spent in its polls that were timed: every poll with [`crate::Builder::time_every_poll`],
    /// else only the polls the watch caught running (longer than its sampling period, see
    /// [`crate::Builder::slow_poll_threshold`]); short polls then count in `polls` but add nothing here.
    pub busy: Duration,
    /// The start of the loop turn in which it was last polled (`None`: never polled yet). A task that
    /// waits for I/O or a timer has been idle since then.
    pub idle_since: Option<Instant>,
}

/// A task's slab entry: the executor's reference to it, and what it knows about it.
pub(crate) struct Entry {
    pub(crate) task: Task,
    pub(crate) label: TaskLabel,
    pub(crate) polls: u64,
    /// Nanoseconds (a `u64`, not a 16-byte `Duration`: this is per task).
    pub(crate) busy_ns: u64,
    /// The start of the turn of the last poll, in nanoseconds since the executor's base instant
    /// (`u64::MAX`: never polled). Eight bytes rather than an `Option<Instant>`'s sixteen.
    pub(crate) last_turn: u64,
}

impl Entry {
    pub(crate) fn new(task: Task, label: TaskLabel) -> Entry {
        Entry {
            task,
            label,
            polls: 0,
            busy_ns: 0,
            last_turn: u64::MAX,
        }
    }

    /// The public view; `base` is the instant `last_turn` counts from.
    pub(crate) fn info(&self, base: Instant) -> TaskInfo {
        TaskInfo {
            label: self.label.clone(),
            polls: self.polls,
            busy: Duration::from_nanos(self.busy_ns),
            idle_since: (self.last_turn != u64::MAX)
                .then(|| base + Duration::from_nanos(self.last_turn)),
        }
    }
}
