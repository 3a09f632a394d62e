//! Politeness per origin in spool-client: the connection ramp against Python's `http.server`
//! (listen backlog 5, a connection closed after every response: the server that left ~9% of URLs
//! stuck when 500 connections were opened at once), the ramp's cap and its lifting measured by
//! in-process servers, and the request rate's spacing.
//!
//! No assertion here depends on the machine being fast: counts are exact, and times are lower
//! bounds (timers never fire early).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spool_client::Client;
use support::{run_within, PythonServer};

/// This file's tests wait on purpose (delays between requests), so they get longer than the usual limit.
const LIMIT: Duration = Duration::from_secs(90);

/// `count` requests to `urls` (cycled) all at once on one client; the statuses, in order.
fn fetch_all(client: &Client, urls: &[String], count: usize) -> Vec<Result<u16, String>> {
    run_within(LIMIT, async {
        let mut tasks = Vec::with_capacity(count);
        for i in 0..count {
            let client = client.clone();
            let url = urls[i % urls.len()].clone();
            tasks.push(spool_runtime::spawn(async move {
                let r = client.get(url).send().await.map_err(|e| e.to_string())?;
                let status = r.status().as_u16();
                r.bytes().await.map_err(|e| e.to_string())?;
                Ok(status)
            }));
        }
        let mut out = Vec::with_capacity(count);
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    })
}

#[test]
fn the_ramp_gets_every_url_from_python_http_server_at_500_in_flight() {
    let files: Vec<(String, String)> = (0..50)
        .map(|i| (format!("f{i}.txt"), format!("file {i}\n")))
        .collect();
    let server = PythonServer::start(files.iter().map(|(p, b)| (p.as_str(), b.as_bytes())));
    let urls: Vec<String> = (0..50).map(|i| server.url(&format!("/f{i}.txt"))).collect();
    let client = Client::builder()
        .max_connections(500)
        .max_connections_per_host(0)
        .connection_ramp(4)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let results = fetch_all(&client, &urls, 1000);
    let failed: Vec<_> = results.iter().filter(|r| *r != &Ok(200)).collect();
    assert!(
        failed.is_empty(),
        "{} of 1000 failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
}

/// A server that holds each request `delay` before answering (`close`: HTTP/1.0 style, the
/// connection closes after the response), counting connections open but not yet answered, and
/// the most there were at once. The count drops *before* the response is written, so the client
/// can never see an answer the count still includes.
fn slow_server(delay: Duration, close: bool) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n, p) = (now.clone(), peak.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (n, p) = (n.clone(), p.clone());
            let open = n.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(open, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                let mut answered = false;
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    if line == "\r\n" {
                        std::thread::sleep(delay);
                        if !answered {
                            n.fetch_sub(1, Ordering::SeqCst);
                            answered = true;
                        }
                        let reply: &[u8] = if close {
                            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        } else {
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        };
                        if writer.write_all(reply).is_err() || close {
                            break;
                        }
                    }
                    line.clear();
                }
                if !answered {
                    n.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    });
    (url, now, peak)
}

fn ramped(n: usize) -> Client {
    Client::builder()
        .max_connections_per_host(0)
        .connection_ramp(n)
        .build()
        .unwrap()
}

#[test]
fn a_closing_server_never_has_more_unanswered_connections_than_the_ramp() {
    let (url, _, peak) = slow_server(Duration::from_millis(20), true);
    let results = fetch_all(&ramped(3), &[url], 30);
    assert!(results.iter().all(|r| r == &Ok(200)), "{results:?}");
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=3).contains(&peak), "peak {peak}");
}

#[test]
fn a_kept_alive_answer_lifts_the_ramp() {
    let (url, _, peak) = slow_server(Duration::from_millis(100), false);
    let results = fetch_all(&ramped(2), &[url], 16);
    assert!(results.iter().all(|r| r == &Ok(200)), "{results:?}");
    // Two opened first; once they answered and stayed open, the other 14 opened at once.
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak > 2, "peak {peak}");
}

#[test]
fn the_rate_spaces_requests_to_one_origin() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    if line == "\r\n" {
                        seen.lock().unwrap().push(Instant::now());
                        let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                    }
                    line.clear();
                }
            });
        }
    });
    let client = Client::builder().rate_limit_per_host(20.0).build().unwrap();
    let started = Instant::now();
    let results = fetch_all(&client, &[url], 6);
    assert!(results.iter().all(|r| r == &Ok(200)), "{results:?}");
    // Six requests at 20/s: the last may not leave before 5 × 50 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    let mut times = arrivals.lock().unwrap().clone();
    times.sort();
    assert_eq!(times.len(), 6);
    let span = times[5].duration_since(times[0]);
    assert!(span >= Duration::from_millis(240), "{span:?}");
}

#[test]
fn bad_rates_are_builder_errors() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = Client::builder()
            .rate_limit_per_host(bad)
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), spool_client::ErrorKind::Builder, "{bad}");
        assert!(e.to_string().contains("rate_limit_per_host"));
    }
}
