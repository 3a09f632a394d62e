//! `Notify`: wake one waiting task, or all of them, without sending any data.
//!
//! The building block for "something changed, go and look": a queue that got an item, a shutdown
//! that was requested, a state that other tasks poll. The semantics are tokio's:
//!
//! - [`notify_one`](Notify::notify_one) wakes the **oldest** waiter (FIFO). If nobody waits, it
//!   stores **one permit** (never more: two calls with nobody waiting store one), and the next
//!   [`notified`](Notify::notified) completes at once, taking it. So a notification sent just before
//!   the consumer starts waiting is not lost.
//! - [`notify_waiters`](Notify::notify_waiters) wakes **every** `Notified` future that exists at
//!   that moment — polled yet or not — and stores no permit: a future created afterwards waits for
//!   the next notification.
//! - A `Notified` woken by `notify_one` and dropped before it was polled again passes its
//!   notification on (to the next waiter, or as the permit), so a cancelled waiter loses nothing.
//!
//! ```
//! use spool_runtime::sync::Notify;
//! use std::rc::Rc;
//!
//! spool_runtime::block_on(async {
//!     let ready = Rc::new(Notify::new());
//!     let waiter = spool_runtime::spawn({
//!         let ready = ready.clone();
//!         async move {
//!             ready.notified().await;
//!             "woken"
//!         }
//!     });
//!     ready.notify_one(); // stored as a permit if the waiter has not started waiting yet
//!     assert_eq!(waiter.await.unwrap(), "woken");
//! });
//! ```

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::store_waker;
use super::wait_list::WaitList;

/// Wakes tasks waiting in [`notified`](Notify::notified). See the module docs for the rules.
pub struct Notify {
    state: RefCell<State>,
}

struct State {
    /// A `notify_one` that found nobody waiting, kept for the next `notified`.
    permit: bool,
    /// Counts `notify_waiters` calls: a `Notified` created before a call completes even if it had
    /// not been polled yet, because it remembers the count it was created with.
    generation: u64,
    waiters: WaitList<Waiter>,
}

struct Waiter {
    waker: Option<Waker>,
    /// Set when the waiter is taken off the queue by a notification.
    woken_by: Option<Woken>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Woken {
    One,
    All,
}

/// The future returned by [`Notify::notified`].
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    step: Step,
}

enum Step {
    /// Not queued yet; completes at once if `notify_waiters` has run since creation.
    Init {
        generation: u64,
    },
    /// Queued under this key.
    Waiting(usize),
    Done,
}

impl Notify {
    /// A `Notify` with no permit stored.
    pub fn new() -> Self {
        Notify {
            state: RefCell::new(State {
                permit: false,
                generation: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Waits until notified. Dropping the future is always safe (see the module docs).
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            step: Step::Init {
                generation: self.state.borrow().generation,
            },
        }
    }

    /// Wakes the oldest waiter, or stores one permit if nobody waits.
    pub fn notify_one(&self) {
        let waker = {
            let mut st = self.state.borrow_mut();
            match st.waiters.pop_front() {
                Some(waiter) => {
                    waiter.woken_by = Some(Woken::One);
                    waiter.waker.take()
                }
                None => {
                    st.permit = true;
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every `Notified` that exists now; stores no permit.
    pub fn notify_waiters(&self) {
        let wakers: Vec<Waker> = {
            let mut st = self.state.borrow_mut();
            st.generation += 1;
            std::iter::from_fn(|| {
                st.waiters.pop_front().map(|waiter| {
                    waiter.woken_by = Some(Woken::All);
                    waiter.waker.take()
                })
            })
            .flatten()
            .collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let notify = self.notify;
        let mut st = notify.state.borrow_mut();
        match self.step {
            Step::Init { generation } => {
                // A `notify_waiters` since creation counts without touching the permit; otherwise
                // a stored permit is taken.
                let notified = st.generation != generation || std::mem::take(&mut st.permit);
                if notified {
                    drop(st);
                    self.step = Step::Done;
                    return Poll::Ready(());
                }
                let key = st.waiters.push_back(Waiter {
                    waker: Some(cx.waker().clone()),
                    woken_by: None,
                });
                drop(st);
                self.step = Step::Waiting(key);
                Poll::Pending
            }
            Step::Waiting(key) => {
                let waiter = st.waiters.get_mut(key);
                if waiter.woken_by.is_some() {
                    st.waiters.remove(key);
                    drop(st);
                    self.step = Step::Done;
                    return Poll::Ready(());
                }
                store_waker(&mut waiter.waker, cx);
                Poll::Pending
            }
            Step::Done => Poll::Ready(()),
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let Step::Waiting(key) = self.step {
            let waiter = self.notify.state.borrow_mut().waiters.remove(key);
            // Woken by `notify_one` but never saw it: hand the notification on.
            if waiter.woken_by == Some(Woken::One) {
                self.notify.notify_one();
            }
        }
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.borrow();
        f.debug_struct("Notify")
            .field("permit", &st.permit)
            .field("waiting", &!st.waiters.is_empty())
            .finish()
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Notified(..)")
    }
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
