//! Happy Eyeballs (RFC 8305) on loopback: a refused address hands over at once, a blackholed one
//! after the attempt delay, the families interleave, every failure is reported, and resolution
//! overlaps connecting (an AAAA answer that never comes does not hold up IPv4). Bounded to 10 s each;
//! no assertion on elapsed time, only on outcomes (a bound that only a correct race can meet).

#[path = "../dns/tests/support_dns/mod.rs"]
mod support_dns;

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::time::Duration;

use spool_client::connect::{
    connect_happy, connect_host, ConnectError, HappyEyeballs, CONNECTION_ATTEMPT_DELAY,
};
use spool_dns::{DnsErrorKind, Hosts, ResolverBuilder};
use spool_runtime::net::{TcpListener, TcpStream};
use spool_runtime::time::timeout;
use support_dns::{Fault, TestDns, TYPE_AAAA};

fn run<F: Future>(body: F) -> F::Output {
    spool_runtime::block_on(async {
        spool_runtime::time::timeout(Duration::from_secs(10), body)
            .await
            .expect("test finished within 10 s")
    })
}

/// A loopback address and port where nothing listens (connecting is refused at once).
fn refused(ip: &str) -> SocketAddr {
    let probe = StdListener::bind(SocketAddr::new(ip.parse().unwrap(), 0)).unwrap();
    probe.local_addr().unwrap()
}

/// A listener whose accept queue is full: further SYNs are dropped, so connecting hangs (a
/// blackhole). Keep the returned values alive for the duration of the test.
fn blackhole() -> (socket2::Socket, Vec<std::net::TcpStream>, SocketAddr) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    // Fill the queue: with backlog 0 the first connection completes, later ones hang. Non-blocking
    // connects so filling never blocks the test.
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&addr.into());
        fillers.push(std::net::TcpStream::from(s));
    }
    std::thread::sleep(Duration::from_millis(50));
    (socket, fillers, addr)
}

#[test]
fn refused_address_hands_over_at_once() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let good = listener.local_addr().unwrap();
        // A 60 s attempt delay: only "failed → start the next at once" can finish within 10 s.
        let stream = connect_happy(vec![refused("127.0.0.2"), good], Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);
    });
}

#[test]
fn blackholed_address_is_overtaken_after_the_attempt_delay() {
    let (_queue, _fillers, dead) = blackhole();
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let good = listener.local_addr().unwrap();
        // It really is a blackhole: a plain connect neither succeeds nor fails.
        let alone = timeout(Duration::from_millis(300), TcpStream::connect(dead)).await;
        assert!(alone.is_err(), "the blackhole answered: {alone:?}");

        let stream = connect_happy(vec![dead, good], Duration::from_millis(100))
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);
        // The losing attempt's socket is gone: only the listener and the winner are registered.
        let sources = spool_runtime::current_stats().unwrap().registered_sources;
        assert_eq!(sources, 2, "the blackholed attempt was closed");
        // The losing attempt was dropped with the race; the winner works.
        let (conn, _) = listener.accept().await.unwrap();
        conn.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
    });
}

#[test]
fn families_interleave_and_every_failure_is_listed() {
    let v6 = [refused("::1"), refused("::1")];
    let v4 = [refused("127.0.0.1"), refused("127.0.0.1")];
    let err = run(connect_happy(
        vec![v6[0], v6[1], v4[0], v4[1]],
        CONNECTION_ATTEMPT_DELAY,
    ))
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    let text = err.to_string();
    // RFC 8305 §4: first address family first, then alternate. The last one tried leads the
    // message; the others follow in the order they were tried.
    assert!(
        text.starts_with(&format!(
            "connection refused while connecting to {} (after 3 other addresses failed: ",
            v4[1]
        )),
        "{text}"
    );
    let order: Vec<usize> = [v6[0], v4[0], v6[1]]
        .iter()
        .map(|a| {
            text.find(&format!("{a}: connection refused"))
                .unwrap_or_else(|| panic!("{a} missing: {text}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn single_failure_names_its_address_and_empty_list_is_an_error() {
    run(async {
        let dead = refused("127.0.0.1");
        let err = connect_happy(vec![dead], CONNECTION_ATTEMPT_DELAY)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(
            err.to_string(),
            format!("connection refused while connecting to {dead}")
        );
        let err = connect_happy(vec![], CONNECTION_ATTEMPT_DELAY)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn resolving_and_connecting_prefer_ipv6_then_fall_back() {
    let dns = TestDns::start();
    let listener6 = StdListener::bind("[::1]:0").unwrap();
    let port = listener6.local_addr().unwrap().port();
    dns.addr_record("dual.test", "::1")
        .addr_record("dual.test", "127.0.0.1");
    // Only IPv4 listens on the second port: IPv6 is refused, IPv4 wins.
    let listener4 = StdListener::bind("127.0.0.1:0").unwrap();
    let port4 = listener4.local_addr().unwrap().port();
    let r = ResolverBuilder::new(dns.resolv_conf(), Hosts::default()).build();
    run(async {
        let s = connect_host(&r, "dual.test", port, HappyEyeballs::default())
            .await
            .unwrap();
        assert!(s.peer_addr().unwrap().is_ipv6(), "IPv6 first");
        let s = connect_host(&r, "dual.test", port4, HappyEyeballs::default())
            .await
            .unwrap();
        assert_eq!(s.peer_addr().unwrap(), listener4.local_addr().unwrap());
    });
}

#[test]
fn aaaa_that_never_comes_does_not_hold_up_ipv4() {
    let dns = TestDns::start();
    dns.addr_record("v4fast.test", "127.0.0.1")
        .addr_record("v4fast.test", "::1")
        .fault_for("v4fast.test", TYPE_AAAA, Fault::Silent);
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // 30 s DNS timeout: waiting for AAAA would blow the 10 s bound; the 50 ms resolution delay won't.
    let r = ResolverBuilder::new(dns.resolv_conf(), Hosts::default())
        .timeout(Duration::from_secs(30))
        .build();
    run(async {
        let s = connect_host(&r, "v4fast.test", port, HappyEyeballs::default())
            .await
            .unwrap();
        assert_eq!(s.peer_addr().unwrap(), listener.local_addr().unwrap());
    });
}

#[test]
fn resolution_failure_is_a_resolve_error() {
    let dns = TestDns::start();
    let r = ResolverBuilder::new(dns.resolv_conf(), Hosts::default()).build();
    let err = run(connect_host(
        &r,
        "nowhere.test",
        80,
        HappyEyeballs::default(),
    ))
    .unwrap_err();
    match &err {
        ConnectError::Resolve(e) => {
            assert!(matches!(e.kind(), DnsErrorKind::NxDomain { .. }), "{e}")
        }
        other => panic!("expected a resolve error, got {other}"),
    }
    assert!(err.to_string().starts_with("no such host: nowhere.test"));
    let io: io::Error = err.into();
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
}

#[test]
fn connect_failures_after_resolution_are_connect_errors() {
    let dns = TestDns::start();
    let dead = refused("127.0.0.1");
    dns.addr_record("down.test", "127.0.0.1");
    let r = ResolverBuilder::new(dns.resolv_conf(), Hosts::default()).build();
    let err = run(connect_host(
        &r,
        "down.test",
        dead.port(),
        HappyEyeballs::default(),
    ))
    .unwrap_err();
    match err {
        ConnectError::Connect(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused),
        other => panic!("expected a connect error, got {other}"),
    }
}
