//! The `Client` with its resolvers: the on-loop stub resolver pointed at the test DNS server with
//! `dns_servers`, pinned names (`resolve`, `resolve_pin`), the system resolver, Happy Eyeballs over a
//! refused IPv6 address, and DNS errors and timeouts as the client reports them. Loopback only.

mod server;
#[path = "../dns/tests/support_dns/mod.rs"]
mod support_dns;

use std::time::Duration;

use server::{run, Reply, Server};
use spool_client::{Client, ErrorKind, ResolverKind};
use spool_dns::ResolvePin;
use support_dns::{Fault, TestDns, TYPE_A, TYPE_AAAA};

const LIMIT: Duration = Duration::from_secs(20);

fn hello() -> Server {
    Server::start(|req| Reply::ok(format!("host {}", req.header("host").unwrap_or_default())))
}

#[test]
fn names_resolve_through_the_given_dns_server() {
    let (web, dns) = (hello(), TestDns::start());
    dns.addr_record("app.test", "127.0.0.1");
    let port = web.addr().port();
    run(LIMIT, async {
        let client = Client::builder().dns_servers([dns.addr()]).build().unwrap();
        for _ in 0..3 {
            let url = format!("http://app.test:{port}/");
            let text = client.get(&url).send().await.unwrap().text().await.unwrap();
            assert_eq!(text, format!("host app.test:{port}"));
        }
    });
    assert_eq!(dns.queries("app.test", TYPE_A), 1);
    assert_eq!(dns.queries("app.test", TYPE_AAAA), 1);
    assert_eq!(web.accepted(), 1, "one connection, kept alive");
}

#[test]
fn two_hundred_distinct_names_at_once() {
    let (web, dns) = (hello(), TestDns::start());
    dns.wildcard("test", 1); // every *.test name → 127.0.0.1
    let port = web.addr().port();
    run(LIMIT, async {
        let client = Client::builder()
            .dns_servers([dns.addr()])
            .max_connections(0)
            .build()
            .unwrap();
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let client = client.clone();
                spool_runtime::spawn(async move {
                    let url = format!("http://h{i}.test:{port}/");
                    let text = client.get(&url).send().await?.text().await?;
                    assert_eq!(text, format!("host h{i}.test:{port}"));
                    Ok::<_, spool_client::Error>(())
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    });
    assert_eq!(dns.udp_queries(), 400, "one A and one AAAA per name");
    assert_eq!(web.accepted(), 200);
}

#[test]
fn nxdomain_is_a_dns_error_naming_host_and_server() {
    let dns = TestDns::start();
    run(LIMIT, async {
        let client = Client::builder().dns_servers([dns.addr()]).build().unwrap();
        let url = "http://nope.test:8080/";
        let e = client.get(url).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Dns, "{e}");
        assert!(e.is_connect());
        assert_eq!(
            e.to_string(),
            format!(
                "no such host: nope.test (NXDOMAIN from {}) ({url})",
                dns.addr()
            )
        );
    });
}

#[test]
fn connect_timeout_covers_a_silent_dns_server() {
    let dns = TestDns::start();
    dns.fault("mute.test", Fault::Silent);
    run(LIMIT, async {
        let client = Client::builder()
            .dns_servers([dns.addr()])
            .connect_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let e = client.get("http://mute.test/").send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(e.is_connect(), "{e}");
    });
}

#[test]
fn pinned_names_skip_dns_for_both_resolvers() {
    let web = hello();
    let dns = TestDns::start();
    let port = web.addr().port();
    let pin: ResolvePin = format!("pinned.test:{port}:127.0.0.1").parse().unwrap();
    run(LIMIT, async {
        for kind in [ResolverKind::Stub, ResolverKind::System] {
            let client = Client::builder()
                .dns_servers([dns.addr()])
                .resolver(kind)
                .resolve("every-port.test", "127.0.0.1".parse().unwrap())
                .resolve_pin(pin.clone())
                .build()
                .unwrap();
            for host in ["every-port.test", "pinned.test"] {
                let url = format!("http://{host}:{port}/");
                let text = client.get(&url).send().await.unwrap().text().await.unwrap();
                assert_eq!(text, format!("host {host}:{port}"), "{kind:?}");
            }
        }
    });
    assert_eq!(dns.udp_queries(), 0);
}

#[test]
fn system_resolver_stays_available() {
    let web = hello();
    let port = web.addr().port();
    run(LIMIT, async {
        let client = Client::builder()
            .resolver(ResolverKind::System)
            .build()
            .unwrap();
        // `localhost` through getaddrinfo: whatever order it gives, Happy Eyeballs finds the
        // listener on 127.0.0.1.
        let url = format!("http://localhost:{port}/");
        let text = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert_eq!(text, format!("host localhost:{port}"));
    });
}

#[test]
fn refused_ipv6_address_falls_back_to_ipv4() {
    let (web, dns) = (hello(), TestDns::start());
    // The server listens on 127.0.0.1 only: [::1] at that port refuses, IPv4 then connects.
    dns.addr_record("dual.test", "::1")
        .addr_record("dual.test", "127.0.0.1");
    let port = web.addr().port();
    run(LIMIT, async {
        let client = Client::builder().dns_servers([dns.addr()]).build().unwrap();
        let url = format!("http://dual.test:{port}/");
        let text = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert_eq!(text, format!("host dual.test:{port}"));
    });
}

#[test]
fn refused_everywhere_lists_every_address() {
    let dns = TestDns::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    dns.addr_record("down.test", "::1")
        .addr_record("down.test", "127.0.0.1");
    run(LIMIT, async {
        let client = Client::builder().dns_servers([dns.addr()]).build().unwrap();
        let url = format!("http://down.test:{port}/");
        let e = client.get(&url).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "connection refused while connecting to 127.0.0.1:{port} (after 1 other address \
                 failed: [::1]:{port}: connection refused) ({url})"
            )
        );
    });
}
