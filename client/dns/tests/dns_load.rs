//! Resolution at scale on one thread: a thousand distinct names at once must not stall the loop (a
//! 10 ms interval task keeps ticking on time), and a thousand lookups of one name cost one query per
//! family. Against the test DNS server on 127.0.0.1; bounded to 30 s each.

mod support_dns;

use std::cell::Cell;
use std::future::Future;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use spool_dns::{Hosts, Resolver, ResolverBuilder};
use support_dns::{loopback_for, Fault, TestDns, TYPE_A, TYPE_AAAA};

fn run<F: Future>(body: F) -> F::Output {
    spool_runtime::block_on(async {
        spool_runtime::time::timeout(Duration::from_secs(30), body)
            .await
            .expect("test finished within 30 s")
    })
}

fn resolver(dns: &TestDns) -> Resolver {
    // Generous retries: a datagram dropped under load must cost a retry, not a failure.
    ResolverBuilder::new(dns.resolv_conf(), Hosts::default())
        .timeout(Duration::from_millis(500))
        .attempts(4)
        .build()
}

#[test]
fn thousand_distinct_names_while_a_ticker_stays_on_time() {
    const NAMES: usize = 1_000;
    let dns = TestDns::start();
    dns.wildcard("test", 8);
    let r = resolver(&dns);
    let (worst, ticks, elapsed) = run(async {
        let done = Rc::new(Cell::new(false));
        // The ticker: records how late each 10 ms tick is against its schedule.
        let ticker = spool_runtime::spawn({
            let done = done.clone();
            async move {
                let mut every = spool_runtime::time::interval(Duration::from_millis(10));
                let (mut worst, mut ticks) = (Duration::ZERO, 0u32);
                while !done.get() {
                    let scheduled = every.tick().await;
                    worst = worst.max(Instant::now().saturating_duration_since(scheduled));
                    ticks += 1;
                }
                (worst, ticks)
            }
        });
        let start = Instant::now();
        let lookups: Vec<_> = (0..NAMES)
            .map(|i| {
                let r = r.clone();
                spool_runtime::spawn(async move {
                    let name = format!("host{i}.test");
                    let got = r.lookup(&name).await;
                    (name, got)
                })
            })
            .collect();
        for task in lookups {
            let (name, got) = task.await.unwrap();
            let want = IpAddr::V4(loopback_for(&name, 8));
            assert_eq!(got.unwrap_or_else(|e| panic!("{e}")), [want], "{name}");
        }
        let elapsed = start.elapsed();
        done.set(true);
        let (worst, ticks) = ticker.await.unwrap();
        (worst, ticks, elapsed)
    });
    let stats = r.stats();
    eprintln!(
        "{NAMES} names in {elapsed:?} ({:.0} names/s); ticker: {ticks} ticks, max lateness {worst:?}; \
         {} UDP queries sent, server saw {} UDP",
        NAMES as f64 / elapsed.as_secs_f64(),
        stats.udp_queries,
        dns.udp_queries(),
    );
    assert!(
        worst < Duration::from_millis(200),
        "a tick was {worst:?} late: the loop was blocked"
    );
    assert!(stats.udp_queries >= 2 * NAMES as u64);
    assert_eq!(dns.queries("host999.test", TYPE_A), 1);
}

#[test]
fn thousand_lookups_of_one_name_send_one_query_per_family() {
    let dns = TestDns::start();
    // The answer is held back so every lookup is in flight before it arrives.
    dns.addr_record("popular.test", "192.0.2.1")
        .addr_record("popular.test", "2001:db8::1")
        .fault("popular.test", Fault::Delay(Duration::from_millis(100)));
    let r = resolver(&dns);
    run(async {
        let lookups: Vec<_> = (0..1_000)
            .map(|_| {
                let r = r.clone();
                spool_runtime::spawn(async move { r.lookup("popular.test").await })
            })
            .collect();
        for task in lookups {
            assert_eq!(task.await.unwrap().unwrap().len(), 2);
        }
    });
    assert_eq!(dns.queries("popular.test", TYPE_A), 1);
    assert_eq!(dns.queries("popular.test", TYPE_AAAA), 1);
    let stats = r.stats();
    assert_eq!(
        stats.coalesced,
        2 * 999,
        "every later lookup joined the first"
    );
    assert_eq!(stats.udp_queries, 2);
}
