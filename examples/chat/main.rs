//! A line-based TCP chat server on one thread: every line a client sends goes to every other client.
//!
//! ```text
//! cargo run --release --example chat -- 127.0.0.1:7000
//! nc 127.0.0.1 7000        # in two or more terminals; type lines
//! ```
//!
//! # The design, in four pieces
//! - One **task per client** (a few hundred bytes), all on one thread. 10,000 users need about
//!   10,000 file descriptors: raise `ulimit -n` first.
//! - One **broadcast ring** for the whole room ([`broadcast`]): a line is stored once, however many
//!   users there are; each client task is only a position in the ring.
//! - **Batching**: when a client's task wakes, it takes every line waiting for it and writes them
//!   with one system call (a [`BufWriter`] flushed once), not one write per line.
//! - **Slow readers cannot grow memory.** The ring keeps the last [`RING_LINES`] lines. A client that
//!   falls further behind (its socket is full because it reads too slowly) loses the oldest lines:
//!   it is told how many with a `*** N lines dropped` line, and the server counts them. A client
//!   whose socket takes no bytes for [`WRITE_STALL`] is disconnected (also counted). So the server
//!   holds at most the ring plus one batch per client.
//!
//! Idle clients cost little because the reader and writer buffers are released whenever they are
//! empty (see `spool_runtime::io`). `TCP_NODELAY` is set on every connection, as asyncio does on all
//! its TCP transports since Python 3.6: a chat line should leave now, not wait for the previous
//! segment's ACK; batching is done here, in user space, where we know what belongs together.

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use spool_runtime::io::{BufReader, BufWriter};
use spool_runtime::net::{TcpListener, TcpStream};
use spool_runtime::sync::broadcast::{self, RecvError, TryRecvError};
use spool_runtime::time::{interval, sleep, timeout};

/// Lines the room keeps for clients that are behind; beyond that, a slow client loses lines.
const RING_LINES: usize = 1024;
/// Longest line accepted from a client; a longer one disconnects it (a stranger must not make us
/// buffer without end).
const MAX_LINE: usize = 4096;
/// One write gathers up to this many bytes of waiting lines.
const BATCH_BYTES: usize = 16 * 1024;
/// A client whose socket accepts nothing for this long is disconnected.
const WRITE_STALL: Duration = Duration::from_secs(10);

/// A line on its way to everyone: who sent it (so the sender is skipped) and the bytes to write.
struct Message {
    from: u64,
    text: Box<str>,
}

/// What the server counts, printed on stderr every 10 s when something changed.
#[derive(Default)]
struct Counters {
    users: Cell<u64>,
    lines_in: Cell<u64>,
    /// Lines slow clients never got (they lagged more than `RING_LINES` behind).
    dropped: Cell<u64>,
    /// Clients cut off because their socket stalled for `WRITE_STALL`.
    stalled: Cell<u64>,
}

fn add(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get() + n);
}

fn main() -> io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad address {arg:?}: {e}"),
            )
        })?,
        None => "127.0.0.1:7000".parse().unwrap(),
    };
    spool_runtime::block_on(async {
        let listener = TcpListener::bind(addr)?;
        eprintln!("chat: listening on {}", listener.local_addr()?);
        let counters = Rc::new(Counters::default());
        spool_runtime::spawn(report(counters.clone()));
        serve(listener, RING_LINES, counters).await
    })
}

/// Accepts clients for ever, one task each, all sharing one broadcast ring of `ring_lines`.
async fn serve(listener: TcpListener, ring_lines: usize, counters: Rc<Counters>) -> io::Result<()> {
    let (room, _) = broadcast::channel::<Rc<Message>>(ring_lines);
    let mut backoff = Duration::from_millis(10);
    for id in 0.. {
        let stream = match listener.accept().await {
            Ok((stream, _addr)) => stream,
            // Out of file descriptors (or a similar passing trouble): say so, wait, try again;
            // the clients already connected carry on meanwhile.
            Err(e) => {
                eprintln!("chat: accept failed: {e} (raise `ulimit -n` for many users); retrying");
                sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        backoff = Duration::from_millis(10);
        stream.set_nodelay(true)?;
        // Subscribe before the task starts, so no line sent from now on is missed.
        let (room, inbox, counters) = (room.clone(), room.subscribe(), counters.clone());
        spool_runtime::spawn(async move {
            add(&counters.users, 1);
            if let Err(e) = client(id, &stream, room, inbox, &counters).await {
                if e.kind() == io::ErrorKind::TimedOut {
                    add(&counters.stalled, 1);
                }
            }
            counters.users.set(counters.users.get() - 1);
        });
    }
    Ok(())
}

/// What woke a client's task: a line from its socket, or lines from the room.
enum Event {
    Said(io::Result<Option<String>>),
    Heard(Result<Rc<Message>, RecvError>),
}

/// One client, from connect to disconnect.
async fn client(
    id: u64,
    stream: &TcpStream,
    room: broadcast::Sender<Rc<Message>>,
    mut inbox: broadcast::Receiver<Rc<Message>>,
    counters: &Counters,
) -> io::Result<()> {
    // `&TcpStream` reads and writes, so the reader and the writer share one socket.
    let mut lines = BufReader::with_capacity(MAX_LINE, stream)
        .lines()
        .max_line_len(MAX_LINE);
    let mut out = BufWriter::with_capacity(BATCH_BYTES, stream);
    loop {
        // Wait for whichever comes first. Both sources keep their own progress, so the one that
        // did not win loses nothing.
        let event = poll_fn(|cx| {
            if let Poll::Ready(heard) = inbox.poll_recv(cx) {
                return Poll::Ready(Event::Heard(heard));
            }
            lines.poll_next_line(cx).map(Event::Said)
        })
        .await;
        match event {
            Event::Said(Ok(Some(line))) => {
                add(&counters.lines_in, 1);
                let text = format!("user{id}: {line}\n").into_boxed_str();
                let _ = room.send(Rc::new(Message { from: id, text })); // we are a receiver: never fails
            }
            Event::Said(Ok(None)) => return Ok(()), // the client hung up
            Event::Said(Err(e)) => return Err(e),   // too long a line, bad UTF-8, reset
            Event::Heard(Err(RecvError::Closed)) => return Ok(()),
            Event::Heard(first) => {
                // This line and every other one already waiting: one batch, one write.
                let mut next = match first {
                    Ok(msg) => Ok(msg),
                    Err(RecvError::Lagged(n)) => Err(TryRecvError::Lagged(n)),
                    Err(RecvError::Closed) => Err(TryRecvError::Closed),
                };
                loop {
                    match next {
                        Ok(msg) if msg.from == id => {} // not echoed to its sender
                        Ok(msg) => out.write_all(msg.text.as_bytes()).await?,
                        Err(TryRecvError::Lagged(n)) => {
                            add(&counters.dropped, n);
                            let notice = format!("*** {n} lines dropped (you read too slowly)\n");
                            out.write_all(notice.as_bytes()).await?;
                        }
                        Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                    }
                    next = inbox.try_recv();
                }
                match timeout(WRITE_STALL, out.flush()).await {
                    Ok(written) => written?,
                    Err(_) => return Err(io::ErrorKind::TimedOut.into()),
                }
            }
        }
    }
}

/// Prints the counters every 10 s while they change.
async fn report(counters: Rc<Counters>) {
    let mut tick = interval(Duration::from_secs(10));
    let mut last = String::new();
    loop {
        tick.tick().await;
        let c = &counters;
        let now = format!(
            "chat: users={} lines_in={} dropped_for_slow_readers={} disconnected_stalled={}",
            c.users.get(),
            c.lines_in.get(),
            c.dropped.get(),
            c.stalled.get()
        );
        if now != last {
            eprintln!("{now}");
            last = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spool_runtime::{block_on, spawn};

    /// Starts a server with a ring of `ring_lines` on a free loopback port.
    fn start(ring_lines: usize) -> (SocketAddr, Rc<Counters>) {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let counters = Rc::new(Counters::default());
        spawn(serve(listener, ring_lines, counters.clone()));
        (addr, counters)
    }

    /// Connects `n` clients and waits (at most 5 s) until the server has a task for each.
    async fn join(addr: SocketAddr, n: usize, counters: &Counters) -> Vec<TcpStream> {
        let mut clients = Vec::new();
        for _ in 0..n {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        for _ in 0..500 {
            if counters.users.get() == n as u64 {
                return clients;
            }
            sleep(Duration::from_millis(10)).await;
        }
        panic!("the server saw {} of {n} clients", counters.users.get());
    }

    async fn read_line(lines: &mut spool_runtime::io::Lines<&TcpStream>) -> String {
        let line = timeout(Duration::from_secs(5), lines.next_line()).await;
        line.expect("a line within 5 s").unwrap().expect("not EOF")
    }

    #[test]
    fn a_line_reaches_every_other_client_and_not_its_sender() {
        block_on(async {
            let (addr, counters) = start(RING_LINES);
            let clients = join(addr, 3, &counters).await;
            let mut readers: Vec<_> = clients.iter().map(|c| BufReader::new(c).lines()).collect();
            clients[0].write_all(b"hello\n").await.unwrap();
            for reader in &mut readers[1..] {
                assert!(read_line(reader).await.ends_with(": hello"));
            }
            clients[1].write_all(b"bye\n").await.unwrap();
            // The sender's next line is someone else's "bye", not its own "hello".
            assert!(read_line(&mut readers[0]).await.ends_with(": bye"));
            assert!(read_line(&mut readers[2]).await.ends_with(": bye"));
            assert_eq!(counters.lines_in.get(), 2);
        });
    }

    #[test]
    fn a_client_that_falls_behind_the_ring_is_told_how_many_lines_it_lost() {
        block_on(async {
            let (addr, counters) = start(16);
            let clients = join(addr, 2, &counters).await;
            // 100 lines in one write: the sender's task reads and broadcasts many of them in one
            // poll, so the other client's task, which has not run meanwhile, falls behind the ring.
            let burst: String = (0..100).map(|i| format!("line {i}\n")).collect();
            clients[0].write_all(burst.as_bytes()).await.unwrap();
            let mut reader = BufReader::new(&clients[1]).lines();
            let (mut got, mut dropped) = (0, 0);
            while got + dropped < 100 {
                let line = read_line(&mut reader).await;
                match line.strip_prefix("*** ") {
                    Some(notice) => {
                        dropped += notice.split(' ').next().unwrap().parse::<u64>().unwrap()
                    }
                    None => got += 1,
                }
            }
            assert_eq!(
                got + dropped,
                100,
                "every line is either delivered or counted"
            );
            assert!(dropped > 0 && got >= 16, "got {got}, dropped {dropped}");
            assert_eq!(counters.dropped.get(), dropped);
        });
    }

    #[test]
    fn an_overlong_line_disconnects_its_sender_only() {
        block_on(async {
            let (addr, counters) = start(RING_LINES);
            let clients = join(addr, 2, &counters).await;
            clients[0].write_all(&[b'x'; MAX_LINE + 10]).await.unwrap();
            let mut buf = [0u8; 16];
            let n = timeout(Duration::from_secs(5), clients[0].read(&mut buf)).await;
            assert!(
                matches!(n, Ok(Ok(0)) | Ok(Err(_))),
                "the server hung up: {n:?}"
            );
            clients[1].write_all(b"still here\n").await.unwrap();
            for _ in 0..500 {
                if counters.lines_in.get() == 1 {
                    break;
                }
                sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(counters.users.get(), 1);
            assert_eq!(counters.lines_in.get(), 1);
        });
    }
}
