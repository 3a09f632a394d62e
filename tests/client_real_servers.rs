//! spool-client against servers written by others: nginx (keep-alive reuse counted by nginx itself,
//! chunked bodies, the `Connection: close` port, redirects, many connections) and Python's
//! `http.server` in its HTTP/1.0 and HTTP/1.1 modes.
//!
//! nginx tests skip with a notice when nginx is missing, unless `CI=true`.

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use spool_client::redirect::Policy;
use spool_client::{Client, ErrorKind, Method, StatusCode, Version};
use support::{run, Nginx, NginxOptions, PythonServer};

/// Bytes that are not text and repeat only after a long while, so misplaced chunks are caught.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn nginx_keep_alive_one_connection_for_100_requests() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("a.txt", "hello nginx\n")) else {
        return;
    };
    run(async {
        let client = Client::new();
        for i in 0..100 {
            let response = client.get(nginx.url("/a.txt")).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.info().reused, i > 0);
            assert_eq!(response.text().await.unwrap(), "hello nginx\n");
        }
    });
    assert_eq!(nginx.accepted_connections(), 1);
    assert_eq!(nginx.distinct_connections(100), 1);
}

#[test]
fn nginx_chunked_bodies() {
    let big = pattern(300_000);
    let options = NginxOptions::new()
        .file("small.txt", "just a little\n")
        .file("big.bin", big.clone());
    let Some(nginx) = Nginx::start(options) else {
        return;
    };
    run(async {
        let client = Client::new();
        let small = client
            .get(nginx.url("/chunked/small.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(small.headers()["transfer-encoding"], "chunked");
        assert_eq!(small.content_length(), None);
        assert_eq!(small.text().await.unwrap(), "just a little\n");

        let whole = client
            .get(nginx.url("/chunked/big.bin"))
            .send()
            .await
            .unwrap();
        assert_eq!(whole.headers()["transfer-encoding"], "chunked");
        assert!(whole.bytes().await.unwrap() == big);

        let mut streamed = Vec::new();
        let mut response = client
            .get(nginx.url("/chunked/big.bin"))
            .send()
            .await
            .unwrap();
        while let Some(chunk) = response.chunk().await.unwrap() {
            streamed.extend_from_slice(&chunk);
        }
        assert!(streamed == big);

        // And with Content-Length, for comparison.
        let plain = client.get(nginx.url("/big.bin")).send().await.unwrap();
        assert_eq!(plain.content_length(), Some(big.len() as u64));
        assert!(plain.bytes().await.unwrap() == big);
    });
    assert_eq!(
        nginx.accepted_connections(),
        1,
        "chunked responses keep the connection"
    );
}

#[test]
fn nginx_connection_close_port() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("c.txt", "closing")) else {
        return;
    };
    run(async {
        let client = Client::new();
        for _ in 0..20 {
            let response = client.get(nginx.close_url("/c.txt")).send().await.unwrap();
            assert!(!response.info().reused);
            assert_eq!(response.headers()["connection"], "close");
            assert_eq!(response.text().await.unwrap(), "closing");
            assert_eq!(client.pool_status().open, 0);
        }
    });
    assert_eq!(nginx.accepted_connections(), 20);
}

#[test]
fn nginx_head_404_and_post() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("h.txt", "12345")) else {
        return;
    };
    run(async {
        let client = Client::new();
        let head = client.head(nginx.url("/h.txt")).send().await.unwrap();
        assert_eq!(head.content_length(), Some(5));
        assert!(head.bytes().await.unwrap().is_empty());
        let missing = client.get(nginx.url("/missing")).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(!missing.text().await.unwrap().is_empty());
        // Static files refuse POST: the body is sent, the answer read, the connection kept.
        let post = client
            .post(nginx.url("/h.txt"))
            .body(vec![b'p'; 50_000])
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        post.bytes().await.unwrap();
        let again = client.get(nginx.url("/h.txt")).send().await.unwrap();
        assert_eq!(again.text().await.unwrap(), "12345");
    });
    assert_eq!(nginx.accepted_connections(), 1);
}

#[test]
fn nginx_receives_a_streamed_file_body_whole_and_keeps_the_connection() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("h.txt", "12345")) else {
        return;
    };
    if !nginx.require_echo() {
        return;
    }
    let dir = support::tempdir::TempDir::new("upload");
    let path = dir.path().join("body.bin");
    // Ten 64 KiB pieces and a bit: read from the file on the blocking pool as it is sent.
    let body: Vec<u8> = (0..700_001u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &body).unwrap();
    run(async {
        let client = Client::new();
        for _ in 0..2 {
            let echoed = client
                .post(nginx.url("/echo/body"))
                .body_file(&path)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(echoed.len(), body.len());
            assert!(echoed == body, "nginx echoed other bytes");
        }
    });
    assert_eq!(nginx.accepted_connections(), 1);
}

/// Hands out a byte slice `piece` bytes per read, like a pipe whose writer's size is not known.
struct Pieces {
    data: Vec<u8>,
    at: usize,
    piece: usize,
}

impl futures_io::AsyncRead for Pieces {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let n = buf.len().min(self.piece).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        std::task::Poll::Ready(Ok(n))
    }
}

#[test]
fn nginx_receives_a_chunked_body_of_unknown_length_whole_and_keeps_the_connection() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("h.txt", "12345")) else {
        return;
    };
    if !nginx.require_echo() {
        return;
    }
    let body: Vec<u8> = (0..300_007u32).map(|i| (i % 251) as u8).collect();
    run(async {
        let client = Client::new();
        // Odd pieces (one chunk each), then a body that is only the last chunk.
        for (data, piece) in [(body.clone(), 40_001), (Vec::new(), 1)] {
            let echoed = client
                .put(nginx.url("/echo/body"))
                .body_stream(Pieces {
                    data: data.clone(),
                    at: 0,
                    piece,
                })
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(echoed.len(), data.len());
            assert!(echoed == data, "nginx echoed other bytes");
        }
    });
    assert_eq!(nginx.accepted_connections(), 1);
}

#[test]
fn nginx_redirects() {
    let options = NginxOptions::new()
        .file("target.txt", "arrived")
        .redirect("/r301", 301, "/target.txt")
        .redirect("/r302", 302, "/r301")
        .redirect("/r303", 303, "/target.txt")
        .redirect("/r307", 307, "/target.txt")
        .redirect("/r308", 308, "/target.txt")
        .redirect("/loop", 302, "/loop")
        .redirect(
            "/elsewhere",
            302,
            "http://127.0.0.1:$server_port/target.txt",
        );
    let Some(nginx) = Nginx::start(options) else {
        return;
    };
    run(async {
        let client = Client::new();
        let response = client.get(nginx.url("/r302")).send().await.unwrap();
        assert_eq!(response.info().redirects, 2);
        assert_eq!(response.url().path(), "/target.txt");
        assert_eq!(response.text().await.unwrap(), "arrived");

        let absolute = client.get(nginx.url("/elsewhere")).send().await.unwrap();
        assert_eq!(absolute.text().await.unwrap(), "arrived");

        // POST after 303 becomes GET (nginx serves the file); after 307/308 it stays POST (nginx
        // refuses POST on a static file with 405).
        let cases = [
            ("/r303", StatusCode::OK),
            ("/r301", StatusCode::OK),
            ("/r307", StatusCode::METHOD_NOT_ALLOWED),
            ("/r308", StatusCode::METHOD_NOT_ALLOWED),
        ];
        for (path, status) in cases {
            let response = client
                .request(Method::POST, nginx.url(path))
                .body("data")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{path}");
            response.bytes().await.unwrap();
        }

        let e = client.get(nginx.url("/loop")).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooManyRedirects);

        let none = Client::builder().redirect(Policy::none()).build().unwrap();
        let response = none.get(nginx.url("/r301")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(response.headers()["location"], "/target.txt");
    });
    let requests = nginx.requests();
    let methods: Vec<_> = requests
        .iter()
        .filter(|r| r.uri == "/target.txt")
        .map(|r| r.method.clone())
        .collect();
    assert!(
        methods.iter().filter(|m| *m == "POST").count() == 2,
        "{methods:?}"
    );
}

#[test]
fn nginx_many_connections() {
    const REQUESTS: usize = 3_000;
    const CONNECTIONS: usize = 500;
    let body = pattern(2_000);
    let Some(nginx) = Nginx::start(NginxOptions::new().file("m.bin", body.clone())) else {
        return;
    };
    run(async {
        let client = Client::builder()
            .max_connections_per_host(CONNECTIONS)
            .max_connections(CONNECTIONS)
            .build()
            .unwrap();
        let next = Rc::new(Cell::new(0));
        let mut workers = Vec::new();
        for _ in 0..CONNECTIONS {
            let (client, next, body, url) = (
                client.clone(),
                next.clone(),
                body.clone(),
                nginx.url("/m.bin"),
            );
            workers.push(spool_runtime::spawn(async move {
                while next.get() < REQUESTS {
                    next.set(next.get() + 1);
                    let got = client
                        .get(&url)
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    assert!(got == body);
                }
            }));
        }
        for w in workers {
            w.await.unwrap();
        }
    });
    assert!(nginx.accepted_connections() <= CONNECTIONS as u64);
    assert_eq!(nginx.wait_for_requests(REQUESTS).len(), REQUESTS);
}

#[test]
fn nginx_read_timeout_on_a_stalled_body() {
    let Some(nginx) = Nginx::start(NginxOptions::new()) else {
        return;
    };
    if !nginx.require_echo() {
        return;
    }
    run(async {
        let client = Client::builder()
            .read_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let mut response = client
            .get(nginx.url("/stall?ms=5000"))
            .send()
            .await
            .unwrap();
        assert_eq!(&response.chunk().await.unwrap().unwrap()[..], b"first\n");
        let e = response.chunk().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");

        let e = client
            .get(nginx.url("/slow?ms=5000"))
            .timeout(Duration::from_millis(300))
            .send()
            .await
            .unwrap_err();
        assert!(e.is_timeout(), "{e}");
    });
}

#[test]
fn python_http10_server() {
    let body = pattern(70_000);
    let server = PythonServer::start([("p.bin", body.clone()), ("t.txt", b"python".to_vec())]);
    run(async {
        let client = Client::new();
        for _ in 0..3 {
            let response = client.get(server.url("/p.bin")).send().await.unwrap();
            assert_eq!(response.version(), Version::HTTP_10);
            assert!(!response.info().reused, "HTTP/1.0 closes every connection");
            assert!(response.bytes().await.unwrap() == body);
        }
        let text = client
            .get(server.url("/t.txt"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text, "python");
        let missing = client.get(server.url("/nope")).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(!missing.text().await.unwrap().is_empty());
        assert_eq!(client.pool_status().open, 0);
    });
}

#[test]
fn python_http11_server_keeps_the_connection() {
    let body = pattern(10_000);
    let server = PythonServer::start_http11([("k.bin", body.clone())]);
    run(async {
        let client = Client::new();
        for i in 0..5 {
            let response = client.get(server.url("/k.bin")).send().await.unwrap();
            assert_eq!(response.version(), Version::HTTP_11);
            assert_eq!(response.info().reused, i > 0);
            assert!(response.bytes().await.unwrap() == body);
        }
    });
}
