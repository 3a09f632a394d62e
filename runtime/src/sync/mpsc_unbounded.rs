//! An unbounded multi-producer, single-consumer queue: `send` never waits and never fails while the
//! receiver lives.
//!
//! Use it where the producer must not be slowed down and something else bounds the traffic (one
//! message per request, per connection event, ...). Nothing here limits memory: a receiver that stops
//! receiving lets the queue grow without end. When in doubt, use the bounded [`channel`](super::channel).
//!
//! ```
//! use spool_runtime::sync::mpsc;
//!
//! spool_runtime::block_on(async {
//!     let (tx, mut rx) = mpsc::unbounded_channel();
//!     for i in 0..3 {
//!         tx.send(i).unwrap(); // never waits
//!     }
//!     drop(tx);
//!     let mut got = Vec::new();
//!     while let Some(i) = rx.recv().await {
//!         got.push(i);
//!     }
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{SendError, TryRecvError};
use crate::sync::store_waker;

/// Creates an unbounded channel.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Rc::new(RefCell::new(State {
        queue: VecDeque::new(),
        rx_waker: None,
        senders: 1,
        closed: false,
    }));
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { chan },
    )
}

struct State<T> {
    queue: VecDeque<T>,
    /// The receiver's task while `recv` waits; woken by a push or by the last sender leaving.
    rx_waker: Option<Waker>,
    /// Live senders; at 0 the receiver drains what is left and then sees the end.
    senders: usize,
    /// Set when the receiver is closed or dropped: every later send fails.
    closed: bool,
}

/// Sends values without waiting; clone it for more producers.
pub struct UnboundedSender<T> {
    chan: Rc<RefCell<State<T>>>,
}

/// Takes values out of the channel, in the order they were sent.
pub struct UnboundedReceiver<T> {
    chan: Rc<RefCell<State<T>>>,
}

impl<T> UnboundedSender<T> {
    /// Queues `value` and wakes the receiver; fails (handing the value back) only if the receiver
    /// is closed or gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut st = self.chan.borrow_mut();
            if st.closed {
                return Err(SendError(value));
            }
            st.queue.push_back(value);
            st.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True if the receiver is closed or gone.
    pub fn is_closed(&self) -> bool {
        self.chan.borrow().closed
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.borrow_mut().senders += 1;
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.chan.borrow_mut();
            st.senders -= 1;
            // Only the last sender's departure lets a waiting receiver make progress (it sees `None`).
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

impl<T> UnboundedReceiver<T> {
    /// Waits for the next value; `None` once the queue is empty and every sender is gone (or
    /// [`close`](Self::close) was called).
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
                store_waker(&mut self.chan.borrow_mut().rx_waker, cx);
                Poll::Pending
            }
        }
    }

    /// Takes the next value if one is queued; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut st = self.chan.borrow_mut();
        match st.queue.pop_front() {
            Some(value) => Ok(value),
            None if st.senders == 0 || st.closed => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Values queued right now.
    pub fn len(&self) -> usize {
        self.chan.borrow().queue.len()
    }

    /// True if nothing is queued right now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops accepting values: later sends fail, values already queued can still be received.
    pub fn close(&mut self) {
        self.chan.borrow_mut().closed = true;
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        let unreceived = {
            let mut st = self.chan.borrow_mut();
            st.closed = true;
            std::mem::take(&mut st.queue)
        };
        // Dropped outside the borrow: a value may own a sender of this very channel.
        drop(unreceived);
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.chan.borrow();
        f.debug_struct("mpsc::UnboundedReceiver")
            .field("queued", &st.queue.len())
            .field("senders", &st.senders)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::testing::counting_waker;

    fn recv_now<T>(rx: &mut UnboundedReceiver<T>, waker: &Waker) -> Poll<Option<T>> {
        rx.poll_recv(&mut Context::from_waker(waker))
    }

    #[test]
    fn values_come_out_in_order_and_one_wake_per_wait() {
        let (tx, mut rx) = unbounded_channel();
        let (w, c) = counting_waker();
        assert!(recv_now(&mut rx, &w).is_pending());
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
        assert_eq!(
            c.wakes(),
            1,
            "the first send wakes, the others find no waker"
        );
        let got: Vec<i32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn last_sender_leaving_ends_the_stream_after_the_queue_drains() {
        let (tx, mut rx) = unbounded_channel();
        let tx2 = tx.clone();
        let (w, c) = counting_waker();
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(recv_now(&mut rx, &w), Poll::Ready(Some(1)));
        assert!(recv_now(&mut rx, &w).is_pending(), "tx2 is still alive");
        drop(tx2);
        assert_eq!(c.wakes(), 1, "the last sender's drop wakes the receiver");
        assert_eq!(recv_now(&mut rx, &w), Poll::Ready(None));
    }

    #[test]
    fn send_fails_after_the_receiver_closes_or_drops() {
        let (tx, mut rx) = unbounded_channel();
        tx.send(1).unwrap();
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(tx.send(2), Err(SendError(2)));
        assert_eq!(
            rx.try_recv(),
            Ok(1),
            "what was queued before the close still arrives"
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        let (tx, rx) = unbounded_channel();
        drop(rx);
        assert_eq!(tx.send(3), Err(SendError(3)));
    }

    #[test]
    fn queued_value_owning_a_sender_can_be_dropped_with_the_receiver() {
        struct Msg(#[allow(dead_code)] UnboundedSender<Msg>);
        let (tx, rx) = unbounded_channel();
        tx.send(Msg(tx.clone())).unwrap();
        drop(rx); // drops the Msg, whose sender touches the state: must not re-borrow-panic
        assert!(tx.is_closed());
    }
}
