//! A counting semaphore for tasks on one thread: FIFO-fair, cancellation-safe and closable.
//!
//! This is how spool bounds concurrency (e.g. "at most 64 connections at once"), and the bounded
//! [`mpsc`](super::mpsc) channel uses one to count free slots.
//!
//! # How permits move
//! - `acquire` takes permits at once only if **nobody is queued** and enough are free; otherwise the
//!   future joins the back of the queue. So a later request, even a small one, never overtakes an
//!   earlier one (no starvation of large requests).
//! - Releasing permits (a [`Permit`] dropped, [`Semaphore::add_permits`]) hands them straight to
//!   waiters at the front of the queue while they fit: the permits are *assigned* to the waiter and
//!   it is woken. No other task can steal them between the wake and the waiter's next poll.
//! - A queued future that is dropped leaves the queue; if it had already been handed permits, they
//!   are released again and go to the next waiter. No permit is ever lost.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::store_waker;
use super::wait_list::WaitList;

/// A pool of permits that tasks wait for in arrival order.
///
/// # Example
/// ```
/// use spool_runtime::sync::Semaphore;
/// use std::rc::Rc;
///
/// spool_runtime::block_on(async {
///     let limit = Rc::new(Semaphore::new(2)); // at most two downloads at once
///     let mut tasks = Vec::new();
///     for i in 0..5 {
///         let limit = limit.clone();
///         tasks.push(spool_runtime::spawn(async move {
///             let _permit = limit.acquire().await.unwrap();
///             i * 10 // ... download while holding the permit; it returns on drop ...
///         }));
///     }
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(limit.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    state: RefCell<State>,
}

struct State {
    /// Free permits, not yet assigned to anyone.
    permits: usize,
    closed: bool,
    waiters: WaitList<Waiter>,
}

struct Waiter {
    needed: usize,
    /// Set by `hand_out` when the permits were moved to this waiter; they are its own from then on.
    granted: bool,
    waker: Option<Waker>,
}

/// Returned by `acquire` when the semaphore was closed before the permits were handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(());

/// Why [`Semaphore::try_acquire`] could not take permits right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Too few free permits, or other tasks are already queued (they come first).
    NoPermits,
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    pub fn new(permits: usize) -> Self {
        let state = State {
            permits,
            closed: false,
            waiters: WaitList::new(),
        };
        Semaphore {
            state: RefCell::new(state),
        }
    }

    /// Free permits right now (permits assigned to a woken-but-not-yet-polled waiter are not free).
    pub fn available_permits(&self) -> usize {
        self.state.borrow().permits
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// Waits for one permit. See [`acquire_many`](Self::acquire_many).
    pub async fn acquire(&self) -> Result<Permit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits, in FIFO order, until `n` permits are handed to this call; they return on drop.
    ///
    /// Fails at once, or while waiting, if the semaphore is closed. Dropping the future gives
    /// back any permits it was already handed. A request for more permits than will ever exist
    /// waits forever (and holds up everyone queued behind it).
    pub async fn acquire_many(&self, n: usize) -> Result<Permit<'_>, AcquireError> {
        Acquire {
            sem: self,
            needed: n,
            key: None,
        }
        .await?;
        Ok(Permit { sem: self, n })
    }

    /// Like [`acquire`](Self::acquire), but the permit keeps the semaphore alive through an `Rc`,
    /// so it can be moved into another task.
    pub async fn acquire_owned(self: &Rc<Self>) -> Result<OwnedPermit, AcquireError> {
        Acquire {
            sem: self,
            needed: 1,
            key: None,
        }
        .await?;
        Ok(OwnedPermit {
            sem: self.clone(),
            n: 1,
        })
    }

    /// Takes one permit if one is free and nobody is queued.
    ///
    /// ```
    /// use spool_runtime::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued; never waits.
    pub fn try_acquire_many(&self, n: usize) -> Result<Permit<'_>, TryAcquireError> {
        let mut st = self.state.borrow_mut();
        if st.closed {
            return Err(TryAcquireError::Closed);
        }
        // Queued waiters come first, even if their request is larger than ours.
        if !st.waiters.is_empty() || st.permits < n {
            return Err(TryAcquireError::NoPermits);
        }
        st.permits -= n;
        Ok(Permit { sem: self, n })
    }

    /// Adds `n` permits, handing them to queued waiters first.
    ///
    /// # Panics
    /// If the number of free permits would overflow `usize`.
    pub fn add_permits(&self, n: usize) {
        {
            let mut st = self.state.borrow_mut();
            st.permits = st
                .permits
                .checked_add(n)
                .expect("semaphore permit count overflowed");
        }
        self.hand_out();
    }

    /// Closes the semaphore: every queued waiter is woken and fails with [`AcquireError`], and
    /// every later `acquire` fails at once.
    ///
    /// Permits already held stay valid and still return on drop; a waiter already handed its
    /// permits before the close keeps them.
    pub fn close(&self) {
        let wakers: Vec<Waker> = {
            let mut st = self.state.borrow_mut();
            st.closed = true;
            // Popped but not granted: each waiter's next poll sees `closed` and fails.
            std::iter::from_fn(|| st.waiters.pop_front().map(|w| w.waker.take()))
                .flatten()
                .collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Assigns free permits to the front of the queue while they fit, waking each served waiter.
    /// Stops at the first waiter that does not fit, so nobody behind it overtakes.
    fn hand_out(&self) {
        loop {
            let waker = {
                let mut st = self.state.borrow_mut();
                let st = &mut *st;
                match st.waiters.front_mut() {
                    Some(front) if front.needed <= st.permits => {
                        st.permits -= front.needed;
                        front.granted = true;
                        let waker = front.waker.take();
                        st.waiters.pop_front();
                        waker
                    }
                    _ => return,
                }
            };
            // Woken outside the borrow: the waker may re-enter the semaphore.
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.borrow();
        let queued = !st.waiters.is_empty();
        f.debug_struct("Semaphore")
            .field("permits", &st.permits)
            .field("closed", &st.closed)
            .field("has_waiters", &queued)
            .finish()
    }
}

/// The waiting part of `acquire`: resolves once `needed` permits belong to it.
struct Acquire<'a> {
    sem: &'a Semaphore,
    needed: usize,
    /// Our node in the wait list, while we have one.
    key: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut st = this.sem.state.borrow_mut();
        let st = &mut *st;
        let Some(key) = this.key else {
            // First poll: take the fast path only if that cannot overtake a queued waiter.
            if st.closed {
                return Poll::Ready(Err(AcquireError(())));
            }
            if st.waiters.is_empty() && st.permits >= this.needed {
                st.permits -= this.needed;
                return Poll::Ready(Ok(()));
            }
            let waiter = Waiter {
                needed: this.needed,
                granted: false,
                waker: Some(cx.waker().clone()),
            };
            this.key = Some(st.waiters.push_back(waiter));
            return Poll::Pending;
        };
        let waiter = st.waiters.get_mut(key);
        if waiter.granted || st.closed {
            let granted = st.waiters.remove(key).granted;
            this.key = None;
            return Poll::Ready(if granted {
                Ok(())
            } else {
                Err(AcquireError(()))
            });
        }
        store_waker(&mut waiter.waker, cx);
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waiter = self.sem.state.borrow_mut().waiters.remove(key);
        if waiter.granted {
            // Handed permits but cancelled before using them: pass them on.
            self.sem.add_permits(waiter.needed);
        } else {
            // We may have been the front waiter blocking smaller requests behind us.
            self.sem.hand_out();
        }
    }
}

/// Permits borrowed from a [`Semaphore`]; they go back when this is dropped.
#[derive(Debug)]
#[must_use = "permits return to the semaphore as soon as this is dropped"]
pub struct Permit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl Permit<'_> {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Consumes the permits without returning them: the semaphore shrinks by that many.
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.add_permits(self.n);
        }
    }
}

/// A permit that owns an `Rc` of its [`Semaphore`], from [`Semaphore::acquire_owned`].
#[derive(Debug)]
#[must_use = "permits return to the semaphore as soon as this is dropped"]
pub struct OwnedPermit {
    sem: Rc<Semaphore>,
    n: usize,
}

impl OwnedPermit {
    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Consumes the permits without returning them: the semaphore shrinks by that many.
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.add_permits(self.n);
        }
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "semaphore closed",
            TryAcquireError::NoPermits => "no permits available",
        })
    }
}

impl std::error::Error for TryAcquireError {}

#[cfg(test)]
#[path = "semaphore_tests.rs"]
mod tests;
