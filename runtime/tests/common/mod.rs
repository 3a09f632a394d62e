//! Shared helpers for the runtime's integration tests: a watchdog that bounds every test in time.
//!
//! A runtime bug usually shows up as a hang (a lost wake-up, a missed edge), and a hung test would stall
//! `cargo test` forever. [`bounded`] runs a test body on its own thread and fails the test with a clear
//! message if it has not finished in time; the stuck thread is left behind and dies with the process.

#![allow(dead_code)] // each test file uses a different subset

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// Run `body` on a fresh thread; panic if it does not finish within `secs` seconds, and re-raise its
/// panic (with the original payload, so `assert!` messages survive) if it panics.
pub fn bounded<F>(secs: u64, body: F)
where
    F: FnOnce() + Send + 'static,
{
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker = thread::Builder::new()
        .name("bounded-test".into())
        .spawn(move || {
            body();
            let _ = done_tx.send(());
        })
        .expect("spawn the test thread");
    match done_rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => worker.join().expect("test thread finished"),
        // The sender was dropped without sending: the body panicked.
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the body finished without reporting"),
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!("watchdog: the test did not finish within {secs} s (a hang: lost wake-up or missed event?)")
        }
    }
}

/// Run `future` on a fresh spool runtime inside [`bounded`].
pub fn run<F, Fut>(secs: u64, make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    bounded(secs, move || spool_runtime::block_on(make()));
}

/// A byte pattern that differs per stream `id` and per position, so a misplaced or mixed-up byte shows.
pub fn pattern(id: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(31)
                .wrapping_add(id.wrapping_mul(7919)) as u8
                ^ (i >> 8) as u8
        })
        .collect()
}
