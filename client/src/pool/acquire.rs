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

use super::state::{PoolState, Start};
use super::waiters::WaiterRef;
use super::{Checkout, Permit};

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
            Poll::Ready(start) => {
                self.done = true;
                Poll::Ready(match start {
                    Start::Reused(conn) => Checkout::Reused(conn),
                    Start::Slot(host) => {
                        Checkout::New(Permit::new(Rc::downgrade(&self.pool), host))
                    }
                    Start::Wait(_) => unreachable!("a waiter is never told to wait again"),
                })
            }
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if !self.done {
            self.pool.borrow_mut().cancel(self.waiter, Instant::now());
        }
    }
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire").field("done", &self.done).finish()
    }
}
