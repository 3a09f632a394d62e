//! The cooperative budget: how a task whose I/O is always ready still lets the others run.
//!
//! An async runtime only regains control when a task's `poll` returns. A task reading a socket that
//! never runs dry (or a channel that is never empty) gets `Ready` from every operation, never returns
//! `Pending`, and would hold the thread forever: no other task, timer or socket is served meanwhile.
//!
//! So every poll of a task (and of `block_on`'s future) starts with a budget of [`PER_POLL`] ready
//! operations. Each resource operation goes through [`poll_budgeted`]: while budget is left it runs as
//! usual and an operation that completes (`Ready`) spends one unit; once the budget is spent, the
//! operation returns `Pending` *without trying*, after waking the task (`wake_by_ref`), so the task is
//! queued again behind everything else that is ready and continues on a later turn, with a new budget.
//!
//! ```text
//!   executor: Budget::start()  ── budget = 128 ──►  poll the task  ──►  guard drop: unconstrained
//!   resource: poll_budgeted(cx, op)
//!       budget 0 → wake_by_ref, Pending        (the task runs again after the others)
//!       else     → op(cx); Ready → budget - 1  (Pending spends nothing)
//! ```
//!
//! A poll that spent its whole budget also ends the loop's run of tasks for this turn
//! ([`Budget::spent`]), so timers and I/O are looked at after every 128 ready operations at most.
//!
//! Only `Ready` spends: a task that checks 500 idle sockets in one poll registers interest in all of
//! them instead of running out of budget on the 129th and spinning. Outside a task poll (a test polling
//! a channel by hand, another executor on this thread) the budget is unconstrained.
//!
//! Budgeted today: `TcpStream` and `UdpSocket` reads and writes, `TcpListener::accept` (all through
//! `IoSource::poll_io`), `mpsc::Receiver::recv` and `oneshot::Receiver`. 128 is tokio's figure: large
//! enough that the check is rare next to the work, small enough that a turn stays short.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Ready operations one poll may perform before its resources start saying `Pending`.
pub(crate) const PER_POLL: u32 = 128;

/// The budget when no task poll is running: never runs out.
const UNCONSTRAINED: u32 = u32::MAX;

thread_local! {
    static BUDGET: Cell<u32> = const { Cell::new(UNCONSTRAINED) };
}

/// The budget of the poll about to run; restores "unconstrained" when dropped, also on a panic.
pub(crate) struct Budget(());

impl Budget {
    /// Give the poll that follows a fresh budget of [`PER_POLL`].
    #[inline]
    pub(crate) fn start() -> Budget {
        BUDGET.with(|b| b.set(PER_POLL));
        Budget(())
    }
}

impl Budget {
    /// Whether the poll used its whole budget. The loop then ends its run of tasks early and checks
    /// timers and I/O first: a task that ran out is queued again at once, and without this a turn could
    /// poll it (and its 128 operations) up to `max_tasks_per_turn` times before any timer fires.
    #[inline]
    pub(crate) fn spent(&self) -> bool {
        BUDGET.with(Cell::get) == 0
    }
}

impl Drop for Budget {
    #[inline]
    fn drop(&mut self) {
        BUDGET.with(|b| b.set(UNCONSTRAINED));
    }
}

/// Run one resource operation under the budget (see the module docs): `Pending` and a self-wake when
/// the poll's budget is spent, else `op`, spending one unit if it completes.
#[inline]
pub(crate) fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    if BUDGET.with(Cell::get) == 0 {
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    let result = op(cx);
    if result.is_ready() {
        // Read again: `op` may itself have gone through budgeted resources.
        BUDGET.with(|b| {
            let left = b.get();
            if left != UNCONSTRAINED {
                b.set(left.saturating_sub(1));
            }
        });
    }
    result
}

/// The budget left in the current poll (`None` outside a task poll), for tests.
#[cfg(test)]
pub(crate) fn remaining() -> Option<u32> {
    let left = BUDGET.with(Cell::get);
    (left != UNCONSTRAINED).then_some(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Nop;
    impl Wake for Nop {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn ready_spends_pending_does_not_and_the_guard_restores() {
        let waker = Waker::from(Arc::new(Nop));
        let mut cx = Context::from_waker(&waker);
        assert_eq!(remaining(), None);
        let budget = Budget::start();
        assert_eq!(poll_budgeted(&mut cx, |_| Poll::Ready(())), Poll::Ready(()));
        assert_eq!(
            poll_budgeted(&mut cx, |_| Poll::<()>::Pending),
            Poll::Pending
        );
        assert_eq!(remaining(), Some(PER_POLL - 1));
        for _ in 1..PER_POLL {
            assert!(poll_budgeted(&mut cx, |_| Poll::Ready(())).is_ready());
        }
        // Spent: the operation is not even tried.
        assert_eq!(
            poll_budgeted(&mut cx, |_| -> Poll<()> { unreachable!() }),
            Poll::Pending
        );
        drop(budget);
        assert_eq!(remaining(), None);
        assert!(poll_budgeted(&mut cx, |_| Poll::Ready(())).is_ready());
    }
}
