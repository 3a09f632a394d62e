//! Small helpers shared by the resolver tests: address parsing, a bounded `block_on`, and a
//! resolver aimed at one test server with a short timeout.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use spool_dns::{Hosts, Resolver, ResolverBuilder};

use super::TestDns;

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| ip(s)).collect()
}

/// Runs a test body on a fresh loop, failing instead of hanging past 10 s.
pub fn run<F: Future>(body: F) -> F::Output {
    spool_runtime::block_on(async {
        spool_runtime::time::timeout(Duration::from_secs(10), body)
            .await
            .expect("test finished within 10 s")
    })
}

/// A resolver asking only `dns`, with a short timeout so failure paths stay quick.
pub fn resolver(dns: &TestDns) -> Resolver {
    builder(dns).build()
}

/// The builder behind [`resolver`], to adjust further.
pub fn builder(dns: &TestDns) -> ResolverBuilder {
    ResolverBuilder::new(dns.resolv_conf(), Hosts::default()).timeout(Duration::from_millis(300))
}
