//! `fetch --dns-server` and `fetch --resolve` on loopback: 1,000 distinct host names (`h0.test` …
//! `h999.test`) answered by the test DNS server (client/dns/tests/support_dns) with addresses spread
//! over 127.0.0.1–127.0.0.4, each fetched from a small HTTP server listening on those four
//! addresses, which records the address each request arrived on and its `Host`; and a `--resolve`
//! pin that sends a made-up name to an address without any DNS query.

#[path = "../../../client/dns/tests/support_dns/mod.rs"]
mod support_dns;

mod fetch_util;

use fetch_util::{assert_one_per_index, line_for, run_starved_of_descriptors, run_with, Scratch};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;
use support_dns::{loopback_for, Fault, TestDns, TYPE_A};

/// The wildcard answers spread names over 127.0.0.1 ..= 127.0.0.SPREAD.
const SPREAD: u8 = 4;
/// Every `fetch` run here ends within this or fails.
const LIMIT: Duration = Duration::from_secs(120);

/// What the server saw of one request: the address it was accepted on, and its `Host` header.
type Seen = (IpAddr, String);

/// An HTTP/1.1 server on one port of several loopback addresses, answering every request with its
/// own `Host` header as the body and closing the connection. Std threads: one accept loop per
/// address, one short-lived thread per connection (as many as `fetch` has in flight).
struct HostEcho {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl HostEcho {
    fn start(addrs: &[Ipv4Addr]) -> HostEcho {
        // A port free on every address: bind the first on port 0, the others on its number.
        let listeners = (0..50)
            .find_map(|_| {
                let first = TcpListener::bind((addrs[0], 0)).ok()?;
                let port = first.local_addr().ok()?.port();
                let mut all = vec![first];
                for ip in &addrs[1..] {
                    all.push(TcpListener::bind((*ip, port)).ok()?);
                }
                Some(all)
            })
            .expect("one port free on every test address");
        let port = listeners[0].local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = listeners
            .into_iter()
            .map(|listener| {
                let (seen, stop) = (seen.clone(), stop.clone());
                thread::spawn(move || accept_loop(listener, &seen, &stop))
            })
            .collect();
        HostEcho {
            port,
            seen,
            stop,
            threads,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for HostEcho {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, seen: &Arc<Mutex<Vec<Seen>>>, stop: &AtomicBool) {
    listener.set_nonblocking(true).unwrap();
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, _)) => {
                let seen = seen.clone();
                thread::spawn(move || serve(conn, &seen));
            }
            Err(_) => thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// Reads one request head (bounded in size and time), records it, answers it.
fn serve(mut conn: TcpStream, seen: &Mutex<Vec<Seen>>) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let host = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("host")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    let local = conn.local_addr().map(|a| a.ip()).unwrap();
    seen.lock().unwrap().push((local, host.clone()));
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{host}",
        host.len()
    );
    let _ = conn.write_all(response.as_bytes());
}

fn loopbacks(n: u8) -> Vec<Ipv4Addr> {
    (1..=n).map(|i| Ipv4Addr::new(127, 0, 0, i)).collect()
}

#[test]
fn a_thousand_distinct_names_through_dns_server() {
    const NAMES: usize = 1_000;
    let dns = TestDns::start();
    dns.wildcard("test", SPREAD);
    let server = HostEcho::start(&loopbacks(SPREAD));
    let hosts: Vec<String> = (0..NAMES)
        .map(|i| format!("h{i}.test:{}", server.port))
        .collect();
    let list: String = hosts.iter().map(|h| format!("http://{h}/\n")).collect();
    let dir = Scratch::new("dns-thousand");
    let input = dir.file("urls.txt", list.as_bytes());
    let dns_server = dns.addr().to_string();
    let args = [
        "--no-progress",
        "--dns-server",
        &dns_server,
        "-c",
        "100",
        "-i",
        &input,
    ];
    let ran = run_with(&args, None, None, LIMIT);
    assert_eq!(ran.code(), 0, "{}", ran.stderr);
    let lines = ran.lines();
    assert_one_per_index(&lines, NAMES);
    for (i, host) in hosts.iter().enumerate() {
        let line = line_for(&lines, i as u64);
        assert_eq!(line["status"], 200, "{line}");
        // The body is the Host header the server received: this request reached a server as itself.
        assert_eq!(line["bytes"], host.len() as u64, "{line}");
    }
    // Each request arrived on the address the DNS server gave for its name; every name was asked.
    let seen = server.seen();
    assert_eq!(seen.len(), NAMES);
    let mut addresses_used = std::collections::BTreeSet::new();
    for (local, host) in &seen {
        let name = host.rsplit_once(':').unwrap().0;
        assert_eq!(*local, IpAddr::V4(loopback_for(name, SPREAD)), "{host}");
        addresses_used.insert(*local);
    }
    assert_eq!(addresses_used.len(), usize::from(SPREAD));
    for i in 0..NAMES {
        assert!(dns.queries(&format!("h{i}.test"), TYPE_A) >= 1, "h{i}.test");
    }
}

#[test]
fn lookups_that_run_out_of_descriptors_wait_and_retry() {
    // Every URL has a name of its own, so each request opens a resolver socket before its TCP
    // socket; with 40 of 64 descriptors taken behind the tool's back, those sockets run out. A
    // lookup refused EMFILE must be retried like a connect refused EMFILE (matched by its OS code),
    // not reported as a DNS failure.
    const NAMES: usize = 300;
    let dns = TestDns::start();
    dns.wildcard("test", SPREAD);
    // Each answer comes 20 ms late, so the planned lookups really are in flight together and hold
    // their sockets at once; instant answers from loopback might never need more than a few.
    for i in 0..NAMES {
        dns.fault(
            &format!("e{i}.test"),
            Fault::Delay(Duration::from_millis(20)),
        );
    }
    let server = HostEcho::start(&loopbacks(SPREAD));
    let list: String = (0..NAMES)
        .map(|i| format!("http://e{i}.test:{}/\n", server.port))
        .collect();
    let dir = Scratch::new("dns-emfile");
    let input = dir.file("urls.txt", list.as_bytes());
    let dns_server = dns.addr().to_string();
    let args = [
        "--no-progress",
        "--dns-server",
        &dns_server,
        "-c",
        "100",
        "-i",
        &input,
    ];
    run_starved_of_descriptors(&args, NAMES, LIMIT);
}

#[test]
fn resolve_pins_a_made_up_name_without_asking_dns() {
    let dns = TestDns::start();
    let server = HostEcho::start(&loopbacks(3));
    let port = server.port;
    let pin = format!("pinned.example:{port}:127.0.0.3");
    let dns_server = dns.addr().to_string();
    let pinned = format!("http://pinned.example:{port}/");
    // Same name, another port: the pin is for its port only, as in curl, so this one asks DNS,
    // which does not know the name (so nothing is connected to on port 9).
    let unpinned = "http://pinned.example:9/";
    let args = [
        "--no-progress",
        "--dns-server",
        &dns_server,
        "--resolve",
        &pin,
        &pinned,
        &pinned,
    ];
    let ran = run_with(&args, None, None, LIMIT);
    assert_eq!(ran.code(), 0, "{}", ran.stderr);
    let lines = ran.lines();
    assert_one_per_index(&lines, 2);
    for line in &lines {
        assert_eq!(line["status"], 200, "{line}");
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for (local, host) in &seen {
        assert_eq!(*local, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)));
        assert_eq!(host, &format!("pinned.example:{port}"));
    }
    assert_eq!(
        dns.udp_queries() + dns.tcp_queries(),
        0,
        "no DNS query at all"
    );

    let args = [
        "--no-progress",
        "--dns-server",
        &dns_server,
        "--resolve",
        &pin,
        unpinned,
    ];
    let ran = run_with(&args, None, None, LIMIT);
    assert_eq!(ran.code(), 1, "{}", ran.stderr);
    let lines = ran.lines();
    assert_one_per_index(&lines, 1);
    assert_eq!(lines[0]["kind"], "dns", "{}", lines[0]);
    assert!(dns.queries("pinned.example", TYPE_A) >= 1);
}

#[test]
fn bad_dns_server_and_resolve_values_exit_2() {
    for (flag, value) in [
        ("--dns-server", "not-an-ip"),
        ("--resolve", "host-without-port"),
        ("--resolve", "h.example:80:not-an-address"),
    ] {
        let ran = run_with(
            &[flag, value, "http://127.0.0.1:9/"],
            None,
            None,
            Duration::from_secs(30),
        );
        assert_eq!(ran.code(), 2, "{flag} {value}: {ran:?}");
        assert_eq!(ran.stdout, "");
        let lines: Vec<&str> = ran.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", ran.stderr);
        assert!(lines[0].contains(value), "{}", lines[0]);
    }
}
