//! A baton passed between two tasks: the runtime-neutral "wake and poll" round trip.
//!
//! Task A hands the baton to B (sets the turn, wakes B's stored waker) and waits for it back; B does the
//! same in reverse. One round trip is therefore two wakes and two polls, going through each runtime's own
//! waker and scheduler, with identical bookkeeping in all three (a mutex per side, uncontended, since every
//! runtime here runs both tasks on one thread). It is `Send` so that tokio's `spawn` accepts it.

use std::future::poll_fn;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::task::{Poll, Waker};

/// Whose turn it is, plus each side's parked waker.
pub struct Baton {
    turn: AtomicU8,
    parked: [Mutex<Option<Waker>>; 2],
}

/// Side 0 starts holding the baton.
impl Default for Baton {
    fn default() -> Self {
        Baton {
            turn: AtomicU8::new(0),
            parked: [Mutex::new(None), Mutex::new(None)],
        }
    }
}

impl Baton {
    /// Give the baton to the other side and wake it.
    pub fn pass(&self, me: u8) {
        let other = 1 - me;
        self.turn.store(other, Ordering::Release);
        if let Some(w) = self.parked[other as usize].lock().unwrap().take() {
            w.wake();
        }
    }

    /// Wait until the baton comes back to `me`.
    pub async fn wait(&self, me: u8) {
        poll_fn(|cx| {
            if self.turn.load(Ordering::Acquire) == me {
                return Poll::Ready(());
            }
            *self.parked[me as usize].lock().unwrap() = Some(cx.waker().clone());
            // Re-check after parking, in case the baton arrived in between (never on one thread, but cheap).
            if self.turn.load(Ordering::Acquire) == me {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}
