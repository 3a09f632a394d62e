//! [`Resolver`]: the DNS stub resolver on the event loop, tying the sans-IO pieces of this module to
//! the runtime's sockets and timers.
//!
//! A lookup of `host` goes: IP literal → pinned entry (`--resolve`) → hosts file (with `localhost`
//! always loopback) → cache, per family → in-flight table, per family. A family that misses the cache
//! and has no query running makes this caller its *leader*: it spawns one lookup task
//! (`lookup`) for the families it leads, and every caller (leader included) waits on a
//! oneshot channel registered in the in-flight table. So a thousand tasks asking for one name at once
//! cost one query per family, and the lookup runs to the end even if the first caller gives up,
//! leaving its answer in the cache for the next one.
//!
//! Everything is `Rc` and `RefCell`: one loop, one thread, no locks. No `RefCell` borrow is ever held
//! across an `.await`.

pub(crate) mod attempts;
pub(crate) mod cache;
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod hosts;
pub(crate) mod id;
pub(crate) mod inflight;
pub(crate) mod lookup;
pub(crate) mod pin;
pub(crate) mod resolving;
mod state;
mod tcp;
mod udp;

pub use state::ResolverStats;
use state::{PinKey, Shared};

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use spool_runtime::sync::{oneshot, Semaphore};

use self::cache::{Cache, Cached, Lookup};
use self::config::ResolvConf;
use self::error::{DnsError, DnsErrorKind};
use self::hosts::Hosts;
use self::id::IdSource;
use self::inflight::{InFlight, Role};
use self::resolving::{Outcome, Resolving};
use crate::wire::name::Name;
use crate::wire::query::QueryType;

/// Default number of cache entries (one per name and family).
pub const DEFAULT_CACHE_SIZE: usize = 10_000;
/// Default bound on UDP rounds (sockets) in flight at once.
pub const DEFAULT_MAX_CONCURRENT_QUERIES: usize = 128;

/// A DNS stub resolver that runs on the spool loop. Cheap to clone: clones share configuration,
/// cache and in-flight queries.
///
/// ```
/// use spool_dns::{Hosts, ResolvConf, Resolver};
/// use std::net::IpAddr;
///
/// let resolver = Resolver::with_config(ResolvConf::default(), Hosts::parse("192.0.2.8 build.lan\n"));
/// resolver.pin("api.example", Some(443), vec!["192.0.2.9".parse().unwrap()]);
/// spool_runtime::block_on(async {
///     let ip = |s: &str| s.parse::<IpAddr>().unwrap();
///     assert_eq!(resolver.lookup("build.lan").await.unwrap(), [ip("192.0.2.8")]);
///     assert_eq!(resolver.lookup("[::1]").await.unwrap(), [ip("::1")]);
///     let pinned = resolver.resolve("api.example", 443).addrs().await.unwrap();
///     assert_eq!(pinned, [ip("192.0.2.9")]);
/// });
/// ```
#[derive(Clone)]
pub struct Resolver {
    shared: Rc<Shared>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("nameservers", &self.shared.conf.nameservers)
            .field("cached", &self.shared.cache.borrow().len())
            .finish()
    }
}

impl Resolver {
    /// A resolver configured from `/etc/resolv.conf` (plus `RES_OPTIONS` and `LOCALDOMAIN`) and
    /// `/etc/hosts`, as the C library would be. Missing files mean defaults (a server on 127.0.0.1, an
    /// empty hosts file). Reads two small local files: call it once at start-up, not per request.
    pub fn from_system() -> Resolver {
        ResolverBuilder::from_system().build()
    }

    /// A resolver with the given settings and hosts file, and default cache and limits.
    pub fn with_config(conf: ResolvConf, hosts: Hosts) -> Resolver {
        ResolverBuilder::new(conf, hosts).build()
    }

    /// A builder starting from the system configuration (see [`Resolver::from_system`]).
    pub fn builder() -> ResolverBuilder {
        ResolverBuilder::from_system()
    }

    /// The settings in use.
    pub fn config(&self) -> &ResolvConf {
        &self.shared.conf
    }

    /// Pins `host` to `addrs`, for connections to `port` only or (with `None`) to any port, like
    /// curl's `--resolve HOST:PORT:ADDR`. A pinned name never reaches the hosts file or DNS. An empty
    /// `addrs` removes the pin.
    pub fn pin(&self, host: &str, port: Option<u16>, addrs: Vec<IpAddr>) {
        let key = (normalize(host), port);
        let mut pins = self.shared.pins.borrow_mut();
        if addrs.is_empty() {
            pins.remove(&key);
        } else {
            pins.insert(key, addrs);
        }
    }

    /// Starts resolving `host` for a connection to `port` (the port only matters for pinned
    /// entries) and returns the per-family outcomes as they arrive; see [`Resolving`]. `host` may be
    /// an IP literal, IPv6 with or without brackets.
    ///
    /// # Panics
    /// Outside a running spool runtime when a query has to be sent (the query runs in its own task).
    pub fn resolve(&self, host: &str, port: u16) -> Resolving {
        self.start(host, Some(port))
    }

    /// Resolves `host` to all its addresses, IPv6 first, both families in server order.
    ///
    /// The error names the host, e.g. `no such host: example.invalid (NXDOMAIN from 127.0.0.1:53)`.
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        self.start(host, None).addrs().await
    }

    /// Forgets every cached answer.
    pub fn clear_cache(&self) {
        self.shared.cache.borrow_mut().clear();
    }

    /// What this resolver (and its clones) has done so far.
    pub fn stats(&self) -> ResolverStats {
        *self.shared.stats.borrow()
    }

    fn start(&self, host: &str, port: Option<u16>) -> Resolving {
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return Resolving::known(host, &[ip]);
        }
        if let Some(addrs) = self.pinned(host, port) {
            return Resolving::known(host, &addrs);
        }
        if let Some(addrs) = self.shared.hosts.lookup(host) {
            return Resolving::known(host, addrs);
        }

        self.shared.stats_mut().lookups += 1;
        let key = host.to_ascii_lowercase();
        let now = Instant::now();
        let mut resolving = Resolving::new(host);
        // AAAA first: Happy Eyeballs prefers IPv6 (RFC 8305 §3 sends AAAA first too).
        let mut missed = Vec::new();
        for qtype in [QueryType::Aaaa, QueryType::A] {
            match self.shared.cache.borrow_mut().get(&key, qtype, now) {
                Lookup::Hit(cached) => {
                    self.shared.stats_mut().cache_hits += 1;
                    resolving.push_ready(qtype, cached_outcome(host, cached));
                }
                Lookup::Miss => missed.push(qtype),
            }
        }
        if missed.is_empty() {
            return resolving;
        }
        // Checked only now: a cached name was valid when it was stored.
        if let Err(e) = Name::from_ascii(host) {
            return Resolving::failed(host, DnsErrorKind::InvalidName(e));
        }
        // Fail before touching the in-flight table: an entry begun without its task would make
        // every later caller for this name wait forever.
        assert!(
            spool_runtime::in_runtime(),
            "spool: resolving {host:?} needs a running spool runtime (call it inside block_on)"
        );
        let mut lead = Vec::new();
        for qtype in missed {
            let (tx, rx) = oneshot::channel();
            let mut inflight = self.shared.inflight.borrow_mut();
            let entry = (key.clone(), qtype);
            match inflight.begin(entry.clone()) {
                Role::Leader => lead.push(qtype),
                Role::Follower => self.shared.stats_mut().coalesced += 1,
            }
            if inflight.wait(&entry, tx).is_err() {
                unreachable!("the entry was begun just above");
            }
            resolving.push_waiting(qtype, rx);
        }
        if !lead.is_empty() {
            spool_runtime::spawn(lookup::run(self.shared.clone(), key, lead));
        }
        resolving
    }

    fn pinned(&self, host: &str, port: Option<u16>) -> Option<Vec<IpAddr>> {
        let pins = self.shared.pins.borrow();
        if pins.is_empty() {
            return None;
        }
        let norm = normalize(host);
        let key = |p| (norm.clone(), p);
        port.and_then(|p| pins.get(&key(Some(p))))
            .or_else(|| pins.get(&key(None)))
            .cloned()
    }
}

/// A cache entry as a family outcome.
fn cached_outcome(host: &str, cached: Cached) -> Outcome {
    match cached {
        Cached::Addresses(addrs) => Outcome::Addresses(addrs),
        Cached::NoData => Outcome::NoData(None),
        Cached::NxDomain => {
            Outcome::Failed(DnsError::new(host, DnsErrorKind::NxDomain { server: None }))
        }
    }
}

/// Lowercase, without a trailing dot: the form pins are stored under.
fn normalize(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// Settings for a [`Resolver`] beyond resolv.conf and the hosts file.
///
/// ```
/// use spool_dns::{Hosts, ResolvConf, ResolverBuilder};
/// use std::time::Duration;
///
/// let resolver = ResolverBuilder::new(ResolvConf::default(), Hosts::default())
///     .nameservers(["127.0.0.1:5353".parse().unwrap()])
///     .timeout(Duration::from_millis(500))
///     .attempts(3)
///     .cache_size(1_000)
///     .build();
/// assert_eq!(resolver.config().attempts, 3);
/// ```
#[derive(Debug, Clone)]
pub struct ResolverBuilder {
    conf: ResolvConf,
    hosts: Hosts,
    cache_size: usize,
    max_concurrent: usize,
    pins: HashMap<PinKey, Vec<IpAddr>>,
}

impl ResolverBuilder {
    /// Starts from the given settings and hosts file.
    pub fn new(conf: ResolvConf, hosts: Hosts) -> ResolverBuilder {
        ResolverBuilder {
            conf,
            hosts,
            cache_size: DEFAULT_CACHE_SIZE,
            max_concurrent: DEFAULT_MAX_CONCURRENT_QUERIES,
            pins: HashMap::new(),
        }
    }

    /// Starts from `/etc/resolv.conf` (then `RES_OPTIONS` and `LOCALDOMAIN`, as glibc applies them)
    /// and `/etc/hosts`; an unreadable file counts as empty.
    pub fn from_system() -> ResolverBuilder {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let mut conf = ResolvConf::parse(&read("/etc/resolv.conf"));
        if let Ok(domains) = std::env::var("LOCALDOMAIN") {
            conf.search = ResolvConf::parse(&format!("search {domains}\n")).search;
        }
        if let Ok(options) = std::env::var("RES_OPTIONS") {
            conf.apply_options(&options);
        }
        ResolverBuilder::new(conf, Hosts::parse(&read("/etc/hosts")))
    }

    /// Asks these servers instead of the configured ones (`fetch --dns-server`). An empty list keeps
    /// the configured servers.
    pub fn nameservers(mut self, servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        let servers: Vec<SocketAddr> = servers.into_iter().collect();
        if !servers.is_empty() {
            self.conf.nameservers = servers;
        }
        self
    }

    /// How long to wait for one server's answer to one query (resolv.conf `timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.conf.timeout = timeout;
        self
    }

    /// Rounds over all servers before giving up (resolv.conf `attempts`, at least 1).
    pub fn attempts(mut self, attempts: u8) -> Self {
        self.conf.attempts = attempts.max(1);
        self
    }

    /// Replaces the hosts file.
    pub fn hosts(mut self, hosts: Hosts) -> Self {
        self.hosts = hosts;
        self
    }

    /// Bounds the cache to `entries` (name, family) entries; 0 disables caching.
    pub fn cache_size(mut self, entries: usize) -> Self {
        self.cache_size = entries;
        self
    }

    /// Bounds UDP rounds (each one socket, up to two queries) in flight at once (at least 1). More
    /// lookups than this wait their turn; the bound keeps descriptor use and the burst of datagrams a
    /// server must absorb in check when thousands of names are resolved together.
    pub fn max_concurrent_queries(mut self, rounds: usize) -> Self {
        self.max_concurrent = rounds.max(1);
        self
    }

    /// Pins `host` to `addrs` (see [`Resolver::pin`]).
    pub fn pin(mut self, host: &str, port: Option<u16>, addrs: Vec<IpAddr>) -> Self {
        if !addrs.is_empty() {
            self.pins.insert((normalize(host), port), addrs);
        }
        self
    }

    /// Builds the resolver.
    pub fn build(self) -> Resolver {
        Resolver {
            shared: Rc::new(Shared {
                conf: self.conf,
                hosts: self.hosts,
                pins: RefCell::new(self.pins),
                cache: RefCell::new(Cache::new(self.cache_size)),
                inflight: RefCell::new(InFlight::new()),
                ids: RefCell::new(IdSource::new()),
                permits: Rc::new(Semaphore::new(self.max_concurrent)),
                next_server: Cell::new(0),
                stats: RefCell::new(ResolverStats::default()),
            }),
        }
    }
}
