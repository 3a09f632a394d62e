//! Wakers: bursts of wakes, wakes from other threads, and wakers that outlive their task or the executor;
//! plus what the executor drops at the end and how big a cell is.

use super::super::super::Executor;
use super::super::cell;
use super::*;
use std::cell::Cell;
use std::rc::Rc;
use std::task::Waker;

#[test]
fn many_wakes_mean_one_poll_and_a_woken_task_is_polled_again() {
    let ex = Executor::new(None);
    let (p, ctl) = probe();
    let _join = ex.spawn_here(p);
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
    let _join = ex.spawn_here(p);
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
    let join = ex.spawn_here(p);
    run_until_idle(&ex);
    drop(join);
    // The waker now holds the last reference; the stage is already `Consumed`.
    let w = ctl.waker.lock().unwrap().take().unwrap();
    // A new task probably takes the finished task's slab slot: the stale waker must not poll it.
    let (p2, ctl2) = probe();
    let _join2 = ex.spawn_here(p2);
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
    let join = ex.spawn_here(p);
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
            drop(self.0.spawn_here(async move {
                let _keep = &counted;
                std::future::pending::<()>().await;
            }));
        }
    }
    let guard = SpawnOnDrop(ex.clone(), Counted(drops.clone()));
    let join = ex.spawn_here(async move {
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
