//! A task's life through the executor: output read or dropped exactly once, abort (before the first poll,
//! while pending, from inside itself), panics, and the join waker.

use super::super::super::Executor;
use super::super::Task;
use super::*;
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Poll, Waker};

#[test]
fn a_task_runs_and_its_output_is_read_once() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    ctl.done.set(true);
    let mut join = ex.spawn_here(p);
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
    let mut join = ex.spawn_here(async { 5 });
    run_until_idle(&ex);
    let waker = Waker::from(Arc::new(CountWakes::default()));
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Ok(5))));
    let _ = poll_join(&mut join, &waker);
}

#[test]
fn a_handle_dropped_before_completion_lets_the_executor_drop_the_output() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let join = ex.spawn_here(p);
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
    let join = ex.spawn_here(p);
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
    let mut join = ex.spawn_here(p);
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
    let mut join = ex.spawn_here(p);
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
    let mut join = ex.spawn_here(p);
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
    let mut join = ex.spawn_here(poll_fn(move |cx| {
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
    let mut bad = ex.spawn_here(async move {
        let _keep = &alive;
        if drops_is_zero() {
            panic!("task failed on purpose");
        }
    });
    let mut good = ex.spawn_here(async { 7 });
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
    let mut join = ex.spawn_here(async move {
        let _keep = &boom;
        std::future::pending::<()>().await;
    });
    run_until_idle(&ex);
    abort(&ex, &join);
    assert_eq!(ex.live_tasks(), 0);
    let waker = Waker::from(Arc::new(CountWakes::default()));
    assert!(matches!(poll_join(&mut join, &waker), Poll::Ready(Err(e)) if e.is_panic()));
}
