//! The spool contender: `spool_client::Client` on `spool_runtime::block_on`, one thread, plus the
//! bare `TlsConnector` (TCP connect + handshake, no HTTP) for the handshake cost alone.

use std::net::SocketAddr;

use spool_client::tls::{Certificate, TlsConnector};
use spool_client::Client;
use spool_runtime::net::TcpStream;

use crate::Args;

fn client(args: &Args, keep_alive: bool, resume: bool) -> Client {
    let mut builder = Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(&args.ca_pem).unwrap())
        .max_connections(args.concurrency)
        .max_connections_per_host(args.concurrency)
        .tls_session_cache_hosts(if resume { 512 } else { 0 });
    if !keep_alive {
        builder = builder.pool_max_idle_per_host(0);
    }
    builder.build().unwrap()
}

/// `count` sequential GETs, each on a new connection (full or resumed handshake). Returns the
/// number done and how many handshakes resumed.
pub fn new_connection_gets(args: &Args, count: u64, resume: bool) -> (u64, u64) {
    let client = client(args, false, resume);
    spool_runtime::block_on(async {
        for _ in 0..count {
            let response = client.get(&args.url).send().await.unwrap();
            let body = response.bytes().await.unwrap();
            assert_eq!(body.len(), args.body_len);
        }
    });
    let stats = client.tls_handshake_stats();
    assert_eq!(stats.full + stats.resumed, count);
    (count, stats.resumed)
}

/// `count` sequential connections through the bare `TlsConnector`: TCP connect, handshake, one
/// `HEAD` and the first byte of its answer, close_notify. No pool, no HTTP parsing.
pub fn bare_handshakes(args: &Args, count: u64, resume: bool) -> (u64, u64) {
    let connector = TlsConnector::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(&args.ca_pem).unwrap())
        .session_cache_hosts(if resume { 512 } else { 0 })
        .build()
        .unwrap();
    let addr: SocketAddr = args.addr;
    spool_runtime::block_on(async {
        for _ in 0..count {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut tls = connector.connect(&args.host, tcp).await.unwrap();
            // TLS 1.3 tickets arrive after the handshake: one round trip takes them in, so the
            // next connection has something to resume (done with resumption off too, to compare).
            tls.write_all(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut buf = [0u8; 1];
            assert_eq!(tls.read(&mut buf).await.unwrap(), 1);
            tls.close().await.unwrap();
        }
    });
    (count, connector.handshake_stats().resumed)
}

/// `count` GETs over keep-alive connections, `concurrency` at a time.
pub fn keep_alive_gets(args: &Args, count: u64) -> u64 {
    let client = client(args, true, true);
    let next = std::rc::Rc::new(std::cell::Cell::new(0u64));
    spool_runtime::block_on(async {
        let mut workers = spool_runtime::JoinSet::new();
        for _ in 0..args.concurrency {
            let (client, next, url, len) = (
                client.clone(),
                next.clone(),
                args.url.clone(),
                args.body_len,
            );
            workers.spawn(async move {
                while next.get() < count {
                    next.set(next.get() + 1);
                    let response = client.get(&url).send().await.unwrap();
                    assert_eq!(response.bytes().await.unwrap().len(), len);
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done.unwrap();
        }
    });
    count
}
