//! spool-client's retry policy against nginx (a location that always answers 503) and in-process
//! servers that fail a set number of times (503 with `Retry-After`, a stalled answer, a refused
//! port), counting what each server received.
//!
//! Skips the nginx test with a notice when nginx is missing, unless `CI=true`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spool_client::{Client, ErrorKind, RetryPolicy};
use support::{run, Nginx, NginxOptions};

fn quick(retries: u32) -> RetryPolicy {
    RetryPolicy::new(retries).backoff(Duration::from_millis(10), Duration::from_millis(40))
}

/// A server whose first `failures` requests get `failure` (a whole response, or `None` to stall
/// without answering), the rest `200 ok`. Returns its URL and the count of requests received.
fn flaky(failures: usize, failure: Option<&'static [u8]>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line != "\r\n" {
                        continue;
                    }
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    let reply: &[u8] = if n < failures {
                        match failure {
                            Some(bytes) => bytes,
                            // Stall: hold the connection without answering, until the client leaves.
                            None => {
                                let _ = reader.read_line(&mut line);
                                return;
                            }
                        }
                    } else {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    };
                    if writer.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, count)
}

const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy";
const BAD_GATEWAY: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";

#[test]
fn transient_statuses_are_retried_until_success() {
    let (url, count) = flaky(2, Some(BAD_GATEWAY));
    let client = Client::builder().retry(quick(3)).build().unwrap();
    run(async {
        let r = client.get(&*url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.info().retries, 2);
        assert_eq!(r.text().await.unwrap(), "ok");
    });
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[test]
fn retry_after_is_honoured() {
    let (url, count) = flaky(1, Some(BUSY));
    let client = Client::builder().retry(quick(1)).build().unwrap();
    let started = Instant::now();
    run(async {
        let r = client.get(&*url).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.info().retries), (200, 1));
    });
    // Timers never fire early: the 10-40 ms backoff was replaced by the 1 s the server asked for.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn the_last_answer_is_returned_when_retries_run_out_and_post_is_not_retried() {
    let (url, count) = flaky(100, Some(BAD_GATEWAY));
    let client = Client::builder().retry(quick(2)).build().unwrap();
    run(async {
        let r = client.get(&*url).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.info().retries), (502, 2));
        let r = client.post(&*url).body("x").send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.info().retries), (502, 0));
    });
    assert_eq!(count.load(Ordering::SeqCst), 4);
    let client = Client::builder()
        .retry(quick(1).retry_non_idempotent(true))
        .build()
        .unwrap();
    run(async {
        let r = client.post(&*url).body("x").send().await.unwrap();
        assert_eq!(r.info().retries, 1);
    });
    assert_eq!(count.load(Ordering::SeqCst), 6);
}

#[test]
fn timeouts_and_refused_connections_are_retried() {
    let (url, count) = flaky(1, None);
    let client = Client::builder()
        .retry(quick(2))
        .read_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    run(async {
        let r = client.get(&*url).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.info().retries), (200, 1));
    });
    assert_eq!(count.load(Ordering::SeqCst), 2);

    let refused = format!("http://127.0.0.1:{}/", support::free_port());
    run(async {
        let e = client.get(&*refused).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
        assert_eq!(e.retries(), 2);
        // Nothing was sent, so even a POST may be retried.
        let e = client.post(&*refused).send().await.unwrap_err();
        assert_eq!(e.retries(), 2);
    });
}

#[test]
fn max_elapsed_stops_retrying() {
    let (url, count) = flaky(100, Some(BUSY));
    // Retry-After 1 s, but no retry may start after 500 ms.
    let client = Client::builder()
        .retry(quick(5).max_elapsed(Duration::from_millis(500)))
        .build()
        .unwrap();
    run(async {
        let r = client.get(&*url).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.info().retries), (503, 0));
    });
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn nginx_503s_are_retried_and_other_statuses_are_not() {
    let Some(nginx) = Nginx::start(
        NginxOptions::new()
            .file("a.txt", "alpha")
            .server_conf("location = /busy { return 503; }"),
    ) else {
        return;
    };
    let client = Client::builder().retry(quick(2)).build().unwrap();
    run(async {
        let r = client.get(nginx.url("/busy")).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.info().retries), (503, 2));
        let r = client.get(nginx.url("/missing")).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.info().retries), (404, 0));
        let r = client.get(nginx.url("/a.txt")).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.info().retries), (200, 0));
    });
    let requests = nginx.wait_for_requests(5);
    let busy = requests.iter().filter(|r| r.uri == "/busy").count();
    assert_eq!(busy, 3, "{requests:?}");
}
