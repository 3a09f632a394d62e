//! `join_all`: run many futures at once inside one task and collect their outputs in input order —
//! what asyncio calls `gather`.
//!
//! Unlike [`spawn`](crate::spawn), the futures are not tasks: they need not be `'static`, so they
//! may borrow locals (a `&Client`, a slice of URLs), and they all run inside the task that awaits
//! the `JoinAll`. With `Result` outputs, errors come back as values beside the successes, as
//! `gather(..., return_exceptions=True)` does.
//!
//! # How it avoids polling everyone on every wake
//! Each future gets its own waker, which records the future's index in a shared "ready" list and
//! then wakes the awaiting task. A poll of the `JoinAll` polls only the futures on that list, so a
//! wake costs O(1), not O(n): 10,000 futures waiting on sockets cost nothing while they wait.
//!
//! ```
//! use spool_runtime::{join_all, time::sleep};
//! use std::time::Duration;
//!
//! spool_runtime::block_on(async {
//!     let names = ["a", "bb", "ccc"];
//!     let lengths = join_all(names.iter().map(|name| async move {
//!         sleep(Duration::from_millis(3 - name.len() as u64)).await; // finish in reverse order
//!         name.len()
//!     }))
//!     .await;
//!     assert_eq!(lengths, [1, 2, 3]); // input order, whatever the finishing order
//! });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// Runs every future of `futures` concurrently; resolves to their outputs, in input order.
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let queue = Arc::new(ReadyQueue::default());
    let slots: Vec<Slot<I::Item>> = futures
        .into_iter()
        .enumerate()
        .map(|(index, future)| {
            let waker = Arc::new(ChildWaker {
                index,
                queued: AtomicBool::new(true), // every future starts on the ready list
                queue: queue.clone(),
            });
            Slot::Running(Box::pin(future), waker.clone(), Waker::from(waker))
        })
        .collect();
    *lock(&queue.indexes) = (0..slots.len()).collect();
    JoinAll {
        remaining: slots.len(),
        slots,
        queue,
    }
}

/// The future returned by [`join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    slots: Vec<Slot<F>>,
    /// Futures still running.
    remaining: usize,
    queue: Arc<ReadyQueue>,
}

enum Slot<F: Future> {
    /// Boxed so it stays pinned while the `Vec` is moved around; with the waker that names it.
    Running(Pin<Box<F>>, Arc<ChildWaker>, Waker),
    Done(F::Output),
    Taken,
}

/// Indexes of the futures woken since the last poll, and the task to wake when one is added.
///
/// Behind `Mutex`es only because a `Waker` must be `Send + Sync`; on the one loop thread they are
/// never contended.
#[derive(Default)]
struct ReadyQueue {
    indexes: Mutex<Vec<usize>>,
    parent: Mutex<Option<Waker>>,
}

struct ChildWaker {
    index: usize,
    /// True while `index` is on the ready list, so a future woken twice is polled once.
    queued: AtomicBool,
    queue: Arc<ReadyQueue>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        lock(&self.queue.indexes).push(self.index);
        let parent = lock(&self.queue.parent).clone();
        if let Some(parent) = parent {
            parent.wake(); // outside the lock
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// The futures are boxed and outputs are never pinned, so moving a `JoinAll` is fine.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        {
            let mut parent = lock(&this.queue.parent);
            if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *parent = Some(cx.waker().clone());
            }
        }
        // One snapshot per poll: a future that wakes itself while polled goes on the next list
        // (and its wake has already rescheduled us), so this loop always ends.
        let woken = std::mem::take(&mut *lock(&this.queue.indexes));
        for index in woken {
            let Slot::Running(future, child, waker) = &mut this.slots[index] else {
                continue;
            };
            child.queued.store(false, Ordering::Release); // a wake from now on lists it again
            if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(waker)) {
                this.slots[index] = Slot::Done(output);
                this.remaining -= 1;
            }
        }
        if this.remaining > 0 {
            return Poll::Pending;
        }
        let outputs =
            this.slots
                .iter_mut()
                .map(|slot| match std::mem::replace(slot, Slot::Taken) {
                    Slot::Done(output) => output,
                    _ => panic!("JoinAll polled after it completed"),
                });
        Poll::Ready(outputs.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::join_all;
    use crate::{block_on, time::sleep, yield_now};
    use std::cell::Cell;
    use std::time::Duration;

    #[test]
    fn outputs_come_in_input_order_not_finishing_order() {
        let out = block_on(join_all((0..5u64).map(|i| async move {
            sleep(Duration::from_millis(5 - i)).await;
            i
        })));
        assert_eq!(out, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn futures_may_borrow_locals_and_errors_are_values() {
        let base = String::from("item");
        let calls = Cell::new(0);
        let out = block_on(join_all((0..4).map(|i| {
            let (base, calls) = (&base, &calls);
            async move {
                calls.set(calls.get() + 1);
                yield_now().await;
                if i % 2 == 0 {
                    Ok(format!("{base}{i}"))
                } else {
                    Err(i)
                }
            }
        })));
        assert_eq!(
            out,
            [Ok("item0".into()), Err(1), Ok("item2".into()), Err(3)]
        );
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn an_empty_input_resolves_at_once() {
        let out: Vec<u8> = block_on(join_all(Vec::<std::future::Ready<u8>>::new()));
        assert!(out.is_empty());
    }

    #[test]
    fn a_wake_polls_only_the_woken_future() {
        // Future 0 wakes itself 50 times; the 99 others are polled once to start and once to end.
        let polls: Vec<Cell<u32>> = (0..100).map(|_| Cell::new(0)).collect();
        let out = block_on(join_all(polls.iter().enumerate().map(|(i, polls)| {
            std::future::poll_fn(move |cx| {
                polls.set(polls.get() + 1);
                let target = if i == 0 { 51 } else { 2 };
                if polls.get() == target {
                    return std::task::Poll::Ready(i);
                }
                if i == 0 || polls.get() == 1 {
                    cx.waker().wake_by_ref();
                }
                std::task::Poll::Pending
            })
        })));
        assert_eq!(out, (0..100).collect::<Vec<_>>());
        assert_eq!(polls[0].get(), 51);
        assert!(
            polls[1..].iter().all(|p| p.get() == 2),
            "not re-polled by others' wakes"
        );
    }
}
