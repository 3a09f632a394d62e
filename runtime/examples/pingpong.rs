//! Keep-alive request/response over loopback, to count what one request costs in syscalls on each
//! driver (`strace -f -c` around the client):
//!
//! ```text
//! cargo run --release -p spool-runtime --example pingpong -- serve 127.0.0.1:7878 &
//! SPOOL_DRIVER=io_uring strace -f -c -o /tmp/uring.txt \
//!     target/release/examples/pingpong client 127.0.0.1:7878 50 400
//! ```
//!
//! The client opens `CONNS` connections and sends `REQS` requests on each, one at a time per connection
//! (64 bytes out, 64 bytes back, as a small keep-alive exchange), all connections at once on one loop.
//! It prints the driver and the number of requests; divide strace's total calls by it.

use spool_runtime::net::{TcpListener, TcpStream};
use spool_runtime::{current_stats, spawn, JoinSet};
use std::net::SocketAddr;

const MSG: usize = 64;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: pingpong serve ADDR | pingpong client ADDR CONNS REQS";
    let mode = args.get(1).expect(usage);
    let addr: SocketAddr = args.get(2).expect(usage).parse().expect("an address");
    match mode.as_str() {
        "serve" => spool_runtime::block_on(serve(addr)),
        "client" => {
            let conns: usize = args.get(3).expect(usage).parse().expect("CONNS");
            let reqs: usize = args.get(4).expect(usage).parse().expect("REQS");
            spool_runtime::block_on(client(addr, conns, reqs));
        }
        _ => panic!("{usage}"),
    }
}

/// Answer every 64-byte message with 64 bytes, on every connection, until killed.
async fn serve(addr: SocketAddr) {
    let listener = TcpListener::bind(addr).expect("bind");
    eprintln!("serving on {}", listener.local_addr().unwrap());
    loop {
        let (conn, _) = listener.accept().await.expect("accept");
        spawn(async move {
            let mut buf = [0u8; MSG];
            while conn.read_exact(&mut buf).await.is_ok() {
                if conn.write_all(&buf).await.is_err() {
                    break;
                }
            }
        });
    }
}

async fn client(addr: SocketAddr, conns: usize, reqs: usize) {
    let driver = current_stats().unwrap().driver;
    let mut set = JoinSet::new();
    for c in 0..conns {
        set.spawn(async move {
            let conn = TcpStream::connect(addr).await.expect("connect");
            let mut buf = [c as u8; MSG];
            for _ in 0..reqs {
                conn.write_all(&buf).await.expect("write");
                conn.read_exact(&mut buf).await.expect("read");
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let s = current_stats().unwrap();
    println!(
        "driver={} requests={} turns={} receives_starved={}",
        driver,
        conns * reqs,
        s.turns,
        s.receives_starved
    );
}
