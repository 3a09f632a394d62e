//! A broadcast channel: every value sent reaches every receiver, through one shared ring.
//!
//! The ring holds the last `capacity` values, each stored once however many receivers there are;
//! a receiver is just a position in it (a sequence number) and a waker slot, so 10,000 subscribers
//! cost 10,000 small records, not 10,000 queues. Values are cloned out on `recv` (send an `Rc` when
//! they are large).
//!
//! # Slow receivers lag, they never hold memory
//! A send into a full ring overwrites the oldest value, even if some receiver has not seen it yet.
//! That receiver's next `recv` returns [`RecvError::Lagged(n)`](RecvError::Lagged): `n` values were
//! lost to it, and it has been moved on to the oldest value still held. So memory is bounded by the
//! ring, and the sender never waits for the slowest reader (tokio's `broadcast` behaves the same).
//!
//! # Wakes
//! Each receiver owns one waker slot for its whole life (a slab entry). A send wakes every receiver
//! waiting at that moment; a receiver that was not waiting is not disturbed. The cost of a send is
//! therefore O(receivers): the channel for fan-out to many, not for hot point-to-point traffic.
//!
//! ```
//! use spool_runtime::sync::broadcast::{self, RecvError};
//!
//! spool_runtime::block_on(async {
//!     let (tx, mut a) = broadcast::channel(2);
//!     let mut b = tx.subscribe();
//!     tx.send("x").unwrap();
//!     assert_eq!(a.recv().await, Ok("x"));
//!     tx.send("y").unwrap();
//!     tx.send("z").unwrap(); // overwrites "x", which `b` never saw
//!     assert_eq!(b.recv().await, Err(RecvError::Lagged(1)));
//!     assert_eq!(b.recv().await, Ok("y"));
//!     drop(tx);
//!     assert_eq!(a.recv().await, Ok("y"));
//!     assert_eq!(a.recv().await, Ok("z"));
//!     assert_eq!(a.recv().await, Err(RecvError::Closed));
//! });
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::store_waker;

/// Creates a broadcast channel whose ring keeps the last `capacity` values, and its first receiver.
///
/// The ring is allocated as values arrive, not up front.
///
/// # Panics
/// If `capacity` is 0.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast channel capacity must be at least 1"
    );
    let shared = Rc::new(RefCell::new(Shared {
        ring: VecDeque::new(),
        capacity,
        head: 0,
        senders: 1,
        wakers: Slab::new(),
        spare: Vec::new(),
    }));
    let rx = Receiver::new(&shared);
    (Sender { shared }, rx)
}

struct Shared<T> {
    /// The last `capacity` values; `ring[0]` has sequence number `head`.
    ring: VecDeque<T>,
    capacity: usize,
    /// Sequence number of `ring[0]`; the next value sent gets `head + ring.len()`.
    head: u64,
    /// Live senders; at 0 a receiver that has caught up sees [`RecvError::Closed`].
    senders: usize,
    /// One slot per live receiver (`Some` while it waits); its length is the receiver count.
    wakers: Slab<Option<Waker>>,
    /// A reused buffer for the wakers taken by a send, woken after the borrow is released.
    spare: Vec<Waker>,
}

impl<T> Shared<T> {
    /// Sequence number the next sent value will get.
    fn tail(&self) -> u64 {
        self.head + self.ring.len() as u64
    }
}

/// Sends values to every receiver; clone it for more producers.
pub struct Sender<T> {
    shared: Rc<RefCell<Shared<T>>>,
}

/// Receives every value sent after it subscribed, unless it falls more than the capacity behind.
pub struct Receiver<T> {
    shared: Rc<RefCell<Shared<T>>>,
    /// Sequence number of the next value this receiver will take.
    next: u64,
    /// This receiver's waker slot in `Shared::wakers`.
    key: usize,
}

/// There are no receivers: the value was not stored and is handed back.
#[derive(Clone, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Why [`Receiver::recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// This receiver fell behind and this many values were overwritten before it read them; the
    /// next `recv` returns the oldest value still in the ring.
    Lagged(u64),
    /// Every sender is gone and this receiver has seen every value.
    Closed,
}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new right now, but senders remain.
    Empty,
    /// As [`RecvError::Lagged`].
    Lagged(u64),
    /// As [`RecvError::Closed`].
    Closed,
}

impl<T: Clone> Sender<T> {
    /// Stores `value` for every current receiver and wakes those waiting; returns how many receivers
    /// there are. Never waits: a full ring drops its oldest value (see the module docs).
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let (mut wakers, receivers, evicted) = {
            let mut sh = self.shared.borrow_mut();
            if sh.wakers.is_empty() {
                return Err(SendError(value));
            }
            let evicted = if sh.ring.len() == sh.capacity {
                sh.head += 1;
                sh.ring.pop_front()
            } else {
                None
            };
            sh.ring.push_back(value);
            let mut wakers = std::mem::take(&mut sh.spare);
            wakers.extend(sh.wakers.iter_mut().filter_map(|(_, w)| w.take()));
            (wakers, sh.wakers.len(), evicted)
        };
        // Outside the borrow: a woken task or a dropped value may touch this channel again.
        drop(evicted);
        for waker in wakers.drain(..) {
            waker.wake();
        }
        self.shared.borrow_mut().spare = wakers;
        Ok(receivers)
    }

    /// A new receiver that will see every value sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::new(&self.shared)
    }

    /// How many receivers are alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.borrow().wakers.len()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.borrow_mut().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let wakers: Vec<Waker> = {
            let mut sh = self.shared.borrow_mut();
            sh.senders -= 1;
            if sh.senders > 0 {
                return;
            }
            // The last sender: every waiting receiver can now make progress (it sees `Closed`).
            sh.wakers.iter_mut().filter_map(|(_, w)| w.take()).collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

impl<T: Clone> Receiver<T> {
    fn new(shared: &Rc<RefCell<Shared<T>>>) -> Self {
        let mut sh = shared.borrow_mut();
        let key = sh.wakers.insert(None);
        Receiver {
            next: sh.tail(),
            shared: shared.clone(),
            key,
        }
    }

    /// Waits for the next value. See [`RecvError`] for lagging and the end of the stream.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The poll behind [`recv`](Self::recv), for hand-written futures (and `select`-style loops: a
    /// receiver keeps its position itself, so dropping a pending `recv` loses nothing).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        crate::executor::coop::poll_budgeted(cx, |cx| self.poll_recv_unbudgeted(cx))
    }

    fn poll_recv_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        match self.try_recv() {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TryRecvError::Lagged(n)) => Poll::Ready(Err(RecvError::Lagged(n))),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
            Err(TryRecvError::Empty) => {
                store_waker(&mut self.shared.borrow_mut().wakers[self.key], cx);
                Poll::Pending
            }
        }
    }

    /// Takes the next value if there is one; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let sh = self.shared.borrow();
        if self.next < sh.head {
            let missed = sh.head - self.next;
            self.next = sh.head;
            return Err(TryRecvError::Lagged(missed));
        }
        match sh.ring.get((self.next - sh.head) as usize) {
            Some(value) => {
                self.next += 1;
                Ok(value.clone())
            }
            None if sh.senders == 0 => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// How many values are waiting for this receiver (those already overwritten included).
    pub fn len(&self) -> usize {
        (self.shared.borrow().tail() - self.next) as usize
    }

    /// True if there is nothing new for this receiver.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let waker = self.shared.borrow_mut().wakers.remove(self.key);
        drop(waker); // outside the borrow: dropping a waker may run arbitrary code
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sh = self.shared.borrow();
        f.debug_struct("broadcast::Sender")
            .field("receivers", &sh.wakers.len())
            .field("held", &sh.ring.len())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
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
        f.write_str("broadcast channel has no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Lagged(n) => write!(f, "broadcast receiver lagged and missed {n} values"),
            RecvError::Closed => f.write_str("broadcast channel closed"),
        }
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("broadcast channel empty"),
            TryRecvError::Lagged(n) => write!(f, "broadcast receiver lagged and missed {n} values"),
            TryRecvError::Closed => f.write_str("broadcast channel closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

#[cfg(test)]
#[path = "broadcast_tests.rs"]
mod tests;
