//! Transaction ids for queries, without a `rand` dependency.
//!
//! An off-path attacker who wants to forge a response must guess the 16-bit id and the UDP source port
//! (RFC 5452). So ids must be unpredictable to someone who can observe *other* ids we used, but they do
//! not need to be cryptographically strong: 16 bits can be brute-forced anyway, and the real defence is
//! the combination with a random ephemeral port and the exact question match in `answer::validate`.
//!
//! [`IdSource`] hashes a counter and the current time with the standard library's `RandomState`, which
//! is SipHash-1-3 keyed with 128 random bits from the operating system. Without the key, outputs do not
//! reveal each other, and the counter guarantees distinct inputs even when the clock does not move.
//! That is enough for ids; it is not a general-purpose secure random generator.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::SystemTime;

/// A source of unpredictable 16-bit query ids.
#[derive(Debug)]
pub struct IdSource {
    /// Secret SipHash keys, drawn from the OS when the source is created.
    keys: RandomState,
    /// Makes every hashed input distinct.
    counter: u64,
}

impl IdSource {
    /// A new source with fresh secret keys.
    pub fn new() -> IdSource {
        IdSource {
            keys: RandomState::new(),
            counter: 0,
        }
    }

    /// The next id.
    pub fn next_id(&mut self) -> u16 {
        self.counter = self.counter.wrapping_add(1);
        // The time adds entropy the keys do not (it differs between runs of a restored snapshot); if
        // the clock is before 1970 it simply contributes nothing.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let hash = self.keys.hash_one((self.counter, nanos));
        // Fold the 64-bit hash so every output bit depends on all of it.
        (hash ^ hash >> 16 ^ hash >> 32 ^ hash >> 48) as u16
    }
}

impl Default for IdSource {
    fn default() -> Self {
        IdSource::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_spread_out() {
        // 1,000 draws from 65,536 values: the expected number of distinct ids is about 992, and a
        // broken source (constant, or a plain counter's low bits repeating) would fall far short or
        // show no high bits. The bounds are loose enough that a correct source essentially never fails.
        let mut ids = IdSource::new();
        let drawn: Vec<u16> = (0..1000).map(|_| ids.next_id()).collect();
        let mut distinct = drawn.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 950, "only {} distinct ids", distinct.len());
        assert!(drawn.iter().any(|&id| id >= 0x8000));
        assert!(drawn.iter().any(|&id| id < 0x8000));
        assert!(
            drawn
                .windows(2)
                .filter(|w| w[1] == w[0].wrapping_add(1))
                .count()
                < 10
        );
    }

    #[test]
    fn separate_sources_differ() {
        let a: Vec<u16> = {
            let mut s = IdSource::new();
            (0..8).map(|_| s.next_id()).collect()
        };
        let b: Vec<u16> = {
            let mut s = IdSource::new();
            (0..8).map(|_| s.next_id()).collect()
        };
        assert_ne!(a, b);
    }
}

#[cfg(test)]
mod example {
    use super::*;

    /// The example that used to be this type's doc test (the module is private to the crate).
    #[test]
    fn ids_are_drawn() {
        let mut ids = IdSource::new();
        let a = ids.next_id();
        let b = ids.next_id();
        let _ = (a, b); // any two u16 values are possible, including equal ones
    }
}
