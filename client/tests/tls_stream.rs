//! `TlsStream` as a byte stream against a local rustls server: the end-of-stream contract
//! (close_notify vs. a bare TCP close), large transfers both ways, closing, idle probing,
//! buffer shrinking, and session resumption through the shared cache.

mod tls_support;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use spool_client::tls::{Certificate, TlsConnector, TlsStream, TlsVersion};
use tls_support::pki::{TestCa, Validity};
use tls_support::server::{Session, TlsServer, BOTH, TLS12, TLS13};
use tls_support::{aio, connector_trusting};

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Starts a server (on a fresh CA) running `handler` for `connections` connections, and a
/// connector trusting it.
fn setup(
    versions: &'static [&'static rustls::SupportedProtocolVersion],
    connections: usize,
    handler: impl Fn(&mut Session) + Send + 'static,
) -> (TlsServer, TlsConnector) {
    let ca = TestCa::new();
    let server = TlsServer::start(
        ca.server(&["localhost"], Validity::Current),
        versions,
        connections,
        handler,
    );
    (server, connector_trusting(&ca.pem()))
}

/// A close-delimited response (no Content-Length): only the end of the stream ends the body.
const CLOSE_DELIMITED: &[u8] = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart of a body";

#[test]
fn close_notify_ends_the_stream_with_ok_zero() {
    let (server, connector) = setup(BOTH, 1, |s| {
        s.read_request();
        s.write_all(CLOSE_DELIMITED);
        s.close_notify();
    });
    let addr = server.addr();
    let read = spool_runtime::block_on(async {
        let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
        aio::write_all(&mut tls, GET).await.unwrap();
        aio::read_to_end(&mut tls).await
    });
    assert_eq!(read.unwrap(), CLOSE_DELIMITED);
    server.finish();
}

#[test]
fn tcp_close_without_close_notify_is_unexpected_eof_after_the_data() {
    for versions in [TLS13, TLS12] {
        let (server, connector) = setup(versions, 1, |s| {
            s.read_request();
            s.write_all(CLOSE_DELIMITED);
            s.bare_close();
        });
        let addr = server.addr();
        let read = spool_runtime::block_on(async {
            let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
            aio::write_all(&mut tls, GET).await.unwrap();
            aio::read_to_end(&mut tls).await
        });
        // Every byte the server sent is delivered, then the truncation is reported, never Ok(0).
        let (data, error) = read.expect_err("a bare TCP close must not look like a clean end");
        assert_eq!(data, CLOSE_DELIMITED);
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(error.to_string().contains("close_notify"), "{error}");
        server.finish();
    }
}

#[test]
fn a_megabyte_each_way_arrives_intact() {
    const SIZE: usize = 1 << 20;
    fn pattern(seed: u32) -> Vec<u8> {
        (0..SIZE as u32)
            .map(|i| (i.wrapping_mul(seed) >> 7) as u8)
            .collect()
    }
    let (server, connector) = setup(BOTH, 1, |s| {
        let request = s.read_request();
        let body_at = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert!(
            request[body_at..] == pattern(31)[..],
            "request body corrupted"
        );
        let mut response =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n").into_bytes();
        response.extend_from_slice(&pattern(97));
        s.write_all(&response);
        s.close_notify();
    });
    let addr = server.addr();
    let response = spool_runtime::block_on(async {
        let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
        let mut request =
            format!("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: {SIZE}\r\n\r\n")
                .into_bytes();
        request.extend_from_slice(&pattern(31));
        aio::write_all(&mut tls, &request).await.unwrap();
        aio::flush(&mut tls).await.unwrap();
        aio::read_to_end(&mut tls).await.unwrap()
    });
    let body_at = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(response[body_at..].len(), SIZE);
    assert!(
        response[body_at..] == pattern(97)[..],
        "response body corrupted"
    );
    server.finish();
}

#[test]
fn poll_close_sends_close_notify() {
    let (server, connector) = setup(BOTH, 1, |s| {
        s.read_request();
        s.note_how_client_closes();
    });
    let addr = server.addr();
    spool_runtime::block_on(async {
        let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
        aio::write_all(&mut tls, GET).await.unwrap();
        aio::close(&mut tls).await.unwrap();
        // A second close is harmless.
        aio::close(&mut tls).await.unwrap();
    });
    assert_eq!(server.finish()[0].notes, ["clean close"]);
}

/// Calls `try_read` on the loop until it stops saying `WouldBlock` (the reactor must see the
/// socket readable first), at most 5 s.
async fn try_read_until_something(tls: &mut TlsStream) -> io::Result<usize> {
    let mut buf = [0u8; 64];
    for _ in 0..500 {
        match tls.try_read(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                spool_runtime::time::sleep(Duration::from_millis(10)).await
            }
            other => return other,
        }
    }
    panic!("try_read saw nothing in 5 s");
}

#[test]
fn try_read_on_an_idle_connection_reports_the_servers_close() {
    let served = AtomicUsize::new(0);
    let (server, connector) = setup(BOTH, 2, move |s| {
        s.read_request();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        // Pretend the keep-alive timer ran out: the first connection closes cleanly, the second
        // without close_notify, as many servers do.
        if served.fetch_add(1, Ordering::SeqCst) == 0 {
            s.close_notify();
        } else {
            s.bare_close();
        }
    });
    let addr = server.addr();
    spool_runtime::block_on(async {
        for expect_clean in [true, false] {
            let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
            aio::write_all(&mut tls, GET).await.unwrap();
            let mut response = [0u8; 64];
            let mut got = 0;
            while !response[..got].ends_with(b"ok") {
                let n = aio::read_some(&mut tls, &mut response[got..])
                    .await
                    .unwrap();
                assert_ne!(n, 0, "response cut short");
                got += n;
            }
            // Idle now; probing must notice the close one way or the other.
            let probe = try_read_until_something(&mut tls).await;
            match (expect_clean, probe) {
                (true, Ok(0)) => {}
                (false, Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {}
                (_, other) => panic!("unexpected probe result {other:?}"),
            }
        }
    });
    server.finish();
}

#[test]
fn a_connection_keeps_working_after_shrinking_its_buffers() {
    let (server, connector) = setup(BOTH, 1, |s| {
        for size in [100_000usize, 10] {
            s.read_request();
            let mut response =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").into_bytes();
            response.resize(response.len() + size, b'x');
            s.write_all(&response);
        }
        s.close_notify();
    });
    let addr = server.addr();
    spool_runtime::block_on(async {
        let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
        for size in [100_000usize, 10] {
            tls.shrink_idle_buffers();
            aio::write_all(&mut tls, GET).await.unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0u8; 8192];
            while !got.windows(4).any(|w| w == b"\r\n\r\n")
                || got.len() < got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4 + size
            {
                let n = aio::read_some(&mut tls, &mut buf).await.unwrap();
                assert_ne!(n, 0);
                got.extend_from_slice(&buf[..n]);
            }
            assert!(got.ends_with(&vec![b'x'; size]));
            tls.shrink_idle_buffers();
        }
        assert_eq!(aio::read_to_end(&mut tls).await.unwrap(), b"");
    });
    server.finish();
}

#[test]
fn second_connection_resumes_through_the_shared_cache() {
    for versions in [TLS13, TLS12] {
        let (server, connector) = setup(versions, 3, |s| {
            s.read_request();
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            s.close_notify();
        });
        let addr = server.addr();
        let clone = connector.clone();
        let resumed: Vec<bool> = spool_runtime::block_on(async {
            let mut resumed = Vec::new();
            // The clone shares the cache: that is how a client's connections share sessions.
            for connector in [&connector, &clone, &connector] {
                let mut tls = aio::connect(connector, addr, "localhost").await.unwrap();
                aio::write_all(&mut tls, GET).await.unwrap();
                // Reading to the end also takes in TLS 1.3 tickets, which come after the handshake.
                aio::read_to_end(&mut tls).await.unwrap();
                resumed.push(tls.is_resumed());
            }
            resumed
        });
        assert_eq!(resumed, [false, true, true], "{versions:?}");
        let stats = connector.handshake_stats();
        assert_eq!((stats.full, stats.resumed), (1, 2));
        let server_saw: Vec<bool> = server.finish().iter().map(|o| o.resumed).collect();
        assert_eq!(server_saw, [false, true, true]);
    }
}

#[test]
fn no_resumption_when_the_cache_is_off() {
    let ca = TestCa::new();
    let server = TlsServer::start(ca.server(&["localhost"], Validity::Current), BOTH, 2, |s| {
        s.read_request();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        s.close_notify();
    });
    let connector = TlsConnector::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(ca.pem().as_bytes()).unwrap())
        .session_cache_hosts(0)
        .build()
        .unwrap();
    let addr = server.addr();
    spool_runtime::block_on(async {
        for _ in 0..2 {
            let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
            assert_eq!(tls.protocol_version(), Some(TlsVersion::Tls13));
            aio::write_all(&mut tls, GET).await.unwrap();
            aio::read_to_end(&mut tls).await.unwrap();
            assert!(!tls.is_resumed());
        }
    });
    assert_eq!(connector.handshake_stats().full, 2);
    server.finish();
}
