//! A DNS server for tests: UDP and TCP on one port of 127.0.0.1, answering from a table, with faults
//! to order per name (SERVFAIL, silence, truncation, spoofed replies...) and counters of what it was
//! asked. It runs on two plain std threads, so it is independent of the spool loop under test, and
//! stops (threads joined) when the [`TestDns`] guard is dropped.
//!
//! Any integration test can use it. From `client/dns/tests/*.rs`: `mod support_dns;`; from `client/tests/*.rs`: `#[path = "../dns/tests/support_dns/mod.rs"]`. From the
//! workspace's top-level `tests/*.rs` (e.g. a `fetch --dns-server` test):
//!
//! ```ignore
//! #[path = "../client/dns/tests/support_dns/mod.rs"]
//! mod support_dns;
//! use support_dns::TestDns;
//!
//! let dns = TestDns::start();
//! dns.wildcard("test", 4);          // every *.test name → 127.0.0.1..=127.0.0.4 (see `loopback_for`)
//! // fetch --dns-server {dns.addr()} http://h17.test:PORT/ ...
//! assert_eq!(dns.queries("h17.test", support_dns::TYPE_A), 1);
//! ```
//!
//! (It needs `socket2` as a dev-dependency, to enlarge the UDP receive buffer so a burst of thousands
//! of queries is not dropped by the kernel.)

#![allow(dead_code, unused_imports)] // each test crate uses a different subset

mod message;
pub mod util;
mod zone;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use spool_dns::wire::parse_response;
use spool_dns::ResolvConf;

pub use message::{Rec, TYPE_A, TYPE_AAAA};
pub use zone::{loopback_for, Fault};
use zone::{Plan, Zone};

/// How often the server threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// A running test DNS server; dropping it stops it.
pub struct TestDns {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl TestDns {
    /// Starts a server on 127.0.0.1 (a free port, UDP and TCP) with an empty table.
    pub fn start() -> TestDns {
        // Find a port free for both protocols: bind UDP first, then TCP on the same number.
        let (udp, tcp) = (0..50)
            .find_map(|_| {
                let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
                let tcp = TcpListener::bind(udp.local_addr().ok()?).ok()?;
                Some((udp, tcp))
            })
            .expect("a port free for UDP and TCP on 127.0.0.1");
        let addr = udp.local_addr().unwrap();
        let udp = enlarge_receive_buffer(udp);
        udp.set_read_timeout(Some(POLL)).unwrap();
        tcp.set_nonblocking(true).unwrap();
        let zone = Arc::new(Mutex::new(Zone::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = vec![
            spawn_named("test-dns-udp", {
                let (zone, stop) = (zone.clone(), stop.clone());
                move || serve_udp(udp, &zone, &stop)
            }),
            spawn_named("test-dns-tcp", {
                let (zone, stop) = (zone.clone(), stop.clone());
                move || serve_tcp(tcp, &zone, &stop)
            }),
        ];
        TestDns {
            addr,
            zone,
            stop,
            threads,
        }
    }

    /// The server's address (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Settings that point at this server only: timeout 1 s, 2 attempts, no search list.
    pub fn resolv_conf(&self) -> ResolvConf {
        ResolvConf {
            nameservers: vec![self.addr],
            timeout: Duration::from_secs(1),
            attempts: 2,
            ..ResolvConf::default()
        }
    }

    fn zone(&self) -> MutexGuard<'_, Zone> {
        self.zone.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an A or AAAA record.
    pub fn addr_record(&self, name: &str, ip: &str) -> &Self {
        self.zone()
            .add(name, Rec::Addr(ip.parse().expect("an IP address")));
        self
    }

    /// Makes `name` an alias of `target`.
    pub fn cname(&self, name: &str, target: &str) -> &Self {
        self.zone().add(name, Rec::Cname(target.to_owned()));
        self
    }

    /// Sets (or with `None` clears) a fault for `name`, every query type.
    pub fn fault(&self, name: &str, fault: impl Into<Option<Fault>>) -> &Self {
        self.zone().set_fault(name, None, fault.into());
        self
    }

    /// Sets (or with `None` clears) a fault for `name` and one query type ([`TYPE_A`], [`TYPE_AAAA`]);
    /// it takes precedence over a fault for every type.
    pub fn fault_for(&self, name: &str, qtype: u16, fault: impl Into<Option<Fault>>) -> &Self {
        self.zone().set_fault(name, Some(qtype), fault.into());
        self
    }

    /// Makes `name` exist without any address record (NODATA for A and AAAA).
    pub fn empty_name(&self, name: &str) -> &Self {
        self.zone().add_empty(name);
        self
    }

    /// Answers every name under `suffix` without records of its own with `loopback_for(name,
    /// spread)` (A), and NODATA for AAAA.
    pub fn wildcard(&self, suffix: &str, spread: u8) -> &Self {
        self.zone().set_wildcard(suffix, spread);
        self
    }

    /// Whether CNAME targets' records are included in the answer (default true, as a recursive
    /// server does); false makes the resolver query each target itself.
    pub fn follow_cnames(&self, follow: bool) -> &Self {
        self.zone().follow_cnames = follow;
        self
    }

    /// TTL of every record (default 60).
    pub fn ttl(&self, ttl: u32) -> &Self {
        self.zone().ttl = ttl;
        self
    }

    /// TTL of the SOA sent with negative answers; `None` sends none (default `Some(30)`).
    pub fn negative_ttl(&self, ttl: Option<u32>) -> &Self {
        self.zone().negative_ttl = ttl;
        self
    }

    /// Queries received for `name` and `qtype` (UDP and TCP).
    pub fn queries(&self, name: &str, qtype: u16) -> usize {
        let key = (name.trim_end_matches('.').to_ascii_lowercase(), qtype);
        self.zone().counts.get(&key).copied().unwrap_or(0)
    }

    /// Queries received over UDP, all names.
    pub fn udp_queries(&self) -> usize {
        self.zone().udp
    }

    /// Queries received over TCP, all names.
    pub fn tcp_queries(&self) -> usize {
        self.zone().tcp
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn spawn_named(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .expect("spawn a test DNS thread")
}

fn enlarge_receive_buffer(udp: UdpSocket) -> UdpSocket {
    let socket = socket2::Socket::from(udp);
    // Best effort: the kernel caps it at net.core.rmem_max.
    let _ = socket.set_recv_buffer_size(4 << 20);
    socket.into()
}

/// Reads the one question of a query: (id, name, type, has EDNS0).
fn read_query(msg: &[u8]) -> Option<(u16, String, u16, bool)> {
    let parsed = parse_response(msg).ok()?;
    let q = parsed.questions.first()?;
    Some((
        parsed.header.id,
        q.name.to_string(),
        q.qtype,
        parsed.edns.is_some(),
    ))
}

fn lock(zone: &Mutex<Zone>) -> MutexGuard<'_, Zone> {
    zone.lock().unwrap_or_else(|e| e.into_inner())
}

fn serve_udp(socket: UdpSocket, zone: &Mutex<Zone>, stop: &AtomicBool) {
    let spoofer = UdpSocket::bind("127.0.0.1:0").expect("a spoofing socket");
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let (len, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => continue,
        };
        let Some((id, name, qtype, edns)) = read_query(&buf[..len]) else {
            continue;
        };
        let plan: Plan = lock(zone).plan(id, &name, qtype, edns, true);
        let delayed = plan.sends.iter().any(|(d, _, _)| !d.is_zero());
        if !delayed {
            for (_, bytes, spoof) in plan.sends {
                let from_socket = if spoof { &spoofer } else { &socket };
                let _ = from_socket.send_to(&bytes, from);
            }
            continue;
        }
        // Delayed answers go out from a short-lived thread so the server keeps serving meanwhile.
        let (main, fake) = (socket.try_clone().unwrap(), spoofer.try_clone().unwrap());
        thread::spawn(move || {
            for (delay, bytes, spoof) in plan.sends {
                thread::sleep(delay);
                let _ = if spoof { &fake } else { &main }.send_to(&bytes, from);
            }
        });
    }
}

fn serve_tcp(listener: TcpListener, zone: &Mutex<Zone>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, _)) => serve_tcp_conn(conn, zone, stop),
            Err(_) => thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Answers queries on one connection until the client closes it (bounded by a read timeout).
fn serve_tcp_conn(mut conn: TcpStream, zone: &Mutex<Zone>, stop: &AtomicBool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    while !stop.load(Ordering::Relaxed) {
        let mut len = [0u8; 2];
        if conn.read_exact(&mut len).is_err() {
            return;
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if conn.read_exact(&mut msg).is_err() {
            return;
        }
        let Some((id, name, qtype, edns)) = read_query(&msg) else {
            return;
        };
        let plan = lock(zone).plan(id, &name, qtype, edns, false);
        for (_, bytes, _) in plan.sends {
            let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&bytes);
            if conn.write_all(&framed).is_err() {
                return;
            }
        }
    }
}
