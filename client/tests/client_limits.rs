//! The total and per-host connection limits: enforced, fair (FIFO, no host holding back another),
//! and leak-proof when waiting requests give up.

mod server;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use server::{eventually, run, Reply, Server};
use spool_client::Client;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn per_host_limit_is_enforced_and_queued_requests_all_complete() {
    let server = Server::start(|req| Reply::ok(req.path.clone()).delayed(Duration::from_millis(5)));
    run(LIMIT, async {
        let client = Client::builder()
            .max_connections_per_host(4)
            .build()
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..60 {
            let (client, url) = (client.clone(), server.url(&format!("/{i}")));
            tasks.push(spool_runtime::spawn(async move {
                let body = client.get(url).send().await.unwrap().text().await.unwrap();
                assert_eq!(body, format!("/{i}"));
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(client.pool_status().waiting, 0);
    });
    assert!(server.max_active() <= 4, "max {}", server.max_active());
    assert_eq!(server.accepted(), 4);
}

#[test]
fn total_limit_is_enforced_across_hosts() {
    let server = Server::start_ports(4, |_| Reply::ok("x").delayed(Duration::from_millis(5)));
    run(LIMIT, async {
        let client = Client::builder()
            .max_connections(3)
            .max_connections_per_host(0)
            .build()
            .unwrap();
        let max_open = Rc::new(Cell::new(0));
        let mut tasks = Vec::new();
        for i in 0..80 {
            let (client, url) = (client.clone(), server.url_on(i % 4, "/"));
            let max_open = max_open.clone();
            tasks.push(spool_runtime::spawn(async move {
                let response = client.get(url).send().await.unwrap();
                max_open.set(max_open.get().max(client.pool_status().open));
                response.bytes().await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(max_open.get() <= 3, "max open {}", max_open.get());
        assert!(client.pool_status().open <= 3);
    });
}

#[test]
fn a_host_at_its_cap_does_not_hold_back_other_hosts() {
    // Port 0 answers slowly; port 1 at once.
    let server = Server::start_ports(2, |req| {
        if req.path == "/slow" {
            Reply::ok("slow").delayed(Duration::from_millis(1000))
        } else {
            Reply::ok("fast")
        }
    });
    run(LIMIT, async {
        let client = Client::builder()
            .max_connections_per_host(2)
            .max_connections(10)
            .build()
            .unwrap();
        let slow_done = Rc::new(Cell::new(0));
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (client, url, done) =
                (client.clone(), server.url_on(0, "/slow"), slow_done.clone());
            tasks.push(spool_runtime::spawn(async move {
                client.get(url).send().await.unwrap().bytes().await.unwrap();
                done.set(done.get() + 1);
            }));
        }
        // Let the slow requests start and queue up behind port 0's cap.
        spool_runtime::yield_now().await;
        assert!(eventually(|| client.pool_status().waiting == 4).await);
        let fast = client.get(server.url_on(1, "/fast")).send().await.unwrap();
        assert_eq!(fast.text().await.unwrap(), "fast");
        assert_eq!(
            slow_done.get(),
            0,
            "the fast host was served while the slow one queued"
        );
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(slow_done.get(), 6);
    });
}

#[test]
fn idle_connection_of_another_host_makes_room_at_the_total_limit() {
    let server = Server::start_ports(2, |_| Reply::ok("x"));
    run(LIMIT, async {
        let client = Client::builder().max_connections(1).build().unwrap();
        client
            .get(server.url_on(0, "/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(client.pool_status().idle, 1);
        // Port 1 needs the only slot: the idle connection to port 0 is closed, nobody waits.
        let response = client.get(server.url_on(1, "/")).send().await.unwrap();
        response.bytes().await.unwrap();
        let status = client.pool_status();
        assert_eq!((status.open, status.idle), (1, 1), "{status:?}");
    });
}

#[test]
fn cancelled_waiters_give_their_place_back() {
    let server = Server::start(|_| Reply::ok("x").delayed(Duration::from_millis(50)));
    run(LIMIT, async {
        let client = Client::builder()
            .max_connections_per_host(1)
            .build()
            .unwrap();
        let holder = {
            let (client, url) = (client.clone(), server.url("/"));
            spool_runtime::spawn(async move { client.get(url).send().await.unwrap().bytes().await })
        };
        // Queued requests that give up (timeout) while waiting for the slot.
        for _ in 0..5 {
            let e = client
                .get(server.url("/"))
                .timeout(Duration::from_millis(1))
                .send()
                .await
                .unwrap_err();
            assert!(e.is_timeout(), "{e}");
        }
        holder.await.unwrap().unwrap();
        assert_eq!(client.pool_status().waiting, 0);
        // The slot is usable again.
        client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(client.pool_status().open, 1);
    });
}

#[test]
fn at_the_total_limit_a_finished_connection_goes_to_the_next_request_for_its_host() {
    // One host, more demand than the total limit: connections must be handed over, not closed and
    // reopened.
    let server = Server::start(|_| Reply::ok("x").delayed(Duration::from_millis(2)));
    run(LIMIT, async {
        let client = Client::builder()
            .max_connections(4)
            .max_connections_per_host(0)
            .build()
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let (client, url) = (client.clone(), server.url("/"));
            tasks.push(spool_runtime::spawn(async move {
                client.get(url).send().await.unwrap().bytes().await.unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(server.accepted(), 4);
}

#[test]
fn limits_hold_under_a_random_mix_of_hosts_delays_and_cancellations() {
    // Four origins with different delays; requests with and without tight timeouts (so some give
    // up while queued or mid-response). Deterministic pseudo-random choices, bounded count.
    let server = Server::start_ports(4, |req| {
        let ms: u64 = req.path.trim_start_matches('/').parse().unwrap_or(0);
        Reply::ok(format!("{ms}")).delayed(Duration::from_millis(ms))
    });
    run(LIMIT, async {
        let client = Client::builder()
            .max_connections(5)
            .max_connections_per_host(2)
            .build()
            .unwrap();
        let max_open = Rc::new(Cell::new(0));
        let ok = Rc::new(Cell::new(0));
        let timed_out = Rc::new(Cell::new(0));
        let mut seed: u64 = 0x5eed;
        let mut tasks = Vec::new();
        for _ in 0..300 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let port = (seed >> 33) as usize % 4;
            let ms = (seed >> 40) % 8;
            let tight = (seed >> 50).is_multiple_of(5);
            let (client, url) = (client.clone(), server.url_on(port, &format!("/{ms}")));
            let (max_open, ok, timed_out) = (max_open.clone(), ok.clone(), timed_out.clone());
            tasks.push(spool_runtime::spawn(async move {
                let mut request = client.get(url);
                if tight {
                    request = request.timeout(Duration::from_millis(3));
                }
                match request.send().await {
                    Ok(response) => {
                        max_open.set(max_open.get().max(client.pool_status().open));
                        match response.text().await {
                            Ok(body) => {
                                assert_eq!(body, ms.to_string());
                                ok.set(ok.get() + 1);
                            }
                            Err(e) => {
                                assert!(e.is_timeout(), "{e}");
                                timed_out.set(timed_out.get() + 1);
                            }
                        }
                    }
                    Err(e) => {
                        assert!(e.is_timeout() && tight, "{e}");
                        timed_out.set(timed_out.get() + 1);
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(ok.get() + timed_out.get(), 300);
        assert!(ok.get() >= 200, "only {} succeeded", ok.get());
        assert!(max_open.get() <= 5, "max open {}", max_open.get());
        let status = client.pool_status();
        assert_eq!(status.waiting, 0, "{status:?}");
        assert!(status.open <= 5 && status.idle == status.open, "{status:?}");
    });
}
