//! simple-dns: `Packet::parse` decodes the whole message into records that borrow from the input; the
//! answer is then read with this benchmark's rules (`outcome::interpret`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use simple_dns::rdata::RData;
use simple_dns::{
    Name, Packet, PacketFlag, ResourceRecord, CLASS, OPCODE, QCLASS, QTYPE, RCODE, TYPE,
};

use super::Parser;
use crate::messages::Ask;
use crate::outcome::{interpret, Family, Outcome, Rcode, Rejected, View};

/// simple-dns.
pub struct Simple;

/// The question in simple-dns's types.
pub struct SimpleQuery {
    id: u16,
    name: Name<'static>,
    family: Family,
}

fn view<'r, 'a>(rec: &'r ResourceRecord<'a>) -> (&'r Name<'a>, u32, View<'r, Name<'a>>) {
    let data = if rec.class != CLASS::IN {
        View::Ignored
    } else {
        match &rec.rdata {
            RData::A(a) => View::Addr(IpAddr::V4(Ipv4Addr::from(a.address))),
            RData::AAAA(a) => View::Addr(IpAddr::V6(Ipv6Addr::from(a.address))),
            RData::CNAME(target) => View::Cname(&target.0),
            RData::SOA(soa) => View::Soa {
                minimum: soa.minimum,
            },
            _ => View::Ignored,
        }
    };
    (&rec.name, rec.ttl, data)
}

impl Parser for Simple {
    const NAME: &'static str = "simple-dns";
    type Query = SimpleQuery;

    fn prepare(ask: &Ask) -> SimpleQuery {
        SimpleQuery {
            id: ask.id,
            name: Name::new(ask.name).expect("benchmark names are valid"),
            family: ask.family,
        }
    }

    fn decode(msg: &[u8]) -> bool {
        std::hint::black_box(Packet::parse(msg)).is_ok()
    }

    fn decode_error(msg: &[u8]) -> Option<String> {
        Packet::parse(msg).err().map(|e| e.to_string())
    }

    fn read(query: &SimpleQuery, msg: &[u8]) -> Result<Outcome, Rejected> {
        let p = Packet::parse(msg).map_err(|_| Rejected::Malformed)?;
        if p.id() != query.id
            || !p.has_flags(PacketFlag::RESPONSE)
            || p.opcode() != OPCODE::StandardQuery
        {
            return Err(Rejected::Mismatch);
        }
        let qtype = match query.family {
            Family::A => TYPE::A,
            Family::Aaaa => TYPE::AAAA,
        };
        match p.questions.as_slice() {
            [q] if q.qname == query.name
                && q.qtype == QTYPE::TYPE(qtype)
                && q.qclass == QCLASS::CLASS(CLASS::IN) => {}
            _ => return Err(Rejected::Mismatch),
        }
        if p.has_flags(PacketFlag::TRUNCATION) {
            return Ok(Outcome::Other);
        }
        let rcode = match p.rcode() {
            RCODE::NoError => Rcode::NoError,
            RCODE::NameError => Rcode::NxDomain,
            _ => Rcode::Other,
        };
        Ok(interpret(
            &query.name,
            query.family,
            rcode,
            &p.answers,
            &p.name_servers,
            view,
            |zone, name| name == zone || name.is_subdomain_of(zone),
        ))
    }
}
