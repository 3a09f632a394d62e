//! [`Acquire`]: a request waiting for a connection or a slot.
//!
//! Dropping it (a timeout fired, the task was aborted) gives back whatever the pool had already
//! handed it, so no slot and no connection is ever lost.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use super::state::PoolState;
use super::waiters::{Given, WaiterRef};
use super::{sweeper, Checkout, Permit};

/// Resolves when the pool hands this request a connection or permission to open one.
pub(crate) struct Acquire {
    pool: Rc<RefCell<PoolState>>,
    waiter: WaiterRef,
    done: bool,
}

impl Acquire {
    pub(super) fn new(pool: Rc<RefCell<PoolState>>, waiter: WaiterRef) -> Acquire {
        Acquire {
            pool,
            waiter,
            done: false,
        }
    }
}

impl Future for Acquire {
    type Output = Checkout;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Checkout> {
        let polled = self.pool.borrow_mut().poll_waiter(self.waiter, cx);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(given) => {
                self.done = true;
                Poll::Ready(match given {
                    Given::Conn(conn) => Checkout::Reused(conn),
                    Given::Slot(host) => Checkout::New(Permit::new(super::slots(&self.pool), host)),
                })
            }
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if !self.done {
            let mut state = self.pool.borrow_mut();
            if state.cancel(self.waiter, Instant::now()) {
                sweeper::notify(&mut state);
            }
        }
    }
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire").field("done", &self.done).finish()
    }
}
