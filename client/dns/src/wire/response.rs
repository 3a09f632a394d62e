//! Decoding DNS responses (RFC 1035 §4.1, RFC 3596 for AAAA, RFC 6891 for EDNS0).
//!
//! Every response is treated as hostile input: each read is bounds-checked and any malformation is a
//! [`WireError`], never a panic (a property test feeds random bytes); names go through the loop-proof
//! decompression in `compression`.
//!
//! The parser keeps only what a stub resolver acts on: answer records of type A, AAAA and CNAME, SOA
//! records in the authority section (for negative TTLs, RFC 2308), and the EDNS0 OPT record (for the
//! extended RCODE). Other records are still walked and checked for framing, then dropped. Records of a
//! class other than IN are dropped too. Bytes after the last counted record are ignored: the counts
//! define the message.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::compression::decode_name;
use super::name::Name;
use super::query::{
    Header, WireError, CLASS_IN, HEADER_LEN, TYPE_A, TYPE_AAAA, TYPE_CNAME, TYPE_OPT, TYPE_SOA,
};

/// A bounds-checked cursor over a message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        let out = self
            .msg
            .get(self.pos..self.pos + n)
            .ok_or(WireError::Truncated {
                what,
                offset: self.pos,
            })?;
        self.pos += n;
        Ok(out)
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn name(&mut self) -> Result<Name, WireError> {
        let (name, end) = decode_name(self.msg, self.pos)?;
        self.pos = end;
        Ok(name)
    }
}

/// A question as it appears in a response (raw type and class, since the server may echo anything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name asked about.
    pub name: Name,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
}

/// The data of a record spool keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The owner is an alias for this name.
    Cname(Name),
    /// A zone's SOA; only MINIMUM matters to a stub (the negative-caching TTL bound, RFC 2308 §4).
    Soa {
        /// The SOA MINIMUM field.
        minimum: u32,
    },
}

/// A resource record of class IN that spool keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub name: Name,
    /// Time to live in seconds; values with the top bit set already read as 0 (RFC 2181 §8).
    pub ttl: u32,
    /// The decoded data.
    pub data: RecordData,
}

/// The EDNS0 parameters a response carried in its OPT record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns {
    /// The responder's UDP payload size.
    pub udp_size: u16,
    /// The high 8 bits of the response code.
    pub extended_rcode: u8,
    /// The EDNS version (0).
    pub version: u8,
}

/// A response code, with EDNS0's extension applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    /// 0: success (possibly with no records: NODATA).
    NoError,
    /// 1: the server could not parse the query (for us: likely a pre-EDNS server).
    FormErr,
    /// 2: the server failed to resolve; try another.
    ServFail,
    /// 3: the name does not exist.
    NxDomain,
    /// 4: the server does not implement this kind of query.
    NotImp,
    /// 5: the server refuses to answer us.
    Refused,
    /// Any other code (e.g. 16, BADVERS).
    Other(u16),
}

impl Rcode {
    /// Maps a numeric code to a variant.
    pub fn from_code(code: u16) -> Rcode {
        match code {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            other => Rcode::Other(other),
        }
    }
}

/// A decoded response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The header, as sent.
    pub header: Header,
    /// The question section (normally the one question we asked).
    pub questions: Vec<Question>,
    /// A, AAAA and CNAME records of the answer section, in order.
    pub answers: Vec<Record>,
    /// SOA records of the authority section.
    pub authority: Vec<Record>,
    /// The OPT record's parameters, if the response had one.
    pub edns: Option<Edns>,
}

impl Response {
    /// The full response code: the header's 4 bits plus EDNS0's 8 high bits.
    pub fn rcode(&self) -> Rcode {
        let high = self.edns.map_or(0, |e| u16::from(e.extended_rcode));
        Rcode::from_code(high << 4 | u16::from(self.header.rcode))
    }
}

/// Time to live as RFC 2181 §8 wants it read: a value with the top bit set means 0.
fn ttl_from_wire(raw: u32) -> u32 {
    if raw > i32::MAX as u32 {
        0
    } else {
        raw
    }
}

/// A record's fixed fields plus where its RDATA lies, before its type decides how to read that.
struct RawRecord {
    name: Name,
    rtype: u16,
    class: u16,
    ttl: u32,
    rdata_start: usize,
    rdata_end: usize,
}

fn read_raw_record(r: &mut Reader<'_>) -> Result<RawRecord, WireError> {
    let name = r.name()?;
    let rtype = r.u16("record type")?;
    let class = r.u16("record class")?;
    let ttl = r.u32("record TTL")?;
    let len = usize::from(r.u16("record data length")?);
    let rdata_start = r.pos;
    r.bytes(len, "record data")?;
    Ok(RawRecord {
        name,
        rtype,
        class,
        ttl,
        rdata_start,
        rdata_end: r.pos,
    })
}

/// Decodes a name inside RDATA; it must end within the RDATA (which ends at `end`).
fn rdata_name(msg: &[u8], pos: usize, end: usize, rtype: u16) -> Result<(Name, usize), WireError> {
    let (name, after) = decode_name(msg, pos)?;
    if after > end {
        return Err(WireError::BadRdata {
            rtype,
            len: end - pos,
        });
    }
    Ok((name, after))
}

/// Reads a record of the answer section; `None` for types and classes spool does not use.
fn answer_record(msg: &[u8], raw: RawRecord) -> Result<Option<Record>, WireError> {
    if raw.class != CLASS_IN {
        return Ok(None);
    }
    let rdata = &msg[raw.rdata_start..raw.rdata_end];
    let bad = || WireError::BadRdata {
        rtype: raw.rtype,
        len: rdata.len(),
    };
    let data = match raw.rtype {
        TYPE_A => RecordData::A(<[u8; 4]>::try_from(rdata).map_err(|_| bad())?.into()),
        TYPE_AAAA => RecordData::Aaaa(<[u8; 16]>::try_from(rdata).map_err(|_| bad())?.into()),
        TYPE_CNAME => {
            let (target, after) = rdata_name(msg, raw.rdata_start, raw.rdata_end, raw.rtype)?;
            if after != raw.rdata_end {
                return Err(bad());
            }
            RecordData::Cname(target)
        }
        _ => return Ok(None),
    };
    Ok(Some(Record {
        name: raw.name,
        ttl: ttl_from_wire(raw.ttl),
        data,
    }))
}

/// Reads a record of the authority section; only SOA is kept.
fn authority_record(msg: &[u8], raw: RawRecord) -> Result<Option<Record>, WireError> {
    if raw.class != CLASS_IN || raw.rtype != TYPE_SOA {
        return Ok(None);
    }
    let (_mname, after) = rdata_name(msg, raw.rdata_start, raw.rdata_end, TYPE_SOA)?;
    let (_rname, after) = rdata_name(msg, after, raw.rdata_end, TYPE_SOA)?;
    // SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM: five 32-bit fields that must end the RDATA exactly.
    if raw.rdata_end - after != 20 {
        return Err(WireError::BadRdata {
            rtype: TYPE_SOA,
            len: raw.rdata_end - raw.rdata_start,
        });
    }
    let m = &msg[raw.rdata_end - 4..raw.rdata_end];
    let minimum = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
    Ok(Some(Record {
        name: raw.name,
        ttl: ttl_from_wire(raw.ttl),
        data: RecordData::Soa { minimum },
    }))
}

/// Decodes a response. Any malformation is an error, with one exception: when the header has TC set,
/// the sections after the question may be cut short by the server, so an error there leaves them
/// empty instead (the caller only needs to know it must retry over TCP, and the header and question
/// are still checked).
///
/// ```
/// use spool_dns::wire::{parse_response, Rcode};
///
/// // A bare NXDOMAIN response header: id 7, QR|RD, RA, RCODE 3, no sections.
/// let resp = parse_response(&[0, 7, 0x81, 0x83, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
/// assert_eq!(resp.header.id, 7);
/// assert_eq!(resp.rcode(), Rcode::NxDomain);
/// assert!(parse_response(&[0, 7, 0x81]).is_err());
/// ```
pub fn parse_response(msg: &[u8]) -> Result<Response, WireError> {
    let header = Header::decode(msg)?;
    let mut r = Reader {
        msg,
        pos: HEADER_LEN,
    };
    let mut questions = Vec::new();
    for _ in 0..header.qdcount {
        let name = r.name()?;
        let qtype = r.u16("question type")?;
        let qclass = r.u16("question class")?;
        questions.push(Question {
            name,
            qtype,
            qclass,
        });
    }
    let mut resp = Response {
        header,
        questions,
        answers: Vec::new(),
        authority: Vec::new(),
        edns: None,
    };
    match parse_sections(&mut r, &mut resp) {
        Ok(()) => Ok(resp),
        Err(_) if header.tc => {
            resp.answers.clear();
            resp.authority.clear();
            resp.edns = None;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

fn parse_sections(r: &mut Reader<'_>, resp: &mut Response) -> Result<(), WireError> {
    for _ in 0..resp.header.ancount {
        let raw = read_raw_record(r)?;
        resp.answers.extend(answer_record(r.msg, raw)?);
    }
    for _ in 0..resp.header.nscount {
        let raw = read_raw_record(r)?;
        resp.authority.extend(authority_record(r.msg, raw)?);
    }
    for _ in 0..resp.header.arcount {
        let raw = read_raw_record(r)?;
        if raw.rtype != TYPE_OPT {
            continue;
        }
        if !raw.name.is_root() {
            return Err(WireError::BadOpt("owner name is not the root"));
        }
        if resp.edns.is_some() {
            return Err(WireError::BadOpt("more than one OPT record"));
        }
        // For OPT the class field is the UDP size and the TTL packs extended RCODE, version and flags.
        let [extended_rcode, version, _, _] = raw.ttl.to_be_bytes();
        resp.edns = Some(Edns {
            udp_size: raw.class,
            extended_rcode,
            version,
        });
    }
    Ok(())
}
