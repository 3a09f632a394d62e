//! spool-client through a real forward proxy written by others: Debian's `tinyproxy` (C), started
//! by `support/tinyproxy.rs` on a free loopback port, in front of nginx (plain and TLS).
//!
//! tinyproxy differs from the in-process proxy of `tests/proxy.rs` in ways a real deployment will:
//! it answers plain requests as HTTP/1.0 and closes the connection after each, writes its own 407
//! page, and relays CONNECT tunnels byte for byte. The client must get every body whole through it,
//! keep one TLS connection to the origin alive inside one tunnel, and report tinyproxy's refusals
//! as `ErrorKind::Proxy`.
//!
//! Skips with a notice when tinyproxy, nginx or openssl is missing, unless `CI=true`.

mod support;

use spool_client::tls::Certificate;
use spool_client::{Client, ErrorKind, NoProxy, Proxy};
use support::{run, Nginx, NginxOptions, TestCerts, TinyProxy};

/// A body big enough to cross many reads and tinyproxy's relay buffer: 1 MiB + 7 of a pattern.
fn big_body() -> Vec<u8> {
    (0..(1 << 20) + 7).map(|i| (i % 251) as u8).collect()
}

/// nginx serving `a.txt` and `big.bin`, on a TLS port too when `certs` are given.
fn nginx(certs: Option<&TestCerts>) -> Option<Nginx> {
    let mut options = NginxOptions::new()
        .file("a.txt", "alpha")
        .file("big.bin", big_body());
    if let Some(c) = certs {
        options = options.tls(c.cert(), c.key());
    }
    Nginx::start(options)
}

fn through(proxy: &str) -> Client {
    Client::builder()
        .proxy(Proxy::all(proxy).unwrap())
        .build()
        .unwrap()
}

#[test]
fn plain_http_through_tinyproxy_arrives_whole_with_the_credentials_checked() {
    let Some(nginx) = nginx(None) else {
        return;
    };
    let Some(proxy) = TinyProxy::start_with_auth("user", "s3cret") else {
        return;
    };
    let client = through(&proxy.url(Some("user:s3cret")));
    run(async {
        for _ in 0..3 {
            let r = client.get(nginx.url("/a.txt")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.text().await.unwrap(), "alpha");
        }
        let r = client.get(nginx.url("/big.bin")).send().await.unwrap();
        assert_eq!(r.bytes().await.unwrap(), big_body());
    });
    let a = format!("GET {} HTTP/1.1", nginx.url("/a.txt"));
    let big = format!("GET {} HTTP/1.1", nginx.url("/big.bin"));
    assert_eq!(proxy.requests(), vec![a.clone(), a.clone(), a, big]);
    // And nginx served those four, no more (a retry through the proxy would show here).
    let served = nginx.wait_for_requests(4);
    assert_eq!(served.len(), 4, "{served:?}");
}

#[test]
fn https_through_tinyproxy_keeps_one_tls_connection_alive_inside_one_tunnel() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    let Some(nginx) = nginx(Some(&certs)) else {
        return;
    };
    let Some(proxy) = TinyProxy::start_with_auth("user", "s3cret") else {
        return;
    };
    let client = Client::builder()
        .add_root_certificate(Certificate::from_pem(&certs.ca_pem()).unwrap())
        .proxy(Proxy::https(&proxy.url(Some("user:s3cret"))).unwrap())
        .build()
        .unwrap();
    run(async {
        for _ in 0..3 {
            let r = client.get(nginx.tls_url("/a.txt")).send().await.unwrap();
            assert_eq!(r.text().await.unwrap(), "alpha");
        }
        let r = client.get(nginx.tls_url("/big.bin")).send().await.unwrap();
        assert_eq!(r.bytes().await.unwrap(), big_body());
    });
    let port = nginx.tls_port().unwrap();
    assert_eq!(
        proxy.requests(),
        vec![format!("CONNECT 127.0.0.1:{port} HTTP/1.1")],
        "one tunnel for all four requests"
    );
    assert_eq!(nginx.distinct_connections(4), 1);
}

#[test]
fn tinyproxy_refusals_are_proxy_errors_and_bypassed_hosts_go_direct() {
    let Some(nginx) = nginx(None) else {
        return;
    };
    let Some(proxy) = TinyProxy::start_with_auth("user", "s3cret") else {
        return;
    };
    run(async {
        // No credentials: tinyproxy's own 407, for a plain request and for a CONNECT.
        let e = through(&proxy.url(None))
            .get(nginx.url("/a.txt"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{e}");
        assert!(e.to_string().contains("407"), "{e}");
        let e = through(&proxy.url(None))
            .get(format!("https://127.0.0.1:{}/", nginx.port()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{e}");
        assert!(e.to_string().contains("407"), "{e}");
        // Wrong credentials: tinyproxy answers 401 (not 407). To a plain request that is a
        // response like any origin's (no client can tell them apart; curl shows it too), to a
        // CONNECT it can only be the proxy's: named as refused, the password never shown.
        let r = through(&proxy.url(Some("user:wrong")))
            .get(nginx.url("/a.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.text().await.unwrap().contains("tinyproxy"));
        let e = through(&proxy.url(Some("user:wrong")))
            .get(format!("https://127.0.0.1:{}/", nginx.port()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Proxy, "{e}");
        assert!(e.to_string().contains("did not accept"), "{e}");
        assert!(!e.to_string().contains("wrong"), "{e}");

        // A bypassed host goes direct even with a refusing proxy configured.
        let bypassing = Client::builder()
            .proxy(Proxy::all(&proxy.url(None)).unwrap())
            .proxy_bypass(NoProxy::parse("127.0.0.0/8"))
            .build()
            .unwrap();
        let r = bypassing.get(nginx.url("/a.txt")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "alpha");
    });
    assert_eq!(proxy.requests().len(), 4, "{:?}", proxy.requests());
}
