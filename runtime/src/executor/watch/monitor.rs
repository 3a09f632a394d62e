//! The watchdog thread: one per process, started with the first runtime that has a watch, sampling every
//! registered [`Watch`] each period (see the module docs of [`super`]).
//!
//! It holds only `Weak` references: a dropped runtime simply disappears from its list. With no runtime
//! to watch it parks, using no CPU; while runtimes exist it wakes once per period (every 20 ms with the
//! default 100 ms slow-poll threshold), a few microseconds of CPU each time.

use super::{Stall, Watch, LOOP, POLLING, STATE_MASK, WAITING};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

/// Watches registered since the thread last looked, and the thread itself once started.
struct Registry {
    new: Vec<Weak<Watch>>,
    thread: Option<thread::Thread>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    new: Vec::new(),
    thread: None,
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Start watching `watch` (starting the thread if this is the first). Returns false if the thread could
/// not be started: the runtime then runs without a watch.
pub(crate) fn register(watch: &Arc<Watch>) -> bool {
    let mut reg = registry();
    reg.new.push(Arc::downgrade(watch));
    if let Some(t) = &reg.thread {
        t.unpark();
        return true;
    }
    match thread::Builder::new()
        .name("spool-watchdog".into())
        .spawn(run)
    {
        Ok(handle) => {
            reg.thread = Some(handle.thread().clone());
            true
        }
        Err(_) => {
            reg.new.pop();
            false
        }
    }
}

/// What the monitor remembers about one watch between samples.
struct Seen {
    watch: Weak<Watch>,
    activity: u64,
    /// When `activity` was first seen with its current value.
    activity_since: Instant,
    turns: u64,
    turn_since: Instant,
    /// The turn a stall was already reported for.
    reported_turn: Option<u64>,
}

fn run() {
    let mut watched: Vec<Seen> = Vec::new();
    loop {
        let now = Instant::now();
        for w in std::mem::take(&mut registry().new) {
            watched.push(Seen {
                watch: w,
                activity: u64::MAX,
                activity_since: now,
                turns: u64::MAX,
                turn_since: now,
                reported_turn: None,
            });
        }
        let mut period = None::<Duration>;
        watched.retain_mut(|seen| match seen.watch.upgrade() {
            Some(watch) => {
                sample(seen, &watch, now);
                let p = watch.period();
                period = Some(period.map_or(p, |q| q.min(p)));
                true
            }
            None => false,
        });
        match period {
            Some(p) => thread::sleep(p),
            // Nothing to watch: sleep until `register` unparks us (a spurious wake just loops).
            None => thread::park(),
        }
    }
}

/// Look at one watch: time a long poll, report a stuck turn.
fn sample(seen: &mut Seen, watch: &Watch, now: Instant) {
    let activity = watch.activity.load(Ordering::Relaxed);
    let state = activity & STATE_MASK;
    if activity != seen.activity {
        seen.activity = activity;
        seen.activity_since = now;
    } else if state == POLLING && watch.timed.load(Ordering::Relaxed) != activity >> 2 {
        // The same poll at two samples: it has run at least a period. Mark it so the loop times it.
        let since = seen.activity_since.saturating_duration_since(watch.base);
        watch
            .timed_since
            .store(since.as_nanos() as u64, Ordering::Relaxed);
        watch.timed.store(activity >> 2, Ordering::Release);
    }

    let turns = watch.turns.load(Ordering::Relaxed);
    let busy = state == POLLING || state == LOOP;
    if turns != seen.turns || !busy {
        // A turn finished, or the loop waits in the kernel (idle is not stuck) or is stopped.
        seen.turns = turns;
        seen.turn_since = now;
        return;
    }
    let Some(limit) = watch.stall else { return };
    let turn_for = now.saturating_duration_since(seen.turn_since);
    if turn_for < limit || seen.reported_turn == Some(turns) {
        return;
    }
    seen.reported_turn = Some(turns);
    let report = Stall {
        task: if state == POLLING {
            watch.lock_label().clone()
        } else {
            None
        },
        polling_for: if state == POLLING {
            now.saturating_duration_since(seen.activity_since)
        } else {
            Duration::ZERO
        },
        turn_for,
    };
    debug_assert!(state != WAITING);
    // A panicking hook must not take the watchdog down with it.
    let _ = catch_unwind(AssertUnwindSafe(|| (watch.on_stall)(&report)));
}
