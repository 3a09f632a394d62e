//! A global allocator that counts heap allocations and bytes while switched on, so the benchmark can
//! report allocations per parse and the largest heap footprint one parse reached (after
//! bench/micro's `counting_alloc`).
//!
//! It wraps the system allocator and only adds bookkeeping. Counting is switched on just around the
//! allocation measurements (the timing loops pay one relaxed load per allocation), so it does not tilt
//! the timings against the library that allocates more often.
//!
//! This is the only `unsafe` in the benchmark (implementing `GlobalAlloc` requires it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::Relaxed};

/// The counting wrapper around [`System`].
pub struct Counting;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Allocations (including reallocations) made while counting was on.
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
/// Of those, reallocations (a `Vec` growing in place or by moving).
static REALLOCS: AtomicUsize = AtomicUsize::new(0);
/// Bytes requested by those allocations (a reallocation counts its new size).
static BYTES: AtomicUsize = AtomicUsize::new(0);
/// Bytes allocated minus bytes freed since [`start`] (requested sizes, not malloc's chunk sizes).
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The highest `LIVE` reached since [`start`].
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// What was allocated while counting was on.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Number of allocations and reallocations.
    pub allocs: usize,
    /// Of those, reallocations.
    pub reallocs: usize,
    /// Bytes requested.
    pub bytes: usize,
    /// Highest live heap (bytes) above the level at [`start`].
    pub peak: isize,
}

/// Zero the counters and start counting.
pub fn start() {
    ALLOCS.store(0, Relaxed);
    REALLOCS.store(0, Relaxed);
    BYTES.store(0, Relaxed);
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    ENABLED.store(true, Relaxed);
}

/// Stop counting and return the totals since [`start`].
pub fn stop() -> Snapshot {
    ENABLED.store(false, Relaxed);
    Snapshot {
        allocs: ALLOCS.load(Relaxed),
        reallocs: REALLOCS.load(Relaxed),
        bytes: BYTES.load(Relaxed),
        peak: PEAK.load(Relaxed),
    }
}

fn on_alloc(size: usize) {
    if ENABLED.load(Relaxed) {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(size, Relaxed);
        let live = LIVE.fetch_add(size as isize, Relaxed) + size as isize;
        PEAK.fetch_max(live, Relaxed);
    }
}

fn on_free(size: usize) {
    if ENABLED.load(Relaxed) {
        LIVE.fetch_sub(size as isize, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's own arguments, unchanged, so `System`'s
// guarantees (alignment, size, ownership of the returned block) carry over; the wrapper only updates
// atomic counters, which neither allocates nor touches the memory block.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract (non-zero size), which is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_free(layout.size());
        // SAFETY: `ptr` was returned by this allocator (hence by `System`) with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr`/`layout` came from this allocator (hence from `System`); `new_size` is the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            on_free(layout.size());
            on_alloc(new_size);
            if ENABLED.load(Relaxed) {
                REALLOCS.fetch_add(1, Relaxed);
            }
        }
        p
    }
}
