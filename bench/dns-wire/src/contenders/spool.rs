//! spool-dns's hand-written parser: `wire::parse_response` to decode, `wire::read_response` for the
//! whole parse, validate and interpret step the resolver runs on each datagram.

use spool_dns::wire::{self, Answer, Name, Query, QueryType};

use super::Parser;
use crate::messages::Ask;
use crate::outcome::{Family, Outcome, Rejected};

/// spool-dns.
pub struct Spool;

impl Parser for Spool {
    const NAME: &'static str = "spool-dns";
    type Query = Query;

    fn prepare(ask: &Ask) -> Query {
        Query {
            id: ask.id,
            name: Name::from_ascii(ask.name).expect("benchmark names are valid"),
            qtype: match ask.family {
                Family::A => QueryType::A,
                Family::Aaaa => QueryType::Aaaa,
            },
            edns: false,
        }
    }

    fn decode(msg: &[u8]) -> bool {
        std::hint::black_box(wire::parse_response(msg)).is_ok()
    }

    fn decode_error(msg: &[u8]) -> Option<String> {
        wire::parse_response(msg).err().map(|e| e.to_string())
    }

    fn read(query: &Query, msg: &[u8]) -> Result<Outcome, Rejected> {
        match wire::read_response(query, msg) {
            Ok(Answer::Addresses { addrs, ttl }) => Ok(Outcome::Addresses { addrs, ttl }),
            Ok(Answer::NxDomain { negative_ttl }) => Ok(Outcome::NxDomain { negative_ttl }),
            Ok(Answer::NoData { negative_ttl }) => Ok(Outcome::NoData { negative_ttl }),
            Ok(_) => Ok(Outcome::Other),
            Err(wire::Rejected::Malformed(_)) => Err(Rejected::Malformed),
            Err(wire::Rejected::Mismatch(_)) => Err(Rejected::Mismatch),
        }
    }
}
