//! Writing DNS responses byte by byte for the test server, independently of the code under test
//! (only `Name` is borrowed from spool, for its wire form; the header, records and SOA are spelled
//! out here, so an encoding bug in the resolver cannot cancel out a matching bug in the server).

use std::net::IpAddr;

use spool_dns::Name;

/// A record the test zone can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rec {
    /// An address (A for IPv4, AAAA for IPv6).
    Addr(IpAddr),
    /// An alias.
    Cname(String),
}

pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_SOA: u16 = 6;
pub const TYPE_AAAA: u16 = 28;
pub const CLASS_IN: u16 = 1;

pub const RCODE_NOERROR: u8 = 0;
pub const RCODE_FORMERR: u8 = 1;
pub const RCODE_SERVFAIL: u8 = 2;
pub const RCODE_NXDOMAIN: u8 = 3;
pub const RCODE_REFUSED: u8 = 5;

/// The wire form of a name given as text.
pub fn wire_name(name: &str) -> Vec<u8> {
    Name::from_ascii(name)
        .expect("test names are valid")
        .as_wire()
        .to_vec()
}

/// One answer or authority record, owner uncompressed.
#[derive(Debug, Clone)]
pub struct WireRecord {
    pub owner: Vec<u8>,
    pub rtype: u16,
    pub ttl: u32,
    pub rdata: Vec<u8>,
}

impl WireRecord {
    pub fn from_rec(owner: &str, rec: &Rec, ttl: u32) -> WireRecord {
        let (rtype, rdata) = match rec {
            Rec::Addr(IpAddr::V4(ip)) => (TYPE_A, ip.octets().to_vec()),
            Rec::Addr(IpAddr::V6(ip)) => (TYPE_AAAA, ip.octets().to_vec()),
            Rec::Cname(target) => (TYPE_CNAME, wire_name(target)),
        };
        WireRecord {
            owner: wire_name(owner),
            rtype,
            ttl,
            rdata,
        }
    }

    /// An SOA for `zone` whose TTL and MINIMUM are both `ttl`.
    pub fn soa(zone: &str, ttl: u32) -> WireRecord {
        let mut rdata = vec![0, 0]; // MNAME and RNAME: the root
        for field in [1u32, 3600, 600, 86_400, ttl] {
            rdata.extend_from_slice(&field.to_be_bytes());
        }
        WireRecord {
            owner: wire_name(zone),
            rtype: TYPE_SOA,
            ttl,
            rdata,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.owner);
        out.extend_from_slice(&self.rtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&self.ttl.to_be_bytes());
        out.extend_from_slice(&(self.rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.rdata);
    }
}

/// A response to be encoded.
#[derive(Debug, Clone)]
pub struct Reply {
    pub id: u16,
    pub rcode: u8,
    pub tc: bool,
    /// The question echoed: name wire form, type. `None` omits the question section.
    pub question: Option<(Vec<u8>, u16)>,
    pub answers: Vec<WireRecord>,
    pub authority: Vec<WireRecord>,
}

impl Reply {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&self.id.to_be_bytes());
        // QR, opcode 0, RD copied as set (stubs always set it), then RA and the RCODE.
        out.push(0x80 | if self.tc { 0x02 } else { 0 } | 0x01);
        out.push(0x80 | (self.rcode & 0x0f));
        let counts = [
            u16::from(self.question.is_some()),
            self.answers.len() as u16,
            self.authority.len() as u16,
            0,
        ];
        for count in counts {
            out.extend_from_slice(&count.to_be_bytes());
        }
        if let Some((name, qtype)) = &self.question {
            out.extend_from_slice(name);
            out.extend_from_slice(&qtype.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
        }
        for rec in self.answers.iter().chain(&self.authority) {
            rec.encode(&mut out);
        }
        out
    }
}
