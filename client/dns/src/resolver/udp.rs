//! One UDP round with one name server: a fresh socket, the queries sent on it (A and AAAA together,
//! plus any follow-up asked for during the round), and the answers collected as they arrive, until
//! each query is answered or its own timeout passes.
//!
//! Why a fresh socket per round: binding to port 0 makes the kernel pick a new random source port, so
//! an off-path attacker has to guess 16 bits of port on top of 16 bits of id (RFC 5452 §4.5). The
//! socket is also `connect`ed to the server, which has two effects: the kernel drops datagrams from any
//! other address before we see them, and an ICMP "port unreachable" comes back as `ECONNREFUSED`, so a
//! server that is down fails the round at once instead of after the timeout. We still compare the
//! source address ourselves (defence in depth, and it costs one comparison).
//!
//! Everything a datagram must pass to count as an answer (id, QR, opcode, exact question) is the
//! sans-IO `answer::read_response`; this file only moves bytes and keeps the clock. A datagram that
//! fails those checks is counted and ignored, and the round keeps waiting: a forgery can delay a
//! lookup, never answer it.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use spool_runtime::net::UdpSocket;
use spool_runtime::time::timeout_at;

use crate::wire::answer::{read_response, Answer};
use crate::wire::query::{Query, HEADER_LEN};

/// Receive buffer size. Larger than the 1232 bytes we advertise with EDNS0, because a server may ignore
/// the limit; a datagram that fills the whole buffer may have been cut by the kernel, so it is treated
/// as truncated and retried over TCP.
pub(crate) const RECV_BUF_LEN: usize = 4096;

/// What happened to one query of a round.
#[derive(Debug)]
pub(crate) enum RoundEvent {
    /// A datagram that passed validation, interpreted.
    Answer(Answer),
    /// No valid answer before the query's deadline. `unusable` says what the server sent instead, if
    /// anything: datagrams from its address that were not a usable answer (how many, and why the first
    /// was refused), so that the lookup can say so when it gives up.
    TimedOut { unusable: Option<Unusable> },
    /// The socket failed (typically `ConnectionRefused`: nothing listens on the server's port).
    Failed(io::ErrorKind, Option<i32>, String),
}

/// Datagrams from the server's own address that did not answer any outstanding query (malformed,
/// cut short, another id or question).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unusable {
    /// How many.
    pub(crate) count: u32,
    /// Why the first one was refused.
    pub(crate) first: String,
}

/// A query waiting for its answer.
struct Outstanding {
    /// The caller's label for the query (which family it belongs to).
    tag: usize,
    query: Query,
    deadline: Instant,
}

/// A round in progress. Dropping it closes the socket; late answers then go nowhere.
pub(crate) struct UdpRound {
    socket: UdpSocket,
    server: SocketAddr,
    outstanding: Vec<Outstanding>,
    /// Events decided without waiting (a socket error fails every outstanding query at once).
    ready: VecDeque<(usize, Query, RoundEvent)>,
    buf: Vec<u8>,
    /// Datagrams that were not an answer to any outstanding query (wrong id, question or source).
    ignored: u64,
    /// Those of them that came from the server's own address.
    unusable: Option<Unusable>,
}

impl UdpRound {
    /// Opens a fresh socket on a random port, connected to `server`.
    pub(crate) fn open(server: SocketAddr) -> io::Result<UdpRound> {
        let any: IpAddr = match server {
            SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let std_socket = std::net::UdpSocket::bind(SocketAddr::new(any, 0))?;
        std_socket.connect(server)?;
        Ok(UdpRound {
            socket: UdpSocket::from_std(std_socket)?,
            server,
            outstanding: Vec::new(),
            ready: VecDeque::new(),
            buf: vec![0; RECV_BUF_LEN],
            ignored: 0,
            unusable: None,
        })
    }

    /// Whether `id` is free among the outstanding queries, so two answers cannot be confused.
    pub(crate) fn id_is_free(&self, id: u16) -> bool {
        self.outstanding.iter().all(|o| o.query.id != id)
    }

    /// Sends `query` and waits for its answer for at most `limit` from now.
    pub(crate) async fn send(&mut self, tag: usize, query: Query, limit: Duration) {
        debug_assert!(self.id_is_free(query.id));
        match self.socket.send_to(&query.encode(), self.server).await {
            Ok(_) => self.outstanding.push(Outstanding {
                tag,
                query,
                deadline: Instant::now() + limit,
            }),
            Err(e) => {
                // A send can report an error left by an earlier datagram (the ICMP "port
                // unreachable" for the first query surfaces on the second send), and taking it
                // clears it from the socket, so no receive will see it: fail the whole round now.
                self.outstanding.push(Outstanding {
                    tag,
                    query,
                    deadline: Instant::now(),
                });
                self.fail_all(&e);
            }
        }
    }

    /// The next event of the round, or `None` once every query has had its event.
    pub(crate) async fn next(&mut self) -> Option<(usize, Query, RoundEvent)> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            let deadline = self.outstanding.iter().map(|o| o.deadline).min()?;
            // The receive is polled before the deadline is checked, so an answer already waiting in
            // the socket still counts even if we come back late (e.g. after a TCP fallback).
            match timeout_at(deadline, self.socket.recv_from(&mut self.buf)).await {
                Ok(Ok((len, from))) => {
                    if let Some(event) = self.accept(len, from) {
                        return Some(event);
                    }
                }
                Ok(Err(e)) => self.fail_all(&e),
                Err(_elapsed) => self.expire(Instant::now()),
            }
        }
    }

    /// Matches a received datagram to an outstanding query, or counts it as ignored (and, when it
    /// came from the server itself, as unusable, with the reason of the first such).
    fn accept(&mut self, len: usize, from: SocketAddr) -> Option<(usize, Query, RoundEvent)> {
        if from.ip() != self.server.ip() || from.port() != self.server.port() {
            self.ignored += 1;
            return None;
        }
        if len < HEADER_LEN {
            self.refuse(|| format!("{len} bytes, shorter than a DNS header"));
            return None;
        }
        let msg = &mut self.buf[..len];
        if len == RECV_BUF_LEN {
            // Possibly cut short by the kernel: mark it truncated so it is retried over TCP (the
            // parser then also tolerates the cut sections).
            msg[2] |= 0x02;
        }
        let id = u16::from_be_bytes([msg[0], msg[1]]);
        let mut refused = None;
        let mut found = None;
        for (i, o) in self.outstanding.iter().enumerate() {
            if o.query.id != id {
                continue;
            }
            match read_response(&o.query, msg) {
                Ok(answer) => {
                    found = Some((i, answer));
                    break;
                }
                Err(why) => refused = Some(why),
            }
        }
        if let Some((i, answer)) = found {
            let o = self.outstanding.swap_remove(i);
            return Some((o.tag, o.query, RoundEvent::Answer(answer)));
        }
        match refused {
            Some(why) => self.refuse(|| why.to_string()),
            None => self.refuse(|| format!("id {id} answers no query in flight")),
        }
        None
    }

    /// Counts a datagram from the server that answered nothing; `why` is asked only for the first.
    fn refuse(&mut self, why: impl FnOnce() -> String) {
        self.ignored += 1;
        match &mut self.unusable {
            Some(u) => u.count += 1,
            None => {
                self.unusable = Some(Unusable {
                    count: 1,
                    first: why(),
                })
            }
        }
    }

    /// Moves every query whose deadline has passed to the ready events.
    fn expire(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.outstanding.len() {
            if self.outstanding[i].deadline <= now {
                let o = self.outstanding.swap_remove(i);
                let unusable = self.unusable.clone();
                self.ready
                    .push_back((o.tag, o.query, RoundEvent::TimedOut { unusable }));
            } else {
                i += 1;
            }
        }
    }

    /// A socket error concerns the whole round (one server, one socket): fail every query.
    fn fail_all(&mut self, e: &io::Error) {
        let message = match e.kind() {
            io::ErrorKind::ConnectionRefused => {
                format!("connection refused by DNS server {}", self.server)
            }
            _ => format!("receiving from DNS server {}: {e}", self.server),
        };
        for o in self.outstanding.drain(..) {
            self.ready.push_back((
                o.tag,
                o.query,
                RoundEvent::Failed(e.kind(), e.raw_os_error(), message.clone()),
            ));
        }
    }

    /// How many datagrams were ignored so far.
    pub(crate) fn ignored(&self) -> u64 {
        self.ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Name, QueryType};

    /// A round with one outstanding query (id 7, `a.test` A) and the bytes of a bare NOERROR reply.
    fn setup() -> (UdpRound, SocketAddr, Vec<u8>) {
        // Connecting a UDP socket sends nothing, so any address will do as "the server".
        let server: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let mut round = UdpRound::open(server).unwrap();
        let query = Query {
            id: 7,
            name: Name::from_ascii("a.test").unwrap(),
            qtype: QueryType::A,
            edns: false,
        };
        let mut reply = query.encode();
        reply[2] |= 0x80; // QR: a response
        round.outstanding.push(Outstanding {
            tag: 3,
            query,
            deadline: Instant::now() + Duration::from_secs(5),
        });
        (round, server, reply)
    }

    fn feed(round: &mut UdpRound, msg: &[u8], from: SocketAddr) -> Option<RoundEvent> {
        round.buf[..msg.len()].copy_from_slice(msg);
        round.accept(msg.len(), from).map(|(tag, _, event)| {
            assert_eq!(tag, 3);
            event
        })
    }

    #[test]
    fn only_matching_datagrams_from_the_server_count() {
        spool_runtime::block_on(async {
            let (mut round, server, mut reply) = setup();
            // The kernel already filters a connected socket; this is the second line of defence.
            assert!(feed(&mut round, &reply, "127.0.0.1:5353".parse().unwrap()).is_none());
            assert!(feed(&mut round, &reply, "127.0.0.2:53".parse().unwrap()).is_none());
            reply[1] = 8; // another id
            assert!(feed(&mut round, &reply, server).is_none());
            assert!(feed(&mut round, &reply[..5], server).is_none());
            assert_eq!(round.ignored(), 4);
            reply[1] = 7;
            let event = feed(&mut round, &reply, server);
            assert!(
                matches!(
                    event,
                    Some(RoundEvent::Answer(Answer::NoData { negative_ttl: None }))
                ),
                "{event:?}"
            );
            assert!(round.outstanding.is_empty());
        });
    }

    #[test]
    fn a_datagram_filling_the_buffer_counts_as_truncated() {
        spool_runtime::block_on(async {
            let (mut round, server, mut reply) = setup();
            reply.resize(RECV_BUF_LEN, 0); // trailing bytes past the counted sections
            let event = feed(&mut round, &reply, server);
            assert!(
                matches!(event, Some(RoundEvent::Answer(Answer::Truncated))),
                "{event:?}"
            );
        });
    }
}
