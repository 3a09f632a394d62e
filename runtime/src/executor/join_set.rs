//! `JoinSet`: many tasks, results taken as they finish (asyncio's `as_completed`) or all at once in the
//! order they were spawned; dropping the set aborts whatever is still running.
//!
//! Each task of the set delivers its outcome into the set's own queue (its sink), so taking the next
//! result is O(1) however many tasks are in flight: nothing polls the tasks one by one.

use super::current;
use super::join::Sink;
use super::join_error::JoinError;
use super::spawn::spawn_with_sink;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};

use slab::Slab;

struct SetShared<T> {
    /// Task ids of the members still running, keyed by their slot in the set.
    live: RefCell<Slab<usize>>,
    /// Finished members: (spawn sequence number, outcome), in completion order.
    done: RefCell<VecDeque<(u64, Result<T, JoinError>)>>,
    waiter: Cell<Option<Waker>>,
}

struct SetSink<T> {
    shared: Rc<SetShared<T>>,
    slot: usize,
    seq: u64,
}

impl<T: 'static> Sink<T> for SetSink<T> {
    fn complete(self, result: Result<T, JoinError>) {
        self.shared.live.borrow_mut().try_remove(self.slot);
        self.shared.done.borrow_mut().push_back((self.seq, result));
        if let Some(w) = self.shared.waiter.take() {
            w.wake();
        }
    }
}

/// A collection of tasks whose results are awaited together.
///
/// ```
/// use spool_runtime::JoinSet;
/// use std::time::Duration;
/// spool_runtime::block_on(async {
///     let mut set = JoinSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move {
///             spool_runtime::time::sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     // Completion order:
///     assert_eq!(set.join_next().await.unwrap().unwrap(), 10);
///     // The rest, in spawn order:
///     let rest: Vec<u64> = set.join_all().await.into_iter().map(Result::unwrap).collect();
///     assert_eq!(rest, vec![30, 20]);
/// });
/// ```
pub struct JoinSet<T> {
    shared: Rc<SetShared<T>>,
    next_seq: u64,
}

impl<T: 'static> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            shared: Rc::new(SetShared {
                live: RefCell::new(Slab::new()),
                done: RefCell::new(VecDeque::new()),
                waiter: Cell::new(None),
            }),
            next_seq: 0,
        }
    }

    /// Spawn `future` as a member of this set.
    ///
    /// # Panics
    /// Outside a running runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = T> + 'static,
    {
        let slot = self.shared.live.borrow_mut().insert(usize::MAX);
        let seq = self.next_seq;
        self.next_seq += 1;
        let sink = SetSink {
            shared: self.shared.clone(),
            slot,
            seq,
        };
        let id = spawn_with_sink(future, sink);
        self.shared.live.borrow_mut()[slot] = id;
    }

    /// Members not yet taken out (running or finished).
    pub fn len(&self) -> usize {
        self.shared.live.borrow().len() + self.shared.done.borrow().len()
    }

    /// Whether no member is left to take.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next member to finish, or `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.next_with_seq().await.map(|(_, r)| r)
    }

    async fn next_with_seq(&mut self) -> Option<(u64, Result<T, JoinError>)> {
        poll_fn(|cx| {
            if let Some(item) = self.shared.done.borrow_mut().pop_front() {
                return Poll::Ready(Some(item));
            }
            if self.shared.live.borrow().is_empty() {
                return Poll::Ready(None);
            }
            self.shared.waiter.set(Some(cx.waker().clone()));
            Poll::Pending
        })
        .await
    }

    /// Wait for every remaining member and return the outcomes in the order the members were spawned.
    pub async fn join_all(mut self) -> Vec<Result<T, JoinError>> {
        let mut all = Vec::with_capacity(self.len());
        while let Some(item) = self.next_with_seq().await {
            all.push(item);
        }
        all.sort_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, r)| r).collect()
    }
}

impl<T> JoinSet<T> {
    /// Abort every running member; their outcomes become cancelled `JoinError`s.
    pub fn abort_all(&mut self) {
        let ids: Vec<usize> = self
            .shared
            .live
            .borrow()
            .iter()
            .map(|(_, id)| *id)
            .collect();
        for id in ids {
            current::try_with(|ex| ex.abort_id(id));
        }
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}
