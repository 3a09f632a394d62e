//! Raw tasks: a spawned task is **one heap allocation**, shared by the executor, the task's wakers and its
//! `JoinHandle`, and kept alive by a reference count. This module (with its `cell` submodule) is the only
//! place in the crate allowed to write `unsafe`; everything else uses the safe handles defined here.
//!
//! # Why not `Box` + `Arc` + `Rc`?
//! The safe way costs three allocations per task: the boxed future, an `Arc` for the waker and an `Rc`
//! cell for the result. Here one allocation holds all three roles, the way tokio and async-task do it.
//!
//! # Layout
//! ```text
//!   Cell<F> (#[repr(C)], one Box)
//!   ┌──────────────────────────────────────────────────────────────────────────────┐
//!   │ Header  state: AtomicUsize   reference count + flags (below)       any thread │
//!   │         vtable: &'static     the functions that know the type F    read-only  │
//!   │         id: usize            the task's key in the executor's slab read-only  │
//!   │         shared: Arc<Shared>  remote wake queue + unparker          read-only  │
//!   │         join_waker           who awaits the JoinHandle             loop only  │
//!   ├──────────────────────────────────────────────────────────────────────────────┤
//!   │ stage   Running(F) | Finished(Result<F::Output, JoinError>) | Consumed  loop only │
//!   └──────────────────────────────────────────────────────────────────────────────┘
//! ```
//! Every handle is a pointer to the header. Code that does not know `F` (wakers, the executor, a
//! `JoinHandle<T>`) reaches the typed part through the vtable (see [`cell`]).
//!
//! # Who holds a reference
//! Each of these owns exactly one count in `state`, taken when it is created and given back when it is
//! dropped; the allocation is freed when the count reaches zero:
//! - the executor's slab entry ([`Task`]), from spawn until the task finishes or is cancelled;
//! - each ready-queue entry ([`Task`] locally, [`Notified`] in the cross-thread queue): one per
//!   `SCHEDULED` period;
//! - the `JoinHandle` ([`JoinRef`]), until it is dropped;
//! - each `Waker` clone.
//!
//! # Threads
//! The future and its output may be `!Send`: they live on the loop thread that spawned them. So the rule:
//! - **the stage and `join_waker` are touched only on the loop thread**, by [`Task`] and [`JoinRef`], both
//!   `!Send` (they hold a raw pointer), and only while they own a reference;
//! - **wakers and [`Notified`] touch only `state` and `shared`**, which are atomic or immutable, so they may
//!   be cloned, woken and dropped on any thread.
//!
//! What makes that sound when the *last* reference is dropped on another thread: by then the stage is
//! `Consumed`. The stage is `Running` only while the slab holds its [`Task`], and `Finished` only while a
//! `JoinHandle` exists (without one, the output is dropped the moment the task completes); both live on
//! the loop thread, so while either exists a foreign thread cannot hold the last reference. Freeing the
//! cell therefore never drops the stage (it is `ManuallyDrop`): it checks `Consumed` in debug builds and
//! only releases memory, the `Arc<Shared>` and the (empty) join waker, which are `Send`.
//!
//! # State machine
//! The flags in `state` (the bits below the reference count):
//! - `SCHEDULED`: an entry for the task sits in a ready queue. Set by a wake (which then adds a queue
//!   entry), cleared by the executor just before it polls. While set, further wakes cost one atomic and
//!   queue nothing: a burst of wakes means one poll.
//! - `RUNNING`: the loop thread is using the stage (polling the future, or dropping it). Loop only.
//! - `CLOSED`: `abort` was called while `RUNNING`; the future is dropped as soon as the poll returns.
//!   Loop only.
//! - `COMPLETE`: the future is gone (finished, panicked or cancelled); the stage is `Finished` or
//!   `Consumed`. Set once, never cleared. Later wakes do nothing, later aborts do nothing. Loop only.
//! - `JOIN_INTEREST`: the `JoinHandle` still exists, so the output must be kept for it. Loop only.
//!
//! ```text
//!  spawn ──► SCHEDULED ──(1) run──► RUNNING ──Pending──► idle ──(2) wake──► SCHEDULED ──(1)...
//!                │                     │ │                 │
//!                │                     │ └─Pending+CLOSED──┤
//!                │                     └─Ready / panic──►  │ ──(3) abort──► COMPLETE
//!                └──────(3) abort─────────────────────────►┘   (stage Finished, join waker woken)
//! ```
//! 1. [`Task::run`]: `SCHEDULED` off, `RUNNING` on, poll; `Ready` or a panic finishes the task.
//! 2. The waker ([`waker_wake`]): sets `SCHEDULED` and, if it was clear, queues the task.
//! 3. [`Task::cancel`]: drops the future at once, or (when `RUNNING`) sets `CLOSED` so [`Task::run`] drops
//!    it right after the poll.
//!
//! When a task completes, its output goes to the stage (or is dropped at once if no `JoinHandle` exists)
//! and the `JoinHandle`'s waker is woken; [`JoinRef::poll`] then moves the output out, leaving `Consumed`.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod cell;
#[cfg(test)]
mod tests;

use super::join::JoinError;
use super::waker::{schedule, Shared};
use super::Executor;
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use cell::Vtable;

const SCHEDULED: usize = 1 << 0;
const RUNNING: usize = 1 << 1;
const CLOSED: usize = 1 << 2;
const COMPLETE: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
/// The reference count lives in the bits above the flags.
const REF_ONE: usize = 1 << 5;
const REF_MASK: usize = !(REF_ONE - 1);

/// The untyped front of every task allocation (see the module docs for who may touch which field).
struct Header {
    state: AtomicUsize,
    vtable: &'static Vtable,
    /// The task's key in the executor's slab, so a finished task can be removed in O(1).
    id: usize,
    /// Where wakes from other threads go; also identifies the executor that owns the task.
    shared: Arc<Shared>,
    /// The waker of whoever awaits the `JoinHandle`. Loop thread only.
    join_waker: UnsafeCell<Option<Waker>>,
}

/// Create a task for `future` under slab key `id` of `executor`.
///
/// Returns three references: the slab's, the ready queue's (the task starts scheduled for its first
/// poll) and the `JoinHandle`'s.
pub(crate) fn spawn<F>(
    future: F,
    id: usize,
    executor: &Executor,
) -> (Task, Task, JoinRef<F::Output>)
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    let header = Header {
        state: AtomicUsize::new(SCHEDULED | JOIN_INTEREST | (3 * REF_ONE)),
        vtable: cell::vtable::<F>(),
        id,
        shared: executor.shared().clone(),
        join_waker: UnsafeCell::new(None),
    };
    let ptr = cell::allocate(header, future);
    let join = JoinRef {
        ptr,
        _output: PhantomData,
    };
    (Task { ptr }, Task { ptr }, join)
}

/// Add one reference. Any thread; the caller already holds one, so the count cannot be zero.
fn add_ref(header: &Header) {
    let prev = header.state.fetch_add(REF_ONE, Ordering::Relaxed);
    // Like `Arc`: a count this large means references are being leaked in a loop; stop before it wraps.
    if prev > isize::MAX as usize {
        std::process::abort();
    }
}

/// Give back one reference, freeing the allocation if it was the last. Any thread.
///
/// # Safety
/// The caller owns one reference to `ptr` and does not use `ptr` afterwards.
unsafe fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the allocation alive until the `fetch_sub` below.
    let header = unsafe { ptr.as_ref() };
    // Release: our earlier writes to the cell happen before whoever frees it.
    if header.state.fetch_sub(REF_ONE, Ordering::Release) & REF_MASK != REF_ONE {
        return;
    }
    // Acquire: every other holder's writes happen before we free (pairs with the Release above).
    fence(Ordering::Acquire);
    let dealloc = header.vtable.dealloc;
    // SAFETY: the count reached zero, so nobody else can reach the cell; `header` is not used again.
    unsafe { dealloc(ptr) }
}

// ---------------------------------------------------------------------------------------------------
// Wakers: a `RawWaker` over the header pointer. One static vtable serves every task, since waking never
// needs the future's type.

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
    // SAFETY: the waker's reference keeps the header alive.
    if set_scheduled(unsafe { ptr.as_ref() }) {
        schedule(Notified { ptr });
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
        schedule(Notified { ptr });
    }
}

/// # Safety
/// `data` comes from a `Waker` of ours, whose reference this call gives back.
unsafe fn waker_drop(data: *const ()) {
    // SAFETY: as in `waker_wake`; the waker's reference is ours to give back.
    unsafe { release(NonNull::new_unchecked(data.cast_mut().cast::<Header>())) }
}

// ---------------------------------------------------------------------------------------------------
// Handles.

/// The loop thread's handle to a task: the slab entry, a local ready-queue entry, or a temporary.
/// Owns one reference. `!Send` (raw pointer): it can poll and drop the future.
pub(crate) struct Task {
    ptr: NonNull<Header>,
}

/// What [`Task::run`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Run {
    /// The task had already completed (a late wake): nothing was polled.
    Stale,
    /// Polled; it is waiting for a wake.
    Pending,
    /// Polled and now complete (value, panic, or it aborted itself): remove it from the slab.
    Finished,
}

impl Task {
    fn header(&self) -> &Header {
        // SAFETY: this handle owns a reference, so the allocation outlives `&self`.
        unsafe { self.ptr.as_ref() }
    }

    /// The task's key in its executor's slab.
    pub(crate) fn id(&self) -> usize {
        self.header().id
    }

    /// Whether both handles point at the same task.
    pub(crate) fn ptr_eq(&self, other: &Task) -> bool {
        self.ptr == other.ptr
    }

    /// Poll the task once (transition 1).
    pub(crate) fn run(&self) -> Run {
        let header = self.header();
        let started = header
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                // RUNNING here would mean a poll inside the poll: the executor never does that, but
                // refusing is what keeps two `&mut` to the future from ever existing.
                (s & (COMPLETE | RUNNING) == 0).then_some((s & !SCHEDULED) | RUNNING)
            });
        if let Err(s) = started {
            debug_assert!(s & RUNNING == 0, "a task was run from inside its own poll");
            return Run::Stale;
        }
        // The poll borrows our reference: no count is taken unless the future clones the waker.
        // SAFETY: the data pointer is our header and the vtable is ours; the `Waker` is never dropped
        // (`ManuallyDrop`), so it gives back no reference, and it cannot outlive `self`, which holds one.
        let waker = ManuallyDrop::new(unsafe {
            Waker::from_raw(RawWaker::new(
                self.ptr.as_ptr().cast_const().cast(),
                &WAKER_VTABLE,
            ))
        });
        let mut cx = Context::from_waker(&waker);
        // SAFETY: we are on the loop thread (`Task` is `!Send`) and `RUNNING` was clear, so no one else
        // is using the stage; not `COMPLETE`, so it is `Running`.
        let poll = unsafe { (header.vtable.poll)(self.ptr, &mut cx) };
        if poll.is_pending() {
            if header.state.load(Ordering::Acquire) & CLOSED == 0 {
                header.state.fetch_and(!RUNNING, Ordering::AcqRel);
                return Run::Pending;
            }
            // It aborted itself during the poll: drop the future now that the poll is over.
            // SAFETY: as above; we still hold `RUNNING` and the stage is still `Running`.
            unsafe { (header.vtable.cancel)(self.ptr) };
        }
        self.complete();
        Run::Finished
    }

    /// Abort (transition 3): drop the future now and report `Cancelled`; true if it did so. When the task
    /// is being polled it only sets `CLOSED` and returns false ([`Task::run`] finishes the job); when it
    /// already completed it does nothing and returns false.
    pub(crate) fn cancel(&self) -> bool {
        let header = self.header();
        let state = header.state.load(Ordering::Acquire);
        if state & COMPLETE != 0 {
            return false;
        }
        if state & RUNNING != 0 {
            header.state.fetch_or(CLOSED, Ordering::AcqRel);
            return false;
        }
        // `RUNNING` while the future's destructors run: if one of them aborts this same task again, it
        // only sets `CLOSED` instead of dropping the future a second time.
        header.state.fetch_or(RUNNING, Ordering::AcqRel);
        // SAFETY: loop thread (`!Send`), we now hold `RUNNING`, and the stage is `Running` (not COMPLETE).
        unsafe { (header.vtable.cancel)(self.ptr) };
        self.complete();
        true
    }

    /// The stage is now `Finished`: publish `COMPLETE`, drop the output if nobody will read it, and wake
    /// whoever awaits the `JoinHandle`. User code (destructor, waker) runs last, with the state settled.
    fn complete(&self) {
        let header = self.header();
        let prev = header
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some((s & !RUNNING) | COMPLETE)
            })
            .unwrap_or_else(|s| s);
        if prev & JOIN_INTEREST == 0 {
            // SAFETY: loop thread; the stage is `Finished` and nobody else uses it (no JoinHandle).
            unsafe { (header.vtable.drop_output)(self.ptr) };
        }
        // SAFETY: loop thread, and no reference into `join_waker` is alive.
        let waiter = unsafe { (*header.join_waker.get()).take() };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl Clone for Task {
    fn clone(&self) -> Task {
        add_ref(self.header());
        Task { ptr: self.ptr }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // SAFETY: this handle owns one reference and is going away.
        unsafe { release(self.ptr) }
    }
}

/// A ready-queue entry on its way from another thread: owns one reference, can be sent anywhere, and can
/// do nothing but become a [`Task`] on its own loop thread ([`Notified::into_local`]) or be dropped.
pub(crate) struct Notified {
    ptr: NonNull<Header>,
}

// SAFETY: a `Notified` only reads `shared` (immutable, `Sync`) and changes the atomic count when dropped;
// reaching the stage requires `into_local`, which proves it runs on the task's own loop thread.
unsafe impl Send for Notified {}

impl Notified {
    fn header(&self) -> &Header {
        // SAFETY: this handle owns a reference, so the allocation outlives `&self`.
        unsafe { self.ptr.as_ref() }
    }

    /// The runtime the task belongs to.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.header().shared
    }

    /// Become a [`Task`] if `executor` is the one that spawned this task, else give `self` back.
    ///
    /// The check is what makes this sound: every task's `shared` is its executor's own (see [`spawn`]),
    /// each executor owns a distinct `Shared`, and an `&Executor` can only exist on the thread that
    /// created it (it is `!Send` and `!Sync`). So a match proves we are on the task's loop thread.
    pub(crate) fn into_local(self, executor: &Executor) -> Result<Task, Notified> {
        if Arc::ptr_eq(self.shared(), executor.shared()) {
            let this = ManuallyDrop::new(self); // its reference moves into the `Task`
            Ok(Task { ptr: this.ptr })
        } else {
            Err(self)
        }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: this handle owns one reference and is going away.
        unsafe { release(self.ptr) }
    }
}

/// The `JoinHandle`'s reference: reads the output out of the cell, or drops it. `!Send`: the output may
/// be `!Send` and lives on the loop thread.
pub(crate) struct JoinRef<T> {
    ptr: NonNull<Header>,
    /// The output type; `fn() -> T` keeps `JoinRef<T>: Unpin` whatever `T` is.
    _output: PhantomData<fn() -> T>,
}

impl<T> JoinRef<T> {
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
