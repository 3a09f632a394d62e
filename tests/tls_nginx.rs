//! https with spool-client against a real TLS server written by others: nginx with `ssl` on a
//! loopback port, its certificate signed by a CA made for the test (tests/support/certs.rs).
//!
//! Checks keep-alive reuse (one TCP connection for many requests, counted by nginx), session
//! resumption (new connections resume, counted by the client's TLS connector), and 1,000
//! requests with 200 in flight on one thread with every body compared byte for byte.
//!
//! Skips with a notice when nginx or openssl is missing, unless `CI=true`.

mod support;

use std::rc::Rc;

use spool_client::tls::Certificate;
use spool_client::{Client, ErrorKind};
use support::{run, Nginx, NginxOptions, TestCerts};

/// Distinct contents per file, some spanning several TLS records (16 KiB each).
fn file_body(i: usize) -> Vec<u8> {
    let len = 1 + (i * 7919) % 70_000;
    (0..len).map(|j| b'a' + ((i + j * 31) % 26) as u8).collect()
}

fn start_nginx(files: usize) -> Option<(TestCerts, Nginx)> {
    let certs = TestCerts::generate()?;
    let mut options = NginxOptions::new().tls(certs.cert(), certs.key());
    for i in 0..files {
        options = options.file(&format!("f{i}.txt"), file_body(i));
    }
    let nginx = Nginx::start(options)?;
    Some((certs, nginx))
}

fn builder_trusting(certs: &TestCerts) -> spool_client::ClientBuilder {
    Client::builder().add_root_certificate(Certificate::from_pem(&certs.ca_pem()).unwrap())
}

#[test]
fn keep_alive_reuses_one_tls_connection() {
    let Some((certs, nginx)) = start_nginx(3) else {
        return;
    };
    let client = builder_trusting(&certs).build().unwrap();
    run(async {
        for i in 0..6 {
            let response = client
                .get(nginx.tls_url(&format!("/f{}.txt", i % 3)))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.info().reused, i > 0);
            assert_eq!(response.bytes().await.unwrap(), file_body(i % 3));
        }
    });
    assert_eq!(nginx.accepted_connections(), 1);
    let stats = client.tls_handshake_stats();
    assert_eq!((stats.full, stats.resumed), (1, 0));
}

#[test]
fn new_connections_resume_the_first_session() {
    let Some((certs, nginx)) = start_nginx(1) else {
        return;
    };
    // No idle connections kept: every request opens a new connection and handshakes again.
    let client = builder_trusting(&certs)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    run(async {
        for _ in 0..5 {
            let response = client.get(nginx.tls_url("/f0.txt")).send().await.unwrap();
            assert!(!response.info().reused);
            assert_eq!(response.bytes().await.unwrap(), file_body(0));
        }
    });
    assert_eq!(nginx.accepted_connections(), 5);
    let stats = client.tls_handshake_stats();
    assert_eq!((stats.full, stats.resumed), (1, 4), "{stats:?}");
}

#[test]
fn certificate_for_localhost_verifies_by_name_too() {
    let Some((certs, nginx)) = start_nginx(1) else {
        return;
    };
    let client = builder_trusting(&certs).build().unwrap();
    let port = nginx.tls_port().unwrap();
    run(async {
        let url = format!("https://localhost:{port}/f0.txt");
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.bytes().await.unwrap(), file_body(0));
    });
}

#[test]
fn default_roots_do_not_trust_the_test_ca() {
    let Some((_certs, nginx)) = start_nginx(1) else {
        return;
    };
    let client = Client::new();
    let error = run(async {
        client
            .get(nginx.tls_url("/f0.txt"))
            .send()
            .await
            .unwrap_err()
    });
    assert_eq!(error.kind(), ErrorKind::Tls);
    assert!(
        error
            .to_string()
            .starts_with("certificate not trusted: unknown issuer"),
        "{error}"
    );
}

#[test]
fn thousand_requests_with_two_hundred_in_flight() {
    const FILES: usize = 100;
    const REQUESTS: usize = 1000;
    const IN_FLIGHT: usize = 200;
    let Some((certs, nginx)) = start_nginx(FILES) else {
        return;
    };
    let client = builder_trusting(&certs)
        .max_connections(IN_FLIGHT)
        .max_connections_per_host(IN_FLIGHT)
        .build()
        .unwrap();
    let nginx = Rc::new(nginx);
    let checked = run(async {
        // IN_FLIGHT workers, each taking the next request number until all are done.
        let next = Rc::new(std::cell::Cell::new(0usize));
        let mut workers = spool_runtime::JoinSet::new();
        for _ in 0..IN_FLIGHT {
            let (client, next, nginx) = (client.clone(), next.clone(), nginx.clone());
            workers.spawn(async move {
                let mut checked = 0;
                loop {
                    let n = next.get();
                    if n >= REQUESTS {
                        return checked;
                    }
                    next.set(n + 1);
                    let file = n % FILES;
                    let url = nginx.tls_url(&format!("/f{file}.txt"));
                    let response = client.get(&url).send().await.unwrap();
                    assert_eq!(response.status(), 200, "{url}");
                    let body = response.bytes().await.unwrap();
                    assert!(body == file_body(file), "{url}: body differs");
                    checked += 1;
                }
            });
        }
        let mut checked = 0;
        while let Some(result) = workers.join_next().await {
            checked += result.expect("a worker panicked");
        }
        checked
    });
    assert_eq!(checked, REQUESTS);
    let stats = client.tls_handshake_stats();
    let connections = nginx.accepted_connections();
    // Every connection nginx accepted carried one TLS handshake, and keep-alive kept their
    // number at or below the in-flight limit.
    assert_eq!(stats.full + stats.resumed, connections, "{stats:?}");
    assert!(connections <= IN_FLIGHT as u64, "{connections} connections");
    println!(
        "1000 https requests: {connections} connections, {} full and {} resumed handshakes",
        stats.full, stats.resumed
    );
}
