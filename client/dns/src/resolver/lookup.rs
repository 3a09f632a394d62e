//! The lookup task: what runs, once per name and family, for every caller that asked for that name
//! while no answer was cached. It walks the search list, caches what it learns under the name as the
//! caller typed it, and hands each family's outcome to everyone waiting (the in-flight table holds
//! their channels).
//!
//! Search list rule (as musl, and glibc for the common cases): the candidates are tried in order; the
//! first candidate at which *some* family has addresses is the answer for all families. A candidate
//! where every family answered NXDOMAIN or NODATA sends us to the next one. Any other failure (a
//! timeout, SERVFAIL) stops the walk: trying the next suffix after a server failure could silently
//! resolve `db` to `db.other.example` while `db.corp.example` is merely unreachable.
//!
//! Streaming: a family with addresses is handed out the moment it arrives. A negative outcome waits
//! until the candidate is decided, since it may yet be overridden by a later candidate.
//!
//! Cancellation: the task owns a [`Publisher`] whose `Drop` ends every in-flight entry it still holds.
//! If the task dies (a panic, or the runtime shutting down), the waiting callers see their channel
//! close and report the lookup as abandoned, instead of waiting forever.

use std::rc::Rc;
use std::time::Instant;

use super::attempts::{NameOutcome, NameQuery};
use super::cache::Cached;
use super::error::{DnsError, DnsErrorKind};
use super::resolving::Outcome;
use super::state::Shared;
use crate::wire::query::QueryType;

/// Hands outcomes to the waiting callers and, on drop, releases what was never handed out.
struct Publisher {
    shared: Rc<Shared>,
    /// The in-flight and cache key: the host as typed, lowercased.
    key: String,
    /// Families this task leads and has not finished yet.
    open: Vec<QueryType>,
}

impl Publisher {
    fn publish(&mut self, qtype: QueryType, outcome: Outcome) {
        let Some(i) = self.open.iter().position(|&q| q == qtype) else {
            return;
        };
        self.open.swap_remove(i);
        let waiters = self
            .shared
            .inflight
            .borrow_mut()
            .finish(&(self.key.clone(), qtype));
        for waiter in waiters {
            // A caller that stopped waiting dropped its receiver; nothing to do for it.
            let _ = waiter.send(outcome.clone());
        }
    }

    /// Caches a per-family result (skipped when `ttl` is `None`: uncacheable) and publishes it.
    fn settle(&mut self, qtype: QueryType, cached: Option<(Cached, u32)>, outcome: Outcome) {
        if let Some((value, ttl)) = cached {
            self.shared
                .cache
                .borrow_mut()
                .insert(&self.key, qtype, value, ttl, Instant::now());
        }
        self.publish(qtype, outcome);
    }

    fn error(&self, kind: DnsErrorKind) -> Outcome {
        Outcome::Failed(DnsError::new(&self.key, kind))
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        // Dropping the senders wakes their receivers with "closed".
        let mut inflight = self.shared.inflight.borrow_mut();
        for &qtype in &self.open {
            drop(inflight.finish(&(self.key.clone(), qtype)));
        }
    }
}

/// Resolves `key` (a valid host name, lowercased) for `qtypes` and publishes the outcomes.
pub(crate) async fn run(shared: Rc<Shared>, key: String, qtypes: Vec<QueryType>) {
    let mut out = Publisher {
        shared: shared.clone(),
        key,
        open: qtypes.clone(),
    };
    let candidates = match shared.conf.candidates(&out.key) {
        Ok(list) => list,
        Err(e) => {
            for &qtype in &qtypes {
                let outcome = out.error(DnsErrorKind::InvalidName(e.clone()));
                out.publish(qtype, outcome);
            }
            return;
        }
    };
    // Minimum negative TTL over the candidates tried; `None` once one was uncacheable.
    let mut negative_ttl = Some(u32::MAX);
    for (i, name) in candidates.iter().enumerate() {
        let last = i + 1 == candidates.len();
        let mut query = NameQuery::new(&shared, name, &qtypes);
        let mut held = Vec::new();
        let mut found = false;
        while let Some((qtype, outcome)) = query.next().await {
            if let NameOutcome::Addresses { addrs, ttl } = outcome {
                found = true;
                out.settle(
                    qtype,
                    Some((Cached::Addresses(addrs.clone()), ttl)),
                    Outcome::Addresses(addrs),
                );
                for (qtype, outcome) in held.drain(..) {
                    settle_beside_addresses(&mut out, qtype, outcome);
                }
            } else if found {
                settle_beside_addresses(&mut out, qtype, outcome);
            } else {
                held.push((qtype, outcome));
            }
        }
        if found {
            return;
        }
        let all_negative = held
            .iter()
            .all(|(_, o)| matches!(o, NameOutcome::NoData { .. } | NameOutcome::NxDomain { .. }));
        for (_, outcome) in &held {
            let ttl = match outcome {
                NameOutcome::NoData { ttl, .. } | NameOutcome::NxDomain { ttl, .. } => *ttl,
                _ => None,
            };
            negative_ttl = negative_ttl.zip(ttl).map(|(a, b)| a.min(b));
        }
        if all_negative && !last {
            continue;
        }
        for (qtype, outcome) in held {
            settle_final(&mut out, qtype, outcome, negative_ttl);
        }
        return;
    }
}

/// A negative or failed family whose other family has addresses: the name exists, so a negative
/// answer is "no records of this family" whatever its code, and only NODATA with a TTL is cached.
fn settle_beside_addresses(out: &mut Publisher, qtype: QueryType, outcome: NameOutcome) {
    match outcome {
        NameOutcome::NoData { ttl, server } => {
            let cached = ttl.map(|t| (Cached::NoData, t));
            out.settle(qtype, cached, Outcome::NoData(Some(server)));
        }
        NameOutcome::NxDomain { server, .. } => out.publish(qtype, Outcome::NoData(Some(server))),
        NameOutcome::Failed(kind) => {
            let outcome = out.error(kind);
            out.publish(qtype, outcome);
        }
        NameOutcome::Addresses { .. } => unreachable!("addresses are settled as they arrive"),
    }
}

/// The walk ended without addresses: publish each family's last outcome, caching negatives with the
/// minimum TTL over every candidate tried.
fn settle_final(out: &mut Publisher, qtype: QueryType, outcome: NameOutcome, ttl: Option<u32>) {
    match outcome {
        NameOutcome::NoData { server, .. } => {
            let cached = ttl.map(|t| (Cached::NoData, t));
            out.settle(qtype, cached, Outcome::NoData(Some(server)));
        }
        NameOutcome::NxDomain { server, .. } => {
            let cached = ttl.map(|t| (Cached::NxDomain, t));
            let outcome = out.error(DnsErrorKind::NxDomain {
                server: Some(server),
            });
            out.settle(qtype, cached, outcome);
        }
        NameOutcome::Failed(kind) => {
            let outcome = out.error(kind);
            out.publish(qtype, outcome);
        }
        NameOutcome::Addresses { .. } => unreachable!("addresses end the walk early"),
    }
}
