//! https through the whole client against a local rustls server: trust settings, certificate
//! errors as `ErrorKind::Tls`, the truncation rules, keep-alive reuse, resumption across
//! connections, and the https-to-http redirect refusal.

mod tls_support;

use std::time::Duration;

use spool_client::tls::Certificate;
use spool_client::{Client, ErrorKind};
use tls_support::pki::{self, TestCa, Validity};
use tls_support::server::{Session, TlsServer, BOTH};

/// Every test's loop runs under this limit, so a hang fails instead of blocking.
const LIMIT: Duration = Duration::from_secs(20);

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    spool_runtime::block_on(async {
        spool_runtime::time::timeout(LIMIT, future)
            .await
            .expect("test took longer than its limit")
    })
}

fn client_trusting(ca: &TestCa) -> Client {
    Client::builder()
        .add_root_certificate(Certificate::from_pem(ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap()
}

fn url(server: &TlsServer, host: &str, path: &str) -> String {
    format!("https://{host}:{}{path}", server.addr().port())
}

/// A server for one connection that answers each of `responses` to one request, then ends the
/// connection cleanly (close_notify) or not.
fn scripted(ca: &TestCa, responses: Vec<&'static [u8]>, clean_close: bool) -> TlsServer {
    let identity = ca.server(&["localhost", "127.0.0.1"], Validity::Current);
    TlsServer::start(identity, BOTH, 1, move |s: &mut Session| {
        for response in &responses {
            s.read_request();
            s.write_all(response);
        }
        if clean_close {
            s.close_notify();
        } else {
            s.bare_close();
        }
    })
}

#[test]
fn https_get_with_a_private_ca() {
    let ca = TestCa::new();
    let server = scripted(
        &ca,
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"],
        true,
    );
    let client = client_trusting(&ca);
    run(async {
        let response = client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "hello");
    });
    assert_eq!(client.tls_handshake_stats().full, 1);
    server.finish();
}

#[test]
fn untrusted_certificate_is_a_tls_error_that_says_why() {
    let server = TlsServer::start(pki::self_signed(&["localhost"]), BOTH, 1, |_| {});
    let client = Client::new();
    let error = run(async {
        client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap_err()
    });
    assert_eq!(error.kind(), ErrorKind::Tls);
    assert!(error.is_connect());
    assert!(
        error
            .to_string()
            .starts_with("certificate not trusted: unknown issuer"),
        "{error}"
    );
    server.finish();
}

#[test]
fn ip_url_needs_the_ip_in_the_certificate() {
    let ca = TestCa::new();
    let server = TlsServer::start(
        ca.server(&["localhost"], Validity::Current),
        BOTH,
        1,
        |_| {},
    );
    let client = client_trusting(&ca);
    let error = run(async {
        client
            .get(url(&server, "127.0.0.1", "/"))
            .send()
            .await
            .unwrap_err()
    });
    assert_eq!(error.kind(), ErrorKind::Tls);
    assert!(
        error.to_string().starts_with(
            "certificate not valid for name 127.0.0.1 (IP address not in the certificate's \
             subject alternative names; it names localhost)"
        ),
        "{error}"
    );
    server.finish();
}

#[test]
fn danger_accept_invalid_certs_reaches_a_self_signed_server() {
    let server = TlsServer::start(pki::self_signed(&["localhost"]), BOTH, 1, |s| {
        s.read_request();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        s.close_notify();
    });
    let client = Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let body = run(async {
        let response = client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    });
    assert_eq!(body, "ok");
    server.finish();
}

#[test]
fn close_delimited_body_cut_without_close_notify_is_an_error() {
    let ca = TestCa::new();
    let server = scripted(&ca, vec![b"HTTP/1.1 200 OK\r\n\r\nthe first part"], false);
    let client = client_trusting(&ca);
    let error = run(async {
        let response = client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap();
        response.bytes().await.unwrap_err()
    });
    assert_eq!(error.kind(), ErrorKind::IncompleteBody, "{error}");
    assert!(error.to_string().contains("close_notify"), "{error}");
    server.finish();
}

#[test]
fn close_delimited_body_ended_by_close_notify_is_complete() {
    let ca = TestCa::new();
    let server = scripted(&ca, vec![b"HTTP/1.1 200 OK\r\n\r\nthe whole body"], true);
    let client = client_trusting(&ca);
    let body = run(async {
        let response = client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    });
    assert_eq!(body, "the whole body");
    server.finish();
}

#[test]
fn framed_body_followed_by_a_bare_close_is_a_success() {
    let ca = TestCa::new();
    let server = scripted(
        &ca,
        vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ncomplete",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nchunk\r\n0\r\n\r\n",
        ],
        false,
    );
    let client = client_trusting(&ca);
    run(async {
        let first = client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap();
        assert_eq!(first.text().await.unwrap(), "complete");
        let second = client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap();
        assert!(second.info().reused, "keep-alive over TLS");
        assert_eq!(second.text().await.unwrap(), "chunk");
    });
    server.finish();
}

#[test]
fn framed_body_cut_short_is_an_error() {
    let ca = TestCa::new();
    let server = scripted(
        &ca,
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"],
        true,
    );
    let client = client_trusting(&ca);
    let error = run(async {
        let response = client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap();
        response.bytes().await.unwrap_err()
    });
    assert_eq!(error.kind(), ErrorKind::IncompleteBody, "{error}");
    server.finish();
}

#[test]
fn new_connections_resume_the_session() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.server(&["localhost"], Validity::Current), BOTH, 3, |s| {
        s.read_request();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        s.close_notify();
    });
    let client = client_trusting(&ca);
    run(async {
        for _ in 0..3 {
            let response = client
                .get(url(&server, "localhost", "/"))
                .send()
                .await
                .unwrap();
            assert!(!response.info().reused);
            assert_eq!(response.text().await.unwrap(), "ok");
        }
    });
    let stats = client.tls_handshake_stats();
    assert_eq!((stats.full, stats.resumed), (1, 2));
    let resumed: Vec<bool> = server.finish().iter().map(|o| o.resumed).collect();
    assert_eq!(resumed, [false, true, true]);
}

#[test]
fn redirect_from_https_to_http_is_refused() {
    let ca = TestCa::new();
    let server = scripted(
        &ca,
        vec![b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/x\r\nContent-Length: 0\r\n\r\n"],
        true,
    );
    let client = client_trusting(&ca);
    let error = run(async {
        client
            .get(url(&server, "localhost", "/"))
            .send()
            .await
            .unwrap_err()
    });
    assert_eq!(error.kind(), ErrorKind::Redirect, "{error}");
    assert!(error.to_string().contains("https to http"), "{error}");
    server.finish();
}

/// A server whose first connection answers one request, then takes the second request and
/// closes (cleanly or not) without answering: the keep-alive race, forced.
fn closes_after_one_response(ca: &TestCa, clean_close: bool) -> TlsServer {
    let served = std::sync::atomic::AtomicUsize::new(0);
    let identity = ca.server(&["localhost"], Validity::Current);
    TlsServer::start(identity, BOTH, 2, move |s: &mut Session| {
        let first = served.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        s.read_request();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        if first {
            s.read_request();
            if clean_close {
                s.close_notify();
            } else {
                s.bare_close();
            }
        } else {
            s.close_notify();
        }
    })
}

#[test]
fn stale_tls_connection_is_retried_on_a_new_one() {
    // Without close_notify the second request sees UnexpectedEof before any response byte; with
    // it, a clean EOF. Both are the stale keep-alive case: a GET is retried once.
    for clean_close in [false, true] {
        let ca = TestCa::new();
        let server = closes_after_one_response(&ca, clean_close);
        let client = client_trusting(&ca);
        run(async {
            for _ in 0..2 {
                let response = client
                    .get(url(&server, "localhost", "/"))
                    .send()
                    .await
                    .unwrap();
                assert!(!response.info().reused, "the retry used a new connection");
                assert_eq!(response.text().await.unwrap(), "ok");
            }
        });
        assert_eq!(
            client.tls_handshake_stats().full + client.tls_handshake_stats().resumed,
            2
        );
        server.finish();
    }
}

#[test]
fn large_post_body_goes_through_tls_intact() {
    const SIZE: usize = 3 << 20;
    let ca = TestCa::new();
    let identity = ca.server(&["localhost"], Validity::Current);
    let server = TlsServer::start(identity, BOTH, 1, |s| {
        let request = s.read_request();
        let body_at = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let body = &request[body_at..];
        let sum: u64 = body.iter().map(|&b| u64::from(b)).sum();
        let reply = format!("{} {sum}", body.len());
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{reply}",
            reply.len()
        );
        s.write_all(response.as_bytes());
        s.close_notify();
    });
    let body: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let expected_sum: u64 = body.iter().map(|&b| u64::from(b)).sum();
    let client = client_trusting(&ca);
    let reply = run(async {
        let response = client
            .post(url(&server, "localhost", "/upload"))
            .body(body)
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    });
    assert_eq!(reply, format!("{SIZE} {expected_sum}"));
    server.finish();
}

#[test]
fn no_trusted_root_is_a_builder_error() {
    let error = Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Builder);
    assert!(error.to_string().contains("no trust roots"), "{error}");
}
