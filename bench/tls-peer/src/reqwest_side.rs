//! The peer: reqwest with rustls (ring provider, like spool) on tokio's current_thread runtime.
//! Its rustls configuration is built here so that it trusts the same CA, offers the same ALPN, and
//! has resumption on or off like the spool run it is compared with.

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::Args;

fn rustls_config(args: &Args, resume: bool) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&args.ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = if resume {
        Resumption::in_memory_sessions(4096)
    } else {
        Resumption::disabled()
    };
    config
}

fn client(args: &Args, keep_alive: bool, resume: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls(rustls_config(args, resume))
        .http1_only();
    if !keep_alive {
        builder = builder.pool_max_idle_per_host(0);
    }
    builder.build().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `count` sequential GETs, each on a new connection.
pub fn new_connection_gets(args: &Args, count: u64, resume: bool) -> u64 {
    let client = client(args, false, resume);
    runtime().block_on(async {
        for _ in 0..count {
            let response = client.get(&args.url).send().await.unwrap();
            assert_eq!(response.bytes().await.unwrap().len(), args.body_len);
        }
    });
    count
}

/// `count` GETs over keep-alive connections, `concurrency` at a time (a `LocalSet` of workers).
pub fn keep_alive_gets(args: &Args, count: u64) -> u64 {
    let client = client(args, true, true);
    let next = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let local = tokio::task::LocalSet::new();
    runtime().block_on(local.run_until(async {
        let mut workers = Vec::new();
        for _ in 0..args.concurrency {
            let (client, next, url, len) = (
                client.clone(),
                next.clone(),
                args.url.clone(),
                args.body_len,
            );
            workers.push(tokio::task::spawn_local(async move {
                while next.get() < count {
                    next.set(next.get() + 1);
                    let response = client.get(&url).send().await.unwrap();
                    assert_eq!(response.bytes().await.unwrap().len(), len);
                }
            }));
        }
        for worker in workers {
            worker.await.unwrap();
        }
    }));
    count
}
