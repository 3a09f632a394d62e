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
//!   │         scheduler: Arc<dyn>  where wakes go (the executor's)       read-only  │
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
//! - **wakers and [`Notified`] touch only `state` and `scheduler`**, which are atomic or immutable, so they
//!   may be cloned, woken and dropped on any thread.
//!
//! What makes that sound when the *last* reference is dropped on another thread: by then the stage is
//! `Consumed`. The stage is `Running` only while the slab holds its [`Task`], and `Finished` only while a
//! `JoinHandle` exists (without one, the output is dropped the moment the task completes); both live on
//! the loop thread, so while either exists a foreign thread cannot hold the last reference. Freeing the
//! cell therefore never drops the stage (it is `ManuallyDrop`): it checks `Consumed` in debug builds and
//! only releases memory, the scheduler's `Arc` and the (empty) join waker, which are `Send`.
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
//!   spawn ──► SCHEDULED ──(1) run──► RUNNING ──Pending──► idle ──(2) wake──► SCHEDULED ──(1) ...
//!                 │                     │                   │
//!                 │ (3) abort           │ Ready, panic, or  │ (3) abort
//!                 │                     │ Pending + CLOSED  │
//!                 ▼                     ▼                   ▼
//!               COMPLETE: future dropped in place, outcome in the stage, JoinHandle's waker woken
//! ```
//! (`SCHEDULED` may also be set *while* `RUNNING`: a task that wakes itself, as `yield_now` does, is
//! queued again and polled once more after this poll.)
//!
//! 1. [`Task::run`]: `SCHEDULED` off, `RUNNING` on, poll; `Ready` or a panic finishes the task.
//! 2. The waker (`raw/waker.rs`): sets `SCHEDULED` and, if it was clear, queues the task.
//! 3. [`Task::cancel`]: drops the future at once, or (when `RUNNING`) sets `CLOSED` so [`Task::run`] drops
//!    it right after the poll.
//!
//! When a task completes, its output goes to the stage (or is dropped at once if no `JoinHandle` exists)
//! and the `JoinHandle`'s waker is woken; [`JoinRef::poll`] then moves the output out, leaving `Consumed`.
//!
//! # What this module knows of the executor
//! Nothing but the [`Schedule`] trait it defines: a woken task is handed to the scheduler its header holds
//! (the executor's `Shared`, in `executor/waker.rs`, which knows the ready queues and the threads). So the
//! imports point one way, from the executor down to here.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod cell;
mod join;
#[cfg(test)]
mod tests;
mod waker;

pub(crate) use join::JoinRef;

use super::join_error::JoinError;
use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};

use cell::Vtable;

const SCHEDULED: usize = 1 << 0;
const RUNNING: usize = 1 << 1;
const CLOSED: usize = 1 << 2;
const COMPLETE: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
/// The reference count lives in the bits above the flags.
const REF_ONE: usize = 1 << 5;
const REF_MASK: usize = !(REF_ONE - 1);

/// Where a woken task goes: implemented by the layer above (the executor's `Shared`), so that raw tasks
/// know nothing of ready queues, loops or threads.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queue `task`, whose wake just set `SCHEDULED`. Called on whatever thread woke it, with `self` being
    /// the scheduler in `task`'s own header.
    ///
    /// `task` is what keeps `self` alive: once the entry is handed to another thread, the loop may run
    /// the task and free it, and with it the last `Arc` to `self`. An implementation that still needs
    /// `self` after handing `task` over must first take its own reference (`task.scheduler().clone()`).
    fn schedule(&self, task: Notified);
}

/// The untyped front of every task allocation (see the module docs for who may touch which field).
struct Header {
    state: AtomicUsize,
    vtable: &'static Vtable,
    /// The task's key in the executor's slab, so a finished task can be removed in O(1).
    id: usize,
    /// Where wakes go; also identifies the executor that owns the task (see [`Notified::into_local`]).
    scheduler: Arc<dyn Schedule>,
    /// The waker of whoever awaits the `JoinHandle`. Loop thread only.
    join_waker: UnsafeCell<Option<Waker>>,
}

/// Create a task for `future` under slab key `id` of the executor whose scheduler is `scheduler`.
///
/// Returns three references: the slab's, the ready queue's (the task starts scheduled for its first
/// poll) and the `JoinHandle`'s.
pub(crate) fn spawn<F, S>(
    future: F,
    id: usize,
    scheduler: &Arc<S>,
) -> (Task, Task, JoinRef<F::Output>)
where
    F: std::future::Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    let header = Header {
        state: AtomicUsize::new(SCHEDULED | JOIN_INTEREST | (3 * REF_ONE)),
        vtable: cell::vtable::<F>(),
        id,
        scheduler: scheduler.clone(),
        join_waker: UnsafeCell::new(None),
    };
    let ptr = cell::allocate(header, future);
    // SAFETY: the cell was just made for `F`, and this is the third of the three references.
    let join = unsafe { JoinRef::from_raw(ptr) };
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
        // SAFETY: `self` holds a reference for the whole poll, and `waker` does not outlive this call.
        let waker = unsafe { waker::borrowed(self.ptr) };
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

// SAFETY: a `Notified` only reads `scheduler` (immutable, `Sync`) and changes the atomic count when dropped;
// reaching the stage requires `into_local`, which proves it runs on the task's own loop thread.
unsafe impl Send for Notified {}

impl Notified {
    fn header(&self) -> &Header {
        // SAFETY: this handle owns a reference, so the allocation outlives `&self`.
        unsafe { self.ptr.as_ref() }
    }

    /// The scheduler of the executor the task belongs to.
    pub(crate) fn scheduler(&self) -> &Arc<dyn Schedule> {
        &self.header().scheduler
    }

    /// Become a [`Task`] if `owner` is the scheduler this task was spawned with, else give `self` back.
    ///
    /// The check is what makes this sound, and the caller's part of it is to pass only the scheduler of
    /// the executor it is running on: every task's scheduler is its executor's own (see [`spawn`]), each
    /// executor owns a distinct one, and an executor can only be used on the thread that created it (it
    /// is `!Send` and `!Sync`). So a match proves we are on the task's loop thread.
    pub(crate) fn into_local<S: Schedule>(self, owner: &Arc<S>) -> Result<Task, Notified> {
        // Addresses only (a `dyn` pointer also carries a vtable, which says nothing about identity).
        let mine = Arc::as_ptr(self.scheduler()).cast::<()>();
        if std::ptr::eq(mine, Arc::as_ptr(owner).cast::<()>()) {
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
