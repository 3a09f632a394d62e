//! Name resolution on the event loop: a DNS stub resolver that sends its own UDP queries instead of
//! parking a thread in `getaddrinfo`, so resolving a thousand hosts costs a thousand small datagrams on
//! the one thread, not a thousand blocked threads.
//!
//! # How a lookup flows
//!
//! ```text
//!  host ──► IP literal? ─yes─► done (never touches DNS)
//!   │ no
//!   ▼
//!  hosts file (+ localhost, always loopback) ─hit─► done
//!   │ miss
//!   ▼
//!  cache (name, A|AAAA) ─hit─► addresses, or a remembered NXDOMAIN/NODATA
//!   │ miss
//!   ▼
//!  in-flight table ─follower─► wait for the leader's outcome
//!   │ leader
//!   ▼
//!  for each search-list candidate, for each attempt, for each server:
//!     send A and AAAA queries together on a fresh UDP socket (new random source port, random ids)
//!     receive until timeout: parse → validate (id, QR, question) → otherwise ignore the datagram
//!     TC set → same query over TCP (length-prefixed) → parse → validate
//!     interpret: addresses | NODATA | NXDOMAIN (next candidate) | SERVFAIL/REFUSED (next server)
//!                | FORMERR (retry without EDNS0) | CNAME left the answer (query the target)
//!   ▼
//!  cache the outcome per family, finish the in-flight entry (notify followers), return
//! ```
//!
//! Addresses then go to the connector, which races them per Happy Eyeballs (RFC 8305).
//!
//! # Layout
//!
//! This module is the sans-IO half: no sockets, no clock, no runtime, only bytes and values.
//! * [`name`]: the [`Name`] type (lowercase wire form, so comparisons are case-insensitive).
//! * [`wire`]: type codes, the header, query encoding (RFC 1035, EDNS0 per RFC 6891).
//! * [`response`]: response decoding (RFC 1035, RFC 3596); `compression`: loop-proof name decompression.
//! * [`framing`]: the 2-byte length prefix DNS uses over TCP.
//! * [`answer`]: anti-spoofing validation and interpretation into an [`Answer`], following CNAME chains.
//! * [`config`]: `/etc/resolv.conf` parsing, `--dns-server` addresses and search-list expansion.
//! * [`hosts`]: `/etc/hosts` parsing and the RFC 6761 localhost rule.
//! * [`cache`]: the TTL-honouring, size-bounded cache with negative entries.
//! * [`inflight`]: coalescing concurrent lookups of the same name.
//! * [`id`]: unpredictable query ids without a `rand` dependency.
//!
//!
//! The async half runs that flow on the spool loop:
//! * [`resolver`]: [`Resolver`] and [`ResolverBuilder`]: literals, pins, hosts, cache, coalescing;
//!   `resolver_lookup` (the lookup task: search list, caching, handing outcomes to waiters) and
//!   `resolver_name` (servers × attempts for one name: CNAME follow-ups, TCP and EDNS fallbacks).
//! * [`Resolving`]: one lookup's per-family outcomes as they arrive (for Happy Eyeballs).
//! * [`DnsError`]: why a lookup failed, naming the host and the server.
//! * [`ResolvePin`]: curl's `--resolve HOST:PORT:ADDR` syntax, for pinned names.
//! * `udp`: one round on a fresh connected UDP socket; `tcp`: the TCP fallback exchange.
//!
//! Happy Eyeballs connection racing lives in [`crate::connect`].

pub mod answer;
pub mod cache;
mod compression;
pub mod config;
pub mod framing;
pub mod hosts;
pub mod id;
pub mod inflight;
pub mod name;
pub mod resolver;
mod resolver_error;
mod resolver_lookup;
mod resolver_name;
mod resolver_pin;
mod resolver_resolving;
pub mod response;
mod tcp;
mod udp;
pub mod wire;

#[cfg(test)]
mod answer_tests;
#[cfg(test)]
mod response_tests;
#[cfg(test)]
mod testmsg;

pub use answer::{interpret, read_response, validate, Answer, Mismatch, Rejected, MAX_CNAME_HOPS};
pub use cache::{Cache, Cached, Lookup};
pub use config::{parse_server_addr, ResolvConf, ServerAddrError};
pub use framing::{encode_tcp_frame, split_tcp_frame};
pub use hosts::{is_localhost, Hosts};
pub use id::IdSource;
pub use inflight::{InFlight, Role};
pub use name::{Name, NameError};
pub use resolver::{Resolver, ResolverBuilder, ResolverStats};
pub use resolver_error::{DnsError, DnsErrorKind};
pub use resolver_pin::{ResolvePin, ResolvePinError};
pub use resolver_resolving::{FamilyOutcome, Resolving};
pub use response::{parse_response, Rcode, Record, RecordData, Response};
pub use wire::{Query, QueryType, WireError};
