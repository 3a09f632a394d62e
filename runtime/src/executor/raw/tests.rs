//! Tests of the raw task cell on an executor with no driver (so they also run under Miri): reference
//! counting, where the future and the output are dropped (exactly once), and wakers used on other threads
//! after the task ended or the executor is gone.

use super::super::{Executor, Runnable};
use super::{cell, JoinRef, Task};
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Run everything that is ready, including wakes from other threads (bounded).
fn run_until_idle(ex: &Executor) {
    for _ in 0..1000 {
        ex.take_remote();
        match ex.pop_ready() {
            Some(Runnable::Task(task)) => ex.run_task(task),
            Some(Runnable::Main) => {}
            None => return,
        }
    }
    panic!("the executor never became idle");
}

/// A waker that counts its wakes (for polling a `JoinRef` from the test).
#[derive(Default)]
struct CountWakes(AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn poll_join<T>(join: &mut JoinRef<T>, waker: &Waker) -> Poll<Result<T, super::JoinError>> {
    join.poll(&mut Context::from_waker(waker))
}

/// Counts its drops in a shared counter.
struct Counted(Rc<Cell<u32>>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Pending until `done` is set; counts polls, publishes its latest waker, and owns a `Counted` so its
/// destructor can be observed. Its output is another `Counted`.
struct Probe {
    polls: Rc<Cell<u32>>,
    waker: Arc<Mutex<Option<Waker>>>,
    done: Rc<Cell<bool>>,
    _alive: Counted,
    output_drops: Rc<Cell<u32>>,
}

struct ProbeCtl {
    polls: Rc<Cell<u32>>,
    waker: Arc<Mutex<Option<Waker>>>,
    done: Rc<Cell<bool>>,
    future_drops: Rc<Cell<u32>>,
    output_drops: Rc<Cell<u32>>,
}

fn probe() -> (Probe, ProbeCtl) {
    let ctl = ProbeCtl {
        polls: Rc::default(),
        waker: Arc::default(),
        done: Rc::default(),
        future_drops: Rc::default(),
        output_drops: Rc::default(),
    };
    let p = Probe {
        polls: ctl.polls.clone(),
        waker: ctl.waker.clone(),
        done: ctl.done.clone(),
        _alive: Counted(ctl.future_drops.clone()),
        output_drops: ctl.output_drops.clone(),
    };
    (p, ctl)
}

impl Future for Probe {
    type Output = Counted;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Counted> {
        self.polls.set(self.polls.get() + 1);
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.done.get() {
            Poll::Ready(Counted(self.output_drops.clone()))
        } else {
            Poll::Pending
        }
    }
}

impl ProbeCtl {
    fn waker(&self) -> Waker {
        self.waker
            .lock()
            .unwrap()
            .clone()
            .expect("polled at least once")
    }
}

fn abort<T>(ex: &Executor, join: &JoinRef<T>) {
    ex.abort(&join.task());
}

#[test]
fn a_task_runs_and_its_output_is_read_once() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    ctl.done.set(true);
    let mut join = ex.spawn(p);
    assert!(!join.is_finished());
    run_until_idle(&ex);
    assert!(join.is_finished());
    assert_eq!(ex.live_tasks(), 0);
    assert_eq!(
        ctl.future_drops.get(),
        1,
        "the future is dropped as soon as it completes"
    );
    let waker = Waker::from(Arc::new(CountWakes::default()));
    let Poll::Ready(Ok(out)) = poll_join(&mut join, &waker) else {
        panic!("expected the output");
    };
    assert_eq!(ctl.output_drops.get(), 0);
    drop(out);
    drop(join);
    assert_eq!((ctl.polls.get(), ctl.output_drops.get()), (1, 1));
}

#[test]
#[should_panic(expected = "polled again")]
fn polling_a_join_handle_after_its_result_panics() {
    let ex = Executor::new(None);
    let mut join = ex.spawn(async { 5 });
    run_until_idle(&ex);
    let waker = Waker::from(Arc::new(CountWakes::default()));
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Ok(5))));
    let _ = poll_join(&mut join, &waker);
}

#[test]
fn a_handle_dropped_before_completion_lets_the_executor_drop_the_output() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let join = ex.spawn(p);
    run_until_idle(&ex);
    drop(join); // detached while pending
    ctl.done.set(true);
    ctl.waker().wake();
    run_until_idle(&ex);
    assert_eq!(ctl.polls.get(), 2);
    assert_eq!((ctl.future_drops.get(), ctl.output_drops.get()), (1, 1));
    assert_eq!(ex.live_tasks(), 0);
}

#[test]
fn a_handle_dropped_after_completion_drops_the_unread_output() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    ctl.done.set(true);
    let join = ex.spawn(p);
    run_until_idle(&ex);
    assert_eq!(ctl.output_drops.get(), 0, "kept for the handle");
    drop(join);
    assert_eq!(ctl.output_drops.get(), 1);
    drop(ex);
    assert_eq!((ctl.future_drops.get(), ctl.output_drops.get()), (1, 1));
}

#[test]
fn the_join_waker_is_woken_once_when_the_task_completes() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let mut join = ex.spawn(p);
    let count = Arc::new(CountWakes::default());
    let waker = Waker::from(count.clone());
    assert!(poll_join(&mut join, &waker).is_pending());
    assert!(poll_join(&mut join, &waker).is_pending()); // same waker: kept, not replaced
    run_until_idle(&ex);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    ctl.done.set(true);
    ctl.waker().wake_by_ref();
    run_until_idle(&ex);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Ok(_))));
}

#[test]
fn abort_while_pending_drops_the_future_once_and_reports_cancelled() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let mut join = ex.spawn(p);
    run_until_idle(&ex);
    let count = Arc::new(CountWakes::default());
    let waker = Waker::from(count.clone());
    assert!(poll_join(&mut join, &waker).is_pending());
    abort(&ex, &join);
    assert_eq!(ctl.future_drops.get(), 1);
    assert_eq!(ex.live_tasks(), 0);
    assert_eq!(count.0.load(Ordering::SeqCst), 1, "the waiter is told");
    abort(&ex, &join); // a second abort does nothing
    ctl.waker().wake(); // nor does a late wake
    run_until_idle(&ex);
    assert_eq!((ctl.polls.get(), ctl.future_drops.get()), (1, 1));
    let Poll::Ready(Err(e)) = poll_join(&mut join, &waker) else {
        panic!("expected an error");
    };
    assert!(e.is_cancelled());
    assert_eq!(ctl.output_drops.get(), 0);
}

#[test]
fn abort_before_the_first_poll_never_polls() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let mut join = ex.spawn(p);
    abort(&ex, &join);
    run_until_idle(&ex); // the queue entry of the first poll is now stale
    assert_eq!((ctl.polls.get(), ctl.future_drops.get()), (0, 1));
    let waker = Waker::from(Arc::new(CountWakes::default()));
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Err(e)) if e.is_cancelled()));
}

#[test]
fn a_task_aborting_itself_is_dropped_right_after_that_poll() {
    let ex = Executor::new(None);
    let me: Rc<RefCell<Option<Task>>> = Rc::default();
    let drops = Rc::new(Cell::new(0));
    let polls = Rc::new(Cell::new(0));
    let (me2, alive, polls2) = (me.clone(), Counted(drops.clone()), polls.clone());
    let mut join = ex.spawn(poll_fn(move |cx| {
        let _keep = &alive;
        polls2.set(polls2.get() + 1);
        let task = me2.borrow_mut().take().expect("a handle to myself");
        assert!(
            !task.cancel(),
            "cannot drop the future while it is being polled"
        );
        cx.waker().wake_by_ref(); // would poll again, were it not aborted
        Poll::<()>::Pending
    }));
    *me.borrow_mut() = Some(join.task());
    run_until_idle(&ex);
    assert_eq!((polls.get(), drops.get()), (1, 1));
    assert_eq!(ex.live_tasks(), 0);
    let waker = Waker::from(Arc::new(CountWakes::default()));
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Err(e)) if e.is_cancelled()));
}

#[test]
fn a_panic_is_reported_and_other_tasks_still_run() {
    let ex = Executor::new(None);
    let drops = Rc::new(Cell::new(0));
    let alive = Counted(drops.clone());
    let mut bad = ex.spawn(async move {
        let _keep = &alive;
        if drops_is_zero() {
            panic!("task failed on purpose");
        }
    });
    let mut good = ex.spawn(async { 7 });
    run_until_idle(&ex);
    assert_eq!(drops.get(), 1, "the panicked future was dropped");
    let waker = Waker::from(Arc::new(CountWakes::default()));
    let Poll::Ready(Err(e)) = poll_join(&mut bad, &waker) else {
        panic!("expected an error");
    };
    assert!(e.is_panic() && e.to_string().contains("on purpose"), "{e}");
    assert!(matches!(poll_join(&mut good, &waker), Poll::Ready(Ok(7))));
    assert_eq!(ex.live_tasks(), 0);
}

/// Opaque to the compiler, so the panic above is not known to be unconditional.
fn drops_is_zero() -> bool {
    std::hint::black_box(true)
}

#[test]
fn a_panicking_destructor_during_abort_becomes_the_outcome() {
    struct Boom;
    impl Drop for Boom {
        fn drop(&mut self) {
            panic!("destructor failed on purpose");
        }
    }
    let ex = Executor::new(None);
    let boom = Boom;
    let mut join = ex.spawn(async move {
        let _keep = &boom;
        std::future::pending::<()>().await;
    });
    run_until_idle(&ex);
    abort(&ex, &join);
    assert_eq!(ex.live_tasks(), 0);
    let waker = Waker::from(Arc::new(CountWakes::default()));
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Err(e)) if e.is_panic()));
}

#[test]
fn many_wakes_mean_one_poll_and_a_woken_task_is_polled_again() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let _join = ex.spawn(p);
    run_until_idle(&ex);
    let w = ctl.waker();
    let clones: Vec<Waker> = (0..10).map(|_| w.clone()).collect();
    for c in &clones {
        c.wake_by_ref();
    }
    for c in clones {
        c.wake();
    }
    run_until_idle(&ex);
    assert_eq!(ctl.polls.get(), 2);
    w.wake();
    run_until_idle(&ex);
    assert_eq!(ctl.polls.get(), 3);
}

#[test]
fn wakes_from_another_thread_reach_the_queue_once() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let _join = ex.spawn(p);
    run_until_idle(&ex);
    let w = ctl.waker();
    std::thread::spawn(move || {
        let clones: Vec<Waker> = (0..8).map(|_| w.clone()).collect();
        for c in clones {
            c.wake();
        }
        w.wake_by_ref();
    })
    .join()
    .unwrap();
    run_until_idle(&ex);
    assert_eq!(ctl.polls.get(), 2);
}

#[test]
fn a_waker_used_on_another_thread_after_the_task_finished_is_harmless() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    ctl.done.set(true);
    let join = ex.spawn(p);
    run_until_idle(&ex);
    drop(join);
    // The waker now holds the last reference; the stage is already `Consumed`.
    let w = ctl.waker.lock().unwrap().take().unwrap();
    // A new task probably takes the finished task's slab slot: the stale waker must not poll it.
    let (p2, ctl2) = probe();
    let _join2 = ex.spawn(p2);
    run_until_idle(&ex);
    std::thread::spawn(move || {
        let w2 = w.clone();
        w.wake_by_ref();
        w2.wake();
        drop(w); // frees the cell on this thread
    })
    .join()
    .unwrap();
    run_until_idle(&ex);
    assert_eq!(ctl2.polls.get(), 1);
    assert_eq!((ctl.future_drops.get(), ctl.output_drops.get()), (1, 1));
}

#[test]
fn wakers_outliving_the_executor_are_harmless_and_free_the_cell() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let join = ex.spawn(p);
    run_until_idle(&ex);
    let early = ctl.waker();
    let late = ctl.waker();
    // A wake queued from another thread while the executor still exists (never drained)...
    std::thread::spawn(move || early.wake()).join().unwrap();
    // ...then the executor goes: the pending future is dropped here, on its own thread.
    drop(ex);
    assert_eq!(ctl.future_drops.get(), 1);
    assert!(join.is_finished());
    drop(join);
    let stored = ctl.waker.lock().unwrap().take().unwrap();
    std::thread::spawn(move || {
        late.wake_by_ref();
        let again = late.clone();
        late.wake();
        again.wake();
        drop(stored); // the last reference, freed on this thread
    })
    .join()
    .unwrap();
    assert_eq!((ctl.polls.get(), ctl.output_drops.get()), (1, 0));
}

#[test]
fn dropping_the_executor_drops_every_task_once_even_if_destructors_spawn() {
    let ex = Rc::new(Executor::new(None));
    let drops = Rc::new(Cell::new(0));
    struct SpawnOnDrop(Rc<Executor>, Counted);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            // A destructor that spawns during shutdown: that task is dropped too.
            let counted = Counted(self.1 .0.clone());
            drop(self.0.spawn(async move {
                let _keep = &counted;
                std::future::pending::<()>().await;
            }));
        }
    }
    let guard = SpawnOnDrop(ex.clone(), Counted(drops.clone()));
    let join = ex.spawn(async move {
        let _keep = &guard;
        std::future::pending::<()>().await;
    });
    run_until_idle(&ex);
    ex.drop_all();
    // The task's own `Counted`, and the `Counted` of the task spawned while it was dropped.
    assert_eq!(drops.get(), 2);
    assert_eq!(ex.live_tasks(), 0);
    assert!(join.is_finished());
}

#[test]
fn a_large_future_is_stored_once() {
    async fn big() -> u8 {
        let a = [7u8; 4096];
        std::future::ready(()).await;
        a[0]
    }
    let future_size = std::mem::size_of_val(&big());
    assert!(future_size >= 4096);
    let cell_size = cell::cell_size(&big());
    assert!(
        cell_size <= future_size + 64,
        "{cell_size} bytes for a {future_size}-byte future"
    );
}
