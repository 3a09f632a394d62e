//! The test server's table: records per name, faults per name, an optional wildcard domain, and the
//! counters tests assert on. Deciding what to answer lives here; moving datagrams lives in `mod.rs`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::message::{
    wire_name, Rec, Reply, WireRecord, RCODE_FORMERR, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_REFUSED,
    RCODE_SERVFAIL, TYPE_A, TYPE_AAAA,
};

/// A misbehaviour for one name (every query type, or one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer SERVFAIL.
    ServFail,
    /// Answer REFUSED.
    Refused,
    /// Answer FORMERR (without a question section, as old servers do) to queries carrying EDNS0;
    /// answer normally without it.
    FormErrOnEdns,
    /// Never answer, over UDP or TCP.
    Silent,
    /// Drop the first `n` UDP queries for the name, then answer normally.
    SilentFirst(usize),
    /// Over UDP answer with TC set and no records; over TCP answer in full.
    Truncate,
    /// Over UDP send the real answer padded with junk A records past 4096 bytes and without TC;
    /// over TCP answer normally.
    Oversize,
    /// Over UDP first send a reply with a wrong id (pointing at 10.66.66.66), then the real one.
    WrongIdFirst,
    /// Over UDP first send a reply with the right id but another question, then the real one.
    WrongQuestionFirst,
    /// Over UDP first send a reply with the right id and question from another socket (another
    /// source port, pointing at 10.66.66.66), then the real one 30 ms later.
    SpoofFirst,
    /// Answer normally after this delay (UDP only).
    Delay(Duration),
    /// Over UDP send only the real answer with its last two bytes cut off and TC clear (the last
    /// record's data then runs past the end of the message): unparseable, every time.
    CutShort,
}

/// What the server should send for one query.
#[derive(Debug)]
pub struct Plan {
    /// Datagrams or frames to send, in order: (delay before sending, bytes, from a spoofing socket).
    pub sends: Vec<(Duration, Vec<u8>, bool)>,
}

/// The address a wildcard name maps to: `127.0.0.(1 + hash(name) % spread)`.
///
/// ```ignore
/// assert_eq!(loopback_for("h1.test", 1), Ipv4Addr::new(127, 0, 0, 1));
/// ```
pub fn loopback_for(name: &str, spread: u8) -> Ipv4Addr {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    // FNV-1a: stable across runs and platforms, unlike std's randomly keyed hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    Ipv4Addr::new(127, 0, 0, 1 + (hash % u64::from(spread.max(1))) as u8)
}

/// The table and the counters.
#[derive(Debug)]
pub struct Zone {
    records: HashMap<String, Vec<Rec>>,
    /// Faults per name, for one query type or (`None`) all.
    faults: HashMap<(String, Option<u16>), Fault>,
    /// Names under this suffix that have no records of their own get `loopback_for(name, spread)`.
    wildcard: Option<(String, u8)>,
    /// Like a recursive server, put the CNAME target's records in the same answer.
    pub follow_cnames: bool,
    pub ttl: u32,
    /// SOA TTL in negative answers; `None` sends no SOA (the answer is then uncacheable).
    pub negative_ttl: Option<u32>,
    /// Queries per (name, type), UDP and TCP together.
    pub counts: HashMap<(String, u16), usize>,
    pub udp: usize,
    pub tcp: usize,
    /// UDP queries seen per name, for `SilentFirst`.
    seen: HashMap<String, usize>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Zone {
    pub fn new() -> Zone {
        Zone {
            records: HashMap::new(),
            faults: HashMap::new(),
            wildcard: None,
            follow_cnames: true,
            ttl: 60,
            negative_ttl: Some(30),
            counts: HashMap::new(),
            udp: 0,
            tcp: 0,
            seen: HashMap::new(),
        }
    }

    pub fn add(&mut self, name: &str, rec: Rec) {
        self.records.entry(key(name)).or_default().push(rec);
    }

    /// Declares `name` as existing without any address record (NODATA for A and AAAA).
    pub fn add_empty(&mut self, name: &str) {
        self.records.entry(key(name)).or_default();
    }

    pub fn set_fault(&mut self, name: &str, qtype: Option<u16>, fault: Option<Fault>) {
        match fault {
            Some(f) => self.faults.insert((key(name), qtype), f),
            None => self.faults.remove(&(key(name), qtype)),
        };
    }

    pub fn set_wildcard(&mut self, suffix: &str, spread: u8) {
        self.wildcard = Some((key(suffix), spread));
    }

    fn records(&self, name: &str) -> Option<Vec<Rec>> {
        if let Some(recs) = self.records.get(name) {
            return Some(recs.clone());
        }
        let (suffix, spread) = self.wildcard.as_ref()?;
        let under = name.len() > suffix.len() + 1
            && name.ends_with(suffix.as_str())
            && name.as_bytes()[name.len() - suffix.len() - 1] == b'.';
        under.then(|| vec![Rec::Addr(IpAddr::V4(loopback_for(name, *spread)))])
    }

    /// The zone an SOA for `name` is owned by: its last label.
    fn zone_of(name: &str) -> &str {
        name.rsplit('.').next().unwrap_or(name)
    }

    /// The answer a recursive server would give: (rcode, answer records, authority records).
    fn resolve(&self, qname: &str, qtype: u16) -> (u8, Vec<WireRecord>, Vec<WireRecord>) {
        let mut answers = Vec::new();
        let mut name = qname.to_owned();
        let negative = |rcode, answers| {
            let soa = self
                .negative_ttl
                .map(|ttl| WireRecord::soa(Zone::zone_of(qname), ttl));
            (rcode, answers, soa.into_iter().collect())
        };
        // Bounded: a CNAME loop in the table ends after 16 links, like a real server's limit.
        for _ in 0..16 {
            let Some(recs) = self.records(&name) else {
                return negative(RCODE_NXDOMAIN, answers);
            };
            if let Some(Rec::Cname(target)) = recs.iter().find(|r| matches!(r, Rec::Cname(_))) {
                answers.push(WireRecord::from_rec(
                    &name,
                    &Rec::Cname(target.clone()),
                    self.ttl,
                ));
                if !self.follow_cnames {
                    return (RCODE_NOERROR, answers, Vec::new());
                }
                name = key(target);
                continue;
            }
            let before = answers.len();
            for rec in &recs {
                let matches = match rec {
                    Rec::Addr(IpAddr::V4(_)) => qtype == TYPE_A,
                    Rec::Addr(IpAddr::V6(_)) => qtype == TYPE_AAAA,
                    Rec::Cname(_) => false,
                };
                if matches {
                    answers.push(WireRecord::from_rec(&name, rec, self.ttl));
                }
            }
            if answers.len() == before {
                return negative(RCODE_NOERROR, answers);
            }
            return (RCODE_NOERROR, answers, Vec::new());
        }
        (RCODE_SERVFAIL, Vec::new(), Vec::new())
    }

    /// Decides the reply to a query `(id, name, type, has EDNS0)` arriving over UDP or TCP, and
    /// counts it.
    pub fn plan(&mut self, id: u16, qname: &str, qtype: u16, edns: bool, udp: bool) -> Plan {
        let name = key(qname);
        *self.counts.entry((name.clone(), qtype)).or_default() += 1;
        if udp {
            self.udp += 1;
        } else {
            self.tcp += 1;
        }
        let seen = {
            let n = self.seen.entry(name.clone()).or_default();
            if udp {
                *n += 1;
            }
            *n
        };
        let question = Some((wire_name(&name), qtype));
        let reply = |rcode, tc, answers, authority| Reply {
            id,
            rcode,
            tc,
            question: question.clone(),
            answers,
            authority,
        };
        let now = |r: Reply| (Duration::ZERO, r.encode(), false);
        let (rcode, answers, authority) = self.resolve(&name, qtype);
        let normal = reply(rcode, false, answers.clone(), authority.clone());
        let bogus = vec![WireRecord::from_rec(
            &name,
            &Rec::Addr("10.66.66.66".parse().unwrap()),
            self.ttl,
        )];
        let fault = self
            .faults
            .get(&(name.clone(), Some(qtype)))
            .or_else(|| self.faults.get(&(name.clone(), None)))
            .cloned();
        let sends = match (fault, udp) {
            (None, _) => vec![now(normal)],
            (Some(Fault::ServFail), _) => vec![now(reply(RCODE_SERVFAIL, false, vec![], vec![]))],
            (Some(Fault::Refused), _) => vec![now(reply(RCODE_REFUSED, false, vec![], vec![]))],
            (Some(Fault::FormErrOnEdns), _) if edns => {
                let mut r = reply(RCODE_FORMERR, false, vec![], vec![]);
                r.question = None;
                vec![now(r)]
            }
            (Some(Fault::Silent), _) => vec![],
            (Some(Fault::SilentFirst(n)), true) if seen <= n => vec![],
            (Some(Fault::Truncate), true) => vec![now(reply(rcode, true, vec![], vec![]))],
            (Some(Fault::Oversize), true) => {
                let mut padded = answers;
                let junk =
                    WireRecord::from_rec("junk.test", &Rec::Addr("10.9.9.9".parse().unwrap()), 1);
                // Each junk record is 9 + 1 + 10 + 4 = 29 bytes: 200 of them pass 4096 bytes.
                padded.extend(vec![junk; 200]);
                vec![now(reply(rcode, false, padded, authority))]
            }
            (Some(Fault::WrongIdFirst), true) => {
                let mut fake = reply(RCODE_NOERROR, false, bogus, vec![]);
                fake.id = id ^ 0x5a5a;
                vec![now(fake), now(normal)]
            }
            (Some(Fault::WrongQuestionFirst), true) => {
                let mut fake = reply(RCODE_NOERROR, false, bogus, vec![]);
                fake.question = Some((wire_name("evil.test"), qtype));
                vec![now(fake), now(normal)]
            }
            (Some(Fault::SpoofFirst), true) => {
                let fake = reply(RCODE_NOERROR, false, bogus, vec![]);
                vec![
                    (Duration::ZERO, fake.encode(), true),
                    (Duration::from_millis(30), normal.encode(), false),
                ]
            }
            (Some(Fault::Delay(d)), true) => vec![(d, normal.encode(), false)],
            (Some(Fault::CutShort), true) => {
                let mut bytes = normal.encode();
                bytes.truncate(bytes.len() - 2);
                vec![(Duration::ZERO, bytes, false)]
            }
            (Some(_), _) => vec![now(normal)],
        };
        Plan { sends }
    }
}
