//! The keep-alive pool: reuse, stale connections, half-read responses, probes, idle expiry and
//! idle limits. The connection limits are in client_limits.rs.

mod server;

use std::time::Duration;

use server::{eventually, run, Reply, Server};
use spool_client::{Client, ErrorKind};
use spool_runtime::time::sleep;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn stale_pooled_connection_is_retried_for_get() {
    // The second request on the first connection is met with a close and no answer: the
    // keep-alive race, as when a server times out an idle connection just as it is reused.
    let server = Server::start(|req| {
        if req.conn == 1 && req.nth == 2 {
            Reply::close_silently()
        } else {
            Reply::ok(format!("conn {} req {}", req.conn, req.nth))
        }
    });
    run(LIMIT, async {
        let client = Client::new();
        let first = client.get(server.url("/")).send().await.unwrap();
        assert_eq!(first.text().await.unwrap(), "conn 1 req 1");
        let second = client.get(server.url("/")).send().await.unwrap();
        assert!(
            !second.info().reused,
            "the retry runs on a fresh connection"
        );
        assert_eq!(second.text().await.unwrap(), "conn 2 req 1");
    });
    assert_eq!(server.accepted(), 2);
    assert_eq!(server.request_count(), 3);
}

#[test]
fn stale_pooled_connection_is_not_retried_for_post() {
    let server = Server::start(|req| {
        if req.conn == 1 && req.nth == 2 {
            Reply::close_silently()
        } else {
            Reply::ok("fine")
        }
    });
    run(LIMIT, async {
        let client = Client::new();
        let first = client.post(server.url("/")).body("a").send().await.unwrap();
        assert_eq!(first.text().await.unwrap(), "fine");
        let e = client
            .post(server.url("/"))
            .body("b")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert!(e.to_string().contains("not retried"), "{e}");
        // The next request works on a new connection.
        let third = client.post(server.url("/")).body("c").send().await.unwrap();
        assert_eq!(third.text().await.unwrap(), "fine");
    });
    assert_eq!(server.request_count(), 3, "the POST was sent once");
}

#[test]
fn half_read_response_is_not_reused() {
    let big = vec![b'z'; 4 << 20];
    let server = Server::start(move |req| match req.path.as_str() {
        "/big" => Reply::ok(big.clone()),
        _ => Reply::ok("small"),
    });
    run(LIMIT, async {
        let client = Client::new();
        let mut response = client.get(server.url("/big")).send().await.unwrap();
        let chunk = response.chunk().await.unwrap().unwrap();
        assert!(!chunk.is_empty());
        drop(response);
        assert_eq!(
            client.pool_status().open,
            0,
            "the half-read connection was closed"
        );
        let next = client.get(server.url("/small")).send().await.unwrap();
        assert!(!next.info().reused);
        assert_eq!(next.text().await.unwrap(), "small");
    });
    assert_eq!(server.accepted(), 2);
}

#[test]
fn dropped_response_whose_body_already_arrived_keeps_its_connection() {
    let server = Server::start(|_| Reply::ok("tiny body"));
    run(LIMIT, async {
        let client = Client::new();
        let response = client.get(server.url("/")).send().await.unwrap();
        // The whole small body came with the head: the connection is back before the body is read.
        assert_eq!(client.pool_status().idle, 1);
        drop(response);
        assert_eq!(client.pool_status().idle, 1);
        let again = client.get(server.url("/")).send().await.unwrap();
        assert!(again.info().reused);
    });
    assert_eq!(server.accepted(), 1);
}

#[test]
fn connection_closed_by_server_while_idle_is_replaced() {
    // Responses without `Connection: close`, but the server closes each connection right after.
    let server = Server::start(|_| Reply::ok("once").then_close());
    run(LIMIT, async {
        let client = Client::new();
        for _ in 0..5 {
            // POST: never retried, so only the probe can save it from the dead connection.
            let response = client.post(server.url("/")).send().await.unwrap();
            assert_eq!(response.text().await.unwrap(), "once");
            // Let the server's close arrive, so the checkout probe (not the retry) catches it.
            assert!(eventually(|| server.active() == 0).await);
            sleep(Duration::from_millis(5)).await;
        }
    });
    assert_eq!(server.accepted(), 5);
    assert_eq!(
        server.request_count(),
        5,
        "the probe discarded each dead connection"
    );
}

#[test]
fn connection_close_and_http10_are_not_pooled() {
    let server = Server::start(|req| match req.path.as_str() {
        "/close" => Reply::status(200, &["Connection: close"], "a").then_close(),
        _ => Reply::raw("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb").then_close(),
    });
    run(LIMIT, async {
        let client = Client::new();
        for path in ["/close", "/old", "/close"] {
            let response = client.get(server.url(path)).send().await.unwrap();
            response.bytes().await.unwrap();
            assert_eq!(client.pool_status().open, 0, "{path}");
        }
    });
    assert_eq!(server.accepted(), 3);
}

#[test]
fn idle_connections_expire() {
    let server = Server::start(|req| match req.path.as_str() {
        "/hint" => Reply::status(200, &["Keep-Alive: timeout=1"], "x"),
        _ => Reply::ok("x"),
    });
    run(LIMIT, async {
        let client = Client::builder()
            .pool_idle_timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(client.pool_status().idle, 1);
        assert!(eventually(|| client.pool_status().open == 0).await);

        // The default idle timeout is 15 s; the server's `Keep-Alive: timeout=1` shortens it.
        let client = Client::new();
        client
            .get(server.url("/hint"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(client.pool_status().idle, 1);
        assert!(eventually(|| client.pool_status().open == 0).await);
    });
    assert!(eventually_blocking(|| server.active() == 0));
}

fn eventually_blocking(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

#[test]
fn pool_max_idle_per_host_and_total() {
    let server = Server::start_ports(3, |_| Reply::ok("x").delayed(Duration::from_millis(20)));
    run(LIMIT, async {
        let client = Client::builder()
            .pool_max_idle_per_host(2)
            .pool_max_idle(3)
            .build()
            .unwrap();
        // Five concurrent requests to port 0 open five connections; two stay idle.
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let (client, url) = (client.clone(), server.url_on(0, "/"));
            tasks.push(spool_runtime::spawn(async move {
                client.get(url).send().await.unwrap().bytes().await.unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(client.pool_status().idle, 2);
        for port in [1, 2] {
            let mut tasks = Vec::new();
            for _ in 0..2 {
                let (client, url) = (client.clone(), server.url_on(port, "/"));
                tasks.push(spool_runtime::spawn(async move {
                    client.get(url).send().await.unwrap().bytes().await.unwrap()
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
        let status = client.pool_status();
        assert_eq!(status.idle, 3, "{status:?}");
        assert_eq!(status.open, 3, "{status:?}");
    });
}

#[test]
fn a_client_outlives_its_runtime() {
    // Pooled connections belong to the runtime that opened them: when it ends, they are closed,
    // and the client opens new ones in the next runtime.
    let server = Server::start(|_| Reply::ok("x"));
    let client = Client::new();
    for round in 0..3 {
        let response = run(LIMIT, async {
            let response = client.get(server.url("/")).send().await.unwrap();
            assert!(!response.info().reused, "round {round}");
            let again = client.get(server.url("/")).send().await.unwrap();
            assert!(again.info().reused, "round {round}");
            again
        });
        // Read (and return the connection) outside any runtime: it must not be pooled.
        drop(response);
        assert_eq!(client.pool_status().idle, 0, "round {round}");
    }
    assert_eq!(server.accepted(), 3);
}

/// Many reuses of one connection leave many ended idle periods in the pool's eviction order, which
/// the pool compacts from time to time (past 64 of them). After that, eviction must still close the
/// oldest idle connection: port 0's, not port 1's newer one.
#[test]
fn eviction_still_picks_the_oldest_after_many_reuses() {
    let server = Server::start_ports(2, |_| Reply::ok("x"));
    run(LIMIT, async {
        let client = Client::builder().pool_max_idle(1).build().unwrap();
        // 200 sequential requests: one connection, 200 idle periods, several compactions.
        for i in 0..200 {
            let response = client.get(server.url_on(0, "/")).send().await.unwrap();
            assert_eq!(response.info().reused, i > 0, "request {i}");
            response.bytes().await.unwrap();
        }
        // Port 1's connection goes idle too: over pool_max_idle(1), the oldest (port 0's) closes.
        let response = client.get(server.url_on(1, "/")).send().await.unwrap();
        response.bytes().await.unwrap();
        let status = client.pool_status();
        assert_eq!((status.idle, status.open), (1, 1), "{status:?}");
        let again = client.get(server.url_on(1, "/")).send().await.unwrap();
        assert!(again.info().reused, "port 1's newer connection was kept");
        again.bytes().await.unwrap();
        let first = client.get(server.url_on(0, "/")).send().await.unwrap();
        assert!(
            !first.info().reused,
            "port 0's older connection was evicted"
        );
    });
}
