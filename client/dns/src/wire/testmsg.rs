//! Test-only helpers for writing DNS messages byte by byte. They only concatenate fields, so the tests
//! still spell out every header flag, count, type and pointer they send the parser.

use super::name::Name;
use super::query::{Query, CLASS_IN};

/// Flag bits of the header's third and fourth bytes, as one big-endian word.
pub const QR: u16 = 0x8000;
pub const TC: u16 = 0x0200;
pub const RD: u16 = 0x0100;
pub const RA: u16 = 0x0080;

/// A header: id, flags word (including RCODE in the low 4 bits), then the four counts.
pub fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        out.extend_from_slice(&c.to_be_bytes());
    }
    out
}

/// A name in uncompressed wire form.
pub fn name(text: &str) -> Vec<u8> {
    Name::from_ascii(text).unwrap().as_wire().to_vec()
}

/// A compression pointer to `offset`.
pub fn ptr(offset: u16) -> Vec<u8> {
    (0xc000 | offset).to_be_bytes().to_vec()
}

/// A question entry with class IN.
pub fn question(owner: &[u8], qtype: u16) -> Vec<u8> {
    [owner, &qtype.to_be_bytes(), &CLASS_IN.to_be_bytes()].concat()
}

/// A resource record.
pub fn rr(owner: &[u8], rtype: u16, class: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let len = u16::try_from(rdata.len()).unwrap();
    [
        owner,
        &rtype.to_be_bytes(),
        &class.to_be_bytes(),
        &ttl.to_be_bytes(),
        &len.to_be_bytes(),
        rdata,
    ]
    .concat()
}

/// SOA RDATA with root MNAME and RNAME and the given MINIMUM.
pub fn soa_rdata(minimum: u32) -> Vec<u8> {
    let mut out = vec![0, 0];
    for field in [1u32, 3600, 600, 86_400, minimum] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    out
}

/// A response to `query` from a recursive server: same id, QR|RD|RA plus `rcode`, the query's own
/// question (at offset 12, so records may point there with `ptr(12)`), then the given sections.
pub fn reply(query: &Query, rcode: u16, answers: &[Vec<u8>], authority: &[Vec<u8>]) -> Vec<u8> {
    let counts = [1, answers.len() as u16, authority.len() as u16, 0];
    let mut out = header(query.id, QR | RD | RA | rcode, counts);
    out.extend(question(query.name.as_wire(), query.qtype.code()));
    out.extend(answers.concat());
    out.extend(authority.concat());
    out
}
