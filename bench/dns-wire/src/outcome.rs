//! What a stub resolver reads from a response, in one shape for all three parsers, and the rules that
//! produce it from a parsed message for the two crates (spool-dns has its own, `wire::interpret`).
//!
//! The rules here restate spool-dns's `wire::answer` (this benchmark's own code, written against each
//! crate's types): accept only a response to our exact question (id, QR, opcode 0, one question with
//! our name, type and class IN); follow the CNAME chain from the queried name for at most
//! [`MAX_CNAME_HOPS`] aliases, using only records owned by a name on that chain; collect addresses of
//! the asked family without duplicates; the TTL is the minimum over every record used; a negative
//! answer takes its TTL from an SOA of a zone containing the final name (RFC 2308). With the same rules
//! on every side, the timings differ only by what each library does to decode the bytes and walk them.

use std::net::IpAddr;

/// How many aliases a chain may pass through before it counts as a loop (as in spool-dns).
pub const MAX_CNAME_HOPS: usize = 8;

/// The address family asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4, type A.
    A,
    /// IPv6, type AAAA.
    Aaaa,
}

/// The resolver-level meaning of a response that answers our question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Addresses of the asked family, in server order, with the minimum TTL of the records used.
    Addresses {
        /// Never empty.
        addrs: Vec<IpAddr>,
        /// Minimum TTL over the chain and the address records.
        ttl: u32,
    },
    /// The name does not exist.
    NxDomain {
        /// min(SOA TTL, SOA MINIMUM, chain TTLs), if an SOA for the name's zone came along.
        negative_ttl: Option<u32>,
    },
    /// The name exists but has no address of this family.
    NoData {
        /// As for `NxDomain`.
        negative_ttl: Option<u32>,
    },
    /// Anything else (TC set, SERVFAIL and other errors, a chain that leaves the answer or loops).
    Other,
}

/// Why a message was not taken as the answer to our question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// The library could not decode the bytes.
    Malformed,
    /// Well-formed, but not an answer to our query (id, QR, opcode or question differ).
    Mismatch,
}

/// The response code, reduced to what the rules distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    /// NOERROR.
    NoError,
    /// NXDOMAIN.
    NxDomain,
    /// Anything else.
    Other,
}

/// One record as the rules need to see it, borrowed from a library's own record type.
pub enum View<'r, N> {
    /// An A or AAAA record of class IN.
    Addr(IpAddr),
    /// A CNAME of class IN, with its target.
    Cname(&'r N),
    /// An SOA of class IN, with its MINIMUM field.
    Soa {
        /// The SOA MINIMUM field.
        minimum: u32,
    },
    /// Any other record (other types, other classes).
    Ignored,
}

/// A TTL as RFC 2181 §8 wants it read: a value with the top bit set means 0.
pub fn ttl_2181(raw: u32) -> u32 {
    if raw > i32::MAX as u32 {
        0
    } else {
        raw
    }
}

/// Applies the rules to an already validated message.
///
/// `view` turns one of the library's records into its owner, raw TTL and [`View`]; `in_zone(zone,
/// name)` says whether `name` is `zone` or below it.
pub fn interpret<'r, R, N: PartialEq>(
    qname: &'r N,
    family: Family,
    rcode: Rcode,
    answers: &'r [R],
    authority: &'r [R],
    view: impl Fn(&'r R) -> (&'r N, u32, View<'r, N>),
    in_zone: impl Fn(&N, &N) -> bool,
) -> Outcome {
    if rcode == Rcode::Other {
        return Outcome::Other;
    }
    let mut name = qname;
    let mut chain_ttl = u32::MAX;
    let mut hops = 0;
    loop {
        let mut addrs = Vec::new();
        let mut addrs_ttl = u32::MAX;
        let mut cname: Option<(&N, u32)> = None;
        for rec in answers {
            let (owner, ttl, data) = view(rec);
            if owner != name {
                continue;
            }
            let addr = match data {
                View::Addr(a @ IpAddr::V4(_)) if family == Family::A => a,
                View::Addr(a @ IpAddr::V6(_)) if family == Family::Aaaa => a,
                View::Cname(target) => {
                    cname.get_or_insert((target, ttl_2181(ttl)));
                    continue;
                }
                _ => continue,
            };
            addrs_ttl = addrs_ttl.min(ttl_2181(ttl));
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if !addrs.is_empty() && rcode == Rcode::NoError {
            return Outcome::Addresses {
                addrs,
                ttl: chain_ttl.min(addrs_ttl),
            };
        }
        match cname {
            Some(_) if hops == MAX_CNAME_HOPS => return Outcome::Other,
            Some((target, ttl)) => {
                hops += 1;
                chain_ttl = chain_ttl.min(ttl);
                name = target;
            }
            None => break,
        }
    }
    let negative_ttl = authority.iter().find_map(|rec| match view(rec) {
        (zone, ttl, View::Soa { minimum }) if in_zone(zone, name) => {
            Some(ttl_2181(ttl).min(minimum).min(chain_ttl))
        }
        _ => None,
    });
    match rcode {
        Rcode::NxDomain => Outcome::NxDomain { negative_ttl },
        _ if hops > 0 && negative_ttl.is_none() => Outcome::Other,
        _ => Outcome::NoData { negative_ttl },
    }
}
