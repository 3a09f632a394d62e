//! Sockets on the loop, over loopback only: an echo server with 1,000 clients on one thread, connect
//! errors, what `abort` does to a socket, accept, UDP, half-close, `try_read`, EOF that arrives together
//! with the last bytes, and a large transfer with partial writes. Every byte is checked.

mod common;

use common::{pattern, run};
use spool_runtime::net::{TcpListener, TcpStream, UdpSocket};
use spool_runtime::time::{sleep, timeout};
use spool_runtime::{current_stats, spawn, yield_now, JoinSet};
use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A connected pair on the loop: (client side, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(localhost()).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Read until EOF.
async fn read_to_end(s: &TcpStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match s.read(&mut buf).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn echo_server_serves_a_thousand_concurrent_clients_on_one_thread() {
    run(120, || async {
        const CLIENTS: u32 = 1000;
        let listener = TcpListener::bind(localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Rc::new(Cell::new(0u32));
        let s2 = served.clone();
        let server = spawn(async move {
            let mut conns = JoinSet::new();
            for _ in 0..CLIENTS {
                let (conn, _) = listener.accept().await.unwrap();
                let served = s2.clone();
                conns.spawn(async move {
                    // Echo chunk by chunk until the client half-closes, then close our side.
                    let mut buf = vec![0u8; 8 * 1024];
                    loop {
                        let n = conn.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        conn.write_all(&buf[..n]).await.unwrap();
                    }
                    conn.shutdown(Shutdown::Write).unwrap();
                    served.set(served.get() + 1);
                });
            }
            for r in conns.join_all().await {
                r.unwrap();
            }
        });

        let mut clients = JoinSet::new();
        for id in 0..CLIENTS {
            clients.spawn(async move {
                // 4 KiB to 64 KiB, different for each client.
                let len = 4096 + (id as usize * 40_503) % (60 * 1024 + 1);
                let data = pattern(id, len);
                let conn = Rc::new(TcpStream::connect(addr).await.unwrap());
                // Write and read at the same time, so neither side's buffers can fill up and deadlock.
                let writer = {
                    let conn = conn.clone();
                    let data = data.clone();
                    spawn(async move {
                        conn.write_all(&data).await.unwrap();
                        conn.shutdown(Shutdown::Write).unwrap();
                    })
                };
                let back = read_to_end(&conn).await.unwrap();
                writer.await.unwrap();
                assert_eq!(back.len(), data.len(), "client {id}: length");
                assert!(back == data, "client {id}: the echoed bytes differ");
                len
            });
        }
        let mut total = 0;
        for r in clients.join_all().await {
            total += r.unwrap();
        }
        server.await.unwrap();
        assert_eq!(served.get(), CLIENTS);
        assert!(
            total > CLIENTS as usize * 30 * 1024,
            "the clients should average well above 4 KiB"
        );
        let stats = current_stats().unwrap();
        assert_eq!(
            (stats.registered_sources, stats.live_tasks),
            (0, 0),
            "sockets or tasks left behind"
        );
    });
}

#[test]
fn connecting_to_a_closed_port_fails_with_connection_refused() {
    run(30, || async {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        }; // dropped: nobody listens there now
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        assert_eq!(current_stats().unwrap().registered_sources, 0);
    });
}

#[test]
fn aborting_a_task_closes_its_socket_and_removes_its_timer() {
    run(30, || async {
        // The peer is a plain blocking socket on another thread: it sees exactly what the kernel sees.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut got = Vec::new();
            let result = s.read_to_end(&mut got);
            (result.map_err(|e| e.kind()), got)
        });
        let holder = spawn(async move {
            let conn = TcpStream::connect(addr).await.unwrap();
            conn.write_all(b"hello").await.unwrap();
            let mut buf = [0u8; 1];
            // Waits on both a read and a timer when it is aborted.
            let _ = timeout(Duration::from_secs(3600), conn.read(&mut buf)).await;
            unreachable!("the peer never writes");
        });
        for _ in 0..1000 {
            let s = current_stats().unwrap();
            if s.timers == 1 && s.registered_sources == 1 {
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        let before = current_stats().unwrap();
        assert_eq!((before.timers, before.registered_sources), (1, 1));
        holder.abort();
        let after = current_stats().unwrap();
        assert_eq!(
            (after.timers, after.registered_sources, after.live_tasks),
            (0, 0, 0)
        );
        // Joining the peer thread blocks the loop, which is fine: nothing else needs to run.
        let (result, got) = peer.join().unwrap();
        assert_eq!(result, Ok(5), "the peer should read our bytes and then EOF");
        assert_eq!(got, b"hello");
    });
}

#[test]
fn aborting_a_task_closes_its_socket_for_a_spool_peer_too() {
    run(30, || async {
        let (client, server) = pair().await;
        let holder = spawn(async move {
            let mut buf = [0u8; 1];
            let _ = client.read(&mut buf).await;
        });
        yield_now().await;
        holder.abort();
        let mut buf = [0u8; 16];
        assert_eq!(
            server.read(&mut buf).await.unwrap(),
            0,
            "the peer must see EOF"
        );
    });
}

#[test]
fn a_listener_accepts_many_connections_and_reports_their_addresses() {
    run(30, || async {
        let listener = TcpListener::bind(localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let mut clients = Vec::new();
        for _ in 0..20 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let mut seen = Vec::new();
        for _ in 0..20 {
            let (conn, peer) = listener.accept().await.unwrap();
            assert_eq!(conn.peer_addr().unwrap(), peer);
            assert_eq!(conn.local_addr().unwrap(), addr);
            seen.push(peer);
        }
        let mut expected: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
        expected.sort();
        seen.sort();
        assert_eq!(seen, expected);

        // accept waits (without spinning) for a connection that comes later.
        let later = spawn(async move {
            sleep(Duration::from_millis(10)).await;
            TcpStream::connect(addr).await.unwrap()
        });
        let (conn, peer) = listener.accept().await.unwrap();
        let c = later.await.unwrap();
        assert_eq!(peer, c.local_addr().unwrap());
        conn.set_nodelay(true).unwrap();
        assert!(conn.nodelay().unwrap());
    });
}

#[test]
fn a_listener_on_ipv6_loopback_works_when_available() {
    run(30, || async {
        let Ok(listener) = TcpListener::bind("[::1]:0".parse().unwrap()) else {
            eprintln!("skipped: no IPv6 loopback on this machine");
            return;
        };
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.write_all(b"v6").await.unwrap();
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"v6");
    });
}

#[test]
fn udp_datagrams_keep_their_boundaries_and_senders() {
    run(30, || async {
        let a = UdpSocket::bind(localhost()).unwrap();
        let b = UdpSocket::bind(localhost()).unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let sizes = [1usize, 512, 1200, 9000];
        for (i, &n) in sizes.iter().enumerate() {
            assert_eq!(a.send_to(&pattern(i as u32, n), b_addr).await.unwrap(), n);
        }
        let mut buf = vec![0u8; 65536];
        for (i, &n) in sizes.iter().enumerate() {
            let (got, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, a_addr);
            assert_eq!(&buf[..got], &pattern(i as u32, n)[..], "datagram {i}");
        }
        // recv_from waits for a datagram sent later, from another thread.
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.send_to(b"late", b_addr).unwrap();
            s.local_addr().unwrap()
        });
        let (got, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..got], b"late");
        assert_eq!(from, t.join().unwrap());
        // And a reply goes back.
        b.send_to(b"pong", a_addr).await.unwrap();
        let (got, _) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..got], b"pong");
    });
}

#[test]
fn half_close_lets_the_peer_read_eof_and_still_write_back() {
    run(30, || async {
        let (client, server) = pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_to_end(&server).await.unwrap(), b"request");
        // The server reads 0 again (EOF is sticky), and can still answer.
        let mut buf = [0u8; 4];
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
        server.write_all(b"response").await.unwrap();
        drop(server);
        assert_eq!(read_to_end(&client).await.unwrap(), b"response");
        // Writing after our own shutdown fails instead of hanging.
        assert!(client.write_all(b"more").await.is_err());
    });
}

#[test]
fn try_read_says_would_block_without_data_and_reads_once_data_is_there() {
    run(30, || async {
        let (client, server) = pair().await;
        let mut buf = [0u8; 16];
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        client.write_all(b"ping").await.unwrap();
        poll_fn(|cx| server.poll_read_ready(cx)).await.unwrap();
        let mut got = Vec::new();
        // Readiness is a hint: allow a few tries, bounded.
        for _ in 0..100 {
            match server.try_read(&mut buf) {
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.len() == 4 {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    poll_fn(|cx| server.poll_read_ready(cx)).await.unwrap();
                }
                Err(e) => panic!("try_read failed: {e}"),
            }
        }
        assert_eq!(got, b"ping");
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    });
}

#[test]
fn eof_arriving_with_the_last_bytes_is_not_lost() {
    // Regression: a short read used to clear READ_CLOSED together with READABLE; when the FIN came in the
    // same epoll edge as the data, no further edge ever announced it and the next read hung.
    run(30, || async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(&pattern(1, 100)).unwrap();
            // Dropped: FIN follows the bytes at once.
        });
        let conn = TcpStream::connect(addr).await.unwrap();
        peer.join().unwrap();
        // Let the loop see data and FIN in one readiness event before we read.
        sleep(Duration::from_millis(20)).await;
        let mut buf = [0u8; 1024];
        assert_eq!(conn.read(&mut buf).await.unwrap(), 100);
        assert_eq!(&buf[..100], &pattern(1, 100)[..]);
        assert_eq!(conn.read(&mut buf).await.unwrap(), 0, "EOF");

        // The same on the accepting side: the client writes and closes before we even accept.
        let listener = TcpListener::bind(localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"short request").unwrap();
        })
        .join()
        .unwrap();
        let (conn, _) = listener.accept().await.unwrap();
        sleep(Duration::from_millis(20)).await;
        assert_eq!(read_to_end(&conn).await.unwrap(), b"short request");
    });
}

#[test]
fn an_eight_mebibyte_transfer_survives_partial_writes() {
    run(120, || async {
        const LEN: usize = 8 * 1024 * 1024;
        // A small send buffer makes partial writes certain even where the kernel's buffers are tuned large.
        let listener = TcpListener::bind(localhost()).unwrap();
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.set_send_buffer_size(128 * 1024).unwrap();
        // A blocking connect is fine here: on loopback the kernel completes it from the listen backlog.
        sock.connect(&listener.local_addr().unwrap().into())
            .unwrap();
        let client = TcpStream::from_std(sock.into()).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let data = pattern(8, LEN);
        let expected = data.clone();
        let reader = spawn(async move {
            let mut got = Vec::with_capacity(LEN);
            let mut buf = vec![0u8; 64 * 1024];
            let mut until_pause = 16u32;
            loop {
                let n = server.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                until_pause -= 1;
                if until_pause == 0 {
                    until_pause = 16;
                    // A slow reader now and then, so the writer's buffer fills and writes come up short.
                    sleep(Duration::from_millis(1)).await;
                }
            }
            got
        });
        let mut partial = 0u32;
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = client.write(rest).await.unwrap();
            assert!(n > 0);
            if n < rest.len() {
                partial += 1;
            }
            rest = &rest[n..];
        }
        client.shutdown(Shutdown::Write).unwrap();
        let got = reader.await.unwrap();
        assert!(
            partial > 0,
            "with a 128 KiB send buffer, writing 8 MiB must take partial writes"
        );
        assert_eq!(got.len(), LEN);
        assert!(got == expected, "the transferred bytes differ");
    });
}

#[test]
fn the_futures_io_traits_read_and_write() {
    run(30, || async {
        use futures_io::{AsyncRead, AsyncWrite};
        let (mut client, server) = pair().await;
        let n = poll_fn(|cx| Pin::new(&mut client).poll_write(cx, b"via trait"))
            .await
            .unwrap();
        assert_eq!(n, 9);
        poll_fn(|cx| Pin::new(&mut client).poll_flush(cx))
            .await
            .unwrap();
        poll_fn(|cx| Pin::new(&mut client).poll_close(cx))
            .await
            .unwrap();
        let mut buf = [0u8; 32];
        let mut got = Vec::new();
        let mut server_ref = &server;
        for _ in 0..100 {
            let n = poll_fn(|cx| Pin::new(&mut server_ref).poll_read(cx, &mut buf))
                .await
                .unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"via trait");
    });
}

#[test]
fn every_stream_starts_with_nagle_off_and_can_turn_it_back_on() {
    run(30, || async {
        let (client, server) = pair().await;
        assert!(client.nodelay().unwrap(), "connect");
        assert!(server.nodelay().unwrap(), "accept");
        let listener = std::net::TcpListener::bind(localhost()).unwrap();
        let std_client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert!(!std_client.nodelay().unwrap());
        let adopted = TcpStream::from_std(std_client).unwrap();
        assert!(adopted.nodelay().unwrap(), "from_std");
        adopted.set_nodelay(false).unwrap();
        assert!(!adopted.nodelay().unwrap());
    });
}
