//! Scale on one thread: 10,000 requests with 1,000 in flight, every body checked.

mod server;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use server::{run, Reply, Server};
use spool_client::Client;

/// The body the server sends for request `n`: its size varies from 0 to ~3 KB, and every fifth one
/// is chunked, so the check covers both framings and many buffer boundaries.
fn body_for(n: usize) -> Vec<u8> {
    let line = format!("request {n} ");
    line.repeat(n % 211).into_bytes()
}

#[test]
fn ten_thousand_requests_with_a_thousand_in_flight() {
    const REQUESTS: usize = 10_000;
    const IN_FLIGHT: usize = 1_000;
    let server = Server::start(|req| {
        let n: usize = req.path.trim_start_matches('/').parse().unwrap();
        let body = body_for(n);
        if n.is_multiple_of(5) {
            let mut raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for piece in body.chunks(700) {
                raw.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                raw.extend_from_slice(piece);
                raw.extend_from_slice(b"\r\n");
            }
            raw.extend_from_slice(b"0\r\n\r\n");
            Reply::raw(raw)
        } else {
            Reply::ok(body)
        }
    });
    let done = run(Duration::from_secs(120), async {
        // 1,000 requests in flight at any time; at most 200 connections (so the test stays well
        // under a default 1,024 file descriptor limit), the rest wait in the pool's queue.
        let client = Client::builder()
            .max_connections_per_host(200)
            .build()
            .unwrap();
        let next = Rc::new(Cell::new(0));
        let done = Rc::new(Cell::new(0));
        let mut workers = Vec::new();
        for _ in 0..IN_FLIGHT {
            let (client, next, done) = (client.clone(), next.clone(), done.clone());
            let base = server.url("/");
            workers.push(spool_runtime::spawn(async move {
                loop {
                    let n = next.get();
                    if n >= REQUESTS {
                        return;
                    }
                    next.set(n + 1);
                    let response = client.get(format!("{base}{n}")).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    let body = response.bytes().await.unwrap();
                    assert!(body == body_for(n), "body of request {n} differs");
                    done.set(done.get() + 1);
                }
            }));
        }
        for w in workers {
            w.await.unwrap();
        }
        let status = client.pool_status();
        assert_eq!(status.waiting, 0);
        assert!(status.open <= 200, "{status:?}");
        done.get()
    });
    assert_eq!(done, REQUESTS);
    assert_eq!(server.request_count(), REQUESTS);
    assert!(server.max_active() <= 200, "max {}", server.max_active());
}
