//! Certificate verification against a local rustls server with certificates made at test time:
//! the test CA is trusted, and every way a certificate can be wrong fails with an error that says
//! which way (and the server hears the matching alert).

mod tls_support;

use spool_client::tls::{Certificate, TlsConnector, TlsErrorKind, TlsVersion};
use tls_support::pki::{self, TestCa, Validity};
use tls_support::server::{TlsServer, BOTH, TLS12, TLS13};
use tls_support::{aio, connector_trusting};

/// One GET over TLS to a server that answers "hello" with close_notify.
fn hello_server(
    identity: pki::ServerIdentity,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
) -> TlsServer {
    TlsServer::start(identity, versions, 1, |session| {
        let request = session.read_request();
        assert!(request.starts_with(b"GET /hello HTTP/1.1\r\n"));
        session.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        session.close_notify();
    })
}

/// Connects as `host` and fails the test unless the handshake fails; returns the error.
fn handshake_error(
    connector: &TlsConnector,
    server: TlsServer,
    host: &str,
) -> (spool_client::tls::TlsError, String) {
    let addr = server.addr();
    let result = spool_runtime::block_on(aio::connect(connector, addr, host));
    let error = result.expect_err("the handshake should have failed");
    let outcomes = server.finish();
    let server_saw = outcomes[0]
        .handshake
        .clone()
        .expect_err("the server's handshake should have failed too");
    (error, server_saw)
}

#[test]
fn trusted_ca_succeeds_over_tls13_and_tls12() {
    let ca = TestCa::new();
    for (versions, expected) in [(TLS13, TlsVersion::Tls13), (TLS12, TlsVersion::Tls12)] {
        let server = hello_server(
            ca.server(&["localhost", "127.0.0.1"], Validity::Current),
            versions,
        );
        let connector = connector_trusting(&ca.pem());
        let addr = server.addr();
        let (response, version, alpn) = spool_runtime::block_on(async {
            let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
            aio::write_all(&mut tls, b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .await
                .unwrap();
            aio::flush(&mut tls).await.unwrap();
            let response = aio::read_to_end(&mut tls).await.unwrap();
            (
                response,
                tls.protocol_version(),
                tls.negotiated_alpn().map(<[u8]>::to_vec),
            )
        });
        assert_eq!(
            response,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        );
        assert_eq!(version, Some(expected));
        assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
        assert!(server.finish()[0].handshake.is_ok());
    }
}

#[test]
fn ip_literal_host_verifies_against_ip_san() {
    let ca = TestCa::new();
    let server = hello_server(
        ca.server(&["localhost", "127.0.0.1"], Validity::Current),
        BOTH,
    );
    let connector = connector_trusting(&ca.pem());
    let addr = server.addr();
    let response = spool_runtime::block_on(async {
        let mut tls = aio::connect(&connector, addr, "127.0.0.1").await.unwrap();
        aio::write_all(&mut tls, b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        aio::read_to_end(&mut tls).await.unwrap()
    });
    assert!(response.ends_with(b"\r\n\r\nhello"));
    server.finish();
}

#[test]
fn self_signed_certificate_is_an_unknown_issuer() {
    let server = hello_server(pki::self_signed(&["localhost"]), BOTH);
    let (error, server_saw) = handshake_error(
        &connector_trusting(&TestCa::new().pem()),
        server,
        "localhost",
    );
    assert_eq!(error.kind(), TlsErrorKind::UnknownIssuer);
    assert!(error.is_certificate_error());
    assert!(
        error
            .to_string()
            .starts_with("certificate not trusted: unknown issuer"),
        "{error}"
    );
    // The server learns why: rustls sent it the unknown_ca alert.
    assert!(server_saw.contains("UnknownCA"), "{server_saw}");
}

#[test]
fn certificate_from_an_untrusted_ca_is_an_unknown_issuer() {
    let server = hello_server(
        TestCa::new().server(&["localhost"], Validity::Current),
        BOTH,
    );
    // Trusts a different CA, and Mozilla's roots: neither signed this certificate.
    let other = TestCa::named("another test CA");
    let connector = TlsConnector::builder()
        .add_root_certificate(Certificate::from_pem(other.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let (error, _) = handshake_error(&connector, server, "localhost");
    assert_eq!(error.kind(), TlsErrorKind::UnknownIssuer, "{error}");
}

#[test]
fn certificate_from_a_same_named_impostor_ca_has_a_bad_signature() {
    // The server's CA has the same name as the trusted one but another key: the issuer is
    // found by name, and its signature does not check out.
    let server = hello_server(
        TestCa::new().server(&["localhost"], Validity::Current),
        BOTH,
    );
    let (error, server_saw) = handshake_error(
        &connector_trusting(&TestCa::new().pem()),
        server,
        "localhost",
    );
    assert_eq!(error.kind(), TlsErrorKind::BadCertificate, "{error}");
    assert!(
        error
            .to_string()
            .starts_with("certificate has a bad signature"),
        "{error}"
    );
    assert!(server_saw.contains("DecryptError"), "{server_saw}");
}

#[test]
fn expired_certificate_says_expired_and_when() {
    let ca = TestCa::new();
    let server = hello_server(ca.server(&["localhost"], Validity::Expired), BOTH);
    let (error, server_saw) = handshake_error(&connector_trusting(&ca.pem()), server, "localhost");
    assert_eq!(error.kind(), TlsErrorKind::Expired);
    assert_eq!(
        error.to_string(),
        "certificate expired on 2001-01-01 00:00:00 UTC"
    );
    assert!(server_saw.contains("CertificateExpired"), "{server_saw}");
}

#[test]
fn not_yet_valid_certificate_says_so() {
    let ca = TestCa::new();
    let server = hello_server(ca.server(&["localhost"], Validity::NotYetValid), BOTH);
    let (error, _) = handshake_error(&connector_trusting(&ca.pem()), server, "localhost");
    assert_eq!(error.kind(), TlsErrorKind::NotYetValid);
    assert_eq!(
        error.to_string(),
        "certificate not valid until 3000-01-01 00:00:00 UTC"
    );
}

#[test]
fn wrong_host_name_names_the_host_and_the_certificate_names() {
    let ca = TestCa::new();
    let server = hello_server(
        ca.server(&["localhost", "127.0.0.1"], Validity::Current),
        BOTH,
    );
    // The socket reaches the server, but the URL said another host.
    let (error, server_saw) =
        handshake_error(&connector_trusting(&ca.pem()), server, "wrong.example");
    assert_eq!(error.kind(), TlsErrorKind::NameMismatch);
    assert_eq!(
        error.to_string(),
        "certificate not valid for name wrong.example (host name not in the certificate's \
         subject alternative names; it names localhost, 127.0.0.1)"
    );
    assert!(server_saw.contains("BadCertificate"), "{server_saw}");
}

#[test]
fn ip_address_missing_from_san_says_so() {
    let ca = TestCa::new();
    // Valid for the name localhost, but not for the address the URL used.
    let server = hello_server(ca.server(&["localhost"], Validity::Current), BOTH);
    let (error, _) = handshake_error(&connector_trusting(&ca.pem()), server, "127.0.0.1");
    assert_eq!(error.kind(), TlsErrorKind::NameMismatch);
    assert_eq!(
        error.to_string(),
        "certificate not valid for name 127.0.0.1 (IP address not in the certificate's \
         subject alternative names; it names localhost)"
    );
}

#[test]
fn default_connector_rejects_the_test_ca() {
    // Verification is on by default: Mozilla's roots do not include a CA made a moment ago.
    let ca = TestCa::new();
    let server = hello_server(ca.server(&["localhost"], Validity::Current), BOTH);
    let (error, _) = handshake_error(&TlsConnector::new(), server, "localhost");
    assert_eq!(error.kind(), TlsErrorKind::UnknownIssuer);
}

#[test]
fn danger_accept_invalid_certs_accepts_a_self_signed_expired_misnamed_certificate() {
    let ca = TestCa::new();
    let server = hello_server(ca.server(&["other.example"], Validity::Expired), BOTH);
    let connector = TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let addr = server.addr();
    let response = spool_runtime::block_on(async {
        let mut tls = aio::connect(&connector, addr, "localhost").await.unwrap();
        aio::write_all(&mut tls, b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        aio::read_to_end(&mut tls).await.unwrap()
    });
    assert!(response.ends_with(b"hello"));
    server.finish();
}

#[test]
fn server_closing_during_the_handshake_is_an_io_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let closer = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        // Read the ClientHello so the close is a FIN, not a reset.
        let mut hello = [0u8; 512];
        let _ = std::io::Read::read(&mut tcp, &mut hello);
    });
    let error = spool_runtime::block_on(aio::connect(&TlsConnector::new(), addr, "localhost"))
        .expect_err("no handshake without a server");
    closer.join().unwrap();
    assert_eq!(error.kind(), TlsErrorKind::Io);
    assert_eq!(
        error.to_string(),
        "TLS handshake with localhost: the server closed the connection"
    );
}

#[test]
fn plain_http_server_is_a_not_tls_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let http = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut hello = [0u8; 512];
        let _ = std::io::Read::read(&mut tcp, &mut hello);
        let _ = std::io::Write::write_all(
            &mut tcp,
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        );
    });
    let error = spool_runtime::block_on(aio::connect(&TlsConnector::new(), addr, "localhost"))
        .expect_err("HTTP is not TLS");
    http.join().unwrap();
    assert_eq!(error.kind(), TlsErrorKind::NotTls);
    assert!(
        error
            .to_string()
            .starts_with("TLS handshake with localhost failed: the server answered in plain text"),
        "{error}"
    );
}
