//! From a decoded response to what the resolver should do next: first decide whether the response is
//! ours at all ([`validate`]), then turn it into an [`Answer`] ([`interpret`]).
//!
//! Validation is the stub's defence against off-path spoofing (RFC 5452 §4.1-4.3): a datagram counts
//! only if its id matches, it is a response to a standard query, and it echoes our exact question
//! (name compared case-insensitively, type, class IN). Anything else is silently ignored and the
//! resolver keeps waiting, so a forged packet can at worst cost a retry, never plant an address.
//!
//! Interpretation follows the CNAME chain inside the answer section from the queried name, accepting
//! only records that lie on that chain (an unrelated A record smuggled into the answer is ignored),
//! for at most [`MAX_CNAME_HOPS`] aliases. The TTL of the outcome is the minimum over every record
//! used, because the result stops being true as soon as any link of the chain expires.

use std::fmt;
use std::net::IpAddr;

use super::name::Name;
use super::query::{Query, QueryType, WireError, CLASS_IN};
use super::response::{parse_response, Rcode, RecordData, Response};

/// How many CNAME records one answer may chain through before it is treated as a loop.
pub const MAX_CNAME_HOPS: usize = 8;

/// What a valid response means for the name and type that were asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Addresses of the requested family, in the server's order, valid for `ttl` seconds.
    Addresses {
        /// The addresses (never empty).
        addrs: Vec<IpAddr>,
        /// Minimum TTL over the CNAME chain and the address records.
        ttl: u32,
    },
    /// The name exists but has no records of this type (NODATA). Cacheable only when the server sent
    /// an SOA for the name's zone (RFC 2308 §5); then `negative_ttl` is `min(SOA TTL, SOA MINIMUM)`,
    /// further bounded by the CNAME chain's TTLs.
    NoData {
        /// Seconds to remember the absence, if known.
        negative_ttl: Option<u32>,
    },
    /// The name (or the end of its CNAME chain) does not exist. `negative_ttl` as for `NoData`.
    NxDomain {
        /// Seconds to remember the absence, if known.
        negative_ttl: Option<u32>,
    },
    /// The chain leaves the answer: the queried name is an alias for `target`, whose records the
    /// server did not include. Query `target` next (counting hops across queries too).
    Cname {
        /// The last name of the chain.
        target: Name,
        /// Minimum TTL of the CNAME records followed.
        ttl: u32,
    },
    /// The answer chains through more than [`MAX_CNAME_HOPS`] aliases: a loop or abuse. Not cacheable.
    CnameChainTooLong,
    /// The TC bit is set: ask again over TCP.
    Truncated,
    /// SERVFAIL: the server could not resolve the name; try the next server.
    ServFail,
    /// REFUSED: this server will not answer us; try the next server.
    Refused,
    /// FORMERR: the server did not understand the query. If it carried EDNS0, retry without it.
    FormErr,
    /// Any other error code (NOTIMP, BADVERS, ...): try the next server.
    OtherError {
        /// The full (extended) response code.
        rcode: u16,
    },
}

/// Why a response is not an answer to our query. The resolver ignores such a datagram and keeps
/// waiting for the real one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The id differs from the query's.
    Id {
        /// The id we sent.
        expected: u16,
        /// The id in the response.
        got: u16,
    },
    /// QR is not set: this is a query, not a response.
    NotAResponse,
    /// The OPCODE is not 0 (standard query).
    Opcode(u8),
    /// The question section does not hold exactly our one question.
    QuestionCount(usize),
    /// The question's name, type or class differs from ours.
    Question,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Id { expected, got } => write!(
                f,
                "DNS response id {got} does not match query id {expected}"
            ),
            Mismatch::NotAResponse => write!(f, "DNS message is not a response (QR bit clear)"),
            Mismatch::Opcode(op) => write!(f, "DNS response has opcode {op}, not a standard query"),
            Mismatch::QuestionCount(n) => write!(f, "DNS response has {n} questions instead of 1"),
            Mismatch::Question => write!(f, "DNS response question differs from the query"),
        }
    }
}

impl std::error::Error for Mismatch {}

/// Checks that `resp` answers `query` (see the module docs). One leniency: a FORMERR response may omit
/// the question (pre-EDNS servers do, RFC 6891 §7), so it is accepted with zero questions; the id and
/// the socket's source port still have to match, and the worst a forgery can do is make the resolver
/// retry without EDNS.
pub fn validate(query: &Query, resp: &Response) -> Result<(), Mismatch> {
    let h = &resp.header;
    if h.id != query.id {
        return Err(Mismatch::Id {
            expected: query.id,
            got: h.id,
        });
    }
    if !h.qr {
        return Err(Mismatch::NotAResponse);
    }
    if h.opcode != 0 {
        return Err(Mismatch::Opcode(h.opcode));
    }
    match resp.questions.as_slice() {
        [] if resp.rcode() == Rcode::FormErr => Ok(()),
        [q] if q.name == query.name && q.qtype == query.qtype.code() && q.qclass == CLASS_IN => {
            Ok(())
        }
        [_] => Err(Mismatch::Question),
        many => Err(Mismatch::QuestionCount(many.len())),
    }
}

/// Turns a response already accepted by [`validate`] into an [`Answer`] for `query`.
pub fn interpret(query: &Query, resp: &Response) -> Answer {
    if resp.header.tc {
        return Answer::Truncated;
    }
    let rcode = resp.rcode();
    match rcode {
        Rcode::NoError | Rcode::NxDomain => {}
        Rcode::ServFail => return Answer::ServFail,
        Rcode::Refused => return Answer::Refused,
        Rcode::FormErr => return Answer::FormErr,
        Rcode::NotImp => return Answer::OtherError { rcode: 4 },
        Rcode::Other(code) => return Answer::OtherError { rcode: code },
    }

    let mut name = &query.name;
    let mut chain_ttl = u32::MAX;
    let mut hops = 0;
    loop {
        let mut addrs = Vec::new();
        let mut addrs_ttl = u32::MAX;
        let mut cname = None;
        for rec in resp.answers.iter().filter(|r| &r.name == name) {
            let addr = match (&rec.data, query.qtype) {
                (RecordData::A(a), QueryType::A) => IpAddr::V4(*a),
                (RecordData::Aaaa(a), QueryType::Aaaa) => IpAddr::V6(*a),
                (RecordData::Cname(target), _) => {
                    // An owner may have only one CNAME (RFC 2181 §10.1); keep the first if not.
                    cname.get_or_insert((target, rec.ttl));
                    continue;
                }
                _ => continue,
            };
            addrs_ttl = addrs_ttl.min(rec.ttl);
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if !addrs.is_empty() && rcode == Rcode::NoError {
            return Answer::Addresses {
                addrs,
                ttl: chain_ttl.min(addrs_ttl),
            };
        }
        match cname {
            Some(_) if hops == MAX_CNAME_HOPS => return Answer::CnameChainTooLong,
            Some((target, ttl)) => {
                hops += 1;
                chain_ttl = chain_ttl.min(ttl);
                name = target;
            }
            None => break,
        }
    }

    // Negative answers: only an SOA for a zone containing the final name may set the TTL.
    let negative_ttl = resp
        .authority
        .iter()
        .filter(|r| name.is_in(&r.name))
        .find_map(|r| match r.data {
            RecordData::Soa { minimum } => Some(r.ttl.min(minimum).min(chain_ttl)),
            _ => None,
        });
    match rcode {
        Rcode::NxDomain => Answer::NxDomain { negative_ttl },
        // An alias with nothing after it and no SOA: the server stopped following the chain.
        _ if hops > 0 && negative_ttl.is_none() => Answer::Cname {
            target: name.clone(),
            ttl: chain_ttl,
        },
        _ => Answer::NoData { negative_ttl },
    }
}

/// Why a received datagram was not accepted as the answer to a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// The bytes are not a well-formed DNS message.
    Malformed(WireError),
    /// A well-formed message that does not answer our query.
    Mismatch(Mismatch),
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Malformed(e) => e.fmt(f),
            Rejected::Mismatch(m) => m.fmt(f),
        }
    }
}

impl std::error::Error for Rejected {}

/// Parses, validates and interprets a received message in one step: the whole per-datagram work of
/// the resolver's receive loop. On `Err`, ignore the datagram and keep waiting (until the timeout).
///
/// ```
/// use spool_dns::wire::{read_response, Answer, Name, Query, QueryType};
///
/// let query = Query { id: 1, name: Name::from_ascii("a.test").unwrap(), qtype: QueryType::A, edns: false };
/// // The server's reply: our header and question, QR and RA set, one A record 192.0.2.1 with TTL 60
/// // whose owner is a compression pointer to the question name at offset 12.
/// let mut reply = query.encode();
/// reply[2] |= 0x80;
/// reply[3] |= 0x80;
/// reply[7] = 1; // ANCOUNT
/// reply.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
/// let answer = read_response(&query, &reply).unwrap();
/// assert_eq!(answer, Answer::Addresses { addrs: vec!["192.0.2.1".parse().unwrap()], ttl: 60 });
///
/// reply[1] = 2; // a different id: ignored as a possible spoof
/// assert!(read_response(&query, &reply).is_err());
/// ```
pub fn read_response(query: &Query, msg: &[u8]) -> Result<Answer, Rejected> {
    let resp = parse_response(msg).map_err(Rejected::Malformed)?;
    validate(query, &resp).map_err(Rejected::Mismatch)?;
    Ok(interpret(query, &resp))
}
