//! `yield_now`: give other ready tasks (and I/O) a turn.

use std::future::poll_fn;
use std::task::Poll;

/// Let every other ready task run once before this one continues.
///
/// The task wakes itself and returns `Pending` once: the wake puts a pointer to the task at the back of
/// the ready queue. A task that loops calling `yield_now` therefore cannot starve the others, nor I/O and
/// timers, since the loop polls the kernel after a bounded number of task polls.
///
/// ```
/// spool_runtime::block_on(async {
///     spool_runtime::yield_now().await;
/// });
/// ```
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
