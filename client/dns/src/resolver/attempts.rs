//! Asking the name servers about one name (one search-list candidate) for one or both address
//! families, until each family has a definite outcome or every server and attempt is used up.
//!
//! The schedule follows resolv.conf: `attempts` rounds over the servers in order (starting at a
//! rotating index with `options rotate`), each round a fresh UDP socket sending the families still
//! open together, each query waiting `timeout` for its answer. Within a round:
//!
//! * an answer with addresses, NODATA or NXDOMAIN settles the family (handed out at once, so the
//!   caller can start connecting on the first family while the other is still on the wire);
//! * TC (or a datagram filling the whole buffer) → the same question over TCP to the same server;
//! * CNAME whose target's records the server left out → a follow-up query for the target on the same
//!   socket, at most [`MAX_CNAME_HOPS`] follow-ups per family (the chain inside each answer is bounded
//!   separately), so a CNAME loop across queries ends;
//! * FORMERR to a query carrying EDNS0 → the same question again without it (RFC 6891 §7);
//! * SERVFAIL, REFUSED, other errors → that server is not asked about this family again; a timeout or
//!   refused socket → the next server, and the same server again in the next attempt.
//!
//! When the schedule runs out, the family fails with the most telling failure seen: a server's error
//! code beats silence.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use spool_runtime::sync::OwnedPermit;

use super::error::DnsErrorKind;
use super::state::Shared;
use super::tcp::{self, TcpFailure};
use super::udp::{RoundEvent, UdpRound, Unusable};
use crate::wire::answer::{Answer, MAX_CNAME_HOPS};
use crate::wire::name::Name;
use crate::wire::query::{Query, QueryType};

/// What the servers said about one name and family.
#[derive(Debug, Clone)]
pub(crate) enum NameOutcome {
    /// Addresses, with the TTL of the whole chain that led to them.
    Addresses { addrs: Vec<IpAddr>, ttl: u32 },
    /// The name exists without records of this family; `ttl` when the SOA allowed caching it.
    NoData {
        ttl: Option<u32>,
        server: SocketAddr,
    },
    /// The name (or the end of its CNAME chain) does not exist.
    NxDomain {
        ttl: Option<u32>,
        server: SocketAddr,
    },
    /// No usable answer from any server.
    Failed(DnsErrorKind),
}

/// Where one family stands.
struct Family {
    qtype: QueryType,
    /// The name asked next: the candidate, then each CNAME target in turn.
    name: Name,
    /// Whether queries carry EDNS0 (dropped after a FORMERR).
    edns: bool,
    /// Minimum TTL over the CNAME records followed so far.
    chain_ttl: u32,
    /// Follow-up queries made for CNAME targets.
    hops: usize,
    done: bool,
    /// Servers that answered this family with an error: not asked again.
    failed_at: Vec<SocketAddr>,
    /// The most telling failure so far.
    failure: Option<DnsErrorKind>,
    timed_out: bool,
}

impl Family {
    fn note(&mut self, kind: DnsErrorKind) {
        match (&mut self.failure, kind) {
            // Unusable replies add up over rounds; the first reason stays.
            (
                Some(DnsErrorKind::UnusableReplies { count, server, .. }),
                DnsErrorKind::UnusableReplies {
                    count: more,
                    server: from,
                    ..
                },
            ) => {
                *count += more;
                *server = from;
            }
            (Some(known), kind) if known.weight() > kind.weight() => {}
            (_, kind) => self.failure = Some(kind),
        }
    }

    fn fail_at(&mut self, server: SocketAddr, kind: DnsErrorKind) {
        self.failed_at.push(server);
        self.note(kind);
    }
}

/// The round in progress: its socket, server, and the concurrency permit it holds.
struct Round {
    udp: UdpRound,
    server: SocketAddr,
    _permit: Option<OwnedPermit>,
}

/// One name being asked about; [`NameQuery::next`] yields each family's outcome.
pub(crate) struct NameQuery<'a> {
    shared: &'a Shared,
    families: Vec<Family>,
    /// Index into the server list of the first round.
    start: usize,
    /// Rounds started so far, out of `attempts × servers`.
    step: usize,
    round: Option<Round>,
    ready: VecDeque<(QueryType, NameOutcome)>,
}

impl<'a> NameQuery<'a> {
    pub(crate) fn new(shared: &'a Shared, name: &Name, qtypes: &[QueryType]) -> NameQuery<'a> {
        let families = qtypes
            .iter()
            .map(|&qtype| Family {
                qtype,
                name: name.clone(),
                edns: true,
                chain_ttl: u32::MAX,
                hops: 0,
                done: false,
                failed_at: Vec::new(),
                failure: None,
                timed_out: false,
            })
            .collect();
        NameQuery {
            shared,
            families,
            start: shared.first_server(),
            step: 0,
            round: None,
            ready: VecDeque::new(),
        }
    }

    fn limit(&self) -> Duration {
        self.shared.conf.timeout
    }

    /// The next family to reach an outcome, or `None` when all have.
    pub(crate) async fn next(&mut self) -> Option<(QueryType, NameOutcome)> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            if self.families.iter().all(|f| f.done) {
                return None;
            }
            if let Some(round) = self.round.as_mut() {
                match round.udp.next().await {
                    Some((tag, query, event)) => self.handle(tag, query, event).await,
                    None => self.end_round(),
                }
                continue;
            }
            if !self.start_round().await {
                self.give_up();
            }
        }
    }

    /// Closes the round's socket, keeping its count of ignored datagrams.
    fn end_round(&mut self) {
        if let Some(round) = self.round.take() {
            self.shared.stats_mut().ignored_datagrams += round.udp.ignored();
        }
    }

    /// Starts the next round that has something to ask; false when the schedule is used up.
    async fn start_round(&mut self) -> bool {
        let servers = &self.shared.conf.nameservers;
        let total = usize::from(self.shared.conf.attempts.max(1)) * servers.len();
        while self.step < total {
            let server = servers[(self.start + self.step) % servers.len()];
            self.step += 1;
            let open: Vec<usize> = (0..self.families.len())
                .filter(|&i| {
                    !self.families[i].done && !self.families[i].failed_at.contains(&server)
                })
                .collect();
            if open.is_empty() {
                continue;
            }
            // Bounds how many sockets and queries are out at once (see `ResolverBuilder`).
            let permit = self.shared.permits.clone().acquire_owned().await.ok();
            match UdpRound::open(server) {
                Ok(udp) => {
                    self.round = Some(Round {
                        udp,
                        server,
                        _permit: permit,
                    });
                    for tag in open {
                        self.send(tag).await;
                    }
                    return true;
                }
                Err(e) => {
                    // No socket (descriptors exhausted, no IPv6...): this server is out of reach now.
                    for tag in open {
                        self.families[tag].note(DnsErrorKind::Io {
                            kind: e.kind(),
                            os_error: e.raw_os_error(),
                            message: format!("cannot reach DNS server {server}: {e}"),
                        });
                    }
                }
            }
        }
        false
    }

    /// Sends family `tag`'s current question on the round's socket with a fresh id.
    async fn send(&mut self, tag: usize) {
        let round = self.round.as_mut().expect("send needs a round");
        let id = loop {
            let id = self.shared.ids.borrow_mut().next_id();
            if round.udp.id_is_free(id) {
                break id;
            }
        };
        let family = &self.families[tag];
        let query = Query {
            id,
            name: family.name.clone(),
            qtype: family.qtype,
            edns: family.edns,
        };
        self.shared.stats_mut().udp_queries += 1;
        round.udp.send(tag, query, self.shared.conf.timeout).await;
    }

    async fn handle(&mut self, tag: usize, query: Query, event: RoundEvent) {
        let server = self
            .round
            .as_ref()
            .expect("events come from a round")
            .server;
        match event {
            RoundEvent::TimedOut { unusable } => {
                let family = &mut self.families[tag];
                family.timed_out = true;
                if let Some(Unusable { count, first }) = unusable {
                    family.note(DnsErrorKind::UnusableReplies {
                        count,
                        first,
                        server,
                    });
                }
            }
            RoundEvent::Failed(kind, os_error, message) => {
                self.families[tag].note(DnsErrorKind::Io {
                    kind,
                    os_error,
                    message,
                })
            }
            RoundEvent::Answer(Answer::Truncated) => {
                self.shared.stats_mut().tcp_queries += 1;
                match tcp::exchange(server, &query, self.limit()).await {
                    Ok(Answer::Truncated) => {
                        let reason = "answer truncated even over TCP".to_owned();
                        self.families[tag].fail_at(server, bad(reason, server));
                    }
                    Ok(answer) => self.settle(tag, &query, server, answer).await,
                    Err(failure) => {
                        let kind = match failure {
                            TcpFailure::Rejected(_) => bad(failure.to_string(), server),
                            _ => DnsErrorKind::Io {
                                kind: std::io::ErrorKind::Other,
                                os_error: None,
                                message: format!("DNS server {server}: {failure}"),
                            },
                        };
                        self.families[tag].fail_at(server, kind);
                    }
                }
            }
            RoundEvent::Answer(answer) => self.settle(tag, &query, server, answer).await,
        }
    }

    /// Acts on a (non-truncated) answer for family `tag`.
    async fn settle(&mut self, tag: usize, query: &Query, server: SocketAddr, answer: Answer) {
        let family = &mut self.families[tag];
        let chain_ttl = family.chain_ttl;
        let outcome = match answer {
            Answer::Addresses { addrs, ttl } => NameOutcome::Addresses {
                addrs,
                ttl: ttl.min(chain_ttl),
            },
            Answer::NoData { negative_ttl } => NameOutcome::NoData {
                ttl: negative_ttl.map(|t| t.min(chain_ttl)),
                server,
            },
            Answer::NxDomain { negative_ttl } => NameOutcome::NxDomain {
                ttl: negative_ttl.map(|t| t.min(chain_ttl)),
                server,
            },
            Answer::Cname { target, ttl } if family.hops < MAX_CNAME_HOPS => {
                family.hops += 1;
                family.chain_ttl = chain_ttl.min(ttl);
                family.name = target;
                return self.send(tag).await;
            }
            Answer::Cname { .. } | Answer::CnameChainTooLong => {
                let reason = format!("CNAME chain longer than {MAX_CNAME_HOPS} aliases (a loop?)");
                NameOutcome::Failed(bad(reason, server))
            }
            Answer::FormErr if query.edns => {
                family.edns = false;
                return self.send(tag).await;
            }
            Answer::FormErr => return family.fail_at(server, failure("FORMERR", server)),
            Answer::ServFail => return family.fail_at(server, failure("SERVFAIL", server)),
            Answer::Refused => return family.fail_at(server, failure("REFUSED", server)),
            Answer::OtherError { rcode: 4 } => {
                return family.fail_at(server, failure("NOTIMP", server))
            }
            Answer::OtherError { rcode } => {
                let name = format!("RCODE {rcode}");
                return family.fail_at(server, failure(&name, server));
            }
            Answer::Truncated => unreachable!("truncated answers go to TCP first"),
        };
        family.done = true;
        self.ready.push_back((family.qtype, outcome));
    }

    /// The schedule is used up: every open family fails with its most telling failure.
    fn give_up(&mut self) {
        let servers = &self.shared.conf.nameservers;
        for family in self.families.iter_mut().filter(|f| !f.done) {
            family.done = true;
            let timeout = DnsErrorKind::Timeout {
                servers: servers.clone(),
                attempts: self.shared.conf.attempts.max(1),
            };
            let kind = match family.failure.take() {
                // Silence from some server says more than a local socket error with another.
                Some(DnsErrorKind::Io { .. }) if family.timed_out => timeout,
                Some(kind) => kind,
                None => timeout,
            };
            self.ready
                .push_back((family.qtype, NameOutcome::Failed(kind)));
        }
    }
}

impl Drop for NameQuery<'_> {
    fn drop(&mut self) {
        self.end_round();
    }
}

fn failure(rcode: &str, server: SocketAddr) -> DnsErrorKind {
    DnsErrorKind::ServerFailure {
        rcode: rcode.to_owned(),
        server,
    }
}

fn bad(reason: String, server: SocketAddr) -> DnsErrorKind {
    DnsErrorKind::BadResponse { reason, server }
}
