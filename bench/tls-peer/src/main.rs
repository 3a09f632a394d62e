//! HTTPS benchmark: spool-client beside reqwest (rustls, ring) on tokio's current_thread runtime,
//! one thread each, against the same local nginx, in the same run. Not a test: it prints figures.
//!
//! Started by `run.sh`, which starts nginx with TLS and passes `--url` and `--ca`. Scenarios:
//! - full handshakes: sequential GETs, each on a new connection, resumption off;
//! - resumed handshakes: the same with resumption on (the share that resumed is printed);
//! - keep-alive: GETs over pooled connections, `--concurrency` in flight.
//!
//! Rates are wall-clock on a shared machine (nginx runs on the other core); CPU µs per operation
//! is the client thread's own CPU time and is the steadier figure.

mod cpu;
mod reqwest_side;
mod spool_side;

use std::net::SocketAddr;

use cpu::{measure, Sample};

/// What every contender gets.
pub struct Args {
    /// `https://127.0.0.1:PORT/file`
    pub url: String,
    pub host: String,
    pub addr: SocketAddr,
    pub ca_pem: Vec<u8>,
    /// Length of the file at `url`, checked on every response.
    pub body_len: usize,
    pub handshakes: u64,
    pub requests: u64,
    pub concurrency: usize,
    pub rounds: usize,
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let (mut url, mut ca, mut body_len) = (None, None, None);
    let (mut handshakes, mut requests, mut concurrency, mut rounds) = (2000, 20_000, 50, 2);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--url" => url = Some(value()),
            "--ca" => ca = Some(value()),
            "--body-len" => body_len = Some(value().parse().unwrap()),
            "--handshakes" => handshakes = value().parse().unwrap(),
            "--requests" => requests = value().parse().unwrap(),
            "--concurrency" => concurrency = value().parse().unwrap(),
            "--rounds" => rounds = value().parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    let url = url.expect("--url https://127.0.0.1:PORT/file");
    let authority = url
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .expect("an https URL");
    let addr: SocketAddr = authority.parse().expect("an IP:port authority");
    Args {
        host: addr.ip().to_string(),
        addr,
        ca_pem: std::fs::read(ca.expect("--ca ca.pem")).unwrap(),
        body_len: body_len.expect("--body-len N"),
        url,
        handshakes,
        requests,
        concurrency,
        rounds,
    }
}

fn report(scenario: &str, who: &str, sample: Sample, note: &str) {
    println!(
        "{scenario:<22} {who:<16} {:>9.0}/s  {:>8.1} µs CPU/op  {note}",
        sample.per_second(),
        sample.cpu_us_per_op()
    );
}

fn main() {
    let args = parse_args();
    println!(
        "{} · handshakes {} · keep-alive requests {} with {} in flight · {} rounds",
        args.url, args.handshakes, args.requests, args.concurrency, args.rounds
    );
    for round in 1..=args.rounds {
        println!("-- round {round}");
        for (scenario, resume) in [
            ("full handshake+GET", false),
            ("resumed handshake+GET", true),
        ] {
            let mut resumed = 0;
            let spool = measure(|| {
                let (n, s) = spool_side::new_connection_gets(&args, args.handshakes, resume);
                resumed = s;
                n
            });
            report(
                scenario,
                "spool",
                spool,
                &format!("{resumed}/{} resumed", args.handshakes),
            );
            let peer =
                measure(|| reqwest_side::new_connection_gets(&args, args.handshakes, resume));
            report(scenario, "reqwest+tokio", peer, "");
            let bare = measure(|| {
                let (n, s) = spool_side::bare_handshakes(&args, args.handshakes, resume);
                resumed = s;
                n
            });
            report(
                scenario,
                "spool connector",
                bare,
                &format!(
                    "{resumed}/{} resumed; TlsConnector + one HEAD, no client",
                    args.handshakes
                ),
            );
        }
        let spool = measure(|| spool_side::keep_alive_gets(&args, args.requests));
        report("keep-alive GET", "spool", spool, "");
        let peer = measure(|| reqwest_side::keep_alive_gets(&args, args.requests));
        report("keep-alive GET", "reqwest+tokio", peer, "");
    }
}
