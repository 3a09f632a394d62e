//! Idle is zero CPU: a runtime that only waits (on a timer, on many timers, on a socket) must block in
//! `epoll_wait` instead of spinning.
//!
//! The process's own CPU time is read from `/proc/self/stat` (user + system, in clock ticks of 10 ms) and,
//! more precisely, the loop thread's from `/proc/thread-self/schedstat` (nanoseconds on CPU). This file
//! holds a single test so that no other test shares the process while it measures. The bound (50 ms for
//! about a second of waiting) is generous against a loaded machine yet far below a busy loop (~1,000 ms).

mod common;

use spool_runtime::time::{sleep, sleep_until};
use spool_runtime::{block_on, spawn};
use std::io::Write;
use std::time::{Duration, Instant};

/// The limit per scenario. The target is under 10 ms for a 2 s sleep; this leaves room for noise.
const LIMIT: Duration = Duration::from_millis(50);

/// User + system CPU time of the whole process.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
    // The command name (field 2) may contain spaces; the fields after its closing parenthesis are plain.
    let rest = &stat[stat.rfind(')').expect("comm field") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are at 11 and 12 once pid and comm are cut off.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // USER_HZ is 100 on Linux for every architecture the kernel reports /proc times in.
    Duration::from_millis(ticks * 10)
}

/// CPU time of the calling thread, in nanoseconds, when the kernel exposes it.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Run `scenario`, returning (wall time, process CPU, thread CPU).
fn measure(scenario: impl FnOnce()) -> (Duration, Duration, Option<Duration>) {
    let (p0, t0, w0) = (process_cpu(), thread_cpu(), Instant::now());
    scenario();
    let (p1, t1, wall) = (process_cpu(), thread_cpu(), w0.elapsed());
    let thread = match (t0, t1) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    (wall, p1 - p0, thread)
}

fn check(
    name: &str,
    min_wall: Duration,
    (wall, process, thread): (Duration, Duration, Option<Duration>),
) {
    eprintln!("idle/{name}: wall {wall:?}, process CPU {process:?}, loop thread CPU {thread:?}");
    assert!(wall >= min_wall, "{name}: the wait ended early ({wall:?})");
    assert!(
        process < LIMIT,
        "{name}: the process used {process:?} of CPU while idle (limit {LIMIT:?})"
    );
    if let Some(t) = thread {
        assert!(
            t < LIMIT,
            "{name}: the loop thread used {t:?} of CPU while idle (limit {LIMIT:?})"
        );
    }
}

#[test]
fn an_idle_runtime_uses_almost_no_cpu() {
    common::bounded(60, || {
        // Warm up: first-use costs (thread-locals, lazy statics, page faults) are not idling.
        block_on(sleep(Duration::from_millis(1)));

        // 1. One sleeping future: the loop blocks in epoll_wait until the deadline.
        let one_second = Duration::from_secs(1);
        check(
            "sleep 1 s",
            one_second,
            measure(|| block_on(sleep(one_second))),
        );

        // 2. A thousand tasks asleep until one shared deadline: one wake-up, not a thousand loop turns.
        check(
            "1,000 sleeping tasks",
            one_second,
            measure(|| {
                block_on(async {
                    let deadline = Instant::now() + one_second;
                    let handles: Vec<_> = (0..1000).map(|_| spawn(sleep_until(deadline))).collect();
                    for h in handles {
                        h.await.unwrap();
                    }
                })
            }),
        );

        // 3. A socket read with no timer at all: epoll_wait with no timeout until the bytes arrive.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let half = Duration::from_millis(500);
        let writer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            std::thread::sleep(half);
            s.write_all(b"x").unwrap();
        });
        check(
            "socket read",
            half,
            measure(|| {
                block_on(async {
                    let conn = spool_runtime::net::TcpStream::connect(addr).await.unwrap();
                    let mut b = [0u8; 1];
                    conn.read_exact(&mut b).await.unwrap();
                })
            }),
        );
        writer.join().unwrap();
    });
}
