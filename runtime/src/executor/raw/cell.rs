//! The typed half of a raw task: the `Cell<F>` allocation and the vtable functions that know `F`.
//!
//! Everything here is reached through a `NonNull<Header>` that the caller (in `raw/mod.rs`) owns a
//! reference to, and, except for `dealloc`, only on the loop thread with the right to use the stage
//! (`RUNNING` held, or the task `COMPLETE` and the executor done with it). Each function states which.

use super::{Header, JoinError};
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll};

/// One task, one allocation. `repr(C)` puts the header at offset 0, so a pointer to the cell is a
/// pointer to its header and back.
#[repr(C)]
struct Cell<F: Future> {
    header: Header,
    /// `ManuallyDrop`: freeing the cell must never drop the future or output (it may happen on another
    /// thread); they are dropped earlier, on the loop thread, which leaves the stage `Consumed`.
    stage: UnsafeCell<ManuallyDrop<Stage<F>>>,
}

/// What the cell holds besides the header.
enum Stage<F: Future> {
    /// The future, pinned here until it is dropped in place.
    Running(F),
    /// Its outcome, until the `JoinHandle` takes it (or right away dropped, without a handle).
    Finished(Result<F::Output, JoinError>),
    /// Nothing: the output was taken or dropped.
    Consumed,
}

/// The operations that need the future's type. One static instance per future type.
pub(super) struct Vtable {
    /// Poll the future under `catch_unwind`. On `Ready` or a panic, drop the future in place and leave
    /// the outcome in the stage (`Finished`), then return `Ready`.
    pub(super) poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    /// Drop the future in place and leave `Finished(Err(cancelled))` (or the panic of its destructor).
    pub(super) cancel: unsafe fn(NonNull<Header>),
    /// Move a `Finished` outcome into `*dst` (an `Option<Result<F::Output, JoinError>>`), leaving
    /// `Consumed`; leave `*dst` alone if there is none.
    pub(super) read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drop a `Finished` outcome nobody will read (a panic in its destructor is swallowed: there is no
    /// one to report it to, and the loop must go on).
    pub(super) drop_output: unsafe fn(NonNull<Header>),
    /// Free the allocation. Any thread, once the count is zero.
    pub(super) dealloc: unsafe fn(NonNull<Header>),
}

/// The vtable for futures of type `F` (a promoted constant: one per type, in static memory).
pub(super) fn vtable<F: Future>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F>,
        cancel: cancel::<F>,
        read_output: read_output::<F>,
        drop_output: drop_output::<F>,
        dealloc: dealloc::<F>,
    }
}

/// Box `header` and `future` together; the pointer carries the whole box's provenance.
pub(super) fn allocate<F: Future>(header: Header, future: F) -> NonNull<Header> {
    let cell = Box::new(Cell {
        header,
        stage: UnsafeCell::new(ManuallyDrop::new(Stage::Running(future))),
    });
    NonNull::from(Box::leak(cell)).cast()
}

/// The stage of the `Cell<F>` that `ptr` heads.
///
/// # Safety
/// `ptr` heads a live `Cell<F>` (an allocation made by `allocate::<F>`).
unsafe fn stage<F: Future>(ptr: NonNull<Header>) -> *mut Stage<F> {
    let cell = ptr.cast::<Cell<F>>().as_ptr();
    // SAFETY: `cell` points into a live `Cell<F>` (caller's contract); `addr_of!` makes no reference.
    // `ManuallyDrop<T>` is `repr(transparent)`, so the cast keeps the address and type layout.
    unsafe { UnsafeCell::raw_get(ptr::addr_of!((*cell).stage)).cast::<Stage<F>>() }
}

/// # Safety
/// Loop thread, `RUNNING` held by the caller, stage `Running`.
unsafe fn poll<F: Future>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
    // SAFETY: caller's contract: the cell is alive and we have exclusive use of the stage.
    let stage = unsafe { stage::<F>(ptr) };
    // SAFETY: exclusive use (above), and the stage is initialised.
    let Stage::Running(future) = (unsafe { &mut *stage }) else {
        unreachable!("a task was polled after its future was dropped");
    };
    // SAFETY: the future lives in the heap cell and is never moved: it is dropped in place below.
    let future = unsafe { Pin::new_unchecked(future) };
    let outcome = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Pending) => return Poll::Pending,
        Ok(Poll::Ready(value)) => Ok(value),
        Err(payload) => Err(JoinError::panic(payload)),
    };
    // SAFETY: same exclusive use; the `&mut` to the future is no longer used.
    unsafe { drop_future_then(stage, outcome) };
    Poll::Ready(())
}

/// # Safety
/// Loop thread, `RUNNING` held by the caller, stage `Running`.
unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: caller's contract.
    unsafe { drop_future_then(stage::<F>(ptr), Err(JoinError::cancelled())) }
}

/// Drop the future in place (its destructors run: sockets close, timers go), then store `outcome`. If a
/// destructor panics, the outcome becomes that panic.
///
/// # Safety
/// Exclusive use of `stage`, which is `Running`.
unsafe fn drop_future_then<F: Future>(stage: *mut Stage<F>, outcome: Result<F::Output, JoinError>) {
    // SAFETY: caller's contract.
    let dropped = catch_unwind(AssertUnwindSafe(|| unsafe { drop_in_place(stage) }));
    let outcome = match dropped {
        Ok(()) => outcome,
        Err(payload) => {
            discard(outcome);
            Err(JoinError::panic(payload))
        }
    };
    // SAFETY: the stage is `Consumed` now (nothing to drop), and still ours alone.
    unsafe { ptr::write(stage, Stage::Finished(outcome)) };
}

/// Drop whatever the stage holds where it lies (a pinned future must not be moved first), and leave it
/// `Consumed`, even if a destructor panics halfway, so nothing is ever dropped twice.
///
/// # Safety
/// Exclusive use of an initialised `stage`.
unsafe fn drop_in_place<F: Future>(stage: *mut Stage<F>) {
    struct LeaveConsumed<F: Future>(*mut Stage<F>);
    impl<F: Future> Drop for LeaveConsumed<F> {
        fn drop(&mut self) {
            // SAFETY: runs after the old value was dropped (normally or by unwinding): overwrite it
            // without dropping it again.
            unsafe { ptr::write(self.0, Stage::Consumed) }
        }
    }
    let _guard = LeaveConsumed(stage);
    // SAFETY: caller's contract; the guard then marks the place as `Consumed`.
    unsafe { ptr::drop_in_place(stage) }
}

/// # Safety
/// Loop thread, the task `COMPLETE` (the executor is done with the stage), and `dst` points at an
/// `Option<Result<F::Output, JoinError>>`.
unsafe fn read_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: caller's contract.
    let stage = unsafe { &mut *stage::<F>(ptr) };
    if matches!(stage, Stage::Finished(_)) {
        // Moving the output is fine: only the future is pinned.
        if let Stage::Finished(out) = mem::replace(stage, Stage::Consumed) {
            // SAFETY: caller's contract on `dst`.
            unsafe { *dst.cast::<Option<Result<F::Output, JoinError>>>() = Some(out) };
        }
    }
}

/// # Safety
/// As for [`read_output`] (without `dst`).
unsafe fn drop_output<F: Future>(ptr: NonNull<Header>) {
    let mut out: Option<Result<F::Output, JoinError>> = None;
    // SAFETY: caller's contract; `out` has the type `read_output::<F>` writes.
    unsafe { read_output::<F>(ptr, (&mut out as *mut Option<_>).cast()) };
    discard(out);
}

/// Drop `value`, swallowing a panic of its destructor (used where no one could receive it).
fn discard<T>(value: T) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(value)));
}

/// # Safety
/// The reference count is zero (nobody else can reach the cell), with an `Acquire` fence after the last
/// decrement. Any thread.
unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    let cell = ptr.cast::<Cell<F>>().as_ptr();
    // Reading the stage's tag is fine on any thread: we are its only user now.
    #[cfg(debug_assertions)]
    {
        // SAFETY: caller's contract: the cell is alive and nobody else uses it.
        let stage = unsafe { &**(*cell).stage.get() };
        assert!(
            matches!(stage, Stage::Consumed),
            "a task's memory was freed while it still held its future or output"
        );
    }
    // SAFETY: `cell` came from `Box::leak` in `allocate::<F>` and nobody uses it any more. Dropping the
    // box drops the header (an `Arc` and an `Option<Waker>`, both `Send`) but not the `ManuallyDrop`
    // stage, which is `Consumed` anyway.
    drop(unsafe { Box::from_raw(cell) });
}

/// The size of the allocation a task for `future` takes (for tests).
#[cfg(test)]
pub(super) fn cell_size<F: Future>(_future: &F) -> usize {
    mem::size_of::<Cell<F>>()
}
