//! `fetch --retry N` / `--retry-max-time`: transient failures retried, the count in each JSON line,
//! against an in-process server that fails a set number of times and nginx answering 503; bad
//! values are exit 2.

mod fetch_util;
#[path = "../../../tests/support/mod.rs"]
mod support;

use fetch_util::run;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::{free_port, Nginx, NginxOptions};

/// Answers the first `failures` requests `502` (closing the connection), then `200 ok`.
fn flaky(failures: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if line == "\r\n" {
                    let reply: &[u8] = if seen.fetch_add(1, Ordering::SeqCst) < failures {
                        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    } else {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    };
                    let _ = writer.write_all(reply);
                    if reply.starts_with(b"HTTP/1.1 502") {
                        break;
                    }
                }
                line.clear();
            }
        }
    });
    (url, count)
}

#[test]
fn retries_show_in_the_json_line() {
    let (url, count) = flaky(1);
    let ran = run(&["--no-progress", "--retry", "2", &url]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let line = &ran.lines()[0];
    assert_eq!(
        (line["status"].as_u64(), line["retries"].as_u64()),
        (Some(200), Some(1))
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // Refused: retried, then reported with the count.
    let refused = format!("http://127.0.0.1:{}/", free_port());
    let ran = run(&[
        "--no-progress",
        "--retry",
        "1",
        "--retry-max-time",
        "20",
        &refused,
    ]);
    let line = &ran.lines()[0];
    assert_eq!(line["kind"], "connect", "{line}");
    assert_eq!(line["retries"], 1, "{line}");

    // Without --retry there is no field and no retry.
    let (url, count) = flaky(1);
    let ran = run(&["--no-progress", &url]);
    let line = &ran.lines()[0];
    assert_eq!(line["status"], 502, "{line}");
    assert!(line.get("retries").is_none(), "{line}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn nginx_503_is_retried_then_reported() {
    let Some(nginx) = Nginx::start(
        NginxOptions::new()
            .file("a.txt", "alpha")
            .server_conf("location = /busy { return 503; }"),
    ) else {
        return;
    };
    let ran = run(&[
        "--no-progress",
        "--retry",
        "1",
        &nginx.url("/busy"),
        &nginx.url("/a.txt"),
    ]);
    let lines = ran.lines();
    let busy = lines.iter().find(|l| l["index"] == 0).unwrap();
    let ok = lines.iter().find(|l| l["index"] == 1).unwrap();
    assert_eq!(
        (busy["status"].as_u64(), busy["retries"].as_u64()),
        (Some(503), Some(1))
    );
    assert_eq!(
        (ok["status"].as_u64(), ok["retries"].as_u64()),
        (Some(200), Some(0))
    );
    let hits = nginx.wait_for_requests(3);
    assert_eq!(hits.iter().filter(|r| r.uri == "/busy").count(), 2);
}

#[test]
fn bad_retry_values_exit_2_naming_the_flag() {
    let url = "http://127.0.0.1:9/";
    for (args, mentions) in [
        (vec!["--retry", "lots", url], "--retry"),
        (vec!["--retry", "-1", url], "-1"),
        (
            vec!["--retry", "2", "--retry-max-time", "soon", url],
            "--retry-max-time",
        ),
        (
            vec!["--retry", "2", "--retry-max-time", "-3", url],
            "--retry-max-time",
        ),
        (vec!["--retry-max-time", "5", url], "--retry-max-time"),
    ] {
        let ran = run(&args);
        assert_eq!(ran.code(), 2, "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(mentions), "{args:?}: {}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    }
}
