//! Basic exchanges against the in-process server: bodies in every framing, keep-alive reuse,
//! methods and headers on the wire.

mod server;

use std::time::Duration;

use server::{run, text_of, Reply, Server};
use spool_client::{Client, ErrorKind, StatusCode, Version};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn get_with_content_length() {
    let server = Server::start(|req| Reply::ok(format!("hello {}", req.path)));
    run(LIMIT, async {
        let client = Client::new();
        let response = client.get(server.url("/a?b=c")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), Version::HTTP_11);
        assert_eq!(response.content_length(), Some(12));
        assert_eq!(response.url().to_string(), server.url("/a?b=c"));
        assert!(!response.info().reused);
        assert_eq!(response.text().await.unwrap(), "hello /a?b=c");
    });
    let req = &server.requests()[0];
    assert_eq!(req.method, "GET");
    assert!(
        req.head.starts_with("GET /a?b=c HTTP/1.1\r\n"),
        "{}",
        req.head
    );
    assert_eq!(req.header("host"), Some(server.addr().to_string()));
    assert_eq!(req.header("user-agent").as_deref(), Some("spool/0.1.0"));
}

#[test]
fn hundred_sequential_requests_use_one_connection() {
    let server = Server::start(|req| Reply::ok(format!("n={}", req.nth)));
    run(LIMIT, async {
        let client = Client::new();
        for i in 1..=100 {
            let response = client.get(server.url("/")).send().await.unwrap();
            assert_eq!(response.info().reused, i > 1);
            assert_eq!(response.text().await.unwrap(), format!("n={i}"));
        }
        assert_eq!(client.pool_status().idle, 1);
    });
    assert_eq!(server.accepted(), 1);
}

#[test]
fn chunked_and_close_delimited_bodies() {
    let server = Server::start(|req| {
        match req.path.as_str() {
        "/chunked" => Reply::raw(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n",
        ),
        "/close" => Reply::raw("HTTP/1.1 200 OK\r\n\r\nuntil the end").then_close(),
        _ => Reply::status(404, &[], ""),
    }
    });
    run(LIMIT, async {
        let client = Client::new();
        let text = text_of(client.get(server.url("/chunked"))).await;
        assert_eq!(text, "hello world");
        let response = client.get(server.url("/chunked")).send().await.unwrap();
        assert!(response.info().reused, "chunked keeps the connection");
        drop(response.bytes().await.unwrap());
        let text = text_of(client.get(server.url("/close"))).await;
        assert_eq!(text, "until the end");
    });
}

#[test]
fn post_sends_the_body_with_its_length() {
    let server = Server::start(|req| Reply::ok(req.body.clone()));
    run(LIMIT, async {
        let client = Client::new();
        let big = vec![b'x'; 100_000];
        for body in [b"small".to_vec(), big] {
            let echoed = client
                .post(server.url("/echo"))
                .header("content-type", "text/plain")
                .body(body.clone())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(echoed.len(), body.len());
            assert!(echoed == body);
        }
    });
    let reqs = server.requests();
    assert_eq!(reqs[0].header("content-length").as_deref(), Some("5"));
    assert_eq!(reqs[1].header("content-length").as_deref(), Some("100000"));
}

#[test]
fn connection_refused_is_a_connect_error() {
    // Bind then drop a listener: the port is (very likely) closed right after.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    run(LIMIT, async {
        let url = format!("http://{addr}/");
        let e = Client::new().get(&url).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
        assert!(e.is_connect());
        assert_eq!(
            e.to_string(),
            format!("connection refused while connecting to {addr} ({url})")
        );
    });
}

#[test]
fn host_names_are_resolved_off_the_loop() {
    // `localhost` comes from /etc/hosts (no network); it may list ::1 first, where nothing
    // listens: the next address is tried.
    let server = Server::start(|_| Reply::ok("by name"));
    run(LIMIT, async {
        let url = format!("http://localhost:{}/", server.addr().port());
        let response = Client::new().get(&url).send().await.unwrap();
        assert_eq!(response.url().host(), Some("localhost"));
        assert_eq!(response.text().await.unwrap(), "by name");
    });
}

#[test]
fn https_to_a_closed_port_is_a_connect_error() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    run(LIMIT, async {
        let e = Client::new()
            .get(format!("https://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    });
}

#[test]
fn connect_errors_keep_the_os_error_in_their_source_chain() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    run(LIMIT, async {
        let e = Client::new()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        let mut source = std::error::Error::source(&e);
        let mut os_error = None;
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                if io.raw_os_error().is_some() {
                    os_error = Some(io.kind());
                }
            }
            source = s.source();
        }
        assert_eq!(
            os_error,
            Some(std::io::ErrorKind::ConnectionRefused),
            "the OS error somewhere in the chain of {e:?}"
        );
    });
}
