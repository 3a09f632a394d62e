//! What an idle TLS connection costs in memory, measured against nginx: not a pass/fail test but
//! a measurement, run on demand (it prints a table):
//!
//! ```text
//! cargo test --release --test tls_memory -- --ignored --nocapture
//! ```
//!
//! Method: without `unsafe` there is no counting allocator, so each scenario runs in a fresh child
//! process (this test binary run again) that opens `CONNECTIONS` connections one after another,
//! keeps them all open, and reports the growth of its resident memory (`VmRSS`) divided by the
//! count. Connections are made one by one, so memory a connection frees (a shrunk buffer) is
//! reused by the next one's allocations and the figure shows the steady state. Kernel socket
//! buffers are not in `VmRSS`; the plain-TCP scenario is the baseline the TLS figures add to.

mod support;

use std::process::Command;
use std::time::Duration;

use spool_client::tls::{Certificate, TlsConnector, TlsStream};
use spool_runtime::net::TcpStream;
use support::{Nginx, NginxOptions, TestCerts};

const CONNECTIONS: usize = 400;
const SCENARIO_ENV: &str = "SPOOL_TLS_MEMORY_SCENARIO";
const PORT_ENV: &str = "SPOOL_TLS_MEMORY_PORT";
const CA_ENV: &str = "SPOOL_TLS_MEMORY_CA";

/// (name, what the child does with each connection)
const SCENARIOS: &[(&str, &str)] = &[
    ("tcp", "TCP connected, no TLS (baseline)"),
    ("handshake", "TLS handshake done, nothing read after it"),
    ("small", "one GET of 100 bytes read to the end"),
    (
        "large",
        "one GET of 256 KiB read to the end, buffers left as they are",
    ),
    (
        "large-shrunk",
        "one GET of 256 KiB read to the end, then shrink_idle_buffers()",
    ),
];

#[test]
#[ignore = "a measurement: run with --ignored --nocapture (see the file's docs)"]
fn idle_tls_connection_memory() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    let options = NginxOptions::new()
        .file("small", vec![b's'; 100])
        .file("large", vec![b'l'; 256 * 1024])
        .tls(certs.cert(), certs.key());
    let Some(nginx) = Nginx::start(options) else {
        return;
    };
    let port = nginx.tls_port().unwrap();
    let mut baseline = None;
    println!(
        "{CONNECTIONS} idle connections per scenario; bytes of resident memory per connection:"
    );
    for (name, what) in SCENARIOS {
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_scenario", "--ignored", "--nocapture"])
            .env(SCENARIO_ENV, name)
            .env(PORT_ENV, port.to_string())
            .env(CA_ENV, certs.ca())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let per_conn: f64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("per-connection-bytes="))
            .unwrap_or_else(|| {
                panic!(
                    "scenario {name} printed no figure:\n{stdout}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })
            .parse()
            .unwrap();
        let base = *baseline.get_or_insert(per_conn);
        println!(
            "  {name:<13} {per_conn:>8.0} B  (TLS adds {:>6.0} B)  {what}",
            per_conn - base
        );
    }
}

/// The child side: runs one scenario when started by the test above, does nothing otherwise.
#[test]
#[ignore = "started by idle_tls_connection_memory"]
fn child_scenario() {
    let Ok(scenario) = std::env::var(SCENARIO_ENV) else {
        return;
    };
    let port: u16 = std::env::var(PORT_ENV).unwrap().parse().unwrap();
    let ca = std::fs::read(std::env::var(CA_ENV).unwrap()).unwrap();
    let connector = TlsConnector::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    spool_runtime::block_on(async {
        // Warm up: one-time allocations (runtime slabs, ring's CPU detection, the session cache's
        // first entry) must not count as per-connection cost.
        let warm = open(&connector, addr, &scenario).await;
        let mut kept: Vec<Kept> = Vec::with_capacity(CONNECTIONS);
        let before = resident_bytes();
        for _ in 0..CONNECTIONS {
            kept.push(open(&connector, addr, &scenario).await);
        }
        // Let the loop settle (late TLS 1.3 tickets stay unread in the socket either way).
        spool_runtime::time::sleep(Duration::from_millis(50)).await;
        let after = resident_bytes();
        println!(
            "per-connection-bytes={}",
            after.saturating_sub(before) as f64 / CONNECTIONS as f64
        );
        drop((warm, kept));
    });
}

/// What a scenario keeps open (held only so that it stays open).
#[allow(dead_code)]
enum Kept {
    Tcp(TcpStream),
    /// Boxed, as the client's connection enum holds it (the struct is about 1 KiB).
    Tls(Box<TlsStream>),
}

async fn open(connector: &TlsConnector, addr: std::net::SocketAddr, scenario: &str) -> Kept {
    let tcp = TcpStream::connect(addr).await.unwrap();
    if scenario == "tcp" {
        return Kept::Tcp(tcp);
    }
    let mut tls = connector.connect("localhost", tcp).await.unwrap();
    let path = match scenario {
        "handshake" => return Kept::Tls(Box::new(tls)),
        "small" => "/small",
        _ => "/large",
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    tls.write_all(request.as_bytes()).await.unwrap();
    read_response(&mut tls).await;
    if scenario == "large-shrunk" {
        tls.shrink_idle_buffers();
    }
    Kept::Tls(Box::new(tls))
}

/// Reads one response with a Content-Length body (nginx's static files have one).
async fn read_response(tls: &mut TlsStream) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tls.read(&mut buf).await.unwrap();
        assert_ne!(n, 0, "nginx closed early");
        got.extend_from_slice(&buf[..n]);
        let Some(head_end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .expect("nginx sends Content-Length for files")
            .trim()
            .parse()
            .unwrap();
        if got.len() >= head_end + 4 + len {
            return;
        }
    }
}

/// Resident memory of this process, from /proc/self/status.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}
