//! Runtimes that cannot mix: a socket or a sleep carried from one runtime into another fails loudly,
//! naming the problem, and never touches the other runtime's sockets or timers.
//!
//! Before runtimes had an identity, a `TcpStream` read in a second runtime used its first runtime's
//! reactor key there: a panic ("invalid key") or, when that key was taken, a silent hang on a stranger's
//! slot, and dropping it deregistered the stranger's socket. A `Sleep`'s timer key collided the same way
//! and fired early, stealing another sleep's wake.

mod common;

use spool_runtime::net::TcpStream;
use spool_runtime::time::{sleep, Sleep};
use spool_runtime::Runtime;
use std::future::{poll_fn, Future};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn a_socket_from_another_runtime_panics_and_leaves_its_sockets_alone() {
    common::bounded(30, || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut peers = Vec::new();
            for _ in 0..2 {
                let (mut s, _) = listener.accept().unwrap();
                s.write_all(b"hi").unwrap();
                peers.push(s);
            }
            peers
        });

        // Connected in a first runtime: its reactor key there is 0.
        let first = Runtime::new().unwrap();
        let stranger = first.block_on(TcpStream::connect(addr)).unwrap();

        // A second runtime whose own socket holds key 0 too.
        let second = Runtime::new().unwrap();
        let own = second.block_on(TcpStream::connect(addr)).unwrap();
        let _peers = server.join().unwrap();

        let err = catch_unwind(AssertUnwindSafe(|| {
            second.block_on(async move {
                let mut buf = [0u8; 2];
                let _ = stranger.read(&mut buf).await; // dropped here, inside `second`
            })
        }))
        .expect_err("reading a socket of another runtime must panic");
        let msg = panic_message(err);
        assert!(msg.contains("registered with another runtime"), "{msg}");

        // The stranger's drop did not deregister `own`, which still reads its bytes.
        second.block_on(async {
            assert_eq!(
                spool_runtime::current_stats().unwrap().registered_sources,
                1
            );
            let mut buf = [0u8; 2];
            own.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hi");
        });
    });
}

#[test]
fn a_sleep_from_another_runtime_panics_and_steals_no_wake() {
    common::bounded(30, || {
        // Polled once in a first runtime: it holds timer slot 0, sequence 0 there.
        let first = Runtime::new().unwrap();
        let mut moved: Pin<Box<Sleep>> = Box::pin(sleep(Duration::from_millis(20)));
        first.block_on(poll_fn(|cx| {
            assert!(moved.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        }));

        let second = Runtime::new().unwrap();
        let err = catch_unwind(AssertUnwindSafe(|| {
            second.block_on(async {
                // An unrelated sleep of this runtime takes slot 0, sequence 0 here.
                let mut own = Box::pin(sleep(Duration::from_millis(300)));
                poll_fn(|cx| {
                    assert!(own.as_mut().poll(cx).is_pending());
                    Poll::Ready(())
                })
                .await;
                moved.as_mut().await;
            })
        }))
        .expect_err("awaiting a sleep of another runtime must panic");
        let msg = panic_message(err);
        assert!(msg.contains("registered with another runtime"), "{msg}");

        // This runtime's timers are intact: a sleep here still waits its full time.
        let start = Instant::now();
        second.block_on(sleep(Duration::from_millis(50)));
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert_eq!(second.stats().timers, 0);
    });
}
