//! The fault suite: `fetch` talks to real servers (nginx over plain HTTP and TLS, and an in-process
//! origin sending a chunked body) through the fault proxy (`support/fault_proxy.rs`), which delays,
//! trickles, resets, stalls or half-closes the responses. Under every fault:
//!
//! - every URL yields exactly one result line;
//! - a body cut short is an error, never a success with fewer bytes (each 200 carries its whole body);
//! - a request timeout fires no earlier than its limit and within 10% of it (plus slack, see below);
//! - an idempotent request on a reused connection that dies before any byte is retried once, on a
//!   fresh connection, and only once; a POST is not retried.
//!
//! Skips with a notice when nginx (or openssl, for TLS) is missing, unless `CI=true`.

mod fetch_util;
#[path = "../../../tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fetch_util::{assert_one_per_index, line_for, run};
use serde_json::Value;
use support::fault_proxy::{Fault, FaultProxy};
use support::tiny_origin::{chunked_response, TinyOrigin};
use support::{Nginx, NginxOptions, TestCerts};

/// Files served by nginx: a small one, one over a few TLS records, one far past every cut point.
const SIZES: [usize; 3] = [100, 5_000, 70_000];
/// Where the cutting faults cut a connection's response stream. Over TLS it is further on, past the
/// handshake (a few KiB), so that cuts land in responses too, not only in handshakes.
const CUT_PLAIN: usize = 1_000;
const CUT_TLS: usize = 8_000;

fn body(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

fn nginx_with(certs: Option<&TestCerts>) -> Option<Nginx> {
    let mut options = NginxOptions::new();
    if let Some(c) = certs {
        options = options.tls(c.cert(), c.key());
    }
    for size in SIZES {
        options = options.file(&format!("f{size}"), body(size));
    }
    Nginx::start(options)
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Every fault the proxy knows, with the cut point `cut`.
fn faults(cut: usize) -> Vec<(&'static str, Fault, bool)> {
    // (name, fault, whether every URL must succeed)
    vec![
        ("none", Fault::None, true),
        (
            "latency 20 ms per piece",
            Fault::Latency(Duration::from_millis(20)),
            true,
        ),
        ("a byte at a time", Fault::ByteAtATime, true),
        ("reset after N bytes", Fault::ResetAfter(cut), false),
        (
            "stall 300 ms then close",
            Fault::StallThenClose {
                after: cut,
                stall: Duration::from_millis(300),
            },
            false,
        ),
        (
            "half-close after N bytes",
            Fault::HalfClose { after: cut },
            false,
        ),
    ]
}

/// Runs fetch on `urls` (with `extra` options) and checks the rules every fault must keep: one line
/// per URL, and every 200 carries exactly the expected body length. Returns the lines.
fn check_run(what: &str, extra: &[&str], urls: &[(String, usize)], all_ok: bool) -> Vec<Value> {
    let mut args = vec!["--no-progress", "--timeout", "20", "--per-host", "2"];
    args.extend_from_slice(extra);
    args.extend(urls.iter().map(|(u, _)| u.as_str()));
    let ran = run(&args);
    let lines = ran.lines();
    assert_one_per_index(&lines, urls.len());
    for (i, (_, size)) in urls.iter().enumerate() {
        let l = line_for(&lines, i as u64);
        if l["status"] == 200 {
            assert_eq!(l["bytes"], *size as u64, "{what}: a short success: {l}");
            assert!(l["error"].is_null(), "{what}: {l}");
        } else {
            assert!(l["status"].is_null(), "{what}: unexpected status: {l}");
            assert!(
                l["error"].is_string() && l["kind"].is_string(),
                "{what}: {l}"
            );
            assert!(
                !all_ok,
                "{what}: a request failed without a fault to blame: {l}"
            );
        }
    }
    assert_eq!(ran.code(), if all_ok { 0 } else { ran.code() }, "{what}");
    lines
}

/// The URL list: every size twice, biggest first (so that the first response on each connection is
/// cut by the cutting faults), each size's expected length beside it.
fn urls(make: impl Fn(&str) -> String) -> Vec<(String, usize)> {
    let mut urls = Vec::new();
    for size in SIZES.iter().rev().chain(SIZES.iter().rev()) {
        urls.push((make(&format!("/f{size}")), *size));
    }
    urls
}

/// Under a cutting fault the 70,000-byte body can never arrive whole: it must be an error each time.
fn check_big_failed(what: &str, lines: &[Value], urls: &[(String, usize)]) {
    for (i, (_, size)) in urls.iter().enumerate() {
        if *size > CUT_TLS {
            let l = line_for(lines, i as u64);
            assert!(l["status"].is_null(), "{what}: a cut body succeeded: {l}");
        }
    }
}

#[test]
fn every_fault_over_plain_http_one_result_per_url_and_no_short_body() {
    let Some(nginx) = nginx_with(None) else {
        return;
    };
    for (name, fault, all_ok) in faults(CUT_PLAIN) {
        let proxy = FaultProxy::start(loopback(nginx.port()), fault);
        let urls = urls(|p| proxy.url(p));
        let lines = check_run(&format!("nginx, {name}"), &[], &urls, all_ok);
        if !all_ok {
            check_big_failed(name, &lines, &urls);
        }
    }
}

#[test]
fn every_fault_over_tls_one_result_per_url_and_no_short_body() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    let Some(nginx) = nginx_with(Some(&certs)) else {
        return;
    };
    let ca = certs.ca();
    let ca = ca.to_str().unwrap();
    for (name, fault, all_ok) in faults(CUT_TLS) {
        let proxy = FaultProxy::start(loopback(nginx.tls_port().unwrap()), fault);
        let urls = urls(|p| proxy.tls_url(p));
        let lines = check_run(
            &format!("nginx TLS, {name}"),
            &["--ca-file", ca],
            &urls,
            all_ok,
        );
        if !all_ok {
            check_big_failed(name, &lines, &urls);
        }
    }
}

#[test]
fn every_fault_on_a_chunked_body_one_result_per_url_and_no_short_body() {
    const SIZE: usize = 30_000;
    let origin = TinyOrigin::start(chunked_response(&body(SIZE), 1_000));
    for (name, fault, all_ok) in faults(CUT_PLAIN) {
        let proxy = FaultProxy::start(origin.addr(), fault);
        let urls: Vec<(String, usize)> = (0..4)
            .map(|i| (proxy.url(&format!("/{i}")), SIZE))
            .collect();
        let lines = check_run(&format!("chunked origin, {name}"), &[], &urls, all_ok);
        if !all_ok {
            for l in &lines {
                assert!(
                    l["status"].is_null(),
                    "{name}: a cut chunked body succeeded: {l}"
                );
            }
        }
    }
}

/// How late a timeout may fire. The rule is "within 10% of the limit"; on a shared 2-core machine a
/// process can also wait for a CPU, so 200 ms of scheduling slack is added on top. A timer never fires
/// early (the runtime rounds deadlines up), so the lower bound is exact.
fn assert_fired_in_time(what: &str, ms: f64, limit_ms: f64) {
    assert!(
        ms >= limit_ms,
        "{what}: fired early, after {ms} ms of {limit_ms}"
    );
    assert!(
        ms <= limit_ms * 1.1 + 200.0,
        "{what}: fired late, after {ms} ms of {limit_ms}"
    );
}

/// A stalled server (before the head, and mid-body) ends in a timeout at the request limit.
fn check_timeouts(tls: Option<&TestCerts>, upstream: SocketAddr) {
    for after in [0, CUT_TLS / 2] {
        let proxy = FaultProxy::start(
            upstream,
            Fault::StallThenClose {
                after,
                stall: Duration::from_secs(6),
            },
        );
        let url = match tls {
            Some(_) => proxy.tls_url("/f70000"),
            None => proxy.url("/f70000"),
        };
        let ca = tls.map(|c| c.ca().to_str().unwrap().to_owned());
        let mut args = vec!["--no-progress", "--timeout", "2"];
        if let Some(ca) = &ca {
            args.extend(["--ca-file", ca.as_str()]);
        }
        args.push(&url);
        let ran = run(&args);
        assert_eq!(ran.code(), 1, "{ran:?}");
        let lines = ran.lines();
        assert_one_per_index(&lines, 1);
        let l = &lines[0];
        let what = format!("tls={} stall after {after} bytes", tls.is_some());
        assert_eq!(l["kind"], "timeout", "{what}: {l}");
        assert_fired_in_time(&what, l["ms"].as_f64().unwrap(), 2000.0);
    }
}

#[test]
fn timeouts_fire_within_ten_percent_of_their_limit() {
    let Some(nginx) = nginx_with(None) else {
        return;
    };
    check_timeouts(None, loopback(nginx.port()));
}

#[test]
fn timeouts_fire_within_ten_percent_of_their_limit_over_tls() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    let Some(nginx) = nginx_with(Some(&certs)) else {
        return;
    };
    check_timeouts(Some(&certs), loopback(nginx.tls_port().unwrap()));
}

/// Drops a request on connection 0 once more than `after` response bytes went down it, i.e. the
/// request after the first 70,000-byte response, and also every request on connections `also`.
fn drop_second(after: usize, also: &'static [usize]) -> Fault {
    Fault::DropRequest(Arc::new(move |conn, _read, down| {
        (conn == 0 && down > after) || also.contains(&conn)
    }))
}

/// Two requests, one at a time on one connection, the second dying before any byte.
fn check_retry(tls: Option<&TestCerts>, upstream: SocketAddr) {
    // Past the handshake and well before the end of the first (70,000-byte) response.
    const AFTER: usize = 20_000;
    let url = |proxy: &FaultProxy, path: &str| match tls {
        Some(_) => proxy.tls_url(path),
        None => proxy.url(path),
    };
    let ca = tls.map(|c| c.ca().to_str().unwrap().to_owned());
    let base = |method: &'static str| {
        let mut args = vec!["--no-progress", "-c", "1", "--per-host", "1", "-X", method];
        if let Some(ca) = &ca {
            args.extend(["--ca-file", ca.as_str()]);
        }
        args
    };
    let what = if tls.is_some() { "tls" } else { "plain" };

    // GET: retried once on a fresh connection, and succeeds.
    let proxy = FaultProxy::start(upstream, drop_second(AFTER, &[]));
    let (a, b) = (url(&proxy, "/f70000"), url(&proxy, "/f100"));
    let mut args = base("GET");
    args.extend([a.as_str(), b.as_str()]);
    let ran = run(&args);
    assert_eq!(ran.code(), 0, "{what}: {ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, 2);
    assert_eq!(line_for(&lines, 1)["bytes"], 100, "{what}");
    assert_eq!(
        line_for(&lines, 1)["reused"],
        false,
        "{what}: retried on a fresh connection"
    );
    assert_eq!(proxy.accepted(), 2, "{what}: one retry, one new connection");

    // GET whose retry dies too: one retry only, then the error.
    let proxy = FaultProxy::start(upstream, drop_second(AFTER, &[1, 2, 3]));
    let (a, b) = (url(&proxy, "/f70000"), url(&proxy, "/f100"));
    let mut args = base("GET");
    args.extend([a.as_str(), b.as_str()]);
    let ran = run(&args);
    assert_eq!(ran.code(), 1, "{what}: {ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, 2);
    assert_eq!(line_for(&lines, 0)["status"], 200, "{what}");
    assert!(line_for(&lines, 1)["status"].is_null(), "{what}");
    assert_eq!(proxy.accepted(), 2, "{what}: exactly one retry");

    // POST is not idempotent: not retried (nginx answers a POST to a file with 405, a response).
    // First measure what one POST exchange sends down (over TLS the handshake is part of it), so that
    // the request after it is the one dropped.
    let probe = FaultProxy::start(upstream, Fault::None);
    let mut args = base("POST");
    let probe_url = url(&probe, "/f100");
    args.extend(["-d", "x", probe_url.as_str()]);
    assert!(run(&args).lines()[0]["status"].is_number(), "{what}: probe");
    // Less a margin: the probe's count may include a TLS close_notify (about 24 bytes) that nginx
    // sends when fetch closes, after the response (about 400 bytes with its record overhead).
    let first = probe.bytes_down() - 64;
    let proxy = FaultProxy::start(upstream, drop_second(first, &[]));
    let (a, b) = (url(&proxy, "/f100"), url(&proxy, "/f100"));
    let mut args = base("POST");
    args.extend(["-d", "x", a.as_str(), b.as_str()]);
    let ran = run(&args);
    let lines = ran.lines();
    assert_one_per_index(&lines, 2);
    assert!(
        line_for(&lines, 0)["status"].is_number(),
        "{what}: {lines:?}"
    );
    assert!(line_for(&lines, 1)["status"].is_null(), "{what}: {lines:?}");
    assert_eq!(proxy.accepted(), 1, "{what}: a POST is never retried");
}

#[test]
fn a_reused_connection_dying_before_any_byte_is_retried_once() {
    let Some(nginx) = nginx_with(None) else {
        return;
    };
    check_retry(None, loopback(nginx.port()));
}

#[test]
fn a_reused_connection_dying_before_any_byte_is_retried_once_over_tls() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    let Some(nginx) = nginx_with(Some(&certs)) else {
        return;
    };
    check_retry(Some(&certs), loopback(nginx.tls_port().unwrap()));
}
