//! Who is trusted, both ways: a self-signed `CA:TRUE` server certificate given as a root (as
//! `openssl req -x509` makes and curl's `--cacert` accepts), client certificates for servers that
//! require one, and an `https://` URL pointed at a server that speaks plain HTTP.

mod tls_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use spool_client::tls::{Certificate, Identity, TlsConnector, TlsErrorKind};
use tls_support::pki::{self, ServerIdentity, TestCa, Validity};
use tls_support::server::{TlsServer, BOTH};
use tls_support::{aio, connector_trusting};

/// Serves one connection that answers a GET with "hello"; returns what the client got.
fn get_hello(
    connector: &TlsConnector,
    identity: ServerIdentity,
    host: &str,
) -> Result<Vec<u8>, spool_client::tls::TlsError> {
    let server = TlsServer::start(identity, BOTH, 1, |session| {
        session.read_request();
        session.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        session.close_notify();
    });
    let addr = server.addr();
    let result = spool_runtime::block_on(async {
        let mut tls = aio::connect(connector, addr, host).await?;
        aio::write_all(&mut tls, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        aio::flush(&mut tls).await.unwrap();
        Ok(aio::read_to_end(&mut tls).await.unwrap())
    });
    server.finish();
    result
}

#[test]
fn a_self_signed_ca_certificate_given_as_root_is_trusted_for_its_names() {
    let (identity, pem) = pki::self_signed_ca(&["localhost"], Validity::Current);
    let body = get_hello(&connector_trusting(&pem), identity, "localhost").unwrap();
    assert!(body.ends_with(b"hello"));
}

#[test]
fn a_self_signed_ca_certificate_is_still_checked_for_name_and_dates() {
    let (identity, pem) = pki::self_signed_ca(&["localhost"], Validity::Current);
    let err = get_hello(&connector_trusting(&pem), identity, "127.0.0.1").unwrap_err();
    assert_eq!(err.kind(), TlsErrorKind::NameMismatch, "{err}");

    let (identity, pem) = pki::self_signed_ca(&["localhost"], Validity::Expired);
    let err = get_hello(&connector_trusting(&pem), identity, "localhost").unwrap_err();
    assert_eq!(err.kind(), TlsErrorKind::Expired, "{err}");
    assert!(err.to_string().contains("2001-01-01"), "{err}");

    let (identity, pem) = pki::self_signed_ca(&["localhost"], Validity::NotYetValid);
    let err = get_hello(&connector_trusting(&pem), identity, "localhost").unwrap_err();
    assert_eq!(err.kind(), TlsErrorKind::NotYetValid, "{err}");
}

#[test]
fn an_untrusted_self_signed_ca_certificate_says_how_to_trust_it() {
    let (identity, _) = pki::self_signed_ca(&["localhost"], Validity::Current);
    // Trusting another certificate (of the same shape) is not trusting this one.
    let (_, other_pem) = pki::self_signed_ca(&["localhost"], Validity::Current);
    let err = get_hello(&connector_trusting(&other_pem), identity, "localhost").unwrap_err();
    assert_eq!(err.kind(), TlsErrorKind::UnknownIssuer, "{err}");
    assert!(err.to_string().contains("CA:TRUE"), "{err}");
    assert!(err.to_string().contains("--ca-file"), "{err}");
}

#[test]
fn a_certificate_made_by_openssl_req_x509_works_as_with_curl_cacert() {
    let dir = std::env::temp_dir().join(format!("spool-x509-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "30", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is installed (.ci/run installs it)");
    assert!(status.success());
    let cert_pem = std::fs::read_to_string(&cert).unwrap();
    let key_pem = std::fs::read(&key).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let identity = ServerIdentity {
        chain: vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()],
        key: PrivateKeyDer::from_pem_slice(&key_pem).unwrap(),
    };
    let body = get_hello(&connector_trusting(&cert_pem), identity, "localhost").unwrap();
    assert!(body.ends_with(b"hello"));
}

/// A server that requires a client certificate signed by `client_ca`.
fn requiring_client_cert(client_ca: &TestCa, server: ServerIdentity) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(client_ca.der()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(server.chain, server.key)
        .unwrap()
}

#[test]
fn a_client_identity_is_presented_to_a_server_that_requires_one() {
    let server_ca = TestCa::new();
    let client_ca = TestCa::named("spool client CA");
    let (cert_pem, key_pem) = client_ca.client("spool test client");
    let identity = Identity::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    let expected_leaf = identity.certificates().next().unwrap().to_vec();

    let config = requiring_client_cert(
        &client_ca,
        server_ca.server(&["localhost"], Validity::Current),
    );
    let server = TlsServer::start_with_config(config, 2, |session| {
        let leaf = session
            .peer_certificates()
            .first()
            .cloned()
            .unwrap_or_default();
        session.note(format!("client leaf bytes {}", leaf.len()));
        session.read_request();
        session.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        session.close_notify();
    });
    let with_identity = TlsConnector::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(server_ca.pem().as_bytes()).unwrap())
        .identity(identity)
        .build()
        .unwrap();
    let without = TlsConnector::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(server_ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let addr = server.addr();
    let (ok, refused) = spool_runtime::block_on(async {
        let mut tls = aio::connect(&with_identity, addr, "localhost")
            .await
            .unwrap();
        aio::write_all(&mut tls, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        aio::flush(&mut tls).await.unwrap();
        let ok = aio::read_to_end(&mut tls).await.unwrap();
        // Without a certificate the TLS 1.3 handshake completes on the client's side; the
        // server's refusal arrives as an alert on the first read.
        let refused = match aio::connect(&without, addr, "localhost").await {
            Err(e) => e.to_string(),
            Ok(mut tls) => {
                let _ = aio::write_all(&mut tls, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
                let _ = aio::flush(&mut tls).await;
                aio::read_to_end(&mut tls).await.unwrap_err().1.to_string()
            }
        };
        (ok, refused)
    });
    let outcomes = server.finish();
    assert!(ok.ends_with(b"ok"));
    assert_eq!(
        outcomes[0].notes,
        [format!("client leaf bytes {}", expected_leaf.len())]
    );
    assert!(outcomes[1].handshake.is_err(), "{:?}", outcomes[1]);
    assert!(refused.contains("certificate required"), "{refused}");
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_when_building() {
    let ca = TestCa::new();
    let (cert_pem, _) = ca.client("a");
    let (_, other_key) = ca.client("b");
    let identity = Identity::from_pem(cert_pem.as_bytes(), other_key.as_bytes()).unwrap();
    let err = TlsConnector::builder()
        .identity(identity)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), TlsErrorKind::Config);
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[test]
fn https_to_a_plain_http_port_says_so() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut hello = [0u8; 512];
        let _ = tcp.read(&mut hello).unwrap();
        // What nginx and Python's http.server answer to a ClientHello.
        tcp.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    });
    let err =
        spool_runtime::block_on(aio::connect(&TlsConnector::new(), addr, "localhost")).unwrap_err();
    server.join().unwrap();
    assert_eq!(err.kind(), TlsErrorKind::NotTls, "{err}");
    assert!(err.to_string().contains("answered in plain text"), "{err}");
    assert!(err.to_string().contains("is this port HTTP?"), "{err}");
}
