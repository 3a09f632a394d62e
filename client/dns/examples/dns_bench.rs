//! Benchmark (not a test): how fast the stub resolver turns names into addresses on one thread.
//!
//! Runs the test DNS server from `client/dns/tests/support_dns` on 127.0.0.1 (its own threads) and the
//! resolver on one spool loop, then prints:
//! * distinct names resolved per second, all started at once (the resolver keeps at most 128 UDP
//!   rounds in flight) and one after another (round-trip latency);
//! * the cost of a lookup answered from the cache, and of one joining a query already in flight.
//!
//! ```text
//! cargo run --release -p spool-client --example dns_bench [NAMES]
//! ```

#[path = "../tests/support_dns/mod.rs"]
mod support_dns;

use std::time::{Duration, Instant};

use spool_dns::{Hosts, Resolver, ResolverBuilder};
use support_dns::{Fault, TestDns};

fn main() {
    let names: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let dns = TestDns::start();
    dns.wildcard("test", 8);
    let fresh = || -> Resolver {
        ResolverBuilder::new(dns.resolv_conf(), Hosts::default())
            .cache_size(4 * names)
            .build()
    };
    spool_runtime::block_on(async {
        // 1. Distinct names, all at once: throughput of the whole pipeline on one thread.
        let r = fresh();
        let (start, cpu0) = (Instant::now(), thread_cpu());
        let tasks: Vec<_> = (0..names)
            .map(|i| {
                let r = r.clone();
                spool_runtime::spawn(async move { r.lookup(&format!("n{i}.burst.test")).await })
            })
            .collect();
        let mut failed = 0;
        for t in tasks {
            failed += usize::from(t.await.unwrap().is_err());
        }
        let (took, cpu) = (start.elapsed(), thread_cpu() - cpu0);
        report(
            &format!("{names} distinct names at once"),
            names,
            took,
            &format!(
                "{:.0} names/s, {failed} failed, {} UDP queries, loop thread CPU {:.1} µs/name",
                names as f64 / took.as_secs_f64(),
                r.stats().udp_queries,
                cpu.as_secs_f64() * 1e6 / names as f64,
            ),
        );

        // 2. Distinct names, one after another: the latency of one uncached lookup (A + AAAA).
        let r = fresh();
        let serial = names.min(5_000);
        let (start, cpu0) = (Instant::now(), thread_cpu());
        for i in 0..serial {
            r.lookup(&format!("n{i}.serial.test")).await.unwrap();
        }
        let (took, cpu) = (start.elapsed(), thread_cpu() - cpu0);
        report(
            &format!("{serial} distinct names in sequence"),
            serial,
            took,
            &format!(
                "{:.0} names/s, loop thread CPU {:.1} µs/name",
                serial as f64 / took.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / serial as f64
            ),
        );

        // 3. Cached: the same name again and again.
        let r = fresh();
        r.lookup("hot.test").await.unwrap();
        let rounds = 1_000_000;
        let start = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(r.lookup("hot.test").await.unwrap());
        }
        report("cached lookup", rounds, start.elapsed(), "");

        // 4. Coalesced: many lookups joining one query held back by the server.
        dns.addr_record("slow.test", "192.0.2.1")
            .fault("slow.test", Fault::Delay(Duration::from_millis(50)));
        let r = fresh();
        let joiners = 10_000;
        let start = Instant::now();
        let tasks: Vec<_> = (0..joiners)
            .map(|_| {
                let r = r.clone();
                spool_runtime::spawn(async move { r.lookup("slow.test").await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let took = start.elapsed();
        report(
            &format!("{joiners} lookups of one slow name (50 ms)"),
            joiners,
            took,
            &format!("{} UDP queries sent", r.stats().udp_queries),
        );
    });
}

/// CPU time (user + system) of the calling thread so far, from `/proc/thread-self/stat` (10 ms
/// ticks: use over runs of a second or more). Zero where that file does not exist.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn report(what: &str, n: usize, took: Duration, extra: &str) {
    let per = took.as_nanos() as f64 / n as f64;
    let per = if per >= 10_000.0 {
        format!("{:.1} µs", per / 1000.0)
    } else {
        format!("{per:.0} ns")
    };
    println!("{what:<42} {took:>12.2?} total, {per:>10} each  {extra}");
}
