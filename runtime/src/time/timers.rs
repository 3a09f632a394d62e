//! The timer store: which sleeping task to wake, and when.
//!
//! Timers live in a slab (so a `Sleep` finds its entry in O(1)) and their deadlines in a 4-ary min-heap
//! (`heap.rs`: the loop finds the next deadline in O(1) and pops due ones in O(log n)).
//!
//! The heap holds deadlines as nanoseconds since `base`, an instant taken when the store is made. The
//! conversion rounds a deadline up and `now` down, so a timer can fire late by nothing and early never:
//! `ceil(deadline) <= floor(now)` implies `deadline <= now`.
//!
//! Cancelling is *lazy*: dropping a `Sleep` frees its slab entry at once but leaves its heap item behind,
//! marked stale by a sequence number that no longer matches. That makes cancel O(1), which matters for the
//! common case of a request timeout that never fires. Stale items are skipped when they reach the top, and
//! the heap is compacted when they outnumber live ones, so memory stays proportional to live timers.
//! Insert is O(log n); with 100,000 pending timers a loop turn still only looks at the heap's top.

use std::task::Waker;
use std::time::{Duration, Instant};

use super::heap::{Heap, Item};
use crate::context::RuntimeId;

use slab::Slab;

/// Identifies one registered timer: its slab slot plus a sequence number that tells reuses apart, and
/// the runtime whose store it is in (slots and sequence numbers of two stores collide).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: usize,
    seq: u64,
    runtime: RuntimeId,
}

struct Entry {
    seq: u64,
    waker: Option<Waker>,
    fired: bool,
}

/// Below this many stale heap items, compaction is not worth its O(n) pass.
const COMPACT_MIN_STALE: usize = 1024;

pub(crate) struct Timers {
    entries: Slab<Entry>,
    heap: Heap,
    /// The instant heap deadlines count from (see the module docs on rounding).
    base: Instant,
    /// Never reused, and 64 bits never wrap in practice, so `(slot, seq)` names one registration exactly: a
    /// stale heap item can never be mistaken for the live timer that reused its slot.
    next_seq: u64,
    /// Heap items whose entry was cancelled.
    stale: usize,
    /// The runtime this store belongs to, stamped on every key.
    runtime: RuntimeId,
}

impl Timers {
    pub(crate) fn new(runtime: RuntimeId) -> Timers {
        Timers {
            entries: Slab::new(),
            heap: Heap::new(),
            base: Instant::now(),
            next_seq: 0,
            stale: 0,
            runtime,
        }
    }

    /// Register a timer for `deadline` that will wake `waker`.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: &Waker) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = self.entries.insert(Entry {
            seq,
            waker: Some(waker.clone()),
            fired: false,
        });
        self.heap.push(Item {
            deadline: self.ticks_at_or_after(deadline),
            seq,
            slot: u32::try_from(slot).expect("spool: more than 4 billion timers pending"),
        });
        TimerKey {
            slot,
            seq,
            runtime: self.runtime,
        }
    }

    /// Has the timer fired? If not, make sure `waker` is the one it will wake. `None` if the key is no
    /// longer registered (it was cancelled).
    ///
    /// # Panics
    /// If `key` comes from another runtime's store: its slot would name a stranger's timer here.
    pub(crate) fn poll_fired(&mut self, key: TimerKey, waker: &Waker) -> Option<bool> {
        key.runtime
            .check(self.runtime, "Sleep (or timeout, or interval)");
        match self.entries.get_mut(key.slot) {
            Some(e) if e.seq == key.seq => {
                if e.fired {
                    return Some(true);
                }
                match &e.waker {
                    Some(w) if w.will_wake(waker) => {}
                    _ => e.waker = Some(waker.clone()),
                }
                Some(false)
            }
            _ => None,
        }
    }

    /// Remove a timer, fired or not.
    pub(crate) fn cancel(&mut self, key: TimerKey) {
        if key.runtime != self.runtime {
            return; // not ours to cancel (see `Sleep`'s drop)
        }
        let ours = matches!(self.entries.get(key.slot), Some(e) if e.seq == key.seq);
        if !ours {
            return;
        }
        let entry = self.entries.remove(key.slot);
        if !entry.fired {
            self.stale += 1;
            self.maybe_compact();
        }
    }

    /// The earliest deadline of a live timer, dropping stale items found on top.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(item) = self.heap.peek().copied() {
            if self.is_live(item.seq, item.slot) {
                // Exact for deadlines after `base`; an earlier one reads as `base`, later, never earlier.
                // `None` only if the deadline is centuries away: the loop then waits for I/O alone.
                return self.base.checked_add(Duration::from_nanos(item.deadline));
            }
            self.heap.pop();
            self.stale -= 1;
        }
        None
    }

    /// Fire every timer whose deadline is at or before `now`. Returns how many fired.
    ///
    /// "At or before": a timer set for exactly `now` is due, so a zero-length sleep never waits a turn.
    pub(crate) fn fire_due(&mut self, now: Instant) -> usize {
        let Some(now) = self.ticks_at_or_before(now) else {
            return 0; // before `base`, hence before every deadline
        };
        let mut fired = 0;
        while let Some(item) = self.heap.peek().copied() {
            if item.deadline > now {
                break;
            }
            self.heap.pop();
            if !self.is_live(item.seq, item.slot) {
                self.stale -= 1;
                continue;
            }
            let entry = &mut self.entries[item.slot as usize];
            entry.fired = true;
            if let Some(w) = entry.waker.take() {
                w.wake();
            }
            fired += 1;
        }
        fired
    }

    /// Timers registered and not yet cancelled (fired ones count until their `Sleep` is dropped).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn is_live(&self, seq: u64, slot: u32) -> bool {
        matches!(self.entries.get(slot as usize), Some(e) if e.seq == seq && !e.fired)
    }

    /// `deadline` in heap ticks, rounded up: an instant before `base` reads as 0 (= `base`, later), one
    /// too far away for 64 bits (584 years) as `u64::MAX`, which `fire_due` never reaches.
    fn ticks_at_or_after(&self, deadline: Instant) -> u64 {
        match deadline.checked_duration_since(self.base) {
            Some(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            None => 0,
        }
    }

    /// `now` in heap ticks, rounded down; `None` before `base`. Capped below `u64::MAX` so that a deadline
    /// saturated to `u64::MAX` (possibly later than `now`) is never taken for due.
    fn ticks_at_or_before(&self, now: Instant) -> Option<u64> {
        let d = now.checked_duration_since(self.base)?;
        Some(u64::try_from(d.as_nanos()).map_or(u64::MAX - 1, |t| t.min(u64::MAX - 1)))
    }

    fn maybe_compact(&mut self) {
        if self.stale >= COMPACT_MIN_STALE && self.stale * 2 > self.heap.len() {
            let entries = &self.entries;
            self.heap.retain(|item| {
                matches!(entries.get(item.slot as usize), Some(e) if e.seq == item.seq && !e.fired)
            });
            self.stale = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use std::time::Duration;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn fires_in_deadline_order_and_only_when_due() {
        let (count, waker) = counter();
        let mut t = Timers::new(RuntimeId::next());
        let base = Instant::now();
        let late = t.insert(base + Duration::from_millis(20), &waker);
        let early = t.insert(base + Duration::from_millis(10), &waker);
        assert_eq!(t.next_deadline(), Some(base + Duration::from_millis(10)));
        assert_eq!(t.fire_due(base + Duration::from_millis(5)), 0);
        assert_eq!(t.fire_due(base + Duration::from_millis(10)), 1);
        assert_eq!(t.poll_fired(early, &waker), Some(true));
        assert_eq!(t.poll_fired(late, &waker), Some(false));
        assert_eq!(t.fire_due(base + Duration::from_millis(30)), 1);
        assert_eq!(t.poll_fired(late, &waker), Some(true));
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn cancelled_timers_never_fire_and_are_compacted() {
        let (count, waker) = counter();
        let mut t = Timers::new(RuntimeId::next());
        let base = Instant::now();
        let keys: Vec<_> = (0..5000)
            .map(|i| t.insert(base + Duration::from_millis(i), &waker))
            .collect();
        for k in &keys[..4000] {
            t.cancel(*k);
        }
        assert_eq!(t.len(), 1000);
        assert!(
            t.heap.len() < 5000,
            "compaction should have dropped stale items"
        );
        assert_eq!(t.fire_due(base + Duration::from_secs(10)), 1000);
        assert_eq!(count.0.load(Ordering::SeqCst), 1000);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn a_reused_slot_does_not_confuse_keys() {
        let (_count, waker) = counter();
        let mut t = Timers::new(RuntimeId::next());
        let now = Instant::now();
        let a = t.insert(now + Duration::from_secs(1), &waker);
        t.cancel(a);
        let b = t.insert(now + Duration::from_secs(2), &waker);
        assert_ne!(a, b);
        t.cancel(a); // cancelling the old key again must not remove b
        assert_eq!(t.len(), 1);
        assert_eq!(t.next_deadline(), Some(now + Duration::from_secs(2)));
    }

    /// Records which timer woke, in wake order.
    struct Rec(usize, Arc<std::sync::Mutex<Vec<usize>>>);
    impl Wake for Rec {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    /// Inserts, cancels (live and fired timers) and `fire_due` calls over a deterministic pseudo-random
    /// sequence (an LCG), checked against a plain list: the same timers must fire, in `(deadline,
    /// registration)` order, none before its deadline. Deadlines are drawn from a small range so many are
    /// equal (FIFO), and enough cancels happen for compaction to run.
    #[test]
    fn matches_a_simple_model() {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |below: u64| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) % below
        };
        let mut t = Timers::new(RuntimeId::next());
        let base = Instant::now();
        let mut now = base;
        // (deadline, id, key), in registration order; `fired` holds keys of fired, not yet dropped timers.
        let mut live: Vec<(Instant, usize, TimerKey)> = Vec::new();
        let mut fired: Vec<TimerKey> = Vec::new();
        let mut compactions = 0;
        for id in 0..40_000 {
            // The last quarter only cancels and fires, draining the store so stale items pile up.
            let op = if id < 30_000 { next(20) } else { 12 + next(8) };
            match op {
                0..=11 => {
                    // One in four far away: cancelled, those pile up as stale items until compaction.
                    let far = if next(4) == 0 { 1_000_000_000 } else { 0 };
                    let deadline = now + Duration::from_nanos(far + next(64) * 1000);
                    let waker = Waker::from(Arc::new(Rec(id, log.clone())));
                    live.push((deadline, id, t.insert(deadline, &waker)));
                }
                12..=16 if !live.is_empty() => {
                    let (_, _, key) = live.remove(next(live.len() as u64) as usize);
                    let before = t.heap.len();
                    t.cancel(key);
                    // Cancelling never pops; a shorter heap means it was compacted.
                    compactions += usize::from(t.heap.len() < before);
                    assert_eq!(t.poll_fired(key, &counter().1), None);
                }
                17 if !fired.is_empty() => {
                    let key = fired.swap_remove(next(fired.len() as u64) as usize);
                    assert_eq!(t.poll_fired(key, &counter().1), Some(true));
                    t.cancel(key);
                }
                _ => {
                    now += Duration::from_nanos(next(16) * 1000);
                    let mut due: Vec<_> = live.iter().filter(|e| e.0 <= now).copied().collect();
                    due.sort_by_key(|e| e.0); // stable: equal deadlines keep registration order
                    live.retain(|e| e.0 > now);
                    assert_eq!(t.fire_due(now), due.len());
                    let woke = std::mem::take(&mut *log.lock().unwrap());
                    assert_eq!(woke, due.iter().map(|e| e.1).collect::<Vec<_>>());
                    fired.extend(due.iter().map(|e| e.2));
                    let want_next = live.iter().map(|e| e.0).min();
                    assert_eq!(t.next_deadline(), want_next);
                }
            }
            assert_eq!(t.len(), live.len() + fired.len());
            // Memory stays proportional to live timers.
            assert!(t.heap.len() <= 2 * live.len() + COMPACT_MIN_STALE);
        }
        assert!(
            compactions > 0,
            "the sequence should have compacted the heap"
        );
    }
}
