//! [`Rate`]: at most R requests per second to one origin, as a token bucket holding one token (a
//! request may go every 1/R seconds; no bursts), in arrival order.
//!
//! Each request reserves the origin's next free slot and sleeps until it: `slot = max(now, next)`,
//! then `next = slot + 1/R`. No queue and no waker list: the timer heap orders the sleepers.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use spool_runtime::time::sleep_until;

use crate::origin::Origin;

/// Past this many origins, those whose next slot has passed are forgotten.
const PRUNE_AT: usize = 1024;

#[derive(Debug)]
pub(crate) struct Rate {
    interval: Duration,
    next: RefCell<HashMap<Box<str>, Instant>>,
}

impl Rate {
    pub(crate) fn per_second(rate: f64) -> Rate {
        Rate {
            interval: Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::MAX / 4),
            next: RefCell::new(HashMap::new()),
        }
    }

    /// Reserves `origin`'s next slot (at or after `now`) and returns it.
    pub(crate) fn reserve(&self, origin: &Origin<'_>, now: Instant) -> Instant {
        let mut key = String::new();
        origin.write_key(&mut key);
        let mut next = self.next.borrow_mut();
        if next.len() >= PRUNE_AT && !next.contains_key(key.as_str()) {
            next.retain(|_, at| *at > now);
        }
        let slot = next.get(key.as_str()).map_or(now, |&at| at.max(now));
        next.insert(key.into(), slot.checked_add(self.interval).unwrap_or(slot));
        slot
    }

    /// Waits for `origin`'s next slot.
    pub(crate) async fn wait(&self, origin: &Origin<'_>) {
        let now = Instant::now();
        let slot = self.reserve(origin, now);
        if slot > now {
            sleep_until(slot).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spaced_per_origin() {
        let rate = Rate::per_second(4.0);
        let a: http::Uri = "http://a.test/".parse().unwrap();
        let b: http::Uri = "http://b.test/".parse().unwrap();
        let t = Instant::now();
        let ms = |at: Instant| at.duration_since(t).as_millis();
        let (a, b) = (Origin::of(&a), Origin::of(&b));
        assert_eq!(ms(rate.reserve(&a, t)), 0);
        assert_eq!(ms(rate.reserve(&a, t)), 250);
        assert_eq!(ms(rate.reserve(&a, t)), 500);
        assert_eq!(
            ms(rate.reserve(&b, t)),
            0,
            "another origin has its own bucket"
        );
        // After a pause, the next request may go at once, but no burst builds up.
        let later = t + Duration::from_secs(10);
        assert_eq!(ms(rate.reserve(&a, later)), 10_000);
        assert_eq!(ms(rate.reserve(&a, later)), 10_250);
    }

    #[test]
    fn many_origins_are_pruned() {
        let rate = Rate::per_second(1000.0);
        let t = Instant::now();
        for i in 0..3000 {
            let u: http::Uri = format!("http://h{i}.test/").parse().unwrap();
            rate.reserve(&Origin::of(&u), t + Duration::from_secs(i));
        }
        assert!(rate.next.borrow().len() <= PRUNE_AT + 1);
    }
}
