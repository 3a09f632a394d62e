//! Timers from the outside: deadline order, never early, cancellation (the timer store empties),
//! `timeout`, `interval` (on schedule, skipping when behind), and 100,000 pending timers.
//!
//! No test asserts an upper bound on time (the machine is shared); lower bounds ("never early") are exact.

mod common;

use common::run;
use spool_runtime::time::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Elapsed, Sleep,
};
use spool_runtime::{current_stats, spawn, yield_now};
use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

fn timers() -> usize {
    current_stats().expect("inside a runtime").timers
}

/// Poll `fut` exactly once (registering its timer if it has one); true if it completed.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> bool {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx).is_ready())).await
}

#[test]
fn timers_fire_in_deadline_order() {
    run(30, || async {
        // Spawned in scrambled order; deadlines are absolute so the expected order is exact, provided every
        // sleep is still pending at its first poll (one already due completes in poll order instead). The
        // base lies ahead for that reason; a machine stalled past the margin gets another attempt.
        let offsets = [25u64, 5, 40, 0, 15, 35, 10, 30, 20, 1];
        for _attempt in 0..5 {
            let base = Instant::now() + Duration::from_millis(50);
            let order = Rc::new(RefCell::new(Vec::new()));
            let handles: Vec<_> = offsets
                .iter()
                .map(|&ms| {
                    let order = order.clone();
                    spawn(async move {
                        sleep_until(base + Duration::from_millis(ms)).await;
                        order.borrow_mut().push(ms);
                    })
                })
                .collect();
            yield_now().await; // every task has had its first poll
            let all_registered = timers() == offsets.len();
            for h in handles {
                h.await.unwrap();
            }
            if !all_registered {
                continue;
            }
            let mut sorted = offsets.to_vec();
            sorted.sort();
            assert_eq!(*order.borrow(), sorted);
            return;
        }
        panic!("the machine stalled for over 50 ms before every attempt");
    });
}

#[test]
fn sleep_never_completes_early() {
    run(60, || async {
        let durations = [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_micros(100),
            Duration::from_micros(999),
            Duration::from_millis(1),
            Duration::from_micros(1500),
            Duration::from_micros(2500),
            Duration::from_millis(3),
            Duration::from_millis(7),
            Duration::from_millis(20),
        ];
        for round in 0..5 {
            for &d in &durations {
                let start = Instant::now();
                sleep(d).await;
                let took = start.elapsed();
                assert!(
                    took >= d,
                    "round {round}: sleep({d:?}) returned after {took:?}"
                );
            }
        }
        // Concurrently, too: many sleeps of nearby lengths, each checked against its own start.
        let handles: Vec<_> = (0..200u64)
            .map(|i| {
                spawn(async move {
                    let d = Duration::from_micros(i * 37);
                    let start = Instant::now();
                    sleep(d).await;
                    (d, start.elapsed())
                })
            })
            .collect();
        for h in handles {
            let (d, took) = h.await.unwrap();
            assert!(took >= d, "concurrent sleep({d:?}) returned after {took:?}");
        }
        assert_eq!(timers(), 0);
    });
}

#[test]
fn sleep_until_a_past_instant_completes_without_a_timer() {
    run(30, || async {
        let mut s = sleep_until(Instant::now() - Duration::from_millis(5));
        assert!(s.is_elapsed());
        assert!(poll_once(&mut s).await);
        assert_eq!(timers(), 0);
        // sleep(ZERO) too.
        let mut z = sleep(Duration::ZERO);
        assert!(poll_once(&mut z).await);
        assert_eq!(timers(), 0);
    });
}

#[test]
fn dropping_a_pending_sleep_cancels_its_timer() {
    run(30, || async {
        let mut s = sleep(Duration::from_secs(3600));
        assert!(!poll_once(&mut s).await);
        assert_eq!(timers(), 1);
        assert!(
            !poll_once(&mut s).await,
            "a re-poll must not register a second timer"
        );
        assert_eq!(timers(), 1);
        drop(s);
        assert_eq!(timers(), 0);

        // A completed sleep leaves nothing behind either.
        sleep(Duration::from_millis(1)).await;
        assert_eq!(timers(), 0);

        // Many at once, dropped in a scrambled order.
        let mut many: Vec<Option<Sleep>> = (0..5000u64)
            .map(|i| Some(sleep(Duration::from_secs(100 + i))))
            .collect();
        for s in many.iter_mut() {
            assert!(!poll_once(s.as_mut().unwrap()).await);
        }
        assert_eq!(timers(), 5000);
        for i in (0..5000).map(|i| (i * 7919) % 5000) {
            many[i] = None;
        }
        assert_eq!(timers(), 0);
    });
}

#[test]
fn a_reset_sleep_moves_its_deadline_both_ways() {
    run(30, || async {
        let mut s = sleep(Duration::from_secs(3600));
        assert!(!poll_once(&mut s).await);
        let soon = Instant::now() + Duration::from_millis(5);
        s.reset(soon);
        assert_eq!(s.deadline(), soon);
        (&mut s).await;
        assert!(Instant::now() >= soon);
        assert_eq!(timers(), 0);
        // Reset into the future again after completing: it can be awaited a second time.
        let later = Instant::now() + Duration::from_millis(3);
        s.reset(later);
        assert_eq!(s.deadline(), later);
        (&mut s).await;
        assert!(Instant::now() >= later);
    });
}

#[test]
fn timeout_elapses_when_the_future_is_late() {
    run(30, || async {
        let dropped = Rc::new(Cell::new(false));
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let flag = Flag(dropped.clone());
        let start = Instant::now();
        let r = timeout(Duration::from_millis(10), async move {
            let _f = flag;
            sleep(Duration::from_secs(3600)).await;
            "too late"
        })
        .await;
        let _: Elapsed = r.expect_err("the sleep should have lost the race");
        assert!(
            start.elapsed() >= Duration::from_millis(10),
            "timeout fired early"
        );
        assert!(dropped.get(), "the timed-out future must be dropped");
        assert_eq!(
            timers(),
            0,
            "both the inner sleep and the deadline timer must be gone"
        );

        // Elapsed is a distinct error that reads well and maps to io TimedOut.
        let e = timeout(Duration::ZERO, pending::<()>()).await.unwrap_err();
        assert_eq!(e.to_string(), "deadline has elapsed");
        assert_eq!(std::io::Error::from(e).kind(), std::io::ErrorKind::TimedOut);
    });
}

#[test]
fn timeout_returns_ok_when_the_future_wins() {
    run(30, || async {
        assert_eq!(timeout(Duration::from_secs(3600), async { 5 }).await, Ok(5));
        // Already complete: wins even with a zero timeout.
        assert_eq!(timeout(Duration::ZERO, async { 6 }).await, Ok(6));
        let r = timeout(Duration::from_secs(3600), async {
            sleep(Duration::from_millis(5)).await;
            yield_now().await;
            7
        })
        .await;
        assert_eq!(r, Ok(7));
        assert_eq!(
            timers(),
            0,
            "the deadline timer must be cancelled when the future wins"
        );
        // Absolute form, and a huge duration that must not overflow.
        assert_eq!(
            timeout_at(Instant::now() + Duration::from_secs(60), async { 8 }).await,
            Ok(8)
        );
        assert_eq!(timeout(Duration::MAX, async { 9 }).await, Ok(9));
        let mut forever = sleep(Duration::MAX);
        assert!(!poll_once(&mut forever).await);
    });
}

#[test]
fn interval_ticks_on_schedule_and_never_early() {
    run(30, || async {
        let period = Duration::from_millis(5);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        assert_eq!(every.period(), period);
        // A stalled machine may legitimately skip ticks (see the next test), so check the rules instead of
        // exact instants: every tick lies on the grid start + k·period, is never early, and follows the
        // previous one by exactly one period unless the loop was behind when that one was delivered.
        let mut prev: Option<(Instant, Instant)> = None; // (scheduled, seen right after it was returned)
        for i in 0..10 {
            let scheduled = every.tick().await;
            let seen = Instant::now();
            let offset = scheduled.duration_since(start);
            assert_eq!(
                offset.as_nanos() % period.as_nanos(),
                0,
                "tick {i} at {offset:?} is off the schedule"
            );
            assert!(seen >= scheduled, "tick {i} came early");
            if let Some((p_sched, p_seen)) = prev {
                assert!(scheduled > p_sched, "tick {i} went backwards");
                assert!(
                    scheduled == p_sched + period || scheduled - period <= p_seen,
                    "tick {i} skipped schedule points that were still ahead"
                );
            } else {
                assert_eq!(scheduled, start, "the first tick is at the start");
            }
            prev = Some((scheduled, seen));
        }
        // `interval` ticks at once.
        let before = Instant::now();
        let first = interval(Duration::from_secs(3600)).tick().await;
        assert!(first >= before);
    });
}

#[test]
fn interval_skips_missed_ticks_when_behind() {
    run(30, || async {
        let period = Duration::from_millis(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        assert_eq!(every.tick().await, start);
        // Block the loop thread (on purpose) for three and a half periods.
        std::thread::sleep(period * 7 / 2);
        // The overdue tick is delivered once, late, at its scheduled time...
        let late = every.tick().await;
        let seen = Instant::now();
        assert_eq!(late, start + period);
        // ...and the next one is the first point of the schedule after "now": no burst of missed ticks.
        let next = every.tick().await;
        let since = next.duration_since(start);
        assert_eq!(
            since.as_nanos() % period.as_nanos(),
            0,
            "next tick {since:?} is off the schedule"
        );
        assert!(
            since >= period * 4,
            "missed ticks were delivered: next at {since:?}"
        );
        assert!(
            next - period <= seen,
            "a schedule point still ahead was skipped: next at {since:?}"
        );
        assert!(Instant::now() >= next);
    });
}

#[test]
fn a_hundred_thousand_pending_timers_do_not_stop_the_loop_and_all_cancel() {
    run(120, || async {
        const N: u64 = 100_000;
        let mut pending_sleeps: Vec<Sleep> = (0..N)
            .map(|i| sleep(Duration::from_secs(3600) + Duration::from_micros(i * 13 % 100_000)))
            .collect();
        for s in pending_sleeps.iter_mut() {
            assert!(!poll_once(s).await);
        }
        assert_eq!(timers(), N as usize);

        // An unrelated short sleep still completes (and is never early).
        for _ in 0..3 {
            let start = Instant::now();
            sleep(Duration::from_millis(1)).await;
            assert!(start.elapsed() >= Duration::from_millis(1));
        }
        // A short timer inserted among them fires too, from a separate task.
        let h = spawn(async { sleep(Duration::from_millis(2)).await });
        h.await.unwrap();
        assert_eq!(timers(), N as usize);

        // Cancel half in a scrambled order, then let the other half be dropped at once.
        let mut slots: Vec<Option<Sleep>> = pending_sleeps.into_iter().map(Some).collect();
        for i in 0..N / 2 {
            slots[((i * 7919) % N) as usize] = None;
        }
        assert_eq!(timers(), slots.iter().filter(|s| s.is_some()).count());
        sleep(Duration::from_millis(1)).await;
        drop(slots);
        assert_eq!(timers(), 0);
        sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn many_due_timers_all_fire_in_one_go() {
    run(60, || async {
        let fired = Rc::new(Cell::new(0usize));
        let base = Instant::now() + Duration::from_millis(5);
        let handles: Vec<_> = (0..20_000u32)
            .map(|i| {
                let fired = fired.clone();
                spawn(async move {
                    // Four distinct deadlines, many timers each.
                    sleep_until(base + Duration::from_micros(u64::from(i % 4) * 250)).await;
                    fired.set(fired.get() + 1);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(fired.get(), 20_000);
        assert_eq!(timers(), 0);
    });
}
