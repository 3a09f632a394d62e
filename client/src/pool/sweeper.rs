//! The sweeper: one task per pool that closes idle connections when they expire.
//!
//! It sleeps until the earliest expiry, closes what has expired (and what the server closed), and
//! sleeps again; with nothing idle it waits for the pool to notify it. The pool notifies only when a
//! connection goes idle with an expiry earlier than the sweeper's next wake-up, so in a steady
//! keep-alive workload the sweeper wakes about once per idle timeout, not once per request.
//!
//! It holds the pool weakly: when the client is dropped, the pool wakes it one last time and it ends.
//! It is started lazily, from inside a runtime, the first time a connection goes idle, and it is
//! dropped with that runtime, taking the idle connections with it.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Weak;
use std::task::Poll;
use std::time::Instant;

use spool_runtime::time::{sleep_until, Sleep};

use super::state::PoolState;

/// Wakes the sweeper (or starts it) because an idle connection may expire sooner than planned.
pub(super) fn notify(state: &mut PoolState) {
    if !state.sweeper.running {
        // Outside a runtime (a response dropped after `block_on` returned) there is nothing to
        // spawn on; expired connections are then still caught by the checkout probe.
        if !spool_runtime::in_runtime() {
            return;
        }
        state.sweeper.running = true;
        state.sweeper.wake_at = None;
        drop(spool_runtime::spawn(run(state.weak())));
        return;
    }
    state.sweeper.notified = true;
    state.sweeper.wake_at = None;
    if let Some(waker) = state.sweeper.waker.take() {
        waker.wake();
    }
}

/// Marks the sweeper as gone when its task is dropped, which happens only when its runtime ends
/// (or the pool is gone). The idle connections belong to that runtime's reactor and cannot be used
/// in another one, so they are closed here, while the runtime can still deregister them.
struct Running(Weak<RefCell<PoolState>>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(pool) = self.0.upgrade() {
            if let Ok(mut state) = pool.try_borrow_mut() {
                state.sweeper.running = false;
                state.sweeper.waker = None;
                state.sweeper.wake_at = None;
                state.close_all_idle();
            }
        }
    }
}

async fn run(pool: Weak<RefCell<PoolState>>) {
    let _running = Running(pool.clone());
    let mut sleep: Option<Sleep> = None;
    loop {
        let next = {
            let Some(strong) = pool.upgrade() else { return };
            let mut state = strong.borrow_mut();
            let next = state.sweep(Instant::now());
            state.sweeper.wake_at = next;
            state.sweeper.notified = false;
            next
        };
        match (next, &mut sleep) {
            (Some(at), Some(s)) => s.reset(at),
            (Some(at), None) => sleep = Some(sleep_until(at)),
            (None, _) => sleep = None,
        }
        poll_fn(|cx| {
            let Some(strong) = pool.upgrade() else {
                return Poll::Ready(());
            };
            {
                let mut state = strong.borrow_mut();
                if state.sweeper.notified {
                    return Poll::Ready(());
                }
                state.sweeper.waker = Some(cx.waker().clone());
            }
            match sleep.as_mut() {
                Some(s) => Pin::new(s).poll(cx),
                None => Poll::Pending,
            }
        })
        .await;
    }
}
