//! The stub resolver against a DNS server inside the test (tests/support_dns) on 127.0.0.1: answers
//! for both families, CNAME chains, negative answers and the cache, the hosts file, pins, the search
//! list, coalescing across a cancelled caller. Failure paths are in `dns_faults.rs`. Every test runs
//! under a 10 s bound.

mod support_dns;

use std::time::Duration;

use spool_dns::{DnsErrorKind, Hosts, QueryType, ResolvConf, Resolver, ResolverBuilder};
use support_dns::util::{ip, ips, resolver, run};
use support_dns::{Fault, TestDns, TYPE_A, TYPE_AAAA};

#[test]
fn a_and_aaaa_together_then_cached() {
    let dns = TestDns::start();
    dns.addr_record("both.test", "192.0.2.1")
        .addr_record("both.test", "2001:db8::1")
        .addr_record("both.test", "192.0.2.2");
    let r = resolver(&dns);
    run(async {
        let got = r.lookup("both.test").await.unwrap();
        assert_eq!(got, ips(&["2001:db8::1", "192.0.2.1", "192.0.2.2"]));
        assert_eq!(
            r.lookup("BOTH.test").await.unwrap(),
            got,
            "case-insensitive cache hit"
        );
    });
    assert_eq!(dns.queries("both.test", TYPE_A), 1);
    assert_eq!(dns.queries("both.test", TYPE_AAAA), 1);
    let stats = r.stats();
    assert_eq!((stats.udp_queries, stats.cache_hits), (2, 2));
}

#[test]
fn families_arrive_separately() {
    let dns = TestDns::start();
    dns.addr_record("v4only.test", "192.0.2.4");
    let r = resolver(&dns);
    run(async {
        let mut resolving = r.resolve("v4only.test", 80);
        let mut seen = Vec::new();
        while let Some((family, outcome)) = resolving.next().await {
            seen.push((family, outcome.unwrap()));
        }
        seen.sort_by_key(|(f, _)| *f == QueryType::A);
        assert_eq!(
            seen,
            [
                (QueryType::Aaaa, vec![]),
                (QueryType::A, ips(&["192.0.2.4"]))
            ]
        );
    });
}

#[test]
fn cname_chain_inside_one_answer() {
    let dns = TestDns::start();
    dns.cname("www.test", "edge.test")
        .cname("edge.test", "origin.test")
        .addr_record("origin.test", "192.0.2.7");
    let r = resolver(&dns);
    run(async { assert_eq!(r.lookup("www.test").await.unwrap(), ips(&["192.0.2.7"])) });
    assert_eq!(
        dns.queries("origin.test", TYPE_A),
        0,
        "one query was enough"
    );
}

#[test]
fn cname_chain_across_queries() {
    let dns = TestDns::start();
    dns.follow_cnames(false)
        .cname("a.test", "b.test")
        .cname("b.test", "c.test")
        .addr_record("c.test", "192.0.2.3");
    let r = resolver(&dns);
    run(async { assert_eq!(r.lookup("a.test").await.unwrap(), ips(&["192.0.2.3"])) });
    assert_eq!(dns.queries("b.test", TYPE_A), 1);
    assert_eq!(dns.queries("c.test", TYPE_A), 1);
}

#[test]
fn nxdomain_names_the_host_and_server_and_is_cached() {
    let dns = TestDns::start();
    let r = resolver(&dns);
    let err = run(r.lookup("example.invalid")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "no such host: example.invalid (NXDOMAIN from {})",
            dns.addr()
        )
    );
    assert!(err.is_not_found());
    let again = run(r.lookup("example.invalid")).unwrap_err();
    assert_eq!(
        again.to_string(),
        "no such host: example.invalid (NXDOMAIN cached)"
    );
    assert_eq!(dns.queries("example.invalid", TYPE_A), 1);
    assert_eq!(dns.queries("example.invalid", TYPE_AAAA), 1);
}

#[test]
fn negative_answer_without_soa_is_not_cached() {
    let dns = TestDns::start();
    dns.negative_ttl(None);
    let r = resolver(&dns);
    for _ in 0..2 {
        assert!(run(r.lookup("gone.test")).unwrap_err().is_not_found());
    }
    assert_eq!(dns.queries("gone.test", TYPE_A), 2);
}

#[test]
fn name_without_addresses() {
    let dns = TestDns::start();
    dns.empty_name("bare.test");
    let err = run(resolver(&dns).lookup("bare.test")).unwrap_err();
    assert!(
        matches!(err.kind(), DnsErrorKind::NoAddresses { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("no addresses for host: bare.test"),
        "{err}"
    );
}

#[test]
fn hosts_file_localhost_literals_and_pins_skip_dns() {
    let dns = TestDns::start();
    let hosts = Hosts::parse("192.0.2.50 intranet.box box\n::1 box\n");
    let r = ResolverBuilder::new(dns.resolv_conf(), hosts)
        .pin("pinned.test", Some(8443), vec![ip("192.0.2.60")])
        .build();
    dns.addr_record("pinned.test", "192.0.2.61");
    run(async {
        assert_eq!(
            r.lookup("Intranet.Box").await.unwrap(),
            ips(&["192.0.2.50"])
        );
        assert_eq!(r.lookup("box").await.unwrap(), ips(&["::1", "192.0.2.50"]));
        assert_eq!(
            r.lookup("localhost").await.unwrap(),
            ips(&["::1", "127.0.0.1"])
        );
        assert_eq!(
            r.lookup("api.localhost.").await.unwrap(),
            ips(&["::1", "127.0.0.1"])
        );
        assert_eq!(r.lookup("192.0.2.99").await.unwrap(), ips(&["192.0.2.99"]));
        assert_eq!(
            r.lookup("[2001:db8::9]").await.unwrap(),
            ips(&["2001:db8::9"])
        );
        let pinned = r.resolve("pinned.test", 8443).addrs().await.unwrap();
        assert_eq!(pinned, ips(&["192.0.2.60"]));
        assert_eq!(dns.udp_queries(), 0, "nothing so far needed DNS");
        // The pin is for port 8443 only; another port goes to DNS.
        let other = r.resolve("pinned.test", 443).addrs().await.unwrap();
        assert_eq!(other, ips(&["192.0.2.61"]));
        // A pin for every port, added later.
        r.pin("PINNED.test.", None, vec![ip("2001:db8::60")]);
        let any = r.resolve("pinned.test", 443).addrs().await.unwrap();
        assert_eq!(any, ips(&["2001:db8::60"]));
    });
}

#[test]
fn search_list_and_ndots() {
    let dns = TestDns::start();
    dns.addr_record("db.b.test", "192.0.2.20")
        .addr_record("db.test", "192.0.2.21");
    let conf = ResolvConf {
        search: ["a.test", "b.test"]
            .iter()
            .map(|d| spool_dns::Name::from_ascii(d).unwrap())
            .collect(),
        ..dns.resolv_conf()
    };
    let r = ResolverBuilder::new(conf, Hosts::default()).build();
    run(async {
        // "db" has fewer dots than ndots (1): search domains first; db.a.test does not exist.
        assert_eq!(r.lookup("db").await.unwrap(), ips(&["192.0.2.20"]));
        // An absolute name is asked as is.
        assert_eq!(r.lookup("db.test.").await.unwrap(), ips(&["192.0.2.21"]));
    });
    assert_eq!(dns.queries("db.a.test", TYPE_A), 1);
    assert_eq!(dns.queries("db.b.test", TYPE_A), 1);
    assert_eq!(dns.queries("db.b.test", TYPE_AAAA), 1);
}

#[test]
fn invalid_names_fail_without_queries() {
    let dns = TestDns::start();
    let r = resolver(&dns);
    for bad in ["a..b", "", "under score!.test"] {
        let err = run(r.lookup(bad)).unwrap_err();
        assert!(
            matches!(err.kind(), DnsErrorKind::InvalidName(_)),
            "{bad}: {err}"
        );
    }
    assert_eq!(dns.udp_queries(), 0);
}

#[test]
fn zero_ttl_answers_are_not_cached() {
    let dns = TestDns::start();
    dns.ttl(0).addr_record("fleeting.test", "192.0.2.22");
    let r = resolver(&dns);
    run(async {
        for _ in 0..2 {
            assert_eq!(
                r.lookup("fleeting.test").await.unwrap(),
                ips(&["192.0.2.22"])
            );
        }
    });
    assert_eq!(dns.queries("fleeting.test", TYPE_A), 2);
}

#[test]
fn a_caller_giving_up_does_not_cancel_the_lookup() {
    let dns = TestDns::start();
    dns.addr_record("slow.test", "192.0.2.23")
        .fault("slow.test", Fault::Delay(Duration::from_millis(200)));
    let r = resolver(&dns);
    run(async {
        // The first caller (the leader) gives up long before the answer.
        let early =
            spool_runtime::time::timeout(Duration::from_millis(20), r.lookup("slow.test")).await;
        assert!(early.is_err());
        // A second caller joins the query still in flight instead of sending another.
        assert_eq!(r.lookup("slow.test").await.unwrap(), ips(&["192.0.2.23"]));
    });
    assert_eq!(dns.queries("slow.test", TYPE_A), 1);
    assert_eq!(r.stats().coalesced, 2);
}

#[test]
fn the_first_family_answered_is_handed_out_first() {
    let dns = TestDns::start();
    dns.addr_record("lag.test", "192.0.2.30")
        .addr_record("lag.test", "2001:db8::30")
        .fault_for(
            "lag.test",
            TYPE_AAAA,
            Fault::Delay(Duration::from_millis(150)),
        );
    let r = resolver(&dns);
    run(async {
        let mut resolving = r.resolve("lag.test", 443);
        let first = resolving.next().await.unwrap();
        assert_eq!(first, (QueryType::A, Ok(ips(&["192.0.2.30"]))));
        assert!(!resolving.is_done());
        let second = resolving.next().await.unwrap();
        assert_eq!(second, (QueryType::Aaaa, Ok(ips(&["2001:db8::30"]))));
        assert!(resolving.next().await.is_none());
    });
}

#[test]
fn rotate_spreads_lookups_over_the_servers() {
    let (one, two) = (TestDns::start(), TestDns::start());
    for dns in [&one, &two] {
        dns.wildcard("test", 1);
    }
    let mut conf = one.resolv_conf();
    conf.nameservers.push(two.addr());
    conf.rotate = true;
    let r = Resolver::with_config(conf, Hosts::default());
    run(async {
        for i in 0..4 {
            r.lookup(&format!("r{i}.test")).await.unwrap();
        }
    });
    assert_eq!((one.udp_queries(), two.udp_queries()), (4, 4));
}
