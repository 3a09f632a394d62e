//! hickory-proto: `op::Message::from_vec` decodes the whole message into owned records; the answer is
//! then read with this benchmark's rules (`outcome::interpret`).

use std::net::IpAddr;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::Parser;
use crate::messages::Ask;
use crate::outcome::{interpret, Family, Outcome, Rcode, Rejected, View};

/// hickory-proto.
pub struct Hickory;

/// The question in hickory's types.
pub struct HickoryQuery {
    id: u16,
    name: Name,
    rtype: RecordType,
}

fn view(rec: &Record) -> (&Name, u32, View<'_, Name>) {
    let data = if rec.dns_class != DNSClass::IN {
        View::Ignored
    } else {
        match &rec.data {
            RData::A(a) => View::Addr(IpAddr::V4(a.0)),
            RData::AAAA(a) => View::Addr(IpAddr::V6(a.0)),
            RData::CNAME(target) => View::Cname(&target.0),
            RData::SOA(soa) => View::Soa {
                minimum: soa.minimum,
            },
            _ => View::Ignored,
        }
    };
    (&rec.name, rec.ttl, data)
}

impl Parser for Hickory {
    const NAME: &'static str = "hickory-proto";
    type Query = HickoryQuery;

    fn prepare(ask: &Ask) -> HickoryQuery {
        HickoryQuery {
            id: ask.id,
            // Fully qualified, as names decoded from the wire are (hickory's `==` compares that too).
            name: Name::from_ascii(format!("{}.", ask.name)).expect("benchmark names are valid"),
            rtype: match ask.family {
                Family::A => RecordType::A,
                Family::Aaaa => RecordType::AAAA,
            },
        }
    }

    fn decode(msg: &[u8]) -> bool {
        std::hint::black_box(Message::from_vec(msg)).is_ok()
    }

    fn decode_error(msg: &[u8]) -> Option<String> {
        Message::from_vec(msg).err().map(|e| e.to_string())
    }

    fn read(query: &HickoryQuery, msg: &[u8]) -> Result<Outcome, Rejected> {
        let m = Message::from_vec(msg).map_err(|_| Rejected::Malformed)?;
        let h = &m.metadata;
        if h.id != query.id || h.message_type != MessageType::Response || h.op_code != OpCode::Query
        {
            return Err(Rejected::Mismatch);
        }
        match m.queries.as_slice() {
            [q] if q.name == query.name
                && q.query_type == query.rtype
                && q.query_class == DNSClass::IN => {}
            _ => return Err(Rejected::Mismatch),
        }
        if h.truncation {
            return Ok(Outcome::Other);
        }
        let rcode = match h.response_code {
            ResponseCode::NoError => Rcode::NoError,
            ResponseCode::NXDomain => Rcode::NxDomain,
            _ => Rcode::Other,
        };
        let family = match query.rtype {
            RecordType::AAAA => Family::Aaaa,
            _ => Family::A,
        };
        Ok(interpret(
            &query.name,
            family,
            rcode,
            &m.answers,
            &m.authorities,
            view,
            |zone, name| zone.zone_of(name),
        ))
    }
}
