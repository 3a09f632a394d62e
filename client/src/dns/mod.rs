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
//! Still to come on top of it: the async resolver (a loop over `spool_runtime::net::UdpSocket` and
//! `TcpStream` with `spool_runtime::time::timeout`, driving exactly the flow above), and Happy
//! Eyeballs connection racing in the client's connector.

pub mod answer;
pub mod cache;
mod compression;
pub mod config;
pub mod framing;
pub mod hosts;
pub mod id;
pub mod inflight;
pub mod name;
pub mod response;
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
pub use response::{parse_response, Rcode, Record, RecordData, Response};
pub use wire::{Query, QueryType, WireError};
