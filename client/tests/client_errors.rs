//! Bad input refused before any byte is sent, and bad responses reported as the right error —
//! never as a short success.

mod server;

use std::time::Duration;

use server::{run, text_of, Reply, Server};
use spool_client::{Client, ErrorKind, HeaderMap, HeaderValue, Method, StatusCode};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn invalid_urls_are_refused_before_connecting() {
    let server = Server::start(|_| Reply::ok("should not be reached"));
    let port = server.addr().port();
    run(LIMIT, async {
        let client = Client::new();
        let cases = [
            (format!("ftp://127.0.0.1:{port}/"), "\"ftp\""),
            (format!("http://127.0.0.1:{port}/a b"), "space"),
            (
                format!("http://127.0.0.1:{port}/a\r\nX-Injected: 1"),
                "control character",
            ),
            (format!("http://127.0.0.1:{port}/a\nb"), "control character"),
            (format!("http://127.0.0.1:{port}/\0"), "control character"),
            (format!("http://127.0.0.1:{port}/\t"), "control character"),
            ("http:///path".to_string(), "empty host"),
            ("http://:80/".to_string(), "empty host"),
            ("127.0.0.1/x".to_string(), "no scheme"),
            ("http://127.0.0.1:70000/".to_string(), "port"),
        ];
        for (url, expected) in cases {
            let e = client.get(&url).send().await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{url:?}: {e}");
            assert!(e.to_string().contains(expected), "{url:?}: {e}");
            assert!(e.is_builder());
        }
    });
    assert_eq!(server.accepted(), 0, "no connection was made");
}

#[test]
fn invalid_headers_are_refused_before_connecting() {
    let server = Server::start(|_| Reply::ok("should not be reached"));
    run(LIMIT, async {
        let client = Client::new();
        let url = server.url("/");
        let cases = [
            client.get(&url).header("x bad", "v"),
            client.get(&url).header("x-bad\r\n", "v"),
            client.get(&url).header("", "v"),
            client.get(&url).header("x-value", "a\r\nX-Injected: 1"),
            client.get(&url).header("x-value", "a\nb"),
            client.get(&url).header("x-value", "a\0b"),
            client.get(&url).header("transfer-encoding", "chunked"),
            client
                .post(&url)
                .header("content-length", "10")
                .body("short"),
            client.get(&url).header("host", "a").header("host", "b"),
            client.request(Method::CONNECT, &url),
        ];
        for (i, request) in cases.into_iter().enumerate() {
            let e = request.send().await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Builder, "case {i}: {e}");
        }
        let e = client
            .get(&url)
            .header("x-value", "a\r\nb")
            .send()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("x-value"), "names the header: {e}");
        let e = Client::builder().user_agent("a\r\nb").build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Builder);
    });
    assert_eq!(server.accepted(), 0, "no connection was made");
}

#[test]
fn headers_reach_the_server_as_given() {
    let server = Server::start(|req| Reply::ok(req.head.clone()));
    run(LIMIT, async {
        let mut map = HeaderMap::new();
        map.insert("x-map", HeaderValue::from_static("m"));
        let head = text_of(
            Client::new()
                .get(server.url("/h"))
                .header("X-One", "1")
                .header("x-one", "2")
                .header("user-agent", "custom/1")
                .headers(map),
        )
        .await;
        assert!(head.contains("x-one: 1\r\nx-one: 2\r\n"), "{head}");
        assert!(head.contains("x-map: m\r\n"), "{head}");
        assert!(head.contains("user-agent: custom/1\r\n"), "{head}");
        assert!(!head.contains("spool/"), "{head}");
    });
}

#[test]
fn url_credentials_become_basic_authorization() {
    let server = Server::start(|req| Reply::ok(req.header("authorization").unwrap_or_default()));
    run(LIMIT, async {
        let url = format!("http://user:p%40ss@{}/", server.addr());
        let auth = text_of(Client::new().get(&url)).await;
        assert_eq!(auth, "Basic dXNlcjpwQHNz");
    });
}

#[test]
fn truncated_bodies_are_errors_never_short_successes() {
    let server = Server::start(|req| match req.path.as_str() {
        "/length" => {
            Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this").then_close()
        }
        "/chunked" => {
            Reply::raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nwo")
                .then_close()
        }
        "/head" => Reply::raw("HTTP/1.1 200 OK\r\nContent-Len").then_close(),
        _ => Reply::close_silently(),
    });
    run(LIMIT, async {
        let client = Client::new();
        for path in ["/length", "/chunked"] {
            let e = client
                .get(server.url(path))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::IncompleteBody, "{path}: {e}");
            assert!(e.is_body());
            assert_eq!(e.url().map(|u| u.path()), Some(path));

            let mut response = client.get(server.url(path)).send().await.unwrap();
            let mut got = 0;
            let e = loop {
                match response.chunk().await {
                    Ok(Some(c)) => got += c.len(),
                    Ok(None) => panic!("{path}: a truncated body ended cleanly after {got} bytes"),
                    Err(e) => break e,
                }
            };
            assert_eq!(e.kind(), ErrorKind::IncompleteBody, "{path}: {e}");
            assert!(
                response.chunk().await.is_err(),
                "{path}: the failure is sticky"
            );
        }
        let e = client.get(server.url("/head")).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
        let e = client.get(server.url("/nothing")).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert!(e.to_string().contains("before any response byte"), "{e}");
    });
}

#[test]
fn malformed_and_oversized_responses() {
    let server = Server::start(|req| match req.path.as_str() {
        "/garbage" => Reply::raw("SSH-2.0-OpenSSH_9.6\r\n\r\n").then_close(),
        "/big-head" => Reply::status(200, &[&format!("X-Big: {}", "a".repeat(4000))], "x"),
        "/many" => {
            let lines: Vec<String> = (0..50).map(|i| format!("X-{i}: v")).collect();
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            Reply::status(200, &refs, "x")
        }
        "/upgrade" => Reply::raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"),
        "/two-lengths" => {
            Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
        }
        _ => Reply::ok(vec![b'b'; 5000]),
    });
    run(LIMIT, async {
        let client = Client::builder()
            .max_response_head_bytes(2048)
            .max_headers(20)
            .max_body_bytes(1000)
            .build()
            .unwrap();
        let kind = |path: &'static str| {
            let client = client.clone();
            let url = server.url(path);
            async move { client.get(url).send().await.unwrap_err().kind() }
        };
        assert_eq!(kind("/garbage").await, ErrorKind::Protocol);
        assert_eq!(kind("/big-head").await, ErrorKind::TooLarge);
        assert_eq!(kind("/many").await, ErrorKind::TooLarge);
        assert_eq!(kind("/upgrade").await, ErrorKind::Protocol);
        assert_eq!(kind("/two-lengths").await, ErrorKind::Protocol);
        // Over max_body_bytes: refused for bytes(), fine for streaming.
        let e = client
            .get(server.url("/body"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge, "{e}");
        let mut response = client.get(server.url("/body")).send().await.unwrap();
        let mut total = 0;
        while let Some(c) = response.chunk().await.unwrap() {
            total += c.len();
        }
        assert_eq!(total, 5000);
    });
}

#[test]
fn bodiless_and_interim_responses() {
    let server = Server::start(|req| {
        match req.path.as_str() {
        "/no-content" => Reply::raw("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"),
        "/not-modified" => Reply::raw("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"),
        "/interim" => Reply::raw(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ),
        _ if req.method == "HEAD" => Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"),
        _ => Reply::ok("seven b"),
    }
    });
    run(LIMIT, async {
        let client = Client::new();
        let head = client.head(server.url("/")).send().await.unwrap();
        assert_eq!(head.content_length(), Some(7));
        assert!(head.bytes().await.unwrap().is_empty());
        for path in ["/no-content", "/not-modified"] {
            let response = client.get(server.url(path)).send().await.unwrap();
            assert!(response.bytes().await.unwrap().is_empty(), "{path}");
        }
        let response = client.get(server.url("/interim")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.text().await.unwrap(), "ok");
        // All of them left the one connection reusable.
        let last = client.get(server.url("/")).send().await.unwrap();
        assert!(last.info().reused);
        assert_eq!(last.text().await.unwrap(), "seven b");
    });
    assert_eq!(server.accepted(), 1);
}

#[test]
fn text_follows_the_charset() {
    let server = Server::start(|req| match req.path.as_str() {
        "/latin1" => Reply::status(
            200,
            &["Content-Type: text/plain; charset=ISO-8859-1"],
            b"caf\xe9".to_vec(),
        ),
        "/bad-utf8" => Reply::status(200, &["Content-Type: text/plain"], b"ok\xff".to_vec()),
        _ => Reply::status(200, &["Content-Type: text/plain; charset=utf-8"], "café"),
    });
    run(LIMIT, async {
        let client = Client::new();
        let text = |path: &'static str| {
            let (client, url) = (client.clone(), server.url(path));
            async move { client.get(url).send().await.unwrap().text().await.unwrap() }
        };
        assert_eq!(text("/latin1").await, "café");
        assert_eq!(text("/bad-utf8").await, "ok\u{FFFD}");
        assert_eq!(text("/utf8").await, "café");
    });
}
