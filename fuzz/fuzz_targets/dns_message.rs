//! The DNS message parser on arbitrary bytes: `parse_response`, then the checks and interpretation a
//! lookup applies to a reply (`read_response`), and the TCP length-prefix framing.
//!
//! Input: byte 0 picks the question type (A or AAAA); the rest is the message. The query takes its id
//! from the message, so the fuzzer reaches past the id check; its name is `example.com`, which the
//! seeds carry, so mutations reach the answer logic too.
//! Checked: no panic, no hang (compression loops must end), and an accepted answer's addresses match
//! the family asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
// The one place this target names the DNS code's path: the wire format of the spool-dns crate.
use spool_dns::wire::{
    parse_response, read_response, split_tcp_frame, Answer, Name, Query, QueryType,
};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, msg)) = data.split_first() else {
        return;
    };
    let _ = parse_response(msg);
    let _ = split_tcp_frame(msg);
    let qtype = if pick & 1 == 0 {
        QueryType::A
    } else {
        QueryType::Aaaa
    };
    let id = msg.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let query = Query {
        id,
        name: Name::from_ascii("example.com").expect("a valid name"),
        qtype,
        edns: pick & 2 != 0,
    };
    if let Ok(Answer::Addresses { addrs, .. }) = read_response(&query, msg) {
        for addr in addrs {
            assert_eq!(
                addr.is_ipv4(),
                qtype == QueryType::A,
                "{addr} answers {qtype:?}"
            );
        }
    }
});
