//! The task's `Waker`: a `RawWaker` over the header pointer, so waking needs no allocation of its own.
//! One static vtable serves every task, since cloning, waking and dropping never need the future's type:
//! they touch only the header's atomic `state` and its `scheduler` (so they are fine on any thread).

use super::{add_ref, release, Header, Notified, COMPLETE, SCHEDULED};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::{RawWaker, RawWakerVTable, Waker};

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// Set `SCHEDULED`; true if this call set it on a task that can still run, so the caller must queue it.
///
/// Always a read-modify-write (never a plain load), even when the flag is already set: the `AcqRel` makes
/// whatever the waker's thread wrote before waking visible to the poll that follows.
fn set_scheduled(header: &Header) -> bool {
    let prev = header.state.fetch_or(SCHEDULED, Ordering::AcqRel);
    prev & (SCHEDULED | COMPLETE) == 0
}

/// # Safety
/// `data` comes from a `Waker` of ours, which owns a reference.
unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned owns a reference, so the header is alive.
    add_ref(unsafe { &*data.cast::<Header>() });
    RawWaker::new(data, &WAKER_VTABLE)
}

/// Wake and drop the waker: its reference becomes the queue entry's, or is given back.
///
/// # Safety
/// `data` comes from a `Waker` of ours, which owns a reference that this call consumes.
unsafe fn waker_wake(data: *const ()) {
    // SAFETY: a waker's data pointer is never null (it comes from a `NonNull<Header>`).
    let ptr = unsafe { NonNull::new_unchecked(data.cast_mut().cast::<Header>()) };
    // SAFETY: the waker's reference keeps the header alive; it moves into the queue entry below, which
    // keeps the scheduler alive for as long as `Schedule::schedule` says.
    let header = unsafe { ptr.as_ref() };
    if set_scheduled(header) {
        header.scheduler.schedule(Notified { ptr });
    } else {
        // SAFETY: we own the waker's reference and do not use `ptr` again.
        unsafe { release(ptr) }
    }
}

/// # Safety
/// `data` comes from a `Waker` of ours, which owns a reference for the duration of the call.
unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: as in `waker_wake`.
    let ptr = unsafe { NonNull::new_unchecked(data.cast_mut().cast::<Header>()) };
    // SAFETY: the caller's waker keeps the header alive during this call.
    let header = unsafe { ptr.as_ref() };
    if set_scheduled(header) {
        add_ref(header); // the queue entry's own reference
        header.scheduler.schedule(Notified { ptr });
    }
}

/// # Safety
/// `data` comes from a `Waker` of ours, whose reference this call gives back.
unsafe fn waker_drop(data: *const ()) {
    // SAFETY: as in `waker_wake`; the waker's reference is ours to give back.
    unsafe { release(NonNull::new_unchecked(data.cast_mut().cast::<Header>())) }
}

/// A `Waker` for the task at `ptr` that borrows the caller's reference instead of owning one: it must
/// never be dropped (hence `ManuallyDrop`), and must not outlive that reference.
///
/// # Safety
/// The caller owns a reference to `ptr` for as long as the returned value (or any `&Waker` to it) is used.
pub(super) unsafe fn borrowed(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the data pointer is a live header (caller's contract) and the vtable is ours. Not dropping
    // the `Waker` means it gives back no reference; clones made from it take their own.
    ManuallyDrop::new(unsafe {
        Waker::from_raw(RawWaker::new(
            ptr.as_ptr().cast_const().cast(),
            &WAKER_VTABLE,
        ))
    })
}
