//! A bounded multi-producer, single-consumer queue between tasks, with back-pressure.
//!
//! A full channel makes `send` wait, which slows producers down to the consumer's pace instead of
//! letting memory grow. The free slots are counted by a [`Semaphore`]: a sender takes a slot
//! permit before pushing (waiting senders are therefore served in FIFO order, and a cancelled send
//! passes its slot on), and `recv` returns one permit per value taken out. Closing the receiver
//! closes that semaphore, which is what wakes and fails every waiting sender.
//!
//! ```
//! use spool_runtime::sync::mpsc;
//!
//! spool_runtime::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         spool_runtime::spawn(async move { tx.send(id).await.unwrap() });
//!     }
//!     drop(tx); // `recv` returns None once every sender is gone and the queue is empty
//!     let mut got = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         got.push(id);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::semaphore::{Semaphore, TryAcquireError};
use super::store_waker;

/// Creates a channel that buffers up to `capacity` values.
///
/// The queue allocates as values arrive, not up front: an idle `channel(256)` costs one small
/// allocation (the shared state), not 256 slots. It never holds more than `capacity` values.
///
/// # Panics
/// If `capacity` is 0 (a rendezvous channel is not supported).
///
/// ```
/// use spool_runtime::sync::mpsc::{self, TrySendError};
///
/// let (tx, mut rx) = mpsc::channel(1);
/// tx.try_send("a").unwrap();
/// assert_eq!(tx.try_send("b"), Err(TrySendError::Full("b")));
/// assert_eq!(rx.try_recv(), Ok("a"));
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc channel capacity must be at least 1");
    let state = State {
        queue: VecDeque::new(), // grows on demand; `slots` is what bounds it
        rx_waker: None,
        senders: 1,
    };
    let chan = Rc::new(Chan {
        state: RefCell::new(state),
        slots: Semaphore::new(capacity),
    });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

struct Chan<T> {
    state: RefCell<State<T>>,
    /// One permit per free slot in `queue`. Closed exactly when the receiver is closed or dropped.
    slots: Semaphore,
}

struct State<T> {
    queue: VecDeque<T>,
    /// The receiver's task while `recv` waits; woken by a push or by the last sender leaving.
    rx_waker: Option<Waker>,
    /// Live `Sender`s; at 0 the receiver drains what is left and then sees the end.
    senders: usize,
}

impl<T> Chan<T> {
    /// Queues a value whose slot permit was already taken, and wakes the receiver.
    fn push(&self, value: T) {
        let waker = {
            let mut st = self.state.borrow_mut();
            st.queue.push_back(value);
            st.rx_waker.take() // taken: a second push before the next recv does not wake again
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Sends values into the channel; clone it for more producers.
pub struct Sender<T> {
    chan: Rc<Chan<T>>,
}

/// Takes values out of the channel, in the order they were queued.
pub struct Receiver<T> {
    chan: Rc<Chan<T>>,
}

/// The receiver is closed or gone; the unsent value is handed back.
#[derive(Clone, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Why [`Sender::try_send`] did not send; the value is handed back.
#[derive(Clone, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No free slot (or other senders are already waiting for one).
    Full(T),
    /// The receiver is closed or gone.
    Closed(T),
}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued right now, but senders remain.
    Empty,
    /// Nothing queued and nothing ever will be: every sender is gone, or the receiver was closed.
    Disconnected,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting (in FIFO order with other waiting senders) while the channel is full.
    ///
    /// Fails, handing the value back, if the receiver is closed or dropped — also while waiting.
    /// Dropping the future before it completes sends nothing and loses no slot.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.chan.slots.acquire().await {
            // A slot granted just before the close must not push into a closed channel.
            Ok(permit) if !self.chan.slots.is_closed() => {
                permit.forget(); // the slot is now held by the queued value; `recv` returns it
                self.chan.push(value);
                Ok(())
            }
            _ => Err(SendError(value)),
        }
    }

    /// Sends `value` only if a slot is free right now and no sender is waiting ahead.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.slots.try_acquire() {
            Ok(permit) => {
                permit.forget();
                self.chan.push(value);
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// True if the receiver is closed or gone, so every send will fail.
    pub fn is_closed(&self) -> bool {
        self.chan.slots.is_closed()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.state.borrow_mut().senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.chan.state.borrow_mut();
            st.senders -= 1;
            // Only the last sender's departure lets a waiting receiver make progress (see `None`).
            if st.senders == 0 {
                st.rx_waker.take()
            } else {
                None
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Waits for the next value; `None` once the queue is empty and every sender is gone
    /// (or [`close`](Self::close) was called).
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](Self::recv), for hand-written futures.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        crate::executor::coop::poll_budgeted(cx, |cx| self.poll_recv_unbudgeted(cx))
    }

    fn poll_recv_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.try_recv() {
            Ok(value) => Poll::Ready(Some(value)),
            Err(TryRecvError::Disconnected) => Poll::Ready(None),
            Err(TryRecvError::Empty) => {
                store_waker(&mut self.chan.state.borrow_mut().rx_waker, cx);
                Poll::Pending
            }
        }
    }

    /// Takes the next value if one is queued; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let popped = {
            let mut st = self.chan.state.borrow_mut();
            match st.queue.pop_front() {
                Some(value) => Ok(value),
                None if st.senders == 0 || self.chan.slots.is_closed() => {
                    Err(TryRecvError::Disconnected)
                }
                None => Err(TryRecvError::Empty),
            }
        };
        if popped.is_ok() {
            self.chan.slots.add_permits(1); // the slot is free again; the next waiting sender gets it
        }
        popped
    }

    /// Stops accepting values: pending and future sends fail, but values already queued can
    /// still be received before `recv` returns `None`.
    pub fn close(&mut self) {
        self.chan.slots.close();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.slots.close();
        let unreceived = std::mem::take(&mut self.chan.state.borrow_mut().queue);
        // Dropped outside the borrow: a value may own a `Sender` of this very channel.
        drop(unreceived);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.chan.state.borrow();
        f.debug_struct("mpsc::Receiver")
            .field("queued", &st.queue.len())
            .field("senders", &st.senders)
            .finish()
    }
}

// Debug without `T: Debug`, so `.unwrap()` works for any message type.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mpsc receiver closed")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "Full(..)",
            TrySendError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "mpsc channel full",
            TrySendError::Closed(_) => "mpsc receiver closed",
        })
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "mpsc channel empty",
            TryRecvError::Disconnected => "mpsc channel empty and closed",
        })
    }
}

impl std::error::Error for TryRecvError {}

#[path = "mpsc_unbounded.rs"]
mod unbounded;
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender};

#[cfg(test)]
#[path = "mpsc_tests.rs"]
mod tests;
