//! The `JoinHandle`'s side of a raw task: waiting for the output, moving it out of the cell, or dropping
//! it when the handle goes away without reading it.

use super::{add_ref, release, Header, JoinError, Task, COMPLETE, JOIN_INTEREST};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

/// The `JoinHandle`'s reference: reads the output out of the cell, or drops it. `!Send`: the output may
/// be `!Send` and lives on the loop thread.
pub(crate) struct JoinRef<T> {
    ptr: NonNull<Header>,
    /// The output type; `fn() -> T` keeps `JoinRef<T>: Unpin` whatever `T` is.
    _output: PhantomData<fn() -> T>,
}

impl<T> JoinRef<T> {
    /// Wrap a reference to a task whose future has output type `T`.
    ///
    /// # Safety
    /// `ptr` heads a `Cell<F>` with `F::Output = T`, and the caller hands over one reference.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> JoinRef<T> {
        JoinRef {
            ptr,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: this handle owns a reference, so the allocation outlives `&self`.
        unsafe { self.ptr.as_ref() }
    }

    /// The task's key in its executor's slab (for `Debug`).
    pub(crate) fn id(&self) -> usize {
        self.header().id
    }

    /// Whether the task completed (value, panic or cancellation).
    pub(crate) fn is_finished(&self) -> bool {
        self.header().state.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// A [`Task`] handle (one more reference), to abort the task.
    pub(crate) fn task(&self) -> Task {
        add_ref(self.header());
        Task { ptr: self.ptr }
    }

    /// The output if the task completed, else remember `cx`'s waker and wait.
    ///
    /// # Panics
    /// If the output was already taken by an earlier poll.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        if self.is_finished() {
            return match self.take_output() {
                Some(out) => Poll::Ready(out),
                None => panic!("JoinHandle polled again after it returned its result"),
            };
        }
        let slot = self.header().join_waker.get();
        // SAFETY: loop thread (`JoinRef` is `!Send`); no other reference into `join_waker` is alive, and
        // `will_wake` runs no user code.
        if unsafe { (*slot).as_ref() }.is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        let new = cx.waker().clone(); // may run user code: done before we touch the slot
                                      // SAFETY: as above.
        let old = unsafe { (*slot).replace(new) };
        drop(old);
        Poll::Pending
    }

    /// Move the output out of a completed task (`None` if already taken).
    fn take_output(&mut self) -> Option<Result<T, JoinError>> {
        let mut out: Option<Result<T, JoinError>> = None;
        // SAFETY: loop thread, the task is COMPLETE so the executor no longer uses the stage, and `T` is
        // the future's output type: a `JoinRef<T>` is only created by `spawn` for `F::Output = T`.
        unsafe {
            (self.header().vtable.read_output)(self.ptr, (&mut out as *mut Option<_>).cast())
        };
        out
    }
}

impl<T> Drop for JoinRef<T> {
    /// Detach: from now on the executor drops the output itself. An output already there is dropped here
    /// (on the loop thread), after our reference is given back.
    fn drop(&mut self) {
        let prev = self
            .header()
            .state
            .fetch_and(!JOIN_INTEREST, Ordering::AcqRel);
        let out = if prev & COMPLETE != 0 {
            self.take_output()
        } else {
            None
        };
        // SAFETY: loop thread; no other reference into `join_waker` is alive.
        let waiter = unsafe { (*self.header().join_waker.get()).take() };
        // SAFETY: we own one reference and do not use `self.ptr` again.
        unsafe { release(self.ptr) };
        drop(waiter);
        drop(out);
    }
}
