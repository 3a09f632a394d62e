//! [`Resolving`]: a lookup in progress, handing out each address family's outcome as soon as it is
//! known. Happy Eyeballs (RFC 8305 §3) wants exactly this: start connecting over IPv6 the moment the
//! AAAA answer lands, without waiting for the A answer (and vice versa after a short delay).
//!
//! Outcomes come from three places, all looking the same to the caller: decided at once (an IP
//! literal, a pinned name, the hosts file, a cache hit), or later through a oneshot channel from the
//! lookup task that leads the query for this name and family (shared by every caller that asked for
//! the same name meanwhile, see `resolver`).

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use spool_runtime::sync::oneshot;

use super::error::{DnsError, DnsErrorKind};
use crate::wire::query::QueryType;

/// One address family's outcome as [`Resolving`] hands it out: `Ok` with the addresses (empty when
/// the name has no records of that family), or the error for that family.
pub type FamilyOutcome = (QueryType, Result<Vec<IpAddr>, DnsError>);

/// One family's outcome as the lookup task hands it to every waiting caller.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Addresses of this family (never empty).
    Addresses(Vec<IpAddr>),
    /// The name has no records of this family; the server that said so (`None` when cached).
    NoData(Option<SocketAddr>),
    /// The lookup of this family failed.
    Failed(DnsError),
}

/// A name lookup in progress: each address family's outcome, in the order they become known.
///
/// Created by [`Resolver::resolve`](super::Resolver::resolve). Dropping it abandons nothing: the query
/// itself runs in its own task, finishes, and fills the cache for the next caller.
///
/// ```no_run
/// use spool_dns::{QueryType, Resolver};
///
/// spool_runtime::block_on(async {
///     let resolver = Resolver::from_system();
///     let mut resolving = resolver.resolve("example.com", 443);
///     while let Some((family, outcome)) = resolving.next().await {
///         let family = if family == QueryType::Aaaa { "IPv6" } else { "IPv4" };
///         println!("{family}: {outcome:?}");
///     }
/// });
/// ```
#[derive(Debug)]
pub struct Resolving {
    /// The host as the caller wrote it; errors are labelled with it.
    host: String,
    /// Outcomes known without waiting.
    ready: VecDeque<(QueryType, Outcome)>,
    /// Outcomes still to come from a lookup task.
    waiting: Vec<(QueryType, oneshot::Receiver<Outcome>)>,
    /// Whether any outcome so far had addresses.
    found: bool,
    /// The most telling failure handed out so far.
    failure: Option<DnsError>,
    /// A server that answered NODATA for some family (for the "no addresses" message).
    nodata_from: Option<Option<SocketAddr>>,
}

impl Resolving {
    pub(crate) fn new(host: &str) -> Resolving {
        Resolving {
            host: host.to_owned(),
            ready: VecDeque::new(),
            waiting: Vec::new(),
            found: false,
            failure: None,
            nodata_from: None,
        }
    }

    /// A resolution whose addresses are already known (literal, pinned, hosts file): AAAA first.
    pub(crate) fn known(host: &str, addrs: &[IpAddr]) -> Resolving {
        let mut r = Resolving::new(host);
        for (qtype, v6) in [(QueryType::Aaaa, true), (QueryType::A, false)] {
            let list: Vec<IpAddr> = addrs
                .iter()
                .copied()
                .filter(|a| a.is_ipv6() == v6)
                .collect();
            let outcome = if list.is_empty() {
                Outcome::NoData(None)
            } else {
                Outcome::Addresses(list)
            };
            r.push_ready(qtype, outcome);
        }
        r
    }

    /// A resolution that failed before any query (e.g. an invalid name), reported for both families.
    pub(crate) fn failed(host: &str, kind: DnsErrorKind) -> Resolving {
        let mut r = Resolving::new(host);
        let err = DnsError::new(host, kind);
        r.push_ready(QueryType::Aaaa, Outcome::Failed(err.clone()));
        r.push_ready(QueryType::A, Outcome::Failed(err));
        r
    }

    pub(crate) fn push_ready(&mut self, qtype: QueryType, outcome: Outcome) {
        self.ready.push_back((qtype, outcome));
    }

    pub(crate) fn push_waiting(&mut self, qtype: QueryType, rx: oneshot::Receiver<Outcome>) {
        self.waiting.push((qtype, rx));
    }

    /// The host being resolved, as given.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether every family's outcome has been handed out.
    pub fn is_done(&self) -> bool {
        self.ready.is_empty() && self.waiting.is_empty()
    }

    /// Waits for the next family's outcome: `Ok` with its addresses (an empty list when the name has
    /// no records of that family), or the error for that family. `None` once both were handed out.
    pub async fn next(&mut self) -> Option<FamilyOutcome> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Poll form of [`Resolving::next`].
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<FamilyOutcome>> {
        if let Some((qtype, outcome)) = self.ready.pop_front() {
            return Poll::Ready(Some((qtype, self.record(outcome))));
        }
        let mut arrived = None;
        for (i, (_, rx)) in self.waiting.iter_mut().enumerate() {
            if let Poll::Ready(result) = Pin::new(rx).poll(cx) {
                arrived = Some((i, result));
                break;
            }
        }
        match arrived {
            Some((i, result)) => {
                let (qtype, _) = self.waiting.swap_remove(i);
                // A closed channel means the lookup task died without an outcome (a panic, or the
                // runtime shutting down); report it rather than wait forever.
                let outcome = result.unwrap_or_else(|_| {
                    Outcome::Failed(DnsError::new(&self.host, DnsErrorKind::Abandoned))
                });
                Poll::Ready(Some((qtype, self.record(outcome))))
            }
            None if self.waiting.is_empty() => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    /// Notes what is handed out (for [`Resolving::error`]) and turns it into the public form.
    fn record(&mut self, outcome: Outcome) -> Result<Vec<IpAddr>, DnsError> {
        match outcome {
            Outcome::Addresses(addrs) => {
                self.found = true;
                Ok(addrs)
            }
            Outcome::NoData(server) => {
                self.nodata_from.get_or_insert(server);
                Ok(Vec::new())
            }
            Outcome::Failed(err) => {
                // Followers share the leader's error; label it with this caller's spelling.
                let err = DnsError::new(&self.host, err.kind().clone());
                match &self.failure {
                    Some(known) if known.kind().weight() >= err.kind().weight() => {}
                    _ => self.failure = Some(err.clone()),
                }
                Err(err)
            }
        }
    }

    /// The error that sums up a resolution that produced no address: the most telling per-family
    /// failure (NXDOMAIN beats SERVFAIL beats a timeout), or "no addresses" when every family answered
    /// NODATA. Meaningful once [`Resolving::next`] returned `None` without any address.
    pub fn error(&self) -> DnsError {
        match (&self.failure, self.nodata_from) {
            (Some(err), _) => err.clone(),
            (None, server) => DnsError::new(
                &self.host,
                DnsErrorKind::NoAddresses {
                    server: server.flatten(),
                },
            ),
        }
    }

    /// Waits for both families and returns all addresses, IPv6 first, each family in the server's
    /// order; or [`Resolving::error`] when there are none.
    pub async fn addrs(mut self) -> Result<Vec<IpAddr>, DnsError> {
        let (mut v6, mut v4) = (Vec::new(), Vec::new());
        while let Some((qtype, outcome)) = self.next().await {
            match (qtype, outcome) {
                (QueryType::Aaaa, Ok(addrs)) => v6 = addrs,
                (QueryType::A, Ok(addrs)) => v4 = addrs,
                (_, Err(_)) => {}
            }
        }
        if !self.found {
            return Err(self.error());
        }
        v6.extend(v4);
        Ok(v6)
    }
}
