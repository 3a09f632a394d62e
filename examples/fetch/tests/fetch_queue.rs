//! `fetch enqueue` and `fetch worker` against a real redis-server: 10,000 URLs over three workers,
//! one killed with SIGKILL mid-run; redis restarted mid-run; malformed entries. In every case each
//! source entry ends with exactly one result and nothing is left pending.
//!
//! The URLs are served by a small HTTP server in this test process (a thread per connection, keep-alive,
//! a few milliseconds per response so that a run lasts long enough to be interrupted).

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::redis::Redis;
use support::TempDir;

const FETCH: &str = env!("CARGO_BIN_EXE_fetch");

/// A keep-alive HTTP/1.1 server answering every request with `ok` after `delay`; runs until the test
/// process ends (its threads only ever block on loopback sockets).
fn http_server(delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || serve(conn, delay));
        }
    });
    port
}

fn serve(conn: TcpStream, delay: Duration) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut writer = conn;
    let mut line = String::new();
    loop {
        // Read a request head (these GETs have no body).
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => {}
            }
        }
        std::thread::sleep(delay);
        if writer
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
    }
}

fn enqueue(redis: &Redis, stream: &str, urls: &[String], dir: &TempDir) {
    let file = dir.write("urls.txt", (urls.join("\n") + "\n").as_bytes());
    let out = Command::new("timeout")
        .args([
            "60",
            FETCH,
            "enqueue",
            "--redis",
            &redis.url(),
            "--stream",
            stream,
            "-i",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(redis.xlen(stream), urls.len());
}

fn worker(redis: &Redis, consumer: &str, extra: &[&str]) -> Child {
    Command::new(FETCH)
        .args([
            "worker",
            "--redis",
            &redis.url(),
            "--stream",
            "s",
            "--group",
            "g",
        ])
        .args(["--consumer", consumer, "--results", "r", "--idle-exit", "3"])
        .args([
            "--claim-after",
            "1",
            "-c",
            "8",
            "--timeout",
            "10",
            "--no-progress",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a worker")
}

/// Wait for `child` at most `limit`; kill it and fail past that. Returns (success, stderr).
fn finish(mut child: Child, limit: Duration) -> (bool, String) {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err);
            return (status.success(), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a worker did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Source ids of stream `s` and, per source id, the JSON of its results in `r`.
fn results(redis: &Redis) -> (Vec<String>, HashMap<String, Vec<String>>) {
    // Raw output: an entry of `s` is 3 lines (id, "url", value); of `r` 5 (id, "id", src, "json", json).
    let source: Vec<String> = redis
        .cli(&["XRANGE", "s", "-", "+"])
        .lines()
        .collect::<Vec<_>>()
        .chunks(3)
        .map(|c| c[0].to_string())
        .collect();
    let mut by_source: HashMap<String, Vec<String>> = HashMap::new();
    let out = redis.cli(&["XRANGE", "r", "-", "+"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len() % 5,
        0,
        "results stream entries have fields id and json"
    );
    for c in lines.chunks(5) {
        assert_eq!((c[1], c[3]), ("id", "json"));
        by_source
            .entry(c[2].to_string())
            .or_default()
            .push(c[4].to_string());
    }
    (source, by_source)
}

fn assert_exactly_one_result_each(redis: &Redis) -> HashMap<String, Vec<String>> {
    let (source, by_source) = results(redis);
    let ids: HashSet<&String> = source.iter().collect();
    assert_eq!(ids.len(), source.len());
    for id in &source {
        let n = by_source.get(id).map_or(0, Vec::len);
        assert_eq!(n, 1, "source entry {id} has {n} results");
    }
    assert_eq!(by_source.len(), source.len(), "results for unknown ids");
    let pending = redis.cli(&["XPENDING", "s", "g"]);
    assert_eq!(pending.lines().next(), Some("0"), "left pending: {pending}");
    by_source
}

fn urls(port: u16, n: usize) -> Vec<String> {
    // Several origins (paths are per-origin keys too: one host, several ports would need servers).
    (0..n)
        .map(|i| format!("http://127.0.0.1:{port}/u{i}"))
        .collect()
}

#[test]
fn ten_thousand_urls_three_workers_one_killed_mid_run() {
    let Some(redis) = Redis::start(None) else {
        return;
    };
    let dir = TempDir::new("fetch-queue");
    let port = http_server(Duration::from_millis(2));
    let mut list = urls(port, 10_000);
    list.push("not a url".into());
    list.push("http://127.0.0.1:1/refused".into());
    enqueue(&redis, "s", &list, &dir);
    // An entry without a `url` field.
    redis.cli(&["XADD", "s", "*", "link", "http://elsewhere/"]);

    // Worker a runs alone until it has written 2,000 results, and is killed while it holds entries:
    // it is frozen (SIGSTOP) first, so that it cannot complete what it holds between the check and
    // the kill; when it holds nothing at that instant (between two batches) it is thawed and the
    // check repeats. b and c start after the kill (started together, they may claim from a live but
    // slow a every entry idle past --claim-after on a loaded machine). So what a held at its death is
    // exactly what b and c must claim.
    let mut victim = worker(&redis, "a", &[]);
    let pid = victim.id() as libc::pid_t;
    let signal = |sig| {
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = victim.try_wait().unwrap() {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(victim.stderr.as_mut().unwrap(), &mut err);
            panic!("worker a ended before the kill ({status}): {err}");
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for worker a to hold entries"
        );
        if redis.xlen("r") >= 2000 {
            signal(libc::SIGSTOP);
            let held = redis.cli(&["XPENDING", "s", "g", "-", "+", "100", "a"]);
            if !held.trim().is_empty() {
                break;
            }
            signal(libc::SIGCONT);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    let held = redis.cli(&["XPENDING", "s", "g", "-", "+", "100", "a"]);
    eprintln!("at the kill: {} results; a held: {held:?}", redis.xlen("r"));
    let held = held.lines().count() / 4;
    let b = worker(&redis, "b", &[]);
    let c = worker(&redis, "c", &[]);
    let (ok_b, err_b) = finish(b, Duration::from_secs(180));
    let (ok_c, err_c) = finish(c, Duration::from_secs(60));
    assert!(ok_b && ok_c, "worker b: {err_b}\nworker c: {err_c}");
    assert!(
        held > 0,
        "the killed worker held nothing: the claim path went untested"
    );

    let by_source = assert_exactly_one_result_each(&redis);
    assert_eq!(by_source.len(), 10_003);
    let errors: Vec<&String> = by_source
        .values()
        .flatten()
        .filter(|j| !j.contains("\"error\":null"))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors.iter().any(|j| j.contains("no url field")));
    assert!(errors
        .iter()
        .any(|j| j.contains("\"kind\":\"invalid_url\"") && j.contains("not a url")));
    assert!(errors.iter().any(|j| j.contains("\"kind\":\"connect\"")));
    assert_eq!(redis.xlen("s:dead"), 0);
    eprintln!(
        "killed worker held {held} entries; b: {}c: {}",
        err_b, err_c
    );
}

#[test]
fn workers_reconnect_after_redis_restarts_mid_run() {
    let data = TempDir::new("redis-data");
    let Some(mut redis) = Redis::start(Some(data.path())) else {
        return;
    };
    let dir = TempDir::new("fetch-queue");
    let port = http_server(Duration::from_millis(2));
    enqueue(&redis, "s", &urls(port, 3000), &dir);
    let a = worker(&redis, "a", &[]);
    let b = worker(&redis, "b", &[]);
    wait_for(Duration::from_secs(120), "500 results", || {
        redis.xlen("r") >= 500
    });
    redis.restart(Duration::from_millis(1500));
    let (ok_a, err_a) = finish(a, Duration::from_secs(180));
    let (ok_b, err_b) = finish(b, Duration::from_secs(60));
    assert!(ok_a && ok_b, "worker a: {err_a}\nworker b: {err_b}");
    let by_source = assert_exactly_one_result_each(&redis);
    assert_eq!(by_source.len(), 3000);
    assert!(by_source
        .values()
        .flatten()
        .all(|j| j.contains("\"status\":200")));
}

#[test]
fn a_worker_without_a_reachable_redis_gives_up_and_bad_flags_are_usage_errors() {
    let dir = TempDir::new("fetch-queue");
    let port = support::free_port();
    let out = Command::new("timeout")
        .args([
            "60",
            FETCH,
            "worker",
            "--redis",
            &format!("redis://127.0.0.1:{port}"),
        ])
        .args([
            "--stream",
            "s",
            "--group",
            "g",
            "--consumer",
            "c",
            "--results",
            "r",
        ])
        .args(["--redis-patience", "0.5"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        &["worker", "--redis", "redis://127.0.0.1:1", "--stream", "s"][..],
        &[
            "worker",
            "--redis",
            "127.0.0.1:1",
            "--stream",
            "s",
            "--group",
            "g",
            "--consumer",
            "c",
            "--results",
            "r",
        ],
        &["enqueue", "--redis", "redis://127.0.0.1:1", "--stream", "s"],
        &["--shard", "3/3", "http://127.0.0.1:1/"],
    ] {
        let out = Command::new(FETCH).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
