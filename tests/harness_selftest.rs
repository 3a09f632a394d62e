//! Proves the test harness (tests/support) against the real servers with plain blocking
//! `std::net::TcpStream` exchanges, before any spool test relies on it: files arrive byte for
//! byte, connection counts are exact, `/chunked/` really is chunked, the close port closes, TLS
//! works, Python's http.server behaves as documented, and guards clean up on drop.
//!
//! nginx tests skip with a notice when nginx is missing, unless `CI=true`.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::process::Command;

use support::raw::{self, RawResponse};
use support::{free_port, Nginx, NginxOptions, PythonServer, TestCerts};

/// 300 bytes covering every byte value, so a text-only path would be caught.
fn binary_bytes() -> Vec<u8> {
    (0..300u32).map(|i| (i % 256) as u8).collect()
}

/// A body large enough that nginx sends it in several chunks (its output buffers are 32 KiB).
fn big_text() -> Vec<u8> {
    (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Reads from `conn` until the server closes it; fails if data or a timeout comes instead.
fn assert_closed_by_server(conn: &mut std::io::BufReader<TcpStream>) {
    let mut rest = Vec::new();
    let read = conn.read_to_end(&mut rest);
    assert!(
        matches!(read, Ok(0)),
        "expected the server to close the connection, got {read:?} with {rest:?}"
    );
}

#[test]
fn free_port_can_be_bound_again() {
    let port = free_port();
    assert_ne!(port, 0);
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the free port is bindable");
}

#[test]
fn nginx_serves_docroot_files_byte_for_byte() {
    let options = NginxOptions::new()
        .file("hello.txt", "hello\n")
        .file("bin/all-bytes", binary_bytes())
        .file("empty", Vec::new());
    let Some(nginx) = Nginx::start(options) else {
        return;
    };

    let hello = raw::get(nginx.port(), "/hello.txt");
    assert_eq!(hello.status, 200, "{hello:?}");
    assert_eq!(hello.body, b"hello\n");
    assert_eq!(hello.header("content-length"), Some("6"));
    assert_eq!(hello.header("content-type"), Some("text/plain"));

    let bytes = raw::get(nginx.port(), "/bin/all-bytes");
    assert_eq!(bytes.body, binary_bytes());
    assert!(!bytes.is_chunked());

    let empty = raw::get(nginx.port(), "/empty");
    assert_eq!((empty.status, empty.body.len()), (200, 0));
    assert_eq!(empty.header("content-length"), Some("0"));

    assert_eq!(raw::get(nginx.port(), "/missing").status, 404);
    assert!(nginx
        .url("/hello.txt")
        .ends_with(&format!(":{}/hello.txt", nginx.port())));
}

#[test]
fn nginx_counts_one_connection_for_five_keepalive_requests() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("a", "A")) else {
        return;
    };
    assert_eq!(
        nginx.accepted_connections(),
        0,
        "readiness probes must not count"
    );

    let mut conn = raw::connect(nginx.port()).unwrap();
    for _ in 0..5 {
        raw::send_get(&mut conn, "/a", &[]).unwrap();
        let response = raw::read_response(&mut conn, false).unwrap();
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"A"[..])
        );
        assert_ne!(response.header("connection"), Some("close"));
    }
    assert_eq!(nginx.accepted_connections(), 1);
    assert_eq!(
        nginx.active_connections(),
        1,
        "the idle keep-alive connection is open"
    );
    assert_eq!(nginx.distinct_connections(5), 1);
    let logged = nginx.wait_for_requests(5);
    let order: Vec<u64> = logged.iter().map(|r| r.connection_requests).collect();
    assert_eq!(order, [1, 2, 3, 4, 5]);
    assert!(logged
        .iter()
        .all(|r| r.port == nginx.port() && r.uri == "/a" && r.status == 200));

    // Asking twice must not change the count: the harness's own queries are not counted.
    assert_eq!(nginx.accepted_connections(), 1);

    // Three more connections: one request each.
    for _ in 0..3 {
        assert_eq!(raw::get(nginx.port(), "/a").status, 200);
    }
    assert_eq!(nginx.accepted_connections(), 4);
    assert_eq!(nginx.distinct_connections(8), 4);
}

#[test]
fn nginx_close_port_closes_after_every_response() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("a", "A")) else {
        return;
    };
    for round in 1..=3u64 {
        let mut conn = raw::connect(nginx.close_port()).unwrap();
        // No "Connection: close" from the client: the server decides.
        raw::send_get(&mut conn, "/a", &[]).unwrap();
        let response = raw::read_response(&mut conn, false).unwrap();
        assert_eq!(response.body, b"A");
        assert_eq!(response.header("connection"), Some("close"));
        assert_closed_by_server(&mut conn);
        assert_eq!(nginx.accepted_connections(), round);
    }
    let logged = nginx.wait_for_requests(3);
    assert!(logged
        .iter()
        .all(|r| r.connection_requests == 1 && r.port == nginx.close_port()));
    assert_eq!(
        logged
            .iter()
            .map(|r| r.connection)
            .collect::<BTreeSet<_>>()
            .len(),
        3
    );
}

#[test]
fn nginx_chunked_location_sends_chunked_bodies() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("big.txt", big_text())) else {
        return;
    };
    let mut conn = raw::connect(nginx.port()).unwrap();
    for _ in 0..2 {
        // Twice on one connection: the chunked framing must end exactly where the body ends.
        raw::send_get(&mut conn, "/chunked/big.txt", &[]).unwrap();
        let response = raw::read_response(&mut conn, false).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.header("transfer-encoding"), Some("chunked"));
        assert_eq!(response.header("content-length"), None);
        let sizes = response.chunk_sizes.clone().expect("chunked");
        assert!(sizes.len() >= 2, "expected several chunks, got {sizes:?}");
        assert_eq!(response.body, big_text());
    }
    assert_eq!(nginx.distinct_connections(2), 1);

    // HTTP/1.0 cannot be chunked: nginx delimits the body by closing the connection instead.
    let mut conn = raw::connect(nginx.port()).unwrap();
    conn.get_mut()
        .write_all(b"GET /chunked/big.txt HTTP/1.0\r\n\r\n")
        .unwrap();
    let response: RawResponse = raw::read_response(&mut conn, false).unwrap();
    assert_eq!(response.header("transfer-encoding"), None);
    assert_eq!(response.header("content-length"), None);
    assert_eq!(response.body, big_text());
}

#[test]
fn nginx_redirects_verbatim() {
    let options = NginxOptions::new()
        .file("target", "T")
        .redirect("/old", 301, "/target")
        .redirect("/abs", 302, "http://127.0.0.1:$server_port/target");
    let Some(nginx) = Nginx::start(options) else {
        return;
    };
    let old = raw::get(nginx.port(), "/old");
    assert_eq!((old.status, old.header("location")), (301, Some("/target")));
    let abs = raw::get(nginx.port(), "/abs");
    let expected = nginx.url("/target");
    assert_eq!(
        (abs.status, abs.header("location")),
        (302, Some(expected.as_str()))
    );
}

#[test]
fn nginx_echo_locations_when_available() {
    let Some(nginx) = Nginx::start(NginxOptions::new()) else {
        return;
    };
    if !nginx.require_echo() {
        return;
    }
    let slow = raw::get(nginx.port(), "/slow?ms=20");
    assert_eq!(
        (slow.status, slow.body.as_slice()),
        (200, &b"slept 20 ms\n"[..])
    );
    assert!(slow.is_chunked());

    let stall = raw::get(nginx.port(), "/stall?ms=20");
    assert_eq!(stall.body, b"first\nsecond\n");

    let mut conn = raw::connect(nginx.port()).unwrap();
    raw::send_get(
        &mut conn,
        "/echo/headers",
        &["X-Spool-Test: yes", "Connection: close"],
    )
    .unwrap();
    let headers = raw::read_response(&mut conn, false).unwrap();
    let text = String::from_utf8(headers.body).unwrap();
    assert!(
        text.starts_with("GET /echo/headers HTTP/1.1\r\n"),
        "{text:?}"
    );
    assert!(text.contains("\r\nX-Spool-Test: yes\r\n"), "{text:?}");

    let mut conn = raw::connect(nginx.port()).unwrap();
    let post = b"POST /echo/body HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\
                 Connection: close\r\n\r\nhello world";
    conn.get_mut().write_all(post).unwrap();
    let echoed = raw::read_response(&mut conn, false).unwrap();
    assert_eq!(echoed.body, b"hello world");
}

#[test]
fn nginx_tls_listener_serves_and_resumes_sessions() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    let options = NginxOptions::new()
        .file("hello.txt", "over tls\n")
        .tls(certs.cert(), certs.key());
    let Some(nginx) = Nginx::start(options) else {
        return;
    };
    let port = nginx.tls_port().expect("TLS was asked for");
    assert!(nginx.tls_url("/x").starts_with("https://127.0.0.1:"));

    // openssl s_client verifies the chain against our CA, sends the request, and saves the
    // session; the second run offers it back and must report it reused.
    let session = nginx.prefix().join("client-session.pem");
    let run = |session_flag: &str| -> String {
        let mut child = Command::new("timeout")
            .args(["20", "openssl", "s_client", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "-servername",
                "localhost",
                "-verify_return_error",
                "-ign_eof",
                "-CAfile",
            ])
            .arg(certs.ca())
            .arg(session_flag)
            .arg(&session)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("openssl runs (TestCerts found it)");
        let request = b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        child.stdin.take().unwrap().write_all(request).unwrap();
        let output = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = run("-sess_out");
    assert!(first.contains("Verify return code: 0 (ok)"), "{first}");
    assert!(
        first.contains("HTTP/1.1 200 OK") && first.contains("over tls"),
        "{first}"
    );
    let second = run("-sess_in");
    assert!(
        second.contains("Reused, TLSv1."),
        "session not resumed:\n{second}"
    );
    assert_eq!(nginx.accepted_connections(), 2);
}

#[test]
fn nginx_drop_stops_server_and_removes_prefix() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("a", "A")) else {
        return;
    };
    let (port, prefix, pid) = (
        nginx.port(),
        nginx.prefix().to_path_buf(),
        nginx.pid().unwrap(),
    );
    assert!(prefix.join("conf/nginx.conf").is_file());
    drop(nginx);
    assert!(!prefix.exists(), "prefix {} left behind", prefix.display());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "master still running"
    );
    // The worker is gone too: nothing listens on the port any more.
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
}

#[test]
fn python_http10_serves_file_and_closes() {
    let server = PythonServer::start([
        ("hello.txt", &b"hello\n"[..]),
        ("d/bytes", binary_bytes().as_slice()),
    ]);
    let mut conn = raw::connect(server.port()).unwrap();
    raw::send_get(&mut conn, "/hello.txt", &[]).unwrap();
    let response = raw::read_response(&mut conn, false).unwrap();
    assert_eq!(response.status_line, "HTTP/1.0 200 OK");
    assert_eq!(response.header("content-length"), Some("6"));
    assert_eq!(response.header("connection"), None);
    assert_eq!(response.body, b"hello\n");
    assert_closed_by_server(&mut conn);

    assert_eq!(raw::get(server.port(), "/d/bytes").body, binary_bytes());
    assert!(
        server.log().contains("\"GET /hello.txt HTTP/1.1\" 200"),
        "{}",
        server.log()
    );
}

#[test]
fn python_http11_keeps_connection_alive() {
    let server = PythonServer::start_http11([("a.txt", "A")]);
    let mut conn = raw::connect(server.port()).unwrap();
    for _ in 0..3 {
        raw::send_get(&mut conn, "/a.txt", &[]).unwrap();
        let response = raw::read_response(&mut conn, false).unwrap();
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
        assert_eq!(response.header("content-length"), Some("1"));
        assert_eq!(response.body, b"A");
    }
}

#[test]
fn python_drop_stops_server_and_removes_docroot() {
    let server = PythonServer::start([("a", "A")]);
    let (port, docroot) = (server.port(), server.docroot());
    assert!(docroot.join("a").is_file());
    assert!(
        !docroot.join(".spool-harness-ready").exists(),
        "readiness file removed"
    );
    drop(server);
    assert!(!docroot.exists());
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
}
