//! Shared pieces of the TLS tests in `client/tests/tls_*.rs`: certificates made at test time
//! with rcgen ([`pki`]), a small blocking rustls server on a loopback thread ([`server`]), and
//! the async read/write helpers the tests drive a `TlsStream` with ([`aio`]).
//!
//! Each test file says `mod tls_support;` and uses part of it.

// Each test binary compiles all of this but uses only part of it.
#![allow(dead_code)]

pub mod aio;
pub mod pki;
pub mod server;
