//! DNS messages as bytes, the outgoing half and the shared vocabulary (RFC 1035 §4, RFC 3596 for AAAA,
//! RFC 6891 for EDNS0): type and class codes, the error type for malformed messages, the header, and
//! the one kind of query spool sends. Decoding responses lives in `response`. Nothing here knows about
//! sockets or time.

use std::fmt;

use super::name::{Name, MAX_NAME_LEN};

/// The UDP payload size spool advertises in its EDNS0 OPT record: the DNS Flag Day 2020 value, chosen
/// so replies fit in one unfragmented packet on practically every path. Bigger answers come back with
/// TC set and are retried over TCP. Receive buffers should still be larger than this (a server may
/// ignore the limit), e.g. 4096 bytes; a datagram that fills the buffer must be treated as truncated.
pub const EDNS_UDP_SIZE: u16 = 1232;
/// Length of the fixed message header.
pub const HEADER_LEN: usize = 12;
/// Record type A: an IPv4 address.
pub const TYPE_A: u16 = 1;
/// Record type CNAME: an alias for another name.
pub const TYPE_CNAME: u16 = 5;
/// Record type SOA: start of a zone; its MINIMUM field bounds negative caching.
pub const TYPE_SOA: u16 = 6;
/// Record type AAAA: an IPv6 address (RFC 3596).
pub const TYPE_AAAA: u16 = 28;
/// Pseudo-record type OPT carrying EDNS0 parameters (RFC 6891).
pub const TYPE_OPT: u16 = 41;
/// Class IN, the Internet: the only class spool asks for or accepts.
pub const CLASS_IN: u16 = 1;

/// Why a byte string is not a well-formed DNS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The message ended while reading `what`, which started at `offset`.
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Where in the message it started.
        offset: usize,
    },
    /// A label length byte starting with bits `01` or `10` (obsolete extended label types).
    BadLabelType {
        /// Offset of the length byte.
        offset: usize,
    },
    /// A compression pointer that does not point strictly before its name segment (a loop or a
    /// forward reference).
    BadPointer {
        /// Offset of the pointer.
        offset: usize,
        /// Where it pointed.
        target: usize,
    },
    /// A name longer than 255 octets once decompressed.
    NameTooLong {
        /// Offset where the name started.
        offset: usize,
    },
    /// The RDATA length does not fit the record type (A must be 4, AAAA 16, names must fill it exactly).
    BadRdata {
        /// The record type.
        rtype: u16,
        /// The declared RDATA length.
        len: usize,
    },
    /// An OPT record that breaks RFC 6891 (not owned by the root, or more than one).
    BadOpt(&'static str),
    /// A message too long to frame for TCP (over 65,535 octets).
    TooLongForTcp {
        /// The message length.
        len: usize,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { what, offset } => {
                write!(f, "DNS message ends inside the {what} at offset {offset}")
            }
            WireError::BadLabelType { offset } => {
                write!(
                    f,
                    "DNS name has an unsupported label type at offset {offset}"
                )
            }
            WireError::BadPointer { offset, target } => write!(
                f,
                "DNS compression pointer at offset {offset} to {target} does not point backwards"
            ),
            WireError::NameTooLong { offset } => {
                write!(
                    f,
                    "DNS name at offset {offset} exceeds {MAX_NAME_LEN} octets"
                )
            }
            WireError::BadRdata { rtype, len } => {
                write!(
                    f,
                    "DNS record of type {rtype} has malformed data of length {len}"
                )
            }
            WireError::BadOpt(why) => write!(f, "DNS OPT record is malformed: {why}"),
            WireError::TooLongForTcp { len } => {
                write!(f, "DNS message of {len} octets is too long for TCP framing")
            }
        }
    }
}

impl std::error::Error for WireError {}

/// The fixed 12-byte header of every DNS message (RFC 1035 §4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// Transaction id, echoed by the server; the first anti-spoofing check.
    pub id: u16,
    /// QR: set in responses.
    pub qr: bool,
    /// OPCODE: 0 for a standard query.
    pub opcode: u8,
    /// AA: the answer comes from an authoritative server.
    pub aa: bool,
    /// TC: the message was truncated to fit UDP; retry over TCP.
    pub tc: bool,
    /// RD: recursion desired (a stub always sets it).
    pub rd: bool,
    /// RA: the server offers recursion.
    pub ra: bool,
    /// The low 4 bits of the response code (EDNS0 adds 8 high bits, see [`crate::wire::Response::rcode`]).
    pub rcode: u8,
    /// Number of questions.
    pub qdcount: u16,
    /// Number of answer records.
    pub ancount: u16,
    /// Number of authority records.
    pub nscount: u16,
    /// Number of additional records.
    pub arcount: u16,
}

impl Header {
    /// Decodes the header at the start of `msg`.
    pub fn decode(msg: &[u8]) -> Result<Header, WireError> {
        let h = msg.get(..HEADER_LEN).ok_or(WireError::Truncated {
            what: "header",
            offset: 0,
        })?;
        let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        Ok(Header {
            id: word(0),
            qr: h[2] & 0x80 != 0,
            opcode: (h[2] >> 3) & 0x0f,
            aa: h[2] & 0x04 != 0,
            tc: h[2] & 0x02 != 0,
            rd: h[2] & 0x01 != 0,
            ra: h[3] & 0x80 != 0,
            rcode: h[3] & 0x0f,
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
        })
    }

    /// Appends the 12 header bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let flags_hi = u8::from(self.qr) << 7
            | (self.opcode & 0x0f) << 3
            | u8::from(self.aa) << 2
            | u8::from(self.tc) << 1
            | u8::from(self.rd);
        let flags_lo = u8::from(self.ra) << 7 | (self.rcode & 0x0f);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&[flags_hi, flags_lo]);
        for count in [self.qdcount, self.ancount, self.nscount, self.arcount] {
            out.extend_from_slice(&count.to_be_bytes());
        }
    }
}

/// The record types spool asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
}

impl QueryType {
    /// The type's code on the wire.
    pub fn code(self) -> u16 {
        match self {
            QueryType::A => TYPE_A,
            QueryType::Aaaa => TYPE_AAAA,
        }
    }
}

/// One outgoing query: a single IN-class question with recursion desired.
///
/// ```
/// use spool_dns::wire::{Name, Query, QueryType};
///
/// let query = Query { id: 0xbeef, name: Name::from_ascii("example.com").unwrap(), qtype: QueryType::A, edns: false };
/// let bytes = query.encode();
/// assert_eq!(&bytes[..4], &[0xbe, 0xef, 0x01, 0x00]); // id, then flags with only RD set
/// assert_eq!(bytes.len(), 12 + 13 + 4);               // header + name + type and class
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Transaction id; take it from the resolver's unpredictable id source (`resolver/id.rs`) so off-path attackers cannot guess it.
    pub id: u16,
    /// The name asked about.
    pub name: Name,
    /// A or AAAA.
    pub qtype: QueryType,
    /// Whether to add an EDNS0 OPT record advertising [`EDNS_UDP_SIZE`]. Turn it off to retry a server
    /// that answered FORMERR (a pre-EDNS server, RFC 6891 §7).
    pub edns: bool,
}

impl Query {
    /// The query as a DNS message, ready for a UDP datagram (or [`super::framing::encode_tcp_frame`] for TCP).
    pub fn encode(&self) -> Vec<u8> {
        let header = Header {
            id: self.id,
            rd: true,
            qdcount: 1,
            arcount: u16::from(self.edns),
            ..Header::default()
        };
        let mut out = Vec::with_capacity(HEADER_LEN + self.name.as_wire().len() + 4 + 11);
        header.encode(&mut out);
        out.extend_from_slice(self.name.as_wire());
        out.extend_from_slice(&self.qtype.code().to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        if self.edns {
            // Root owner, type OPT, class = our UDP payload size, TTL = extended RCODE 0, version 0,
            // no DO bit, and no options.
            out.push(0);
            out.extend_from_slice(&TYPE_OPT.to_be_bytes());
            out.extend_from_slice(&EDNS_UDP_SIZE.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        }
        out
    }
}
