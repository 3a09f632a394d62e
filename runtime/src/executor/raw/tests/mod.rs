//! Tests of the raw task cell on an executor with no driver (so they also run under Miri): reference
//! counting, where the future and the output are dropped (exactly once), and wakers used on other threads
//! after the task ended or the executor is gone. This file holds the shared helpers.

mod lifecycle;
mod wakers;

use super::super::{Executor, Runnable};
use super::JoinRef;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Run everything that is ready, including wakes from other threads (bounded).
pub(super) fn run_until_idle(ex: &Executor) {
    for _ in 0..1000 {
        ex.take_remote();
        match ex.pop_ready() {
            Some(Runnable::Task(task)) => {
                ex.run_task(task);
            }
            Some(Runnable::Main) => {}
            None => return,
        }
    }
    panic!("the executor never became idle");
}

/// A waker that counts its wakes (for polling a `JoinRef` from the test).
#[derive(Default)]
pub(super) struct CountWakes(pub(super) AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

pub(super) fn poll_join<T>(
    join: &mut JoinRef<T>,
    waker: &Waker,
) -> Poll<Result<T, super::JoinError>> {
    join.poll(&mut Context::from_waker(waker))
}

/// Counts its drops in a shared counter.
pub(super) struct Counted(pub(super) Rc<Cell<u32>>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Pending until `done` is set; counts polls, publishes its latest waker, and owns a `Counted` so its
/// destructor can be observed. Its output is another `Counted`.
pub(super) struct Probe {
    polls: Rc<Cell<u32>>,
    waker: Arc<Mutex<Option<Waker>>>,
    done: Rc<Cell<bool>>,
    _alive: Counted,
    output_drops: Rc<Cell<u32>>,
}

pub(super) struct ProbeCtl {
    pub(super) polls: Rc<Cell<u32>>,
    pub(super) waker: Arc<Mutex<Option<Waker>>>,
    pub(super) done: Rc<Cell<bool>>,
    pub(super) future_drops: Rc<Cell<u32>>,
    pub(super) output_drops: Rc<Cell<u32>>,
}

pub(super) fn probe() -> (Probe, ProbeCtl) {
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
    pub(super) fn waker(&self) -> Waker {
        self.waker
            .lock()
            .unwrap()
            .clone()
            .expect("polled at least once")
    }
}

pub(super) fn abort<T>(ex: &Executor, join: &JoinRef<T>) {
    ex.abort(&join.task());
}
