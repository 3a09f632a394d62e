//! The driver choice and the io_uring driver's own hazards, over loopback only: `Stats` names the driver;
//! a read dropped while its receive is in flight (the op is cancelled, its memory held until the
//! cancellation completes); a tiny buffer ring under many connections (the ENOBUFS path, every byte
//! still arrives); a peer reset mid-receive; an fd number reused while an op on the old socket is still in
//! flight; a wake from another thread while the loop is blocked in the kernel; a flush that does not
//! wait for the kernel to take the bytes, and `sent`, which does.
//!
//! The io_uring tests build their runtime with `Driver::IoUring` explicitly. On a kernel that refuses
//! io_uring they say so on stderr and test nothing else (the refusal itself is tested in
//! `builder.rs` under a seccomp filter).

mod common;

use common::{bounded, pattern};
use spool_runtime::net::{TcpListener, TcpStream, UdpSocket};
use spool_runtime::time::{sleep, timeout};
use spool_runtime::{current_stats, spawn, spawn_blocking, Driver, JoinSet, Runtime};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::task::Poll;
use std::time::Duration;

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// An io_uring runtime with `count` × `size` receive buffers, or `None` (said on stderr) if the kernel
/// refuses io_uring.
fn uring(count: u16, size: u32) -> Option<Runtime> {
    match Runtime::builder()
        .driver(Driver::IoUring)
        .io_uring_buffers(count, size)
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// Run `make()` on an io_uring runtime (see [`uring`]) within `secs` seconds.
fn on_uring<F, Fut>(secs: u64, count: u16, size: u32, make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    bounded(secs, move || {
        if let Some(rt) = uring(count, size) {
            assert_eq!(rt.stats().driver, Driver::IoUring);
            rt.block_on(make());
        }
    });
}

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(localhost()).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Let the loop turn until `done()` holds (at most ~2 s of 1 ms sleeps).
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn stats_name_the_driver_that_runs() {
    let rt = Runtime::builder().driver(Driver::Epoll).build().unwrap();
    assert_eq!(rt.stats().driver, Driver::Epoll);
    assert_eq!(rt.stats().ops_in_flight, 0);
    let auto = Runtime::builder().driver(Driver::Auto).build().unwrap();
    let picked = auto.stats().driver;
    assert!(matches!(picked, Driver::Epoll | Driver::IoUring));
    // Auto picks io_uring exactly when an explicit IoUring would build.
    let explicit = Runtime::builder().driver(Driver::IoUring).build();
    assert_eq!(explicit.is_ok(), picked == Driver::IoUring);
    // `.ci/run` reads this line to decide whether to run the suite a second time on io_uring.
    match explicit {
        Ok(_) => eprintln!("spool-io_uring-probe: available"),
        Err(e) => eprintln!("spool-io_uring-probe: refused: {e}"),
    }
}

#[test]
fn the_same_echo_works_on_both_drivers() {
    for driver in [Driver::Epoll, Driver::Auto] {
        bounded(30, move || {
            let rt = Runtime::builder().driver(driver).build().unwrap();
            rt.block_on(async {
                let (client, server) = pair().await;
                let echo = spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    loop {
                        let n = server.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        server.write_all(&buf[..n]).await.unwrap();
                    }
                });
                let data = pattern(1, 100_000);
                let client = std::rc::Rc::new(client);
                let writer = {
                    let (client, data) = (client.clone(), data.clone());
                    spawn(async move { client.write_all(&data).await.unwrap() })
                };
                let mut got = vec![0u8; data.len()];
                client.read_exact(&mut got).await.unwrap();
                assert!(got == data, "echoed bytes differ");
                writer.await.unwrap();
                client.shutdown(std::net::Shutdown::Write).unwrap();
                echo.await.unwrap();
            });
        });
    }
}

#[test]
fn a_read_dropped_mid_receive_is_cancelled_and_its_op_reaped() {
    on_uring(30, 16, 4096, || async {
        let baseline = current_stats().unwrap().ops_in_flight;
        let (client, server) = pair().await;
        // The read arms a receive; the timeout drops the read future while that receive is in flight.
        let mut buf = [0u8; 64];
        let r = timeout(Duration::from_millis(20), server.read(&mut buf)).await;
        assert!(r.is_err(), "nothing was sent, so the read must time out");
        assert!(current_stats().unwrap().ops_in_flight > baseline);
        // Bytes sent after the read future was dropped wait for the next read: nothing is lost.
        client.write_all(b"after").await.unwrap();
        let mut got = [0u8; 5];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"after");
        // Now drop the socket itself while its receive is armed again: the receive is cancelled, and
        // its op (the memory lent to the kernel) lives until the cancellation's completion is reaped.
        let again = spawn(async move {
            let mut buf = [0u8; 8];
            let _ = server.read(&mut buf).await;
        });
        sleep(Duration::from_millis(5)).await;
        again.abort();
        // The loop reaps the cancellation's completion on a later turn; until then the op is counted.
        until(|| current_stats().unwrap().ops_in_flight == baseline).await;
        let s = current_stats().unwrap();
        assert_eq!((s.ops_in_flight, s.registered_sources), (baseline, 1));
        drop(client);
        assert_eq!(current_stats().unwrap().registered_sources, 0);
    });
}

#[test]
fn a_tiny_buffer_ring_under_many_connections_loses_no_byte() {
    // 4 buffers of 512 bytes for 200 connections of 20 KiB each: receives run dry (ENOBUFS) all the time.
    const CONNS: u32 = 200;
    const LEN: usize = 20 * 1024;
    on_uring(60, 4, 512, || async {
        let listener = TcpListener::bind(localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let mut readers = JoinSet::new();
            for _ in 0..CONNS {
                let (conn, _) = listener.accept().await.unwrap();
                readers.spawn(async move {
                    let mut id = [0u8; 4];
                    conn.read_exact(&mut id).await.unwrap();
                    let id = u32::from_le_bytes(id);
                    let mut got = vec![0u8; LEN];
                    conn.read_exact(&mut got).await.unwrap();
                    assert!(got == pattern(id, LEN), "connection {id}: bytes differ");
                    id
                });
            }
            let mut seen = 0;
            while let Some(r) = readers.join_next().await {
                r.unwrap();
                seen += 1;
            }
            seen
        });
        let mut writers = JoinSet::new();
        for id in 0..CONNS {
            writers.spawn(async move {
                let conn = TcpStream::connect(addr).await.unwrap();
                conn.write_all(&id.to_le_bytes()).await.unwrap();
                conn.write_all(&pattern(id, LEN)).await.unwrap();
                // Keep the connection until the kernel has every byte, then close.
                conn.sent().await.unwrap();
            });
        }
        while let Some(r) = writers.join_next().await {
            r.unwrap();
        }
        assert_eq!(server.await.unwrap(), CONNS);
        let starved = current_stats().unwrap().receives_starved;
        assert!(
            starved > 0,
            "the ring never ran dry: the ENOBUFS path was not taken"
        );
        eprintln!("receives re-armed after ENOBUFS: {starved}");
    });
}

/// A flush does not wait for the kernel on either driver (on io_uring that would cost the task a turn
/// per flush, and a chat server flushing every batch sent 1.7 times as many, smaller, batches); `sent`
/// waits until the kernel holds every byte, and the peer gets them all.
#[test]
fn a_flush_does_not_wait_for_the_kernel_but_sent_does() {
    async fn check(expect_sent_pending: bool) {
        let (client, server) = pair().await;
        client.write_all(b"hello, kernel").await.unwrap();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        // No turn of the loop has passed since the write: on io_uring its send is still queued.
        assert!(matches!(client.poll_flush(&mut cx), Poll::Ready(Ok(()))));
        assert_eq!(client.poll_sent(&mut cx).is_pending(), expect_sent_pending);
        client.sent().await.unwrap();
        let mut buf = [0u8; 13];
        timeout(Duration::from_secs(5), server.read_exact(&mut buf))
            .await
            .expect("the bytes arrive within 5 s")
            .unwrap();
        assert_eq!(&buf, b"hello, kernel");
    }
    on_uring(20, 64, 4096, || check(true));
    bounded(20, || {
        let rt = Runtime::builder().driver(Driver::Epoll).build().unwrap();
        rt.block_on(check(false));
    });
}

#[test]
fn a_peer_reset_mid_receive_is_an_error_then_eof() {
    on_uring(30, 16, 4096, || async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            std::thread::sleep(Duration::from_millis(50));
            // SO_LINGER 0: close sends RST instead of FIN.
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(s);
        });
        let conn = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 16];
        // The receive is in flight when the reset arrives.
        let first = conn.read(&mut buf).await;
        match first {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
            Ok(n) => panic!("a reset must be an error, got Ok({n})"),
        }
        assert_eq!(conn.read(&mut buf).await.unwrap(), 0, "then EOF");
        spawn_blocking(move || peer.join().unwrap()).await;
    });
}

#[test]
fn an_fd_number_reused_while_an_old_op_is_in_flight_gets_no_stale_completion() {
    on_uring(30, 16, 4096, || async {
        let listener = TcpListener::bind(localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut old_fds = Vec::new();
        let mut reused = 0;
        for round in 0..50u32 {
            let old = TcpStream::connect(addr).await.unwrap();
            let (old_peer, _) = listener.accept().await.unwrap();
            if old_fds.contains(&old.as_raw_fd()) {
                reused += 1;
            }
            old_fds.push(old.as_raw_fd());
            // Arm a receive on the old socket, then drop it while the receive is in flight.
            let reader = spawn(async move {
                let mut buf = [0u8; 8];
                let _ = old.read(&mut buf).await;
            });
            sleep(Duration::from_millis(1)).await;
            reader.abort();
            // A new socket right away. Its fd number may be one an old socket had (once that socket's
            // last op completed and its fd was closed), never one whose op is still in flight.
            let new = TcpStream::connect(addr).await.unwrap();
            let (new_peer, _) = listener.accept().await.unwrap();
            if old_fds.contains(&new.as_raw_fd()) {
                reused += 1;
            }
            // Data for the old connection must never show up on the new one.
            let _ = old_peer.write_all(b"old!").await;
            new_peer.write_all(b"new").await.unwrap();
            let mut got = [0u8; 3];
            new.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"new", "round {round}");
            drop((new, new_peer, old_peer));
        }
        assert!(
            reused > 0,
            "fd numbers were never reused: the test did not test reuse"
        );
    });
}

#[test]
fn a_wake_from_another_thread_ends_a_wait_in_the_kernel() {
    on_uring(30, 16, 4096, || async {
        // No timer and no socket: the loop blocks in io_uring_enter with no timeout, and only the
        // blocking thread's wake (the eventfd write) can end that wait.
        let t0 = std::time::Instant::now();
        let v = spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(100));
            7
        })
        .await;
        assert_eq!(v, 7);
        assert!(t0.elapsed() >= Duration::from_millis(100));
    });
}

#[test]
fn udp_round_trip_and_a_dropped_recv_from_on_io_uring() {
    on_uring(30, 16, 4096, || async {
        let a = UdpSocket::bind(localhost()).unwrap();
        let b = UdpSocket::bind(localhost()).unwrap();
        let b_addr = b.local_addr().unwrap();
        let mut buf = [0u8; 512];
        // A recv_from dropped mid-flight: the datagram that arrives later is kept for the next one.
        assert!(timeout(Duration::from_millis(10), b.recv_from(&mut buf))
            .await
            .is_err());
        a.send_to(b"query", b_addr).await.unwrap();
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"query"[..], a.local_addr().unwrap()));
        b.send_to(b"answer", from).await.unwrap();
        let (n, _) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"answer");
    });
}

#[test]
fn bytes_written_just_before_the_runtime_ends_reach_the_peer() {
    // A task writes, shuts its write side down and returns; the runtime (and its driver) is dropped at
    // once, before the loop turns again. The peer, a plain blocking socket that only starts reading
    // afterwards, must see every byte and then the FIN, as it would from an epoll program.
    bounded(30, || {
        let listener = std::net::TcpListener::bind(localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let data = pattern(3, 40_000);
        let Some(rt) = uring(64, 4096) else { return };
        rt.block_on({
            let data = data.clone();
            async move {
                let client = TcpStream::connect(addr).await.unwrap();
                client.write_all(&data).await.unwrap();
                client.write_all(b"end").await.unwrap();
                client.shutdown(std::net::Shutdown::Write).unwrap();
            }
        });
        drop(rt);
        let (mut peer, _) = listener.accept().unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        io::Read::read_to_end(&mut peer, &mut got).unwrap();
        assert_eq!(got.len(), data.len() + 3, "bytes lost at shutdown");
        assert!(got[..data.len()] == data[..] && got.ends_with(b"end"));
    });
}

/// A sender in another process (Python), so the 10,000 server-side descriptors do not count against
/// this process's open-files limit: it accepts `n` connections, and only when all are open writes to
/// each its number (4 bytes, little endian), `len` pattern bytes, the number again, then closes.
const MANY_SENDER: &str = r#"
import resource, selectors, socket, struct, sys
n, length = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
body = bytes(((i * 31) & 0xff) ^ ((i >> 8) & 0xff) for i in range(length))
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(4096)
print(ls.getsockname()[1], flush=True)
conns = []
while len(conns) < n:
    c, _ = ls.accept()
    c.setblocking(False)
    conns.append(c)
sel = selectors.DefaultSelector()
for i, c in enumerate(conns):
    sel.register(c, selectors.EVENT_WRITE, [c, memoryview(struct.pack("<I", i) + body + struct.pack("<I", i))])
left = n
while left:
    for key, _ in sel.select(timeout=30):
        c, rest = key.data
        try:
            sent = c.send(rest)
        except BlockingIOError:
            continue
        key.data[1] = rest = rest[sent:]
        if not len(rest):
            sel.unregister(c)
            c.close()
            left -= 1
print("sent", flush=True)
"#;

/// Raise this process's open-files soft limit to the hard one; returns the new soft limit.
fn raise_nofile() -> u64 {
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap_or((1024, 1024));
    match rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard) {
        Ok(()) => hard,
        Err(_) => rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft),
    }
}

#[test]
fn ten_thousand_connections_share_a_small_buffer_ring_and_lose_no_byte() {
    // 10,000 connections open at once, then every one receives 2 KiB + 8 bytes at the same moment, into
    // a ring of 32 buffers of 1 KiB: receives run dry (ENOBUFS) over and over, are re-armed as reads
    // give buffers back, and every byte still arrives in order on its own connection. Nothing is read
    // until the sender has sent everything, so the 20 MiB are all there when 32 KiB of buffers meet
    // them: if reads began at once, a fast reader could keep up with the sender and never run dry.
    const LEN: usize = 2048;
    let nofile = raise_nofile();
    let conns = 10_000.min(nofile.saturating_sub(100) as usize);
    if conns < 10_000 {
        eprintln!("open-files hard limit {nofile}: testing {conns} connections instead of 10,000");
    }
    let mut sender = std::process::Command::new("python3")
        .arg("-c")
        .arg(MANY_SENDER)
        .arg(conns.to_string())
        .arg(LEN.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the sender");
    let mut said = io::BufReader::new(sender.stdout.take().unwrap());
    let mut port = String::new();
    io::BufRead::read_line(&mut said, &mut port).unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", port.trim()).parse().unwrap();
    on_uring(120, 32, 1024, move || async move {
        let body: Vec<u8> = (0..LEN).map(|i| (i * 31) as u8 ^ (i >> 8) as u8).collect();
        let body = std::rc::Rc::new(body);
        let mut streams = Vec::with_capacity(conns);
        for _ in 0..conns {
            streams.push(TcpStream::connect(addr).await.unwrap());
        }
        let sent = spool_runtime::spawn_blocking(move || {
            let mut line = String::new();
            io::BufRead::read_line(&mut said, &mut line).map(|_| line)
        })
        .await
        .unwrap();
        assert_eq!(sent.trim(), "sent", "the sender's second line");
        let mut readers = JoinSet::new();
        for conn in streams {
            let body = body.clone();
            readers.spawn(async move {
                let mut got = vec![0u8; LEN + 8];
                conn.read_exact(&mut got).await.unwrap();
                let id = u32::from_le_bytes(got[..4].try_into().unwrap());
                assert_eq!(
                    &got[LEN + 4..],
                    &id.to_le_bytes(),
                    "connection {id}: trailer"
                );
                assert!(got[4..LEN + 4] == body[..], "connection {id}: bytes differ");
                let mut rest = [0u8; 1];
                assert_eq!(conn.read(&mut rest).await.unwrap(), 0, "then the end");
                id
            });
        }
        let mut seen = vec![false; conns];
        while let Some(r) = readers.join_next().await {
            let id = r.unwrap() as usize;
            assert!(!seen[id], "connection {id} twice");
            seen[id] = true;
        }
        assert!(seen.iter().all(|&s| s));
        let starved = current_stats().unwrap().receives_starved;
        assert!(starved > 0, "the ring never ran dry");
        eprintln!("{conns} connections; receives re-armed after ENOBUFS: {starved}");
    });
    assert!(sender.wait().unwrap().success(), "the sender failed");
}
