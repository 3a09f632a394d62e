//! The cooperative budget: a task whose operations are always ready still lets the others run.
//!
//! Without the budget each of these readers would hold the loop until it stops by itself (its own
//! deadline below, 2 s), and the interval beside it would be late by about that much. With it, the reader
//! returns `Pending` after 128 ready operations per poll and the interval ticks on time.
//!
//! The bound asserted is 200 ms of worst lateness for a 10 ms interval: an order of magnitude below what
//! starvation produces here (2 s), and loose enough for a shared, loaded 2-core machine, where the
//! scheduler alone can delay a thread by tens of milliseconds. The measured figure (a few ms when the
//! machine is quiet) is printed for the record; the 20 ms target belongs to a benchmark, not a test.

mod common;

use spool_runtime::net::TcpListener;
use spool_runtime::sync::mpsc;
use spool_runtime::time::interval;
use spool_runtime::{block_on, spawn};
use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long the reader would run if nothing stopped it: what starvation would cost the interval.
const READER_LIMIT: Duration = Duration::from_secs(2);
const TICKS: u32 = 20;
const PERIOD: Duration = Duration::from_millis(10);
const WORST_ALLOWED: Duration = Duration::from_millis(200);

/// Tick a 10 ms interval `TICKS` times beside a busy task; returns the worst lateness.
async fn worst_lateness() -> Duration {
    let mut ticker = interval(PERIOD);
    let mut late = Vec::new();
    for _ in 0..TICKS {
        let scheduled = ticker.tick().await;
        late.push(Instant::now().saturating_duration_since(scheduled));
    }
    eprintln!("lateness per tick: {late:?}");
    late.into_iter().max().unwrap_or_default()
}

#[test]
fn a_reader_of_an_endless_stream_does_not_starve_an_interval() {
    common::bounded(60, || {
        block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr().unwrap();
            // The peer writes as fast as it can until the reader hangs up (bounded by READER_LIMIT).
            let writer = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                let chunk = vec![7u8; 64 * 1024];
                let start = Instant::now();
                while start.elapsed() < READER_LIMIT * 2 && s.write_all(&chunk).is_ok() {}
            });
            let (conn, _) = listener.accept().await.unwrap();
            // Let the kernel buffer fill, so reads find data waiting.
            spool_runtime::time::sleep(Duration::from_millis(50)).await;
            let stop = Rc::new(Cell::new(false));
            let stop_reader = stop.clone();
            let reader = spawn(async move {
                let start = Instant::now();
                let (mut bytes, mut buf) = (0u64, [0u8; 16]);
                // Small reads: each fills its buffer, so the socket stays readable.
                while !stop_reader.get() && start.elapsed() < READER_LIMIT {
                    bytes += conn.read(&mut buf).await.unwrap() as u64;
                }
                bytes
            });
            let worst = worst_lateness().await;
            stop.set(true);
            let bytes = reader.await.unwrap();
            eprintln!(
                "coop/tcp: worst lateness {worst:?} over {TICKS} ticks; reader got {bytes} bytes"
            );
            assert!(bytes > 0);
            assert!(worst <= WORST_ALLOWED, "the interval was late by {worst:?}");
            drop(writer); // it stops on the broken pipe once `conn` is gone
        });
    });
}

#[test]
fn a_receiver_of_a_never_empty_channel_does_not_starve_an_interval() {
    common::bounded(60, || {
        block_on(async {
            let stop = Rc::new(Cell::new(false));
            let stop_loop = stop.clone();
            // Sends and receives in one task, so the channel is never empty when `recv` is called.
            let spinner = spawn(async move {
                let (tx, mut rx) = mpsc::channel(4);
                let start = Instant::now();
                let mut n = 0u64;
                tx.send(0u64).await.unwrap();
                while !stop_loop.get() && start.elapsed() < READER_LIMIT {
                    n += rx.recv().await.unwrap();
                    tx.send(1).await.unwrap();
                }
                n
            });
            let worst = worst_lateness().await;
            stop.set(true);
            let received = spinner.await.unwrap();
            eprintln!("coop/mpsc: worst lateness {worst:?} over {TICKS} ticks; {received} values received");
            assert!(received > 0);
            assert!(worst <= WORST_ALLOWED, "the interval was late by {worst:?}");
        });
    });
}
