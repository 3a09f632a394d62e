//! `--threads N` and `--shard K/N` end to end: eight in-process origins, a list that mixes them with
//! invalid lines; every input line yields exactly one whole JSON line whatever the number of loops,
//! the summary adds up all loops, and the shards of one list partition it by origin.

mod fetch_util;
#[path = "../../../tests/support/mod.rs"]
mod support;

use fetch_util::{assert_one_per_index, parse_lines, run, run_with, Scratch};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use support::tiny_origin::TinyOrigin;

const ORIGINS: usize = 8;
const PER_ORIGIN: usize = 40;
const INVALID: usize = 3;

/// Eight origins, each answering with its own number as the body, and a list of
/// `ORIGINS × PER_ORIGIN` URLs (origins interleaved) plus `INVALID` bad lines.
fn origins_and_list() -> (Vec<TinyOrigin>, String) {
    let origins: Vec<TinyOrigin> = (0..ORIGINS)
        .map(|o| {
            let body = format!("origin{o}");
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            TinyOrigin::start(response.into_bytes())
        })
        .collect();
    let mut list = String::new();
    for i in 0..PER_ORIGIN {
        for o in &origins {
            list.push_str(&format!("http://{}/u{i}\n", o.addr()));
        }
        if i < INVALID {
            list.push_str("ftp://not-http.example/\n");
        }
    }
    (origins, list)
}

/// The `index` of each line, grouped by the port of its URL (`None` for the invalid lines).
fn indexes_by_port(lines: &[Value]) -> HashMap<Option<u16>, BTreeSet<u64>> {
    let mut by_port: HashMap<Option<u16>, BTreeSet<u64>> = HashMap::new();
    for line in lines {
        let url = line["url"].as_str().expect("every line names its url");
        let port = url
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok());
        let index = line["index"].as_u64().expect("every line has an index");
        assert!(by_port.entry(port).or_default().insert(index));
    }
    by_port
}

#[test]
fn three_loops_give_one_whole_line_per_input_line_and_one_summary() {
    let (_origins, list) = origins_and_list();
    let dir = Scratch::new("threads");
    let input = dir.file("urls", list.as_bytes());
    let total = ORIGINS * PER_ORIGIN + INVALID;
    let ran = run_with(
        &["-i", &input, "--threads", "3", "-c", "12"],
        None,
        None,
        Duration::from_secs(120),
    );
    // Exit 1: some lines were invalid, and the run says so.
    assert_eq!(ran.code(), 1, "{}", ran.stderr);
    // parse_lines panics on any line that is not one JSON object: lines never interleave.
    let lines = ran.lines();
    assert_one_per_index(&lines, total);
    let ok = lines.iter().filter(|l| l["status"] == 200).count();
    assert_eq!(ok, ORIGINS * PER_ORIGIN, "{}", ran.stderr);
    let invalid: Vec<&Value> = lines.iter().filter(|l| l["status"].is_null()).collect();
    assert_eq!(invalid.len(), INVALID);
    assert!(invalid.iter().all(|l| l["kind"] == "invalid_url"));
    let s = ran.summary();
    assert_eq!(s["urls"], total.to_string(), "{}", ran.stderr);
    assert_eq!(s["ok"], (ORIGINS * PER_ORIGIN).to_string());
    let bytes: usize = (0..ORIGINS).map(|o| format!("origin{o}").len()).sum();
    assert_eq!(s["bytes"], (bytes * PER_ORIGIN).to_string());
}

#[test]
fn shards_split_one_list_by_origin_with_nothing_lost_or_doubled() {
    let (_origins, list) = origins_and_list();
    let dir = Scratch::new("shards");
    let input = dir.file("urls", list.as_bytes());
    let total = ORIGINS * PER_ORIGIN + INVALID;
    let mut seen: BTreeSet<u64> = BTreeSet::new();
    let mut shard_of_port: HashMap<u16, usize> = HashMap::new();
    for k in 0..3 {
        let out = dir.path().join(format!("shard{k}.jsonl"));
        let shard = format!("{k}/3");
        let ran = run_with(
            &["-i", &input, "--shard", &shard, "-o", out.to_str().unwrap()],
            None,
            None,
            Duration::from_secs(120),
        );
        assert!(matches!(ran.code(), 0 | 1), "{}", ran.stderr);
        let lines = parse_lines(&std::fs::read_to_string(&out).unwrap());
        for (port, indexes) in indexes_by_port(&lines) {
            for i in indexes {
                assert!(seen.insert(i), "index {i} in two shards");
            }
            if let Some(port) = port {
                // Every URL of one origin lands in the same shard.
                assert_eq!(*shard_of_port.entry(port).or_insert(k), k, "port {port}");
            }
        }
        for line in lines.iter().filter(|l| !l["status"].is_null()) {
            assert_eq!(line["status"], 200, "{line}");
        }
    }
    assert_eq!(seen, (0..total as u64).collect::<BTreeSet<u64>>());
    assert_eq!(shard_of_port.len(), ORIGINS);
}

#[test]
fn threads_zero_means_one_loop_per_cpu_and_still_one_line_each() {
    let (_origins, list) = origins_and_list();
    let dir = Scratch::new("threads0");
    let input = dir.file("urls", list.as_bytes());
    let ran = run_with(
        &["-i", &input, "--threads", "0"],
        None,
        None,
        Duration::from_secs(120),
    );
    assert_eq!(ran.code(), 1, "{}", ran.stderr);
    assert_one_per_index(&ran.lines(), ORIGINS * PER_ORIGIN + INVALID);
}

#[test]
fn threads_refuse_stdin_and_the_demo_with_a_sentence() {
    for args in [&["--threads", "2", "-i", "-"][..], &["--threads", "2"][..]] {
        let ran = run_with(
            args,
            Some(b"http://127.0.0.1:1/\n"),
            None,
            Duration::from_secs(30),
        );
        assert_eq!(ran.code(), 2, "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains("--threads"), "{}", ran.stderr);
        assert!(ran.stdout.is_empty());
    }
    let ran = run(&["--shard", "1/0", "http://127.0.0.1:1/"]);
    assert_eq!(ran.code(), 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("--shard"), "{}", ran.stderr);
}

/// An origin that holds every response until `want` requests have waited at once (or 10 s have
/// passed; after that it answers at once), and reports the most it saw waiting together: the
/// requests in flight to it.
fn gathering_origin(want: usize) -> (String, std::sync::Arc<std::sync::Mutex<usize>>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::{Arc, Condvar, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let most = Arc::new(Mutex::new(0usize));
    // (requests waiting now, whether `want` was reached), and the condvar that announces both.
    let state = Arc::new((Mutex::new((0usize, false)), Condvar::new()));
    let seen = most.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (state, seen) = (state.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line != "\r\n" {
                        continue;
                    }
                    let (lock, cv) = &*state;
                    let mut waiting = lock.lock().unwrap();
                    waiting.0 += 1;
                    waiting.1 |= waiting.0 >= want;
                    let mut m = seen.lock().unwrap();
                    *m = (*m).max(waiting.0);
                    drop(m);
                    cv.notify_all();
                    let (mut waiting, _) = cv
                        .wait_timeout_while(waiting, Duration::from_secs(10), |w| !w.1)
                        .unwrap();
                    waiting.0 -= 1;
                    drop(waiting);
                    let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                }
            });
        }
    });
    (format!("http://{addr}"), most)
}

#[test]
fn a_one_origin_list_gets_the_whole_of_c_on_its_one_loop() {
    // With -c split evenly, the one loop holding this origin would get 8 of the 16.
    let (base, most) = gathering_origin(16);
    let list: String = (0..32).map(|i| format!("{base}/u{i}\n")).collect();
    let scratch = Scratch::new("threads-one-origin");
    let input = scratch.file("urls.txt", list.as_bytes());
    let args = [
        "--no-progress",
        "--threads",
        "2",
        "-c",
        "16",
        "--per-host",
        "0",
        "--ramp",
        "0",
        "-i",
        &input,
    ];
    let ran = run(&args);
    assert_eq!(ran.code(), 0, "{}", ran.stderr);
    assert_one_per_index(&ran.lines(), 32);
    assert_eq!(*most.lock().unwrap(), 16, "requests in flight at once");
}

#[test]
fn threads_refuse_an_input_that_is_not_a_regular_file() {
    // Every loop reads the input itself: a pipe would hand each loop a part of the list.
    let ran = run_with(
        &["--threads", "2", "-i", "/dev/stdin"],
        Some(b"http://127.0.0.1:1/\n"),
        None,
        Duration::from_secs(30),
    );
    assert_eq!(ran.code(), 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("--input") && ran.stderr.contains("regular file"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty());
}
