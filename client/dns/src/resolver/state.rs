//! The state every clone of a [`Resolver`](super::Resolver) shares: configuration, the cache, the
//! in-flight table, query ids, the round permits and the counters. The lookup task
//! ([`super::lookup`]) and the per-name exchange ([`super::attempts`]) take it by reference; it
//! imports nothing from them, so the resolver's files point one way: `mod → lookup → attempts → state`.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;

use spool_runtime::sync::{oneshot, Semaphore};

use super::cache::Cache;
use super::config::ResolvConf;
use super::hosts::Hosts;
use super::id::IdSource;
use super::inflight::InFlight;
use super::resolving::Outcome;
use crate::wire::query::QueryType;

/// Counters describing what a resolver has done, for tests, benchmarks and curious users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolverStats {
    /// Lookups that needed the network or the cache (not literals, pins or hosts-file names).
    pub lookups: u64,
    /// Families answered from the cache.
    pub cache_hits: u64,
    /// Families that joined a query already in flight instead of sending their own.
    pub coalesced: u64,
    /// UDP queries sent.
    pub udp_queries: u64,
    /// Questions retried over TCP after a truncated answer.
    pub tcp_queries: u64,
    /// Datagrams ignored because they did not answer any outstanding query (wrong id, question, or
    /// source; possibly spoofed).
    pub ignored_datagrams: u64,
}

/// A pinned entry's key: normalized host, and the port it applies to (`None`: every port).
pub(super) type PinKey = (String, Option<u16>);

/// The state every clone of a [`Resolver`](super::Resolver) shares.
pub(crate) struct Shared {
    pub(crate) conf: ResolvConf,
    pub(super) hosts: Hosts,
    pub(super) pins: RefCell<HashMap<PinKey, Vec<IpAddr>>>,
    pub(crate) cache: RefCell<Cache>,
    /// Running lookups per (key, family), holding the channels of the callers waiting on them.
    pub(crate) inflight: RefCell<InFlight<(String, QueryType), oneshot::Sender<Outcome>>>,
    pub(crate) ids: RefCell<IdSource>,
    /// One permit per UDP round in flight: bounds open sockets and the burst a server receives.
    pub(crate) permits: Rc<Semaphore>,
    /// With `options rotate`, where the next lookup starts in the server list.
    pub(super) next_server: Cell<usize>,
    pub(super) stats: RefCell<ResolverStats>,
}

impl Shared {
    /// The index of the server a new lookup asks first.
    pub(crate) fn first_server(&self) -> usize {
        if !self.conf.rotate {
            return 0;
        }
        let n = self.next_server.get();
        self.next_server.set(n.wrapping_add(1));
        n % self.conf.nameservers.len().max(1)
    }

    pub(crate) fn stats_mut(&self) -> RefMut<'_, ResolverStats> {
        self.stats.borrow_mut()
    }
}
