//! Shared pieces of the TLS tests in `client/tests/tls_*.rs`: certificates made at test time
//! with rcgen ([`pki`]), a small blocking rustls server on a loopback thread ([`server`]), and
//! the async read/write helpers the tests drive a `TlsStream` with ([`aio`]), and
//! [`connector_trusting`], the one way the tests build a connector.
//!
//! Each test file says `mod tls_support;` and uses part of it.

// Each test binary compiles all of this but uses only part of it.
#![allow(dead_code)]

pub mod aio;
pub mod pki;
pub mod server;

use spool_client::tls::{Certificate, TlsConnector};

/// A connector that trusts only the certificates in `pem` (no built-in roots), so a test's
/// outcome depends on nothing installed on the machine.
pub fn connector_trusting(pem: &str) -> TlsConnector {
    TlsConnector::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}
