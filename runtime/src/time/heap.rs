//! A 4-ary min-heap of timer items: the timer store's "which deadline comes next".
//!
//! # Why not `std::collections::BinaryHeap`
//! A heap is a tree packed into an array: the children of item `i` sit right after one another, so finding
//! the smallest child is a short scan over neighbouring memory. Popping the top walks one path from the root
//! to a leaf, and with 100,000 timers that path runs through memory the cache has long forgotten: each level
//! costs a cache miss. A binary heap of 100,000 items is 17 levels deep; a 4-ary heap (four children per
//! item) is only 9 deep, and its four children lie side by side (96 bytes, two cache lines), so one
//! level costs about the same misses as a binary level while there are half as many levels. The price is
//! three comparisons per level instead of one, which is cheap next to a miss because the items are small:
//!
//! - the deadline is a `u64` count of nanoseconds since a base instant chosen by the timer store (an
//!   `Instant` is a two-field struct, slower to compare and larger);
//! - the sequence number (`u64`) breaks ties, so timers with equal deadlines fire in the order they were
//!   registered (FIFO), and it lets the store recognise stale items exactly (see `timers.rs`);
//! - the slab slot is a `u32`.
//!
//! That is 24 bytes per item instead of `BinaryHeap<Reverse<(Instant, u64, usize)>>`'s 32.
//!
//! # Layout
//! Item `i`'s children are `4i + 1 ..= 4i + 4`; its parent is `(i - 1) / 4`. The invariant: no item orders
//! before its parent, so the smallest item is at index 0.

/// One pending timer as the heap sees it. Ordered by `(deadline, seq)`; `slot` only rides along.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    /// Nanoseconds since the timer store's base instant, rounded up (never earlier than the real deadline).
    pub(crate) deadline: u64,
    /// Registration order; unique per store, so no two items compare equal.
    pub(crate) seq: u64,
    /// The slab slot of the timer's entry.
    pub(crate) slot: u32,
}

impl Item {
    /// Does `self` come out of the heap before `other`? Earlier deadline first, then earlier registration.
    #[inline]
    fn before(&self, other: &Item) -> bool {
        (self.deadline, self.seq) < (other.deadline, other.seq)
    }
}

/// Children per item. Four keeps the tree shallow while a level's children stay close together.
const ARITY: usize = 4;

/// A min-heap of [`Item`]s ordered by `(deadline, seq)`.
#[derive(Default)]
pub(crate) struct Heap {
    items: Vec<Item>,
}

impl Heap {
    pub(crate) fn new() -> Heap {
        Heap { items: Vec::new() }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The smallest item, if any.
    #[inline]
    pub(crate) fn peek(&self) -> Option<&Item> {
        self.items.first()
    }

    /// Add an item: O(log n), it climbs from a new leaf past every parent that orders after it.
    pub(crate) fn push(&mut self, item: Item) {
        self.items.push(item);
        self.sift_up(self.items.len() - 1, item);
    }

    /// Remove and return the smallest item: O(log n).
    pub(crate) fn pop(&mut self) -> Option<Item> {
        let last = self.items.pop()?;
        if self.items.is_empty() {
            return Some(last);
        }
        let top = self.items[0];
        // `last` (a leaf) must go somewhere. Rather than drop it at the root and sift it down, comparing
        // it against the smallest child at every level, move the hole at the root down along the path of
        // smallest children to a leaf, then let `last` climb from there. A leaf's item almost always
        // belongs near the bottom, so the climb is short and each level costs only the child scan.
        let hole = self.hole_to_leaf(0);
        self.sift_up(hole, last);
        Some(top)
    }

    /// Keep only the items for which `keep` says yes, then restore the heap order: O(n).
    pub(crate) fn retain(&mut self, keep: impl FnMut(&Item) -> bool) {
        self.items.retain(keep);
        // Build bottom-up (Floyd): sift down every item that has children, last parent first.
        let n = self.items.len();
        if n > 1 {
            for i in (0..=(n - 2) / ARITY).rev() {
                let item = self.items[i];
                let hole = self.hole_to_leaf(i);
                self.sift_up_to(hole, item, i);
            }
        }
    }

    /// Move the (logically empty) hole at `hole` down, each level pulling the smallest child up into it,
    /// until the hole is a leaf. Returns the leaf's index.
    #[inline]
    fn hole_to_leaf(&mut self, mut hole: usize) -> usize {
        let items = &mut self.items;
        let n = items.len();
        loop {
            let first = ARITY * hole + 1;
            let best = if first + ARITY <= n {
                // All four children exist: a fixed-size slice lets the compiler drop bounds checks.
                let c: &[Item; ARITY] = items[first..first + ARITY].try_into().unwrap();
                let a = if c[1].before(&c[0]) { 1 } else { 0 };
                let b = if c[3].before(&c[2]) { 3 } else { 2 };
                first + if c[b].before(&c[a]) { b } else { a }
            } else if first < n {
                let mut best = first;
                for i in first + 1..n {
                    if items[i].before(&items[best]) {
                        best = i;
                    }
                }
                best
            } else {
                return hole;
            };
            items[hole] = items[best];
            hole = best;
        }
    }

    /// Put `item` in the hole at `hole`, moving it up past every parent that orders after it.
    #[inline]
    fn sift_up(&mut self, hole: usize, item: Item) {
        self.sift_up_to(hole, item, 0);
    }

    /// Like [`Heap::sift_up`], but never above index `top` (used while building, where only the subtree
    /// under `top` is being ordered).
    #[inline]
    fn sift_up_to(&mut self, mut hole: usize, item: Item, top: usize) {
        while hole > top {
            let parent = (hole - 1) / ARITY;
            if !item.before(&self.items[parent]) {
                break;
            }
            self.items[hole] = self.items[parent];
            hole = parent;
        }
        self.items[hole] = item;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic pseudo-random source (an LCG), so the test needs no extra crate and every run
    /// checks the same sequence.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, below: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % below
        }
    }

    /// Pushes, pops and retains against a sorted `Vec` model. Deadlines come from a small range, so many
    /// are equal and the `seq` tie-break (FIFO) is exercised.
    #[test]
    fn matches_a_sorted_vec_model() {
        for seed in 0..20 {
            let mut rng = Lcg(seed);
            let mut heap = Heap::new();
            let mut model: Vec<Item> = Vec::new();
            let mut seq = 0;
            for _ in 0..3000 {
                match rng.next(10) {
                    0..=5 => {
                        let item = Item {
                            deadline: rng.next(50),
                            seq,
                            slot: rng.next(1000) as u32,
                        };
                        seq += 1;
                        heap.push(item);
                        model.push(item);
                    }
                    6..=8 => {
                        model.sort_by_key(|i| (i.deadline, i.seq));
                        let want = if model.is_empty() {
                            None
                        } else {
                            Some(model.remove(0))
                        };
                        assert_eq!(heap.peek().copied(), want);
                        assert_eq!(heap.pop(), want);
                    }
                    _ => {
                        let drop_slot = rng.next(1000) as u32;
                        heap.retain(|i| i.slot % 7 != drop_slot % 7);
                        model.retain(|i| i.slot % 7 != drop_slot % 7);
                    }
                }
                assert_eq!(heap.len(), model.len());
            }
            model.sort_by_key(|i| (i.deadline, i.seq));
            for want in model {
                assert_eq!(heap.pop(), Some(want));
            }
            assert_eq!(heap.pop(), None);
        }
    }

    #[test]
    fn equal_deadlines_come_out_in_registration_order() {
        let mut heap = Heap::new();
        for seq in 0..100 {
            heap.push(Item {
                deadline: 7,
                seq,
                slot: 0,
            });
        }
        for seq in 0..100 {
            assert_eq!(heap.pop().map(|i| i.seq), Some(seq));
        }
    }
}
