//! Coalescing: when many tasks want the same name at once, only the first sends queries; the others
//! wait for its outcome. Without this, a fetch of 1,000 URLs on one host would start 1,000 identical
//! DNS lookups before the first answer could fill the cache.
//!
//! The table is generic over the key (the resolver uses the host name and family) and over the
//! waiter `W`, which is whatever carries the outcome: in the async resolver, the sending half of a
//! oneshot channel. How the resolver uses it (`resolver/mod.rs`, `resolver/lookup.rs`):
//!
//! 1. A caller that misses the cache calls [`InFlight::begin`] for each family. `Leader` means no
//!    lookup is under way: the caller spawns **one lookup task** for the families it leads. Either
//!    way it then registers its own waiter with [`InFlight::wait`] and awaits it: the leading caller
//!    is a follower of the task it spawned, like everyone else, so dropping it cancels nothing.
//! 2. The lookup task, when it has a family's outcome (success *or* failure), calls
//!    [`InFlight::finish`] and sends the outcome to every waiter returned.
//! 3. If the task dies before that (a panic, the runtime shutting down), its drop guard finishes
//!    every entry it still holds and drops their senders without sending: each waiter sees its
//!    channel close and reports the lookup as abandoned, instead of waiting forever.
//! 4. A waiter that gives up simply drops its receiving half; the task's send to it then fails
//!    harmlessly.
//!
//! Sans-IO: no wakers, no clock; the resolver brings those.

use std::collections::HashMap;
use std::hash::Hash;

/// What [`InFlight::begin`] tells the caller to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// No lookup for this key was running; the caller now owns it and must `finish` it.
    Leader,
    /// A lookup is already running; register with `wait` and await its outcome.
    Follower,
}

/// Lookups in progress, each with the waiters to notify when it ends.
#[derive(Debug)]
pub struct InFlight<K, W> {
    pending: HashMap<K, Vec<W>>,
}

impl<K: Eq + Hash, W> InFlight<K, W> {
    /// An empty table.
    pub fn new() -> InFlight<K, W> {
        InFlight {
            pending: HashMap::new(),
        }
    }

    /// Marks a lookup for `key` as running if none is, making the caller its leader.
    pub fn begin(&mut self, key: K) -> Role {
        match self.pending.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => Role::Follower,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Vec::new());
                Role::Leader
            }
        }
    }

    /// Registers `waiter` to receive the outcome of the running lookup for `key`. Gives the waiter back
    /// if no lookup is running (it finished in between), so the caller can look at the cache again.
    pub fn wait(&mut self, key: &K, waiter: W) -> Result<(), W> {
        match self.pending.get_mut(key) {
            Some(waiters) => {
                waiters.push(waiter);
                Ok(())
            }
            None => Err(waiter),
        }
    }

    /// Ends the lookup for `key` and returns its waiters, in arrival order, to notify. Empty if there
    /// were none or no lookup was running.
    pub fn finish(&mut self, key: &K) -> Vec<W> {
        self.pending.remove(key).unwrap_or_default()
    }

    /// Whether a lookup for `key` is running.
    #[cfg(test)]
    pub fn is_running(&self, key: &K) -> bool {
        self.pending.contains_key(key)
    }

    /// How many lookups are running.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no lookup is running.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

impl<K: Eq + Hash, W> Default for InFlight<K, W> {
    fn default() -> Self {
        InFlight::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_leader_many_followers_per_key() {
        let mut table: InFlight<&str, u32> = InFlight::new();
        assert_eq!(table.begin("a"), Role::Leader);
        assert_eq!(table.begin("b"), Role::Leader);
        for waiter in 1..=3 {
            assert_eq!(table.begin("a"), Role::Follower);
            table.wait(&"a", waiter).unwrap();
        }
        assert_eq!(table.len(), 2);
        assert!(table.is_running(&"a"));
        assert_eq!(table.finish(&"a"), vec![1, 2, 3]);
        assert!(!table.is_running(&"a"));
        assert_eq!(table.finish(&"b"), Vec::<u32>::new());
        assert!(table.is_empty());
    }

    #[test]
    fn waiting_on_a_finished_lookup_returns_the_waiter() {
        let mut table: InFlight<&str, u32> = InFlight::new();
        assert_eq!(table.wait(&"a", 7), Err(7));
        assert_eq!(table.begin("a"), Role::Leader);
        table.finish(&"a");
        assert_eq!(table.wait(&"a", 8), Err(8));
        assert_eq!(table.finish(&"a"), Vec::<u32>::new());
    }
}

#[cfg(test)]
mod example {
    use super::*;

    /// The example that used to be this type's doc test (the module is private to the crate).
    #[test]
    fn the_first_caller_leads_the_rest_follow() {
        let mut table: InFlight<String, &str> = InFlight::new();
        assert_eq!(table.begin("example.com".to_string()), Role::Leader);
        assert_eq!(table.begin("example.com".to_string()), Role::Follower);
        table
            .wait(&"example.com".to_string(), "task 2's sender")
            .unwrap();
        assert_eq!(
            table.finish(&"example.com".to_string()),
            vec!["task 2's sender"]
        );
        assert_eq!(table.begin("example.com".to_string()), Role::Leader); // a new lookup may start
    }
}
