//! The stub resolver when things go wrong, against the test DNS server on 127.0.0.1: truncation and
//! the TCP fallback, SERVFAIL/REFUSED, silence and retries across attempts and servers, a closed
//! server port, forged replies (wrong id, question or source), FORMERR to EDNS0, CNAME loops. Every
//! test runs under a 10 s bound.

mod support_dns;

use std::net::SocketAddr;
use std::time::Duration;

use spool_dns::{DnsErrorKind, Hosts, ResolvConf, Resolver};
use support_dns::util::{builder, ips, resolver, run};
use support_dns::{Fault, TestDns, TYPE_A, TYPE_AAAA};

#[test]
fn cname_loop_across_queries_ends() {
    let dns = TestDns::start();
    dns.follow_cnames(false)
        .cname("loop1.test", "loop2.test")
        .cname("loop2.test", "loop1.test");
    let r = resolver(&dns);
    let err = run(r.lookup("loop1.test")).unwrap_err();
    assert!(
        matches!(err.kind(), DnsErrorKind::BadResponse { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("CNAME chain"), "{err}");
    let asked = dns.queries("loop1.test", TYPE_A) + dns.queries("loop2.test", TYPE_A);
    assert!((2..=10).contains(&asked), "bounded follow-ups, got {asked}");
}

#[test]
fn truncated_answer_falls_back_to_tcp() {
    let dns = TestDns::start();
    dns.addr_record("big.test", "192.0.2.9")
        .fault("big.test", Fault::Truncate);
    let r = resolver(&dns);
    run(async { assert_eq!(r.lookup("big.test").await.unwrap(), ips(&["192.0.2.9"])) });
    assert_eq!(dns.tcp_queries(), 2, "A and AAAA both retried over TCP");
    assert_eq!(r.stats().tcp_queries, 2);
}

#[test]
fn datagram_filling_the_buffer_is_treated_as_truncated() {
    let dns = TestDns::start();
    dns.addr_record("huge.test", "192.0.2.10")
        .fault("huge.test", Fault::Oversize);
    let r = resolver(&dns);
    run(async { assert_eq!(r.lookup("huge.test").await.unwrap(), ips(&["192.0.2.10"])) });
    assert_eq!(dns.queries("huge.test", TYPE_A), 2, "UDP, then TCP");
    assert!(dns.tcp_queries() >= 1);
}

#[test]
fn servfail_is_reported_and_not_asked_again() {
    let dns = TestDns::start();
    dns.fault("broken.test", Fault::ServFail);
    let err = run(resolver(&dns).lookup("broken.test")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "DNS server failure for host: broken.test (SERVFAIL from {})",
            dns.addr()
        )
    );
    // attempts is 2, but a server that answered SERVFAIL is not asked the same question again.
    assert_eq!(dns.queries("broken.test", TYPE_A), 1);
}

#[test]
fn servfail_from_one_server_tries_the_next() {
    let (bad, good) = (TestDns::start(), TestDns::start());
    bad.fault("x.test", Fault::Refused);
    good.addr_record("x.test", "192.0.2.11");
    let r = builder(&good)
        .nameservers([bad.addr(), good.addr()])
        .build();
    run(async { assert_eq!(r.lookup("x.test").await.unwrap(), ips(&["192.0.2.11"])) });
    assert_eq!(bad.queries("x.test", TYPE_A), 1);
}

#[test]
fn silence_times_out_after_every_attempt() {
    let dns = TestDns::start();
    dns.fault("quiet.test", Fault::Silent);
    let r = builder(&dns)
        .timeout(Duration::from_millis(150))
        .attempts(2)
        .build();
    let err = run(r.lookup("quiet.test")).unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "DNS lookup of quiet.test timed out (no answer from {} after 2 attempts)",
            dns.addr()
        )
    );
    assert_eq!(dns.queries("quiet.test", TYPE_A), 2);
    assert_eq!(dns.queries("quiet.test", TYPE_AAAA), 2);
}

#[test]
fn unusable_replies_are_ignored_then_reported_when_the_lookup_gives_up() {
    let dns = TestDns::start();
    dns.addr_record("garbled.test", "192.0.2.14")
        .fault("garbled.test", Fault::CutShort);
    let r = builder(&dns)
        .timeout(Duration::from_millis(150))
        .attempts(2)
        .build();
    let err = run(r.lookup("garbled.test")).unwrap_err();
    // Both families, both attempts: four replies, each cut short; the A family's error is reported
    // with the two it received.
    match err.kind() {
        DnsErrorKind::UnusableReplies {
            count,
            first,
            server,
        } => {
            assert_eq!(*server, dns.addr());
            assert!(*count >= 2, "{err}");
            assert!(!first.is_empty());
        }
        other => panic!("expected UnusableReplies, got {other:?}: {err}"),
    }
    assert!(!err.is_timeout());
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "DNS lookup of garbled.test failed: {} unusable replies from {} (first: ",
            match err.kind() {
                DnsErrorKind::UnusableReplies { count, .. } => *count,
                _ => unreachable!(),
            },
            dns.addr()
        )),
        "{text}"
    );
    assert_eq!(dns.queries("garbled.test", TYPE_A), 2);
    assert!(r.stats().ignored_datagrams >= 4);
}

#[test]
fn silence_then_the_retry_is_answered() {
    let dns = TestDns::start();
    // The first round's two queries (A and AAAA) are dropped; the second attempt is answered.
    dns.addr_record("shy.test", "192.0.2.12")
        .fault("shy.test", Fault::SilentFirst(2));
    let r = builder(&dns)
        .timeout(Duration::from_millis(150))
        .attempts(2)
        .build();
    run(async { assert_eq!(r.lookup("shy.test").await.unwrap(), ips(&["192.0.2.12"])) });
    assert_eq!(dns.queries("shy.test", TYPE_A), 2);
}

#[test]
fn silent_server_then_the_next_one() {
    let (quiet, good) = (TestDns::start(), TestDns::start());
    quiet.fault("y.test", Fault::Silent);
    good.addr_record("y.test", "192.0.2.13");
    let r = builder(&good)
        .nameservers([quiet.addr(), good.addr()])
        .timeout(Duration::from_millis(150))
        .attempts(1)
        .build();
    run(async { assert_eq!(r.lookup("y.test").await.unwrap(), ips(&["192.0.2.13"])) });
    assert_eq!(quiet.queries("y.test", TYPE_A), 1);
    assert_eq!(good.queries("y.test", TYPE_A), 1);
}

#[test]
fn closed_server_port_fails_fast_to_the_next_server() {
    let good = TestDns::start();
    good.addr_record("z.test", "192.0.2.14");
    // A UDP port nobody listens on: the connected socket gets ECONNREFUSED from the ICMP error.
    let closed: SocketAddr = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    // With a 30 s timeout, only the refusal (not the timeout) can get us under the 10 s test bound.
    let r = builder(&good)
        .nameservers([closed, good.addr()])
        .timeout(Duration::from_secs(30))
        .build();
    run(async { assert_eq!(r.lookup("z.test").await.unwrap(), ips(&["192.0.2.14"])) });
}

#[test]
fn replies_with_wrong_id_or_question_are_ignored() {
    let dns = TestDns::start();
    dns.addr_record("id.test", "192.0.2.15")
        .fault("id.test", Fault::WrongIdFirst)
        .addr_record("q.test", "192.0.2.16")
        .fault("q.test", Fault::WrongQuestionFirst);
    let r = resolver(&dns);
    run(async {
        assert_eq!(r.lookup("id.test").await.unwrap(), ips(&["192.0.2.15"]));
        assert_eq!(r.lookup("q.test").await.unwrap(), ips(&["192.0.2.16"]));
    });
    // Each family got one forged reply before the real one.
    assert_eq!(r.stats().ignored_datagrams, 4);
}

#[test]
fn replies_from_another_address_are_ignored() {
    let dns = TestDns::start();
    dns.addr_record("spoof.test", "192.0.2.17")
        .fault("spoof.test", Fault::SpoofFirst);
    let r = resolver(&dns);
    run(async { assert_eq!(r.lookup("spoof.test").await.unwrap(), ips(&["192.0.2.17"])) });
}

#[test]
fn formerr_to_edns_retries_without_it() {
    let dns = TestDns::start();
    dns.addr_record("old.test", "192.0.2.18")
        .fault("old.test", Fault::FormErrOnEdns);
    let r = resolver(&dns);
    run(async { assert_eq!(r.lookup("old.test").await.unwrap(), ips(&["192.0.2.18"])) });
    assert_eq!(
        dns.queries("old.test", TYPE_A),
        2,
        "with EDNS0, then without"
    );
}

#[test]
fn only_a_closed_server_port_is_a_clear_error() {
    let closed: SocketAddr = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let conf = ResolvConf {
        nameservers: vec![closed],
        timeout: Duration::from_secs(30),
        ..ResolvConf::default()
    };
    let r = Resolver::with_config(conf, Hosts::default());
    let err = run(r.lookup("any.test")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("DNS lookup of any.test failed: connection refused by DNS server {closed}")
    );
}
