//! A one-shot channel: one value, sent once, from one task to another.
//!
//! Typical use: a task hands back a result ("here is the response for the request you queued").
//! Both halves share one `Rc<RefCell<..>>`; only the receiver ever waits, so there is one waker slot.
//!
//! ```
//! use spool_runtime::sync::oneshot;
//!
//! spool_runtime::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     spool_runtime::spawn(async move {
//!         let _ = tx.send("done");
//!     });
//!     assert_eq!(rx.await, Ok("done"));
//! });
//! ```

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::store_waker;

/// Creates a connected sender and receiver.
///
/// ```
/// use spool_runtime::sync::oneshot::{self, TryRecvError};
///
/// let (tx, mut rx) = oneshot::channel();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.send(7).unwrap();
/// assert_eq!(rx.try_recv(), Ok(7));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(RefCell::new(Shared {
        value: None,
        rx_waker: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

struct Shared<T> {
    /// The sent value, until the receiver takes it.
    value: Option<T>,
    /// The receiver's task while it waits; woken by `send` or by the sender's drop.
    rx_waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

/// The sending half; [`send`](Sender::send) consumes it, so at most one value is ever sent.
pub struct Sender<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// The receiving half: `.await` it for the value.
///
/// Resolves to `Err(RecvError)` if the sender was dropped without sending (and, once the value has
/// been taken, on any further poll).
pub struct Receiver<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// The sender was dropped without sending a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvError(());

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing sent yet, and the sender is still alive.
    Empty,
    /// The sender is gone (it was dropped without sending, or the value was already taken).
    Closed,
}

impl<T> Sender<T> {
    /// Sends `value`, waking the receiver; gives it back as `Err` if the receiver is gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut shared = self.shared.borrow_mut();
            if shared.receiver_gone {
                return Err(value);
            }
            shared.value = Some(value);
            shared.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
        // `self` drops here; the waker is already taken, so the receiver is woken exactly once.
    }

    /// True if the receiver was dropped: a `send` would fail, so the work can be abandoned.
    pub fn is_closed(&self) -> bool {
        self.shared.borrow().receiver_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut shared = self.shared.borrow_mut();
            shared.sender_gone = true;
            shared.rx_waker.take()
        };
        // Without this wake a receiver whose sender vanished would wait forever.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut shared = self.shared.borrow_mut();
        match shared.value.take() {
            Some(value) => Ok(value),
            None if shared.sender_gone => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::executor::coop::poll_budgeted(cx, |cx| self.poll_unbudgeted(cx))
    }
}

impl<T> Receiver<T> {
    fn poll_unbudgeted(&self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let mut shared = self.shared.borrow_mut();
        if let Some(value) = shared.value.take() {
            return Poll::Ready(Ok(value));
        }
        if shared.sender_gone {
            return Poll::Ready(Err(RecvError(())));
        }
        store_waker(&mut shared.rx_waker, cx);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let unreceived = {
            let mut shared = self.shared.borrow_mut();
            shared.receiver_gone = true;
            shared.value.take()
        };
        // Dropped outside the borrow: the value's own `Drop` may touch this channel.
        drop(unreceived);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = self.shared.borrow();
        f.debug_struct("oneshot::Receiver")
            .field("has_value", &shared.value.is_some())
            .field("sender_gone", &shared.sender_gone)
            .finish()
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "no value sent yet",
            TryRecvError::Closed => "oneshot sender dropped without sending",
        })
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::testing::{counting_waker, poll};

    #[test]
    fn value_sent_before_the_first_poll_is_ready_without_a_wake() {
        let (tx, mut rx) = channel();
        let (w, c) = counting_waker();
        tx.send(5).unwrap();
        assert_eq!(poll(Pin::new(&mut rx), &w), Poll::Ready(Ok(5)));
        assert_eq!(c.wakes(), 0);
        assert_eq!(poll(Pin::new(&mut rx), &w), Poll::Ready(Err(RecvError(()))));
    }

    #[test]
    fn send_wakes_the_waiting_receiver_exactly_once() {
        let (tx, mut rx) = channel();
        let (w, c) = counting_waker();
        assert!(poll(Pin::new(&mut rx), &w).is_pending());
        assert!(poll(Pin::new(&mut rx), &w).is_pending());
        assert_eq!(c.wakes(), 0);
        tx.send("hi").unwrap();
        assert_eq!(
            c.wakes(),
            1,
            "send and the sender's drop must not both wake"
        );
        assert_eq!(poll(Pin::new(&mut rx), &w), Poll::Ready(Ok("hi")));
    }

    #[test]
    fn sender_dropped_without_sending_wakes_receiver_with_error() {
        let (tx, mut rx) = channel::<u8>();
        let (w1, c1) = counting_waker();
        let (w2, c2) = counting_waker();
        assert!(poll(Pin::new(&mut rx), &w1).is_pending());
        assert!(poll(Pin::new(&mut rx), &w2).is_pending()); // moved task: only w2 counts
        drop(tx);
        assert_eq!((c1.wakes(), c2.wakes()), (0, 1));
        assert_eq!(
            poll(Pin::new(&mut rx), &w2),
            Poll::Ready(Err(RecvError(())))
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn send_to_a_dropped_receiver_returns_the_value() {
        let (tx, rx) = channel();
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send(vec![1, 2]), Err(vec![1, 2]));
    }

    #[test]
    fn try_recv_goes_empty_then_value_then_closed() {
        let (tx, mut rx) = channel();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.send('x').unwrap();
        assert_eq!(rx.try_recv(), Ok('x'));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn unreceived_value_is_dropped_with_the_receiver() {
        let value = Rc::new(());
        let (tx, rx) = channel();
        tx.send(value.clone()).unwrap();
        assert_eq!(Rc::strong_count(&value), 2);
        drop(rx);
        assert_eq!(Rc::strong_count(&value), 1);
    }
}
