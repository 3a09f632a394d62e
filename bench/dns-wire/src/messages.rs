//! The four response messages every parser is timed and fuzzed on, written byte by byte, together
//! with the question each one answers and the outcome a stub resolver must read from it.
//!
//! The bytes are what a recursive server sends: the id and question of the query echoed, QR|RD|RA set,
//! and names compressed the way servers compress them (owners point back at the question, a CNAME
//! target's suffix points into an earlier name). `Writer` only concatenates fields and remembers
//! offsets, so every count, type and pointer below is spelled out.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::outcome::{Family, Outcome};

/// The question a message answers: what the resolver asked, and so what each parser checks the
/// response against (id, name, type, class IN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// The query id the response must echo.
    pub id: u16,
    /// The name asked about, without the trailing dot.
    pub name: &'static str,
    /// A or AAAA.
    pub family: Family,
}

/// One benchmark input.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Short label for the table.
    pub label: &'static str,
    /// What was asked.
    pub ask: Ask,
    /// The response message.
    pub bytes: Vec<u8>,
    /// What every parser must make of it.
    pub expected: Outcome,
}

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_SOA: u16 = 6;
const TYPE_AAAA: u16 = 28;
const TYPE_OPT: u16 = 41;
const CLASS_IN: u16 = 1;
/// QR | RD | RA: a recursive server's answer to a standard query.
const FLAGS_RESPONSE: u16 = 0x8180;
const RCODE_NXDOMAIN: u16 = 3;

/// Appends DNS fields to a message and reports where names start, for compression pointers.
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn header(id: u16, flags: u16, counts: [u16; 4]) -> Writer {
        let mut buf = Vec::with_capacity(512);
        buf.extend_from_slice(&id.to_be_bytes());
        buf.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            buf.extend_from_slice(&c.to_be_bytes());
        }
        Writer { buf }
    }

    fn pos(&self) -> u16 {
        u16::try_from(self.buf.len()).expect("benchmark messages are small")
    }

    fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Writes `labels`, then either a pointer to `suffix` or the root label. Returns the offset of the
    /// first label (where a later pointer to this name must point).
    fn name(&mut self, labels: &[&str], suffix: Option<u16>) -> u16 {
        let start = self.pos();
        for label in labels {
            self.buf
                .push(u8::try_from(label.len()).expect("short labels"));
            self.buf.extend_from_slice(label.as_bytes());
        }
        match suffix {
            Some(offset) => self.u16(0xc000 | offset),
            None => self.buf.push(0),
        }
        start
    }

    /// A pointer-only name (the common case for record owners).
    fn ptr(&mut self, offset: u16) {
        self.u16(0xc000 | offset);
    }

    /// TYPE, CLASS, TTL of a record whose owner was just written; RDATA follows via `rdata`.
    fn rr_fixed(&mut self, rtype: u16, class: u16, ttl: u32) {
        self.u16(rtype);
        self.u16(class);
        self.u32(ttl);
    }

    /// Writes RDLENGTH and the RDATA that `body` appends, and returns what `body` returned.
    fn rdata<T>(&mut self, body: impl FnOnce(&mut Writer) -> T) -> T {
        let len_at = self.buf.len();
        self.u16(0);
        let out = body(self);
        let len = u16::try_from(self.buf.len() - len_at - 2).expect("short rdata");
        self.buf[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
        out
    }
}

/// (a) `example.com A`: one A record whose owner is a pointer to the question.
fn single_a() -> Sample {
    let ask = Ask {
        id: 0x1a2b,
        name: "example.com",
        family: Family::A,
    };
    let mut w = Writer::header(ask.id, FLAGS_RESPONSE, [1, 1, 0, 0]);
    let qname = w.name(&["example", "com"], None);
    w.u16(TYPE_A);
    w.u16(CLASS_IN);
    w.ptr(qname);
    w.rr_fixed(TYPE_A, CLASS_IN, 3600);
    w.rdata(|w| w.buf.extend_from_slice(&[93, 184, 215, 14]));
    Sample {
        label: "A x1",
        ask,
        bytes: w.buf,
        expected: Outcome::Addresses {
            addrs: vec![IpAddr::V4(Ipv4Addr::new(93, 184, 215, 14))],
            ttl: 3600,
        },
    }
}

/// (b) `www.example.com A` behind a two-hop CDN chain (the shape of a typical CDN answer):
/// `www.example.com CNAME www.example.com.edgekey.net CNAME e1234.a.akamaiedge.net`, then 4 A records.
fn cname_chain() -> Sample {
    let ask = Ask {
        id: 0x4c0d,
        name: "www.example.com",
        family: Family::A,
    };
    let mut w = Writer::header(ask.id, FLAGS_RESPONSE, [1, 6, 0, 0]);
    let qname = w.name(&["www", "example", "com"], None);
    w.u16(TYPE_A);
    w.u16(CLASS_IN);

    w.ptr(qname);
    w.rr_fixed(TYPE_CNAME, CLASS_IN, 300);
    // The target shares no suffix with anything earlier, so it is written out; remember where its
    // "net" label lies so the second target can point at it.
    let hop1 = w.rdata(|w| w.name(&["www", "example", "com", "edgekey", "net"], None));
    let net = hop1 + 4 + 8 + 4 + 8;

    w.ptr(hop1);
    w.rr_fixed(TYPE_CNAME, CLASS_IN, 120);
    let hop2 = w.rdata(|w| w.name(&["e1234", "a", "akamaiedge"], Some(net)));

    let addrs = [
        Ipv4Addr::new(23, 45, 67, 10),
        Ipv4Addr::new(23, 45, 67, 11),
        Ipv4Addr::new(23, 45, 67, 26),
        Ipv4Addr::new(23, 45, 67, 42),
    ];
    for a in addrs {
        w.ptr(hop2);
        w.rr_fixed(TYPE_A, CLASS_IN, 20);
        w.rdata(|w| w.buf.extend_from_slice(&a.octets()));
    }
    Sample {
        label: "CNAME x2 + A x4",
        ask,
        bytes: w.buf,
        expected: Outcome::Addresses {
            addrs: addrs.into_iter().map(IpAddr::V4).collect(),
            ttl: 20,
        },
    }
}

/// (c) `v6.example.org AAAA`: 8 AAAA records, and the EDNS0 OPT record a server echoes in the
/// additional section (UDP size 1232, version 0, no options).
fn eight_aaaa_edns() -> Sample {
    let ask = Ask {
        id: 0x7e57,
        name: "v6.example.org",
        family: Family::Aaaa,
    };
    let mut w = Writer::header(ask.id, FLAGS_RESPONSE, [1, 8, 0, 1]);
    let qname = w.name(&["v6", "example", "org"], None);
    w.u16(TYPE_AAAA);
    w.u16(CLASS_IN);
    let addrs: Vec<Ipv6Addr> = (1..=8)
        .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0x10, 0, 0, 0, 0, i))
        .collect();
    for a in &addrs {
        w.ptr(qname);
        w.rr_fixed(TYPE_AAAA, CLASS_IN, 600);
        w.rdata(|w| w.buf.extend_from_slice(&a.octets()));
    }
    // OPT: root owner, CLASS = UDP payload size, TTL = extended RCODE 0, version 0, flags 0.
    w.name(&[], None);
    w.rr_fixed(TYPE_OPT, 1232, 0);
    w.rdata(|_| {});
    Sample {
        label: "AAAA x8 + OPT",
        ask,
        bytes: w.buf,
        expected: Outcome::Addresses {
            addrs: addrs.into_iter().map(IpAddr::V6).collect(),
            ttl: 600,
        },
    }
}

/// (d) `nosuch.example.com A`: NXDOMAIN, with the zone's SOA in the authority section (owner, MNAME
/// and RNAME all compressed against the question's `example.com`).
fn nxdomain_soa() -> Sample {
    let ask = Ask {
        id: 0x0bad,
        name: "nosuch.example.com",
        family: Family::A,
    };
    let mut w = Writer::header(ask.id, FLAGS_RESPONSE | RCODE_NXDOMAIN, [1, 0, 1, 0]);
    let qname = w.name(&["nosuch", "example", "com"], None);
    let zone = qname + 7; // past "\x06nosuch"
    w.u16(TYPE_A);
    w.u16(CLASS_IN);
    w.ptr(zone);
    w.rr_fixed(TYPE_SOA, CLASS_IN, 900);
    w.rdata(|w| {
        w.name(&["ns", "icann"], Some(zone));
        w.name(&["hostmaster"], Some(zone));
        for field in [2026120301, 7200, 3600, 1_209_600, 3600] {
            w.u32(field);
        }
    });
    Sample {
        label: "NXDOMAIN + SOA",
        ask,
        bytes: w.buf,
        expected: Outcome::NxDomain {
            negative_ttl: Some(900),
        },
    }
}

/// The four samples, in table order.
pub fn samples() -> Vec<Sample> {
    vec![single_a(), cname_chain(), eight_aaaa_edns(), nxdomain_soa()]
}

/// A hand-made message at an edge of the format, with the reading the RFCs call for. Not asserted:
/// the benchmark prints what each library makes of it.
#[derive(Debug, Clone)]
pub struct Edge {
    /// What is unusual about the message.
    pub label: &'static str,
    /// The question it answers.
    pub ask: Ask,
    /// The message.
    pub bytes: Vec<u8>,
    /// The reading the RFCs call for, in words.
    pub rfc: &'static str,
}

/// Offset of the RDLENGTH of the one answer of [`single_a`] (12 header + 13 name + 4, then 2 + 8).
const SINGLE_A_RDLEN: usize = 12 + 13 + 4 + 2 + 8;

/// Edge cases, mostly small edits of the samples.
pub fn edge_cases() -> Vec<Edge> {
    let a = single_a();
    let chain = cname_chain();
    let aaaa = eight_aaaa_edns();
    let mut out = Vec::new();
    let mut push = |label, ask, bytes, rfc| {
        out.push(Edge {
            label,
            ask,
            bytes,
            rfc,
        })
    };

    // An A record whose RDATA is 5 octets (the address plus one stray byte).
    let mut m = a.bytes.clone();
    m[SINGLE_A_RDLEN + 1] = 5;
    m.push(0x63);
    push(
        "A record with 5-octet RDATA",
        a.ask,
        m,
        "malformed (A RDATA is 4 octets, RFC 1035 3.4.1)",
    );

    // A second answer record of a private-use type with empty RDATA.
    let mut m = a.bytes.clone();
    m[7] = 2;
    m.extend_from_slice(&[0xc0, 12, 0xff, 0x00, 0, 1, 0, 0, 0, 60, 0, 0]);
    push(
        "extra answer of unknown type, empty RDATA",
        a.ask,
        m,
        "the address (unknown types are skipped, RFC 3597)",
    );

    // An additional record of an unassigned class.
    let mut m = a.bytes.clone();
    m[11] = 1;
    m.extend_from_slice(&[0xc0, 12, 0, 16, 0, 208, 0, 0, 0, 60, 0, 1, 0]);
    push(
        "additional record of unassigned class 208",
        a.ask,
        m,
        "the address (the record is not IN; skip it)",
    );

    // The EDNS OPT record's TTL carries extended RCODE 1: the full RCODE is 16, BADVERS.
    let mut m = aaaa.bytes.clone();
    let ttl_at = m.len() - 6;
    m[ttl_at] = 1;
    push(
        "OPT extended RCODE 1 (BADVERS)",
        aaaa.ask,
        m,
        "error 16, not an answer (RFC 6891 6.1.3: high 8 bits of the RCODE)",
    );

    // The question echoed with class 0x8001 (IN with mDNS's unicast-response bit).
    let mut m = a.bytes.clone();
    m[12 + 13 + 2] = 0x80;
    push(
        "question class 0x8001",
        a.ask,
        m,
        "not our question (class must be IN; the top bit means QU only in mDNS)",
    );

    // The question echoed in mixed case (DNS 0x20), as some servers and forwarders do.
    let mut m = a.bytes.clone();
    for i in [13, 15, 17, 21, 23] {
        m[i] = m[i].to_ascii_uppercase();
    }
    push(
        "question echoed as ExAmPlE.CoM",
        a.ask,
        m,
        "the address (names compare case-insensitively, RFC 4343)",
    );

    // A question whose name is a pointer forward, to the answer's owner written out in full.
    let mut w = Writer::header(a.ask.id, FLAGS_RESPONSE, [1, 1, 0, 0]);
    w.ptr(18);
    w.u16(TYPE_A);
    w.u16(CLASS_IN);
    w.name(&["example", "com"], None);
    w.rr_fixed(TYPE_A, CLASS_IN, 3600);
    w.rdata(|w| w.buf.extend_from_slice(&[93, 184, 215, 14]));
    push(
        "forward compression pointer",
        a.ask,
        w.buf,
        "malformed (pointers go to a prior occurrence, RFC 1035 4.1.4)",
    );

    // The answer's owner is a pointer to itself.
    let mut m = a.bytes.clone();
    m[29] = 0xc0;
    m[30] = 29;
    push(
        "compression pointer to itself",
        a.ask,
        m,
        "malformed (a loop)",
    );

    // Three stray bytes after the last counted record.
    let mut m = a.bytes.clone();
    m.extend_from_slice(&[0, 0, 0]);
    push(
        "3 bytes after the last record",
        a.ask,
        m,
        "the address (the counts define the message)",
    );

    // TC set, and the datagram cut in the middle of the third record, as a server may send it.
    let mut m = chain.bytes.clone();
    m[2] |= 0x02;
    m.truncate(120);
    push(
        "TC set, cut inside the answer",
        chain.ask,
        m,
        "truncated: retry over TCP (RFC 2181 9, RFC 7766)",
    );

    out
}
