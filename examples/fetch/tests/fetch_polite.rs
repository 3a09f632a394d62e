//! `fetch` politeness: the default connection ramp against Python's `http.server` with
//! `-c 500 --per-host 0` (every URL a 200), `--rate` spacing requests to nginx, bad values exit 2.

mod fetch_util;
#[path = "../../../tests/support/mod.rs"]
mod support;

use fetch_util::{run, Scratch};
use std::time::{Duration, Instant};
use support::{Nginx, NginxOptions, PythonServer};

#[test]
fn python_http_server_gets_every_url_at_500_in_flight() {
    let files: Vec<(String, String)> = (0..50)
        .map(|i| (format!("f{i}.txt"), format!("file {i}\n")))
        .collect();
    let server = PythonServer::start(files.iter().map(|(p, b)| (p.as_str(), b.as_bytes())));
    let list: String = (0..1500)
        .map(|i| server.url(&format!("/f{}.txt", i % 50)) + "\n")
        .collect();
    let dir = Scratch::new("ramp");
    let input = dir.file("urls.txt", list.as_bytes());
    let ran = run(&[
        "--no-progress",
        "-c",
        "500",
        "--per-host",
        "0",
        "--timeout",
        "30",
        "-i",
        &input,
    ]);
    let lines = ran.lines();
    assert_eq!(lines.len(), 1500);
    let not_ok: Vec<_> = lines.iter().filter(|l| l["status"] != 200).collect();
    assert!(
        not_ok.is_empty(),
        "{} not 200, e.g. {:?}",
        not_ok.len(),
        not_ok.first()
    );
    assert_eq!(ran.code(), 0, "{}", ran.stderr);
}

#[test]
fn rate_spaces_requests_per_host() {
    let Some(nginx) = Nginx::start(NginxOptions::new().file("a.txt", "alpha")) else {
        return;
    };
    let url = nginx.url("/a.txt");
    let started = Instant::now();
    let ran = run(&[
        "--no-progress",
        "--rate",
        "10",
        &url,
        &url,
        &url,
        &url,
        &url,
    ]);
    assert_eq!(ran.code(), 0, "{ran:?}");
    assert!(ran.lines().iter().all(|l| l["status"] == 200));
    // Five requests at 10/s: the last leaves no sooner than 400 ms after the first.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn bad_politeness_values_exit_2_naming_the_flag() {
    let url = "http://127.0.0.1:9/";
    for (args, mentions) in [
        (vec!["--rate", "0", url], "--rate"),
        (vec!["--rate", "-2", url], "--rate"),
        (vec!["--rate", "fast", url], "--rate"),
        (vec!["--rate", "inf", url], "--rate"),
        (vec!["--ramp", "few", url], "--ramp"),
        (vec!["--ramp", "-1", url], "-1"),
    ] {
        let ran = run(&args);
        assert_eq!(ran.code(), 2, "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(mentions), "{args:?}: {}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    }
}
