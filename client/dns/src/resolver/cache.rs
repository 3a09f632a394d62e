//! The resolved-address cache: what a name meant the last time we asked, for as long as the answer's
//! TTL allows. Sans-clock: every method takes `now`, so tests control time and the resolver passes the
//! event loop's clock.
//!
//! Policy, and why:
//! * Keys are (lowercased name, A or AAAA). The two families are cached apart because they arrive as
//!   separate answers with separate TTLs, and Happy Eyeballs (RFC 8305) wants each as soon as it lands.
//! * Positive TTLs are capped at [`MAX_TTL`] (1 day) so a misconfigured zone cannot pin an address for
//!   weeks; negative TTLs at [`MAX_NEGATIVE_TTL`] (1 hour, inside RFC 2308 §5's suggested 1-3 hours).
//! * A TTL of 0 is honoured: nothing is stored (RFC 1035 §3.2.1: use the record only for the transaction
//!   at hand). This costs little, because concurrent lookups of one name are coalesced onto a single
//!   query (`inflight`), so a burst of requests to a TTL-0 host still sends one query per burst.
//! * NXDOMAIN is about the name, not a type (RFC 2308 §5), so it is stored for both families.
//! * Negative answers without an SOA carry no TTL and are not cached (RFC 2308 §5 says they SHOULD NOT be).
//! * An entry is valid while `now < stored_at + ttl`; at exactly the deadline it has expired.
//! * The size is bounded; inserting a new key into a full cache evicts the least recently used entry.
//!   Recency lives in an ordered map from a use counter to the key, so touching and evicting are
//!   O(log n) with no unsafe linked list.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[cfg(test)]
use crate::wire::answer::Answer;
use crate::wire::query::QueryType;

/// Longest time a positive answer is kept.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Longest time a negative answer (NXDOMAIN, NODATA) is kept.
pub const MAX_NEGATIVE_TTL: Duration = Duration::from_secs(60 * 60);

/// What the cache remembers about one name and family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    /// The addresses (non-empty; an empty list is stored as `NoData`).
    Addresses(Vec<IpAddr>),
    /// The name exists but has no records of this family.
    NoData,
    /// The name does not exist.
    NxDomain,
}

/// The result of a cache lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A live entry (positive or negative).
    Hit(Cached),
    /// Nothing live: ask DNS (or join the query already in flight).
    Miss,
}

type Key = (String, QueryType);

#[derive(Debug)]
struct Entry {
    value: Cached,
    expires: Instant,
    /// This entry's key in `Cache::recency`; larger means used more recently.
    stamp: u64,
}

/// A bounded, TTL-honouring cache of DNS outcomes.
#[derive(Debug)]
pub struct Cache {
    entries: HashMap<Key, Entry>,
    /// Use stamp → key, oldest first: the eviction order.
    recency: BTreeMap<u64, Key>,
    next_stamp: u64,
    capacity: usize,
    max_ttl: Duration,
    max_negative_ttl: Duration,
}

impl Cache {
    /// A cache holding at most `capacity` entries (0 disables caching), with the default TTL caps.
    pub fn new(capacity: usize) -> Cache {
        Cache {
            entries: HashMap::new(),
            recency: BTreeMap::new(),
            next_stamp: 0,
            capacity,
            max_ttl: MAX_TTL,
            max_negative_ttl: MAX_NEGATIVE_TTL,
        }
    }

    /// Replaces the caps on positive and negative TTLs.
    #[cfg(test)]
    pub fn with_ttl_caps(mut self, max_ttl: Duration, max_negative_ttl: Duration) -> Cache {
        self.max_ttl = max_ttl;
        self.max_negative_ttl = max_negative_ttl;
        self
    }

    fn stamp(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp
    }

    /// Looks up `name` for `qtype` at time `now`. A hit counts as a use for LRU; an expired entry is
    /// dropped and reported as a miss.
    pub fn get(&mut self, name: &str, qtype: QueryType, now: Instant) -> Lookup {
        let key = (name.to_ascii_lowercase(), qtype);
        let stamp = self.stamp();
        let Some(entry) = self.entries.get_mut(&key) else {
            return Lookup::Miss;
        };
        self.recency.remove(&entry.stamp);
        if now >= entry.expires {
            self.entries.remove(&key);
            return Lookup::Miss;
        }
        entry.stamp = stamp;
        let value = entry.value.clone();
        self.recency.insert(stamp, key);
        Lookup::Hit(value)
    }

    /// Stores `value` for `name` and `qtype`, valid for `ttl_secs` seconds from `now` (capped as the
    /// module docs say). A TTL of 0 stores nothing but still removes an older entry, since the newest
    /// answer is the truth.
    pub fn insert(
        &mut self,
        name: &str,
        qtype: QueryType,
        value: Cached,
        ttl_secs: u32,
        now: Instant,
    ) {
        let key = (name.to_ascii_lowercase(), qtype);
        if let Some(old) = self.entries.remove(&key) {
            self.recency.remove(&old.stamp);
        }
        let value = match value {
            Cached::Addresses(addrs) if addrs.is_empty() => Cached::NoData,
            other => other,
        };
        let cap = match value {
            Cached::Addresses(_) => self.max_ttl,
            Cached::NoData | Cached::NxDomain => self.max_negative_ttl,
        };
        let ttl = Duration::from_secs(u64::from(ttl_secs)).min(cap);
        if ttl.is_zero() || self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            if let Some((_, lru_key)) = self.recency.pop_first() {
                self.entries.remove(&lru_key);
            }
        }
        let stamp = self.stamp();
        self.recency.insert(stamp, key.clone());
        self.entries.insert(
            key,
            Entry {
                value,
                expires: now + ttl,
                stamp,
            },
        );
    }

    /// Stores what a DNS [`Answer`] for `name` and `qtype` says, if it is cacheable: addresses, and
    /// negative answers that came with a TTL (NXDOMAIN for both families). Returns whether anything was
    /// stored. Errors, truncation and half-followed CNAME chains are never cached.
    #[cfg(test)]
    pub fn insert_answer(
        &mut self,
        name: &str,
        qtype: QueryType,
        answer: &Answer,
        now: Instant,
    ) -> bool {
        let (value, ttl) = match answer {
            Answer::Addresses { addrs, ttl } => (Cached::Addresses(addrs.clone()), *ttl),
            Answer::NoData {
                negative_ttl: Some(ttl),
            } => (Cached::NoData, *ttl),
            Answer::NxDomain {
                negative_ttl: Some(ttl),
            } => {
                let other = match qtype {
                    QueryType::A => QueryType::Aaaa,
                    QueryType::Aaaa => QueryType::A,
                };
                self.insert(name, other, Cached::NxDomain, *ttl, now);
                (Cached::NxDomain, *ttl)
            }
            _ => return false,
        };
        self.insert(name, qtype, value, ttl, now);
        ttl > 0 && self.capacity > 0
    }

    /// Drops every entry expired at `now` (O(n); lookups already drop expired entries they meet, so
    /// call this only occasionally to reclaim memory).
    #[cfg(test)]
    pub fn remove_expired(&mut self, now: Instant) {
        let recency = &mut self.recency;
        self.entries.retain(|_, entry| {
            let live = now < entry.expires;
            if !live {
                recency.remove(&entry.stamp);
            }
            live
        });
    }

    /// Number of stored entries, live or not yet noticed to be expired.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.recency.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Name;

    const A: QueryType = QueryType::A;
    const AAAA: QueryType = QueryType::Aaaa;

    fn addrs(list: &[&str]) -> Cached {
        Cached::Addresses(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn entries_expire_exactly_at_ttl() {
        let mut cache = Cache::new(10);
        let t0 = Instant::now();
        cache.insert("a.test", A, addrs(&["192.0.2.1"]), 10, t0);
        assert_eq!(
            cache.get("a.test", A, t0 + secs(9)),
            Lookup::Hit(addrs(&["192.0.2.1"]))
        );
        assert_eq!(cache.get("a.test", A, t0 + secs(10)), Lookup::Miss);
        assert!(cache.is_empty(), "an expired entry met by get is dropped");
    }

    #[test]
    fn zero_ttl_is_not_stored_and_replaces_old_entry() {
        let mut cache = Cache::new(10);
        let t0 = Instant::now();
        cache.insert("a.test", A, addrs(&["192.0.2.1"]), 300, t0);
        cache.insert("a.test", A, addrs(&["192.0.2.2"]), 0, t0);
        assert_eq!(cache.get("a.test", A, t0), Lookup::Miss);
    }

    #[test]
    fn ttls_are_capped() {
        let mut cache = Cache::new(10);
        let t0 = Instant::now();
        cache.insert("pos.test", A, addrs(&["192.0.2.1"]), u32::MAX, t0);
        cache.insert("neg.test", A, Cached::NxDomain, 86_400, t0);
        assert!(matches!(
            cache.get("pos.test", A, t0 + MAX_TTL - secs(1)),
            Lookup::Hit(_)
        ));
        assert_eq!(cache.get("pos.test", A, t0 + MAX_TTL), Lookup::Miss);
        assert_eq!(
            cache.get("neg.test", A, t0 + MAX_NEGATIVE_TTL - secs(1)),
            Lookup::Hit(Cached::NxDomain)
        );
        assert_eq!(
            cache.get("neg.test", A, t0 + MAX_NEGATIVE_TTL),
            Lookup::Miss
        );

        let mut tight = Cache::new(10).with_ttl_caps(secs(5), secs(2));
        tight.insert("p", A, addrs(&["192.0.2.1"]), 60, t0);
        tight.insert("n", A, Cached::NoData, 60, t0);
        assert_eq!(tight.get("p", A, t0 + secs(5)), Lookup::Miss);
        assert_eq!(tight.get("n", A, t0 + secs(2)), Lookup::Miss);
    }

    #[test]
    fn families_are_separate_and_empty_addresses_mean_nodata() {
        let mut cache = Cache::new(10);
        let t0 = Instant::now();
        cache.insert("a.test", A, addrs(&["192.0.2.1"]), 60, t0);
        cache.insert("a.test", AAAA, Cached::Addresses(vec![]), 60, t0);
        assert_eq!(cache.get("a.test", AAAA, t0), Lookup::Hit(Cached::NoData));
        assert_eq!(
            cache.get("A.TEST", A, t0),
            Lookup::Hit(addrs(&["192.0.2.1"]))
        );
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut cache = Cache::new(2);
        let t0 = Instant::now();
        cache.insert("one", A, addrs(&["192.0.2.1"]), 60, t0);
        cache.insert("two", A, addrs(&["192.0.2.2"]), 60, t0);
        assert!(matches!(cache.get("one", A, t0), Lookup::Hit(_))); // "two" is now the oldest use
        cache.insert("three", A, addrs(&["192.0.2.3"]), 60, t0);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.recency.len(), 2);
        assert_eq!(cache.get("two", A, t0), Lookup::Miss);
        assert!(matches!(cache.get("one", A, t0), Lookup::Hit(_)));
        assert!(matches!(cache.get("three", A, t0), Lookup::Hit(_)));
        // Re-inserting an existing key in a full cache evicts nothing else.
        cache.insert("one", A, addrs(&["192.0.2.9"]), 60, t0);
        assert!(matches!(cache.get("three", A, t0), Lookup::Hit(_)));
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let mut cache = Cache::new(0);
        let t0 = Instant::now();
        cache.insert("a", A, addrs(&["192.0.2.1"]), 60, t0);
        assert_eq!(cache.get("a", A, t0), Lookup::Miss);
        let answer = Answer::Addresses {
            addrs: vec!["192.0.2.1".parse().unwrap()],
            ttl: 60,
        };
        assert!(!cache.insert_answer("a", A, &answer, t0));
    }

    #[test]
    fn answers_map_to_entries() {
        let mut cache = Cache::new(10);
        let t0 = Instant::now();
        let nx = Answer::NxDomain {
            negative_ttl: Some(30),
        };
        assert!(cache.insert_answer("gone.test", AAAA, &nx, t0));
        assert_eq!(
            cache.get("gone.test", A, t0),
            Lookup::Hit(Cached::NxDomain),
            "NXDOMAIN covers both families"
        );
        assert_eq!(
            cache.get("gone.test", AAAA, t0),
            Lookup::Hit(Cached::NxDomain)
        );

        assert!(cache.insert_answer(
            "v4only.test",
            AAAA,
            &Answer::NoData {
                negative_ttl: Some(30)
            },
            t0
        ));
        assert_eq!(
            cache.get("v4only.test", AAAA, t0),
            Lookup::Hit(Cached::NoData)
        );
        assert_eq!(
            cache.get("v4only.test", A, t0),
            Lookup::Miss,
            "NODATA is per family"
        );

        let uncacheable = [
            Answer::NoData { negative_ttl: None },
            Answer::NxDomain { negative_ttl: None },
            Answer::ServFail,
            Answer::Truncated,
            Answer::Cname {
                target: Name::from_ascii("x.test").unwrap(),
                ttl: 60,
            },
            Answer::Addresses {
                addrs: vec!["192.0.2.1".parse().unwrap()],
                ttl: 0,
            },
        ];
        for answer in &uncacheable {
            assert!(!cache.insert_answer("u.test", A, answer, t0), "{answer:?}");
            assert_eq!(cache.get("u.test", A, t0), Lookup::Miss, "{answer:?}");
        }
    }

    #[test]
    fn remove_expired_reclaims_memory() {
        let mut cache = Cache::new(10);
        let t0 = Instant::now();
        cache.insert("short", A, addrs(&["192.0.2.1"]), 5, t0);
        cache.insert("long", A, addrs(&["192.0.2.2"]), 50, t0);
        cache.remove_expired(t0 + secs(5));
        assert_eq!(cache.len(), 1);
        assert!(matches!(cache.get("long", A, t0 + secs(5)), Lookup::Hit(_)));
        // The recency index stayed consistent: filling the cache evicts only real entries.
        for i in 0..12 {
            cache.insert(&format!("n{i}"), A, addrs(&["192.0.2.3"]), 60, t0);
        }
        assert_eq!(cache.len(), 10);
        assert_eq!(cache.recency.len(), cache.entries.len());
        cache.clear();
        assert!(cache.is_empty());
    }
}

#[cfg(test)]
mod example {
    use super::*;
    use crate::wire::QueryType;

    /// The example that used to be this type's doc test (the module is private to the crate).
    #[test]
    fn the_cache_honours_ttl_and_case() {
        use std::time::{Duration, Instant};

        let mut cache = Cache::new(100);
        let t0 = Instant::now();
        let addrs = vec!["192.0.2.1".parse().unwrap()];
        cache.insert(
            "Example.com",
            QueryType::A,
            Cached::Addresses(addrs.clone()),
            30,
            t0,
        );
        assert_eq!(
            cache.get("example.COM", QueryType::A, t0),
            Lookup::Hit(Cached::Addresses(addrs))
        );
        assert_eq!(cache.get("example.com", QueryType::Aaaa, t0), Lookup::Miss);
        assert_eq!(
            cache.get("example.com", QueryType::A, t0 + Duration::from_secs(30)),
            Lookup::Miss
        );
    }
}
