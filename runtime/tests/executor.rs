//! The executor's contract, tested from the outside: spawn/join, panics, abort in every state, detaching,
//! what `block_on` drops, nested `block_on`, `JoinSet`, fairness of `yield_now`, many tasks, and wakers
//! (cloned, stored, woken from other threads, woken in bursts).
//!
//! Every test runs under the watchdog in `common`, so a lost wake-up fails the test instead of hanging it.

mod common;

use common::{bounded, run};
use spool_runtime::sync::oneshot;
use spool_runtime::time::sleep;
use spool_runtime::{
    current_stats, spawn, spawn_blocking, yield_now, JoinHandle, JoinSet, Runtime,
};
use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Sets its flag when dropped: proves a task's future (and what it owns) was destroyed.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn flag() -> (Rc<Cell<bool>>, DropFlag) {
    let f = Rc::new(Cell::new(false));
    (f.clone(), DropFlag(f))
}

/// Yield until `cond` holds, at most `max` times (so a broken runtime fails instead of spinning).
async fn yield_until(max: usize, mut cond: impl FnMut() -> bool) {
    for _ in 0..max {
        if cond() {
            return;
        }
        yield_now().await;
    }
    assert!(cond(), "condition still false after {max} yields");
}

fn live_tasks() -> usize {
    current_stats().expect("inside a runtime").live_tasks
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------
// spawn, join, panic

#[test]
fn spawned_tasks_return_their_values() {
    run(30, || async {
        let handles: Vec<JoinHandle<u64>> = (0..100u64)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    i * i
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, (0..100u64).map(|i| i * i).sum::<u64>());
        assert_eq!(live_tasks(), 0);
    });
}

#[test]
fn a_task_spawned_by_a_task_runs_and_its_handle_can_be_awaited_anywhere() {
    run(30, || async {
        let outer = spawn(async {
            let inner = spawn(async { "inner" });
            // Hand the inner handle back out (in a Vec, so clippy does not take it for a forgotten
            // `.await`): it is awaited by the main future, not by its spawner.
            vec![inner]
        });
        let inner = outer.await.unwrap().pop().unwrap();
        assert_eq!(inner.await.unwrap(), "inner");
    });
}

#[test]
fn a_panicking_task_is_reported_and_the_loop_keeps_running() {
    run(30, || async {
        let bystander = spawn(async {
            for _ in 0..10 {
                yield_now().await;
            }
            sleep(Duration::from_millis(2)).await;
            "still here"
        });
        let bad = spawn(async {
            yield_now().await;
            panic!("boom in a task");
        });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert!(err.to_string().contains("boom in a task"), "display: {err}");
        assert_eq!(panic_text(&*err.into_panic()), "boom in a task");
        // The loop survived: other tasks, timers and new spawns still work.
        assert_eq!(bystander.await.unwrap(), "still here");
        assert_eq!(spawn(async { 5 }).await.unwrap(), 5);
        assert_eq!(live_tasks(), 0);
    });
}

#[test]
fn a_panicking_main_future_propagates_and_the_thread_can_run_a_new_runtime() {
    bounded(30, || {
        let dropped = Arc::new(AtomicBool::new(false));
        let d = dropped.clone();
        let result = catch_unwind(AssertUnwindSafe(|| {
            spool_runtime::block_on(async move {
                struct SetOnDrop(Arc<AtomicBool>);
                impl Drop for SetOnDrop {
                    fn drop(&mut self) {
                        self.0.store(true, Ordering::SeqCst);
                    }
                }
                let g = SetOnDrop(d);
                spawn(async move {
                    let _g = g;
                    pending::<()>().await;
                });
                yield_now().await;
                panic!("main future fails");
            })
        }));
        assert_eq!(panic_text(&*result.unwrap_err()), "main future fails");
        assert!(
            dropped.load(Ordering::SeqCst),
            "the pending task was not dropped on the way out"
        );
        // The thread-local runtime slot was released: a new block_on works.
        assert_eq!(spool_runtime::block_on(async { 3 }), 3);
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    bounded(30, || {
        let err = catch_unwind(|| drop(spawn(async {}))).unwrap_err();
        let text = panic_text(&*err);
        assert!(
            text.contains("needs a running spool runtime"),
            "message: {text}"
        );
    });
}

// ---------------------------------------------------------------------------------------------------
// abort

#[test]
fn abort_before_the_first_poll_never_polls_and_drops_the_future() {
    run(30, || async {
        let polled = Rc::new(Cell::new(false));
        let (dropped, guard) = flag();
        let p = polled.clone();
        let h = spawn(async move {
            let _g = guard;
            p.set(true);
        });
        h.abort();
        assert!(dropped.get(), "abort must drop the future at once");
        assert!(h.is_finished());
        assert!(h.await.unwrap_err().is_cancelled());
        yield_now().await;
        assert!(!polled.get(), "an aborted task was polled");
        assert_eq!(live_tasks(), 0);
    });
}

#[test]
fn abort_while_pending_drops_the_future_and_its_timer() {
    run(30, || async {
        let (dropped, guard) = flag();
        let h = spawn(async move {
            let _g = guard;
            sleep(Duration::from_secs(3600)).await;
        });
        yield_until(10, || current_stats().unwrap().timers == 1).await;
        assert!(!h.is_finished());
        h.abort();
        assert!(dropped.get());
        let stats = current_stats().unwrap();
        assert_eq!((stats.timers, stats.live_tasks), (0, 0));
        assert!(h.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_task_awaiting_an_aborted_handle_is_woken_with_cancelled() {
    run(30, || async {
        // The waiter polls the victim's handle through a shared cell, so this future can still abort it.
        let shared = Rc::new(RefCell::new(Some(spawn(pending::<u8>()))));
        let s2 = shared.clone();
        let waiter = spawn(async move {
            poll_fn(|cx| {
                let mut slot = s2.borrow_mut();
                Pin::new(slot.as_mut().unwrap()).poll(cx)
            })
            .await
        });
        yield_now().await;
        yield_now().await;
        assert!(!waiter.is_finished());
        shared.borrow().as_ref().unwrap().abort();
        let out = waiter.await.unwrap();
        assert!(out.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_task_can_abort_itself_and_stops_at_its_next_pending() {
    run(30, || async {
        let own: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::new(RefCell::new(None));
        let after_yield = Rc::new(Cell::new(false));
        let (dropped, guard) = flag();
        let (o, a) = (own.clone(), after_yield.clone());
        let h = spawn(async move {
            let _g = guard;
            yield_now().await; // let the main future store our handle
            o.borrow().as_ref().expect("handle stored").abort();
            yield_now().await; // aborted: we never come back from this
            a.set(true);
        });
        *own.borrow_mut() = Some(h);
        yield_until(20, || dropped.get()).await;
        assert!(
            !after_yield.get(),
            "a self-aborted task ran past its next await"
        );
        let h = own.borrow_mut().take().unwrap();
        assert!(h.await.unwrap_err().is_cancelled());
        assert_eq!(live_tasks(), 0);
    });
}

#[test]
fn abort_after_completion_is_a_no_op_even_when_the_slot_is_reused() {
    run(30, || async {
        let first = spawn(async { 1 });
        yield_until(10, || first.is_finished()).await;
        // The first task's executor slot is free now; this task will most likely reuse it.
        let second = spawn(async {
            sleep(Duration::from_millis(5)).await;
            2
        });
        first.abort();
        assert_eq!(
            first.await.unwrap(),
            1,
            "a finished task keeps its value after abort"
        );
        assert_eq!(
            second.await.unwrap(),
            2,
            "abort of a finished task hit another task"
        );
    });
}

#[test]
fn a_dropped_handle_detaches_the_task() {
    run(30, || async {
        let (tx, rx) = oneshot::channel();
        let h = spawn(async move {
            sleep(Duration::from_millis(5)).await;
            tx.send("ran to completion").unwrap();
        });
        drop(h);
        assert_eq!(rx.await, Ok("ran to completion"));
    });
}

// ---------------------------------------------------------------------------------------------------
// block_on

#[test]
fn block_on_returns_when_its_future_completes_and_drops_pending_tasks() {
    bounded(30, || {
        let rt = Runtime::new().unwrap();
        let flags: Rc<RefCell<Vec<Rc<Cell<bool>>>>> = Rc::default();
        let f = flags.clone();
        let out = rt.block_on(async move {
            for i in 0..50 {
                let (d, guard) = flag();
                f.borrow_mut().push(d);
                spawn(async move {
                    let _g = guard;
                    match i % 3 {
                        0 => sleep(Duration::from_secs(3600)).await,
                        1 => pending::<()>().await,
                        _ => loop {
                            yield_now().await; // always ready: still dropped when main completes
                        },
                    }
                });
            }
            // A task whose destructor spawns another task: drop_all must handle it, not hang.
            let (inner_d, guard) = flag();
            f.borrow_mut().push(inner_d);
            struct SpawnOnDrop(Option<DropFlag>);
            impl Drop for SpawnOnDrop {
                fn drop(&mut self) {
                    let g = self.0.take();
                    spawn(async move {
                        let _g = g;
                        pending::<()>().await;
                    });
                }
            }
            let sod = SpawnOnDrop(Some(guard));
            spawn(async move {
                let _s = sod;
                pending::<()>().await;
            });
            yield_now().await;
            assert_eq!(live_tasks(), 51);
            "main done"
        });
        assert_eq!(out, "main done");
        let flags = flags.borrow();
        assert!(
            flags.iter().all(|d| d.get()),
            "some pending task was not dropped by block_on"
        );
        let stats = rt.stats();
        assert_eq!((stats.live_tasks, stats.timers), (0, 0));
        // The runtime can be driven again afterwards.
        assert_eq!(rt.block_on(async { spawn(async { 9 }).await.unwrap() }), 9);
    });
}

#[test]
fn nested_block_on_panics_with_a_clear_message_and_the_outer_loop_survives() {
    run(30, || async {
        let err = catch_unwind(|| spool_runtime::block_on(async {})).unwrap_err();
        let text = panic_text(&*err);
        assert!(text.contains("nested block_on"), "message: {text}");

        let rt = Runtime::new().unwrap();
        let err = catch_unwind(AssertUnwindSafe(|| rt.block_on(async {}))).unwrap_err();
        assert!(panic_text(&*err).contains("already running"));

        // From inside a spawned task: reported through the handle.
        let err = spawn(async { spool_runtime::block_on(async {}) })
            .await
            .unwrap_err();
        assert!(
            err.is_panic() && err.to_string().contains("nested block_on"),
            "{err}"
        );

        // The outer runtime still works.
        sleep(Duration::from_millis(1)).await;
        assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
    });
}

// ---------------------------------------------------------------------------------------------------
// JoinSet

#[test]
fn join_set_yields_results_in_completion_order() {
    run(30, || async {
        let mut set = JoinSet::new();
        let mut senders = Vec::new();
        for i in 0..4u32 {
            let (tx, rx) = oneshot::channel::<()>();
            senders.push(Some(tx));
            set.spawn(async move {
                rx.await.unwrap();
                i
            });
        }
        assert_eq!(set.len(), 4);
        let mut order = Vec::new();
        for i in [2usize, 0, 3, 1] {
            senders[i].take().unwrap().send(()).unwrap();
            order.push(set.join_next().await.unwrap().unwrap());
            assert_eq!(set.len(), 4 - order.len());
        }
        assert_eq!(order, [2, 0, 3, 1]);
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn join_set_completion_order_follows_timers() {
    run(30, || async {
        // The base lies ahead so that no sleep is already due at its first poll (see time.rs); a machine
        // stalled past that margin gets another attempt.
        for _attempt in 0..5 {
            let mut set = JoinSet::new();
            let base = Instant::now() + Duration::from_millis(50);
            for ms in [30u64, 10, 20, 0] {
                set.spawn(async move {
                    spool_runtime::time::sleep_until(base + Duration::from_millis(ms)).await;
                    ms
                });
            }
            yield_now().await;
            let all_registered = current_stats().unwrap().timers == 4;
            let mut order = Vec::new();
            while let Some(r) = set.join_next().await {
                order.push(r.unwrap());
            }
            if all_registered {
                assert_eq!(order, [0, 10, 20, 30]);
                return;
            }
        }
        panic!("the machine stalled for over 50 ms before every attempt");
    });
}

#[test]
fn join_all_returns_results_in_spawn_order() {
    run(30, || async {
        let mut set = JoinSet::new();
        let base = Instant::now();
        for ms in [25u64, 5, 15, 0, 10] {
            set.spawn(async move {
                spool_runtime::time::sleep_until(base + Duration::from_millis(ms)).await;
                if ms == 15 {
                    panic!("member 15 fails");
                }
                ms
            });
        }
        let all = set.join_all().await;
        assert_eq!(all.len(), 5);
        let shown: Vec<Option<u64>> = all.iter().map(|r| r.as_ref().ok().copied()).collect();
        assert_eq!(shown, [Some(25), Some(5), None, Some(0), Some(10)]);
        assert!(all[2].as_ref().unwrap_err().is_panic());
    });
}

#[test]
fn dropping_a_join_set_aborts_every_member() {
    run(30, || async {
        let mut set = JoinSet::new();
        let mut flags = Vec::new();
        for _ in 0..20 {
            let (d, guard) = flag();
            flags.push(d);
            set.spawn(async move {
                let _g = guard;
                sleep(Duration::from_secs(3600)).await;
            });
        }
        set.spawn(async {}); // one member finishes first; its result is simply discarded
        yield_until(10, || current_stats().unwrap().timers == 20).await;
        assert_eq!(set.len(), 21);
        drop(set);
        assert!(
            flags.iter().all(|d| d.get()),
            "a member survived the set's drop"
        );
        let stats = current_stats().unwrap();
        assert_eq!((stats.live_tasks, stats.timers), (0, 0));
    });
}

#[test]
fn abort_all_turns_running_members_into_cancelled_results() {
    run(30, || async {
        let mut set = JoinSet::new();
        set.spawn(async { 1 });
        yield_now().await; // let the first member finish
        set.spawn(pending::<i32>());
        set.spawn(pending::<i32>());
        set.abort_all();
        let all = set.join_all().await;
        assert_eq!(all[0].as_ref().ok(), Some(&1));
        assert!(all[1..]
            .iter()
            .all(|r| r.as_ref().unwrap_err().is_cancelled()));
    });
}

// ---------------------------------------------------------------------------------------------------
// fairness

#[test]
fn two_yielding_tasks_interleave() {
    run(30, || async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut set = JoinSet::new();
        for name in ['a', 'b'] {
            let log = log.clone();
            set.spawn(async move {
                for i in 0..5 {
                    log.borrow_mut().push((name, i));
                    yield_now().await;
                }
            });
        }
        set.join_all().await;
        let log = log.borrow();
        let names: String = log.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, "ababababab");
    });
}

#[test]
fn an_always_ready_task_does_not_starve_timers_or_sockets() {
    run(60, || async {
        let stop = Rc::new(Cell::new(false));
        let spins = Rc::new(Cell::new(0u64));
        // Bounded in count too: a starving runtime fails on the assert below, not by running forever.
        const MAX_SPINS: u64 = 50_000_000;
        let spinners: Vec<_> = (0..3)
            .map(|_| {
                let (stop, spins) = (stop.clone(), spins.clone());
                spawn(async move {
                    while !stop.get() && spins.get() < MAX_SPINS {
                        spins.set(spins.get() + 1);
                        yield_now().await;
                    }
                })
            })
            .collect();

        // A timer...
        let t0 = Instant::now();
        sleep(Duration::from_millis(10)).await;
        assert!(t0.elapsed() >= Duration::from_millis(10));

        // ...and a socket read, whose bytes come from another thread.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let (mut s, _) = listener.accept().unwrap();
            std::thread::sleep(Duration::from_millis(20));
            s.write_all(b"through the spinners").unwrap();
        });
        let conn = spool_runtime::net::TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 20];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"through the spinners");
        writer.join().unwrap();

        let spun = spins.get();
        stop.set(true);
        assert!(
            spun > 0 && spun < MAX_SPINS,
            "spinners ran {spun} times: they starved the loop or never ran"
        );
        for s in spinners {
            s.await.unwrap();
        }
    });
}

// ---------------------------------------------------------------------------------------------------
// many tasks

#[test]
fn ten_thousand_concurrent_sleeping_tasks_all_complete() {
    run(60, || async {
        let done = Rc::new(Cell::new(0usize));
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                let done = done.clone();
                spawn(async move {
                    let d = Duration::from_micros((i * 7919) % 20_000);
                    let start = Instant::now();
                    sleep(d).await;
                    assert!(start.elapsed() >= d);
                    done.set(done.get() + 1);
                })
            })
            .collect();
        yield_now().await;
        assert!(
            current_stats().unwrap().timers > 9_000,
            "the tasks should all be asleep at once"
        );
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(done.get(), 10_000);
        let stats = current_stats().unwrap();
        assert_eq!((stats.live_tasks, stats.timers), (0, 0));
    });
}

// ---------------------------------------------------------------------------------------------------
// wakers

/// Pending until its flag is set; counts its polls and publishes its latest waker.
struct Probe {
    polls: Rc<Cell<u32>>,
    waker: WakerSlot,
    done: Rc<Cell<bool>>,
}

impl Future for Probe {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        *self.waker.borrow_mut() = Some(cx.waker().clone());
        if self.done.get() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The latest waker a [`Probe`] was polled with.
type WakerSlot = Rc<RefCell<Option<Waker>>>;

/// A probe and, shared with it: its poll count, its latest waker, and the flag that lets it finish.
fn probe() -> (Probe, Rc<Cell<u32>>, WakerSlot, Rc<Cell<bool>>) {
    let p = Probe {
        polls: Rc::default(),
        waker: Rc::default(),
        done: Rc::default(),
    };
    let (a, b, c) = (p.polls.clone(), p.waker.clone(), p.done.clone());
    (p, a, b, c)
}

#[test]
fn a_waker_moved_to_another_thread_wakes_the_loop_blocked_in_epoll() {
    run(30, || async {
        // The main future itself: nothing else is scheduled and no timer is pending, so the loop blocks in
        // epoll_wait with no timeout and only the cross-thread wake can end it.
        let slot: Arc<Mutex<(bool, Option<std::thread::JoinHandle<()>>)>> = Arc::default();
        let start = Instant::now();
        poll_fn(|cx| {
            let mut s = slot.lock().unwrap();
            if s.0 {
                return Poll::Ready(());
            }
            if s.1.is_none() {
                let waker = cx.waker().clone();
                let slot2 = slot.clone();
                s.1 = Some(std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    slot2.lock().unwrap().0 = true;
                    waker.wake();
                }));
            }
            Poll::Pending
        })
        .await;
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert_eq!(current_stats().unwrap().timers, 0);
        let t = slot.lock().unwrap().1.take().unwrap();
        t.join().unwrap();

        // A spawned task woken the same way.
        let task = spawn(async {
            let fired = Arc::new(AtomicBool::new(false));
            let mut thread = None;
            poll_fn(|cx| {
                if fired.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                if thread.is_none() {
                    let (w, f) = (cx.waker().clone(), fired.clone());
                    thread = Some(std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(50));
                        f.store(true, Ordering::SeqCst);
                        w.wake_by_ref();
                        drop(w);
                    }));
                }
                Poll::Pending
            })
            .await;
            thread.unwrap().join().unwrap();
            "woken"
        });
        assert_eq!(task.await.unwrap(), "woken");
    });
}

#[test]
fn spawn_blocking_results_reach_the_loop() {
    run(30, || async {
        let start = Instant::now();
        let v = spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(50));
            7
        })
        .await;
        assert_eq!(v, 7);
        assert!(start.elapsed() >= Duration::from_millis(50));
        // A panic in the blocking function is re-raised in the awaiting task.
        let err = spawn(spawn_blocking(|| -> u8 { panic!("blocking job failed") }))
            .await
            .unwrap_err();
        assert!(
            err.is_panic() && err.to_string().contains("blocking job failed"),
            "{err}"
        );
    });
}

#[test]
fn a_burst_of_blocking_jobs_runs_in_parallel_even_with_one_idle_worker() {
    // Regression: with one idle worker, every job of a burst was handed to it, one after the other.
    run(60, || async {
        spawn_blocking(|| ()).await; // leaves (at least) one idle worker behind
        const N: usize = 4;
        let gate = Arc::new((Mutex::new(0usize), Condvar::new()));
        let jobs: Vec<_> = (0..N)
            .map(|_| {
                let gate = gate.clone();
                spawn_blocking(move || {
                    // Each job waits until all N are running at once (or gives up after a while).
                    let (m, cv) = &*gate;
                    let mut n = m.lock().unwrap();
                    *n += 1;
                    cv.notify_all();
                    let (n, _) = cv
                        .wait_timeout_while(n, Duration::from_secs(5), |n| *n < N)
                        .unwrap();
                    *n >= N
                })
            })
            .collect();
        for j in jobs {
            assert!(
                j.await,
                "blocking jobs of one burst did not run concurrently"
            );
        }
    });
}

#[test]
fn a_burst_of_wakes_on_the_loop_polls_the_task_once() {
    run(30, || async {
        let (p, polls, waker, done) = probe();
        let h = spawn(p);
        yield_until(10, || polls.get() == 1).await;
        for burst in 1..=3u32 {
            let w = waker.borrow().clone().unwrap();
            let clones: Vec<Waker> = (0..100).map(|_| w.clone()).collect();
            for c in &clones {
                c.wake_by_ref();
            }
            for c in clones {
                c.wake();
            }
            w.wake();
            // Give the executor plenty of turns: the task must have been polled exactly once more.
            for _ in 0..5 {
                yield_now().await;
            }
            assert_eq!(polls.get(), 1 + burst, "burst {burst}");
        }
        done.set(true);
        waker.borrow().as_ref().unwrap().wake_by_ref();
        h.await.unwrap();
        assert_eq!(polls.get(), 5);
    });
}

#[test]
fn a_burst_of_wakes_from_another_thread_polls_the_task_once() {
    run(30, || async {
        let (p, polls, waker, done) = probe();
        let h = spawn(p);
        yield_until(10, || polls.get() == 1).await;
        for burst in 1..=3u32 {
            let w = waker.borrow().clone().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            let t = std::thread::spawn(move || {
                let stored: Vec<Waker> = (0..1000).map(|_| w.clone()).collect();
                for s in &stored {
                    s.wake_by_ref();
                }
                for s in stored {
                    s.wake();
                }
                tx.send(()).unwrap();
            });
            // Block the loop thread (on purpose) until the burst is over, so no poll happens mid-burst.
            rx.recv_timeout(Duration::from_secs(10))
                .expect("waking thread finished");
            t.join().unwrap();
            // Wakes from other threads are collected after the turn's kernel poll, which comes after at
            // most `max_tasks_per_turn` (128) task polls: yield past that.
            yield_until(1000, || polls.get() > burst).await;
            for _ in 0..5 {
                yield_now().await;
            }
            assert_eq!(polls.get(), 1 + burst, "burst {burst}");
        }
        done.set(true);
        waker.borrow().as_ref().unwrap().wake_by_ref();
        h.await.unwrap();
    });
}

#[test]
fn a_stale_waker_of_a_finished_task_only_causes_a_spurious_poll() {
    run(30, || async {
        let (p, _polls, waker, done) = probe();
        done.set(true);
        spawn(p).await.unwrap();
        let stale = waker.borrow_mut().take().unwrap();
        // A new task probably takes the finished task's slot; the stale wake must not break it.
        let (tx, rx) = oneshot::channel::<u8>();
        let h = spawn(async move { rx.await.unwrap() + 1 });
        yield_now().await;
        for _ in 0..10 {
            stale.wake_by_ref();
            yield_now().await;
        }
        assert!(!h.is_finished());
        tx.send(41).unwrap();
        assert_eq!(h.await.unwrap(), 42);
    });
}
