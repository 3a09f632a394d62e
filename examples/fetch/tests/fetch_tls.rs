//! `fetch` over https against nginx with `ssl` on a loopback port, its certificate signed by a CA
//! made for the test: `--ca-file` makes it trusted (status lines, exit 0, TLS figures in the
//! summary); without it every URL fails with kind "tls" saying the issuer is unknown (exit 1); a
//! `--ca-file` that holds no certificate is a usage error (exit 2).
//!
//! Skips with a notice when nginx or openssl is missing, unless `CI=true`.

mod fetch_util;
#[path = "../../../tests/support/mod.rs"]
mod support;

use fetch_util::{assert_one_per_index, line_for, run, Scratch};
use support::{Nginx, NginxOptions, TestCerts};

const FILES: usize = 5;

/// Distinct lengths, one spanning several TLS records.
fn body(i: usize) -> Vec<u8> {
    vec![b'a' + i as u8; 1 + i * 9_000]
}

fn start() -> Option<(TestCerts, Nginx)> {
    let certs = TestCerts::generate()?;
    let mut options = NginxOptions::new().tls(certs.cert(), certs.key());
    for i in 0..FILES {
        options = options.file(&format!("f{i}"), body(i));
    }
    let nginx = Nginx::start(options)?;
    Some((certs, nginx))
}

fn urls(nginx: &Nginx) -> Vec<String> {
    (0..FILES)
        .map(|i| nginx.tls_url(&format!("/f{i}")))
        .collect()
}

#[test]
fn ca_file_makes_the_private_ca_trusted() {
    let Some((certs, nginx)) = start() else {
        return;
    };
    // A bundle of two certificates (the leaf, then the CA): every one of them is loaded.
    let dir = Scratch::new("tls-bundle");
    let mut bundle = std::fs::read(certs.cert()).unwrap();
    bundle.extend_from_slice(&certs.ca_pem());
    let bundle = dir.file("bundle.pem", &bundle);
    let urls = urls(&nginx);
    let mut args = vec!["--no-progress", "--ca-file", &bundle, "--per-host", "1"];
    args.extend(urls.iter().map(String::as_str));
    let ran = run(&args);
    assert_eq!(ran.code(), 0, "{ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, FILES);
    for i in 0..FILES {
        let line = line_for(&lines, i as u64);
        assert_eq!(line["status"], 200, "{line}");
        assert_eq!(line["bytes"], body(i).len() as u64, "{line}");
        assert!(line["error"].is_null(), "{line}");
    }
    let summary = ran.summary();
    assert_eq!(summary["ok"], FILES.to_string());
    // One host at a time over keep-alive: one TLS connection, one full handshake.
    assert_eq!(summary["tls_handshakes"], "1", "{}", ran.stderr);
    assert_eq!(summary["tls_resumed"], "0%", "{}", ran.stderr);
    assert_eq!(nginx.accepted_connections(), 1);
}

#[test]
fn without_ca_file_every_url_fails_with_an_unknown_issuer() {
    let Some((_certs, nginx)) = start() else {
        return;
    };
    let urls = urls(&nginx);
    let mut args = vec!["--no-progress"];
    args.extend(urls.iter().map(String::as_str));
    let ran = run(&args);
    assert_eq!(ran.code(), 1, "{ran:?}");
    let lines = ran.lines();
    assert_one_per_index(&lines, FILES);
    for line in &lines {
        assert!(line["status"].is_null(), "{line}");
        assert_eq!(line["kind"], "tls", "{line}");
        let error = line["error"].as_str().unwrap();
        assert!(error.contains("unknown issuer"), "{line}");
    }
    assert_eq!(ran.summary()["tls"], FILES.to_string());
}

#[test]
fn a_ca_file_without_certificates_is_a_usage_error() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    // A private key file: PEM, but no certificate in it.
    let key = certs.key();
    let key = key.to_str().unwrap();
    let ran = run(&["--ca-file", key, "https://127.0.0.1:9/"]);
    assert_eq!(ran.code(), 2, "{ran:?}");
    assert_eq!(ran.stdout, "");
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", ran.stderr);
    assert!(lines[0].contains(key), "{}", lines[0]);
    assert!(lines[0].contains("--ca-file"), "{}", lines[0]);
}
