//! A global allocator that counts live heap bytes and allocations, so the benchmark can report how much
//! memory a runtime spends per task.
//!
//! It wraps the system allocator and only adds bookkeeping. Counting is switched on just around the
//! measurement (one relaxed load per allocation otherwise), so it does not tilt the timing figures
//! against the runtime that allocates more often.
//!
//! This is the only `unsafe` in the benchmark (implementing `GlobalAlloc` requires it); the runtime keeps
//! its own in one module, `executor::raw`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::Relaxed};

/// The counting wrapper around [`System`].
pub struct Counting;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed while counting was on (requested sizes, not malloc's chunk sizes).
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Allocations (including growing reallocations) made while counting was on.
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

/// What was allocated while counting was on.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub live_bytes: isize,
    pub allocs: usize,
}

/// Zero the counters and start counting.
pub fn start() {
    LIVE.store(0, Relaxed);
    ALLOCS.store(0, Relaxed);
    ENABLED.store(true, Relaxed);
}

/// Stop counting and return the totals since [`start`].
pub fn stop() -> Snapshot {
    ENABLED.store(false, Relaxed);
    Snapshot {
        live_bytes: LIVE.load(Relaxed),
        allocs: ALLOCS.load(Relaxed),
    }
}

/// Optional breakdown by allocation size: a fixed open-addressing table (the allocator must not allocate).
const SIZE_SLOTS: usize = 64;
static RECORD_SIZES: AtomicBool = AtomicBool::new(false);
static SIZE_KEYS: [AtomicUsize; SIZE_SLOTS] = [const { AtomicUsize::new(0) }; SIZE_SLOTS];
static SIZE_COUNTS: [AtomicUsize; SIZE_SLOTS] = [const { AtomicUsize::new(0) }; SIZE_SLOTS];

/// Also record how many allocations of each size are made while counting (for the `one ... bytes` mode).
pub fn record_sizes(on: bool) {
    RECORD_SIZES.store(on, Relaxed);
}

/// (size, count) pairs recorded so far, largest count first.
pub fn sizes() -> Vec<(usize, usize)> {
    let mut v: Vec<(usize, usize)> = (0..SIZE_SLOTS)
        .filter_map(|i| match SIZE_KEYS[i].load(Relaxed) {
            0 => None,
            k => Some((k, SIZE_COUNTS[i].load(Relaxed))),
        })
        .collect();
    v.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
    v
}

fn record_size(size: usize) {
    let mut i = size % SIZE_SLOTS;
    for _ in 0..SIZE_SLOTS {
        match SIZE_KEYS[i].compare_exchange(0, size, Relaxed, Relaxed) {
            Ok(_) => {}
            Err(k) if k == size => {}
            Err(_) => {
                i = (i + 1) % SIZE_SLOTS;
                continue;
            }
        }
        SIZE_COUNTS[i].fetch_add(1, Relaxed);
        return;
    }
}

fn on_alloc(size: usize) {
    if ENABLED.load(Relaxed) {
        LIVE.fetch_add(size as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        if RECORD_SIZES.load(Relaxed) && size > 0 {
            record_size(size);
        }
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
        }
        p
    }
}
