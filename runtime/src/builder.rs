//! `Builder`: the settings of a [`Runtime`], and the one place a runtime's parts are made and wired.
//!
//! Three environment variables set defaults that code can still override: `SPOOL_SLOW_POLL_MS` (the
//! slow-poll threshold, `0` = off), `SPOOL_WATCHDOG_MS` (the stall threshold, `0` = off) and
//! `SPOOL_DRIVER` (`epoll`, `io_uring` or `auto`: the I/O driver), so a deployed program can be made
//! quieter or stricter, or moved to another driver, without a rebuild.
//!
//! Choosing the driver ([`Builder::driver`], decided by [`choose_driver`]): `Epoll` always works;
//! `IoUring` either gets io_uring or fails `build` with the kernel's reason, never falling back in
//! silence; `Auto` takes io_uring when the kernel grants everything the driver needs, else epoll.

use crate::context::{Io, RuntimeId};
use crate::driver::epoll::MioDriver;
use crate::driver::uring::{BufferConfig, UringDriver};
use crate::driver::{Driver, Unparker};
use crate::executor::diag::Diag;
use crate::executor::watch::{self, monitor, SlowPoll, SlowPollHook, Stall, StallHook, Watch};
use crate::executor::Executor;
use crate::reactor::Reactor;
use crate::runtime::{Core, Runtime};
use crate::time::timers::Timers;
use std::cell::RefCell;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Settings for a [`Runtime`].
///
/// ```
/// use std::time::Duration;
/// let rt = spool_runtime::Runtime::builder()
///     .event_capacity(256)
///     .max_tasks_per_turn(32)
///     .slow_poll_threshold(Some(Duration::from_millis(50)))
///     .on_slow_poll(|report| eprintln!("{report}"))
///     .watchdog(None)
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Clone)]
pub struct Builder {
    event_capacity: usize,
    max_tasks_per_turn: usize,
    slow_poll: Option<Duration>,
    watchdog: Option<Duration>,
    time_every_poll: bool,
    on_slow_poll: Option<SlowPollHook>,
    on_stall: Option<StallHook>,
    /// `None`: the default from `SPOOL_DRIVER`, read by `build`.
    driver: Option<Driver>,
    uring_buffers: BufferConfig,
}

/// `Some(ms)` from the environment variable `name` (`0` means off), or `default` if unset or unreadable.
fn env_millis(name: &str, default: Option<Duration>) -> Option<Duration> {
    match std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(0) => None,
        Some(ms) => Some(Duration::from_millis(ms)),
        None => default,
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            event_capacity: 1024,
            max_tasks_per_turn: 128,
            slow_poll: env_millis("SPOOL_SLOW_POLL_MS", Some(Duration::from_millis(100))),
            watchdog: env_millis("SPOOL_WATCHDOG_MS", Some(Duration::from_secs(1))),
            time_every_poll: false,
            on_slow_poll: None,
            on_stall: None,
            driver: None,
            uring_buffers: BufferConfig::default(),
        }
    }
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

    /// Report a poll of one task that runs longer than this (default 100 ms, or `SPOOL_SLOW_POLL_MS`;
    /// `None` = off). A poll that long froze every other task of the loop: usually a blocking call
    /// that belongs in [`crate::spawn_blocking`].
    ///
    /// Polls are timed by sampling, not by reading the clock around each one (see
    /// [`time_every_poll`](Self::time_every_poll)): a watchdog thread looks every fifth of the threshold,
    /// so a poll is reported once it is known to have run at least the threshold, and the reported
    /// duration may be short by up to that sampling period.
    pub fn slow_poll_threshold(mut self, threshold: Option<Duration>) -> Self {
        self.slow_poll = threshold.filter(|d| !d.is_zero());
        self
    }

    /// Where slow-poll reports go (default: one line on standard error). Called on the loop thread right
    /// after the slow poll, once per spawn site; later slow polls from that site are only counted.
    pub fn on_slow_poll(mut self, hook: impl Fn(&SlowPoll) + Send + Sync + 'static) -> Self {
        self.on_slow_poll = Some(Arc::new(hook));
        self
    }

    /// Report, while it is still stuck, a loop that has not finished a turn for this long (default 1 s,
    /// or `SPOOL_WATCHDOG_MS`; `None` = off): which task is being polled, and for how long.
    ///
    /// On by default because a stuck loop is otherwise silent and the cost is small: one thread for the
    /// whole process (shared by every runtime), waking every fifth of the smaller threshold while a
    /// runtime exists, and two plain atomic stores per poll on the loop.
    pub fn watchdog(mut self, threshold: Option<Duration>) -> Self {
        self.watchdog = threshold.filter(|d| !d.is_zero());
        self
    }

    /// Where stall reports go (default: one line on standard error). Called on the watchdog thread.
    pub fn on_stall(mut self, hook: impl Fn(&Stall) + Send + Sync + 'static) -> Self {
        self.on_stall = Some(Arc::new(hook));
        self
    }

    /// Time every poll with the clock (default off): exact slow-poll durations, busy times and longest
    /// poll, at the price of two clock reads per poll (about 50 ns on a machine where a `yield_now`
    /// round trip costs 20).
    pub fn time_every_poll(mut self, on: bool) -> Self {
        self.time_every_poll = on;
        self
    }

    /// Which I/O driver to use (default: `SPOOL_DRIVER`, else [`Driver::Epoll`]; see [`Driver`]).
    ///
    /// ```
    /// use spool_runtime::{Driver, Runtime};
    /// let rt = Runtime::builder().driver(Driver::Epoll).build().unwrap();
    /// assert_eq!(rt.stats().driver, Driver::Epoll);
    /// ```
    pub fn driver(mut self, driver: Driver) -> Self {
        self.driver = Some(driver);
        self
    }

    /// The io_uring driver's provided-buffer ring: `count` receive buffers (rounded up to a power of two,
    /// at most 32768) of `size` bytes each (default 256 × 4096 = 1 MiB, of which only the pages the kernel
    /// fills become resident). Every stream receive on the runtime shares these buffers; when they run
    /// out, receives wait (no byte is lost) until reads give buffers back. Ignored on epoll.
    pub fn io_uring_buffers(mut self, count: u16, size: u32) -> Self {
        self.uring_buffers = BufferConfig {
            count: count.clamp(1, 32768).next_power_of_two(),
            size: size.max(1),
        };
        self
    }

    /// Create the runtime (opens the epoll instance or the io_uring; starts the watchdog thread if it is
    /// not running).
    ///
    /// # Errors
    /// The OS refuses the driver: for [`Driver::IoUring`] the message names why (no io_uring in this
    /// kernel, blocked by seccomp or `kernel.io_uring_disabled`, a missing operation). Also when
    /// `SPOOL_DRIVER` names no driver.
    pub fn build(self) -> io::Result<Runtime> {
        let requested = match self.driver {
            Some(d) => d,
            None => Driver::from_env()?,
        };
        let (capacity, buffers) = (self.event_capacity, self.uring_buffers);
        let (reactor, driver) = choose_driver(
            requested,
            || UringDriver::new(capacity, buffers),
            || MioDriver::new(capacity),
        )?;
        let (reactor, unparker) = match reactor {
            Chosen::Uring(d) => {
                let u = Unparker::Uring(d.unparker());
                (Reactor::with_uring(d), u)
            }
            Chosen::Epoll(d) => {
                let u = Unparker::Epoll(d.unparker());
                (Reactor::with_epoll(d), u)
            }
        };
        debug_assert_eq!(reactor.driver(), driver);
        let id = RuntimeId::next();
        let watch = (self.slow_poll.is_some() || self.watchdog.is_some()).then(|| {
            let on_stall = self
                .on_stall
                .clone()
                .unwrap_or_else(|| Arc::new(watch::print_stall));
            Arc::new(Watch::new(self.slow_poll, self.watchdog, on_stall))
        });
        let watch = watch.filter(monitor::register);
        let on_slow = self
            .on_slow_poll
            .clone()
            .unwrap_or_else(|| Arc::new(watch::print_slow_poll));
        let diag = Diag::new(watch, self.time_every_poll, self.slow_poll, on_slow);
        let core = Core {
            executor: Rc::new(Executor::with_diag(Some(unparker), diag)),
            timers: Rc::new(RefCell::new(Timers::new(id))),
            io: Rc::new(Io { id, reactor }),
        };
        Ok(Runtime::from_parts(core, self.max_tasks_per_turn))
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("event_capacity", &self.event_capacity)
            .field("max_tasks_per_turn", &self.max_tasks_per_turn)
            .field("slow_poll_threshold", &self.slow_poll)
            .field("watchdog", &self.watchdog)
            .field("time_every_poll", &self.time_every_poll)
            .field(
                "on_slow_poll",
                &self.on_slow_poll.as_ref().map(|_| "custom"),
            )
            .field("on_stall", &self.on_stall.as_ref().map(|_| "custom"))
            .field("driver", &self.driver)
            .field("io_uring_buffers", &self.uring_buffers)
            .finish()
    }
}

/// The driver `choose_driver` made, of one of two types (generic so tests can inject probe results).
pub(crate) enum Chosen<U, E> {
    Uring(U),
    Epoll(E),
}

/// Decide and make the driver for `requested`: `open_uring` runs the io_uring probe and setup (its error
/// names the kernel's reason), `open_epoll` makes the epoll driver. The rule, in one place:
/// - `Epoll`: epoll, io_uring never tried;
/// - `IoUring`: io_uring, or `open_uring`'s error as the build's error (never a silent fallback);
/// - `Auto`: io_uring if `open_uring` succeeds, else epoll.
pub(crate) fn choose_driver<U, E>(
    requested: Driver,
    open_uring: impl FnOnce() -> io::Result<U>,
    open_epoll: impl FnOnce() -> io::Result<E>,
) -> io::Result<(Chosen<U, E>, Driver)> {
    match requested {
        Driver::Epoll => Ok((Chosen::Epoll(open_epoll()?), Driver::Epoll)),
        Driver::IoUring => Ok((Chosen::Uring(open_uring()?), Driver::IoUring)),
        Driver::Auto => match open_uring() {
            Ok(u) => Ok((Chosen::Uring(u), Driver::IoUring)),
            Err(_) => Ok((Chosen::Epoll(open_epoll()?), Driver::Epoll)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> io::Result<&'static str> {
        Err(crate::driver::uring::refused(
            io::ErrorKind::PermissionDenied,
            "io_uring_setup failed with EPERM (injected)",
        ))
    }

    fn picked(
        r: io::Result<(Chosen<&'static str, &'static str>, Driver)>,
    ) -> (&'static str, Driver) {
        match r.unwrap() {
            (Chosen::Uring(u), d) => (u, d),
            (Chosen::Epoll(e), d) => (e, d),
        }
    }

    #[test]
    fn explicit_io_uring_refused_is_an_error_naming_the_reason() {
        let mut epoll_opened = false;
        let r = choose_driver(Driver::IoUring, refused, || {
            epoll_opened = true;
            Ok("epoll")
        });
        let Err(e) = r else {
            panic!("an explicit IoUring that the kernel refuses must fail");
        };
        assert!(!epoll_opened, "no silent fallback to epoll");
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        let msg = e.to_string();
        assert!(msg.contains("io_uring driver is not available"), "{msg}");
        assert!(msg.contains("EPERM"), "{msg}");
    }

    #[test]
    fn auto_falls_back_to_epoll_only_when_io_uring_is_refused() {
        assert_eq!(
            picked(choose_driver(Driver::Auto, refused, || Ok("epoll"))),
            ("epoll", Driver::Epoll)
        );
        assert_eq!(
            picked(choose_driver(Driver::Auto, || Ok("uring"), || Ok("epoll"))),
            ("uring", Driver::IoUring)
        );
    }

    #[test]
    fn epoll_never_tries_io_uring() {
        let r = choose_driver(
            Driver::Epoll,
            || -> io::Result<&str> { panic!("io_uring probed for Driver::Epoll") },
            || Ok("epoll"),
        );
        assert_eq!(picked(r), ("epoll", Driver::Epoll));
        assert_eq!(
            picked(choose_driver(
                Driver::IoUring,
                || Ok("uring"),
                || Ok("epoll")
            )),
            ("uring", Driver::IoUring)
        );
    }

    /// The whole path through `Builder::build` under a real refusal: a seccomp filter on this thread
    /// makes `io_uring_setup` fail with EPERM, as a container's default profile does.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn build_reports_a_seccomp_refusal_and_auto_takes_epoll() {
        let (explicit, auto) = std::thread::spawn(|| {
            crate::driver::uring::deny_io_uring_setup_on_this_thread();
            let explicit = Builder::default()
                .driver(Driver::IoUring)
                .watchdog(None)
                .build()
                .map(|rt| rt.stats().driver);
            let auto = Builder::default()
                .driver(Driver::Auto)
                .watchdog(None)
                .build()
                .map(|rt| rt.stats().driver);
            (
                explicit.map_err(|e| (e.kind(), e.to_string())),
                auto.map_err(|e| e.to_string()),
            )
        })
        .join()
        .unwrap();
        let (kind, msg) = explicit.expect_err("Driver::IoUring under a filter must fail to build");
        eprintln!("Builder::build with Driver::IoUring under seccomp: {msg}");
        assert_eq!(kind, io::ErrorKind::PermissionDenied, "{msg}");
        assert!(msg.contains("EPERM") && msg.contains("seccomp"), "{msg}");
        assert!(
            msg.contains("Driver::Epoll"),
            "the message says what to do: {msg}"
        );
        assert_eq!(auto, Ok(Driver::Epoll));
    }
}
