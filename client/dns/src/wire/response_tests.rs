//! Tests for `wire` and `response`: query encoding, and hand-built responses covering every
//! malformation the decoder must reject, plus property tests that random bytes never panic.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::compression::decode_name;
use super::name::Name;
use super::query::*;
use super::response::*;
use super::testmsg::{header, name, ptr, question, reply, rr, soa_rdata, QR, RD, TC};

fn n(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn query(id: u16, host: &str, qtype: QueryType, edns: bool) -> Query {
    Query {
        id,
        name: n(host),
        qtype,
        edns,
    }
}

// ---- names -------------------------------------------------------------------------------------
// ---- queries and headers -----------------------------------------------------------------------

#[test]
fn encodes_a_query_exactly() {
    let bytes = query(0x1234, "Example.COM", QueryType::Aaaa, false).encode();
    let expected = [
        header(0x1234, RD, [1, 0, 0, 0]),
        question(&name("example.com"), 28),
    ]
    .concat();
    assert_eq!(bytes, expected);
}

#[test]
fn encodes_the_edns0_opt_record() {
    let bytes = query(1, "a.test", QueryType::A, true).encode();
    let plain = query(1, "a.test", QueryType::A, false).encode();
    assert_eq!(&bytes[10..12], &[0, 1], "ARCOUNT 1");
    assert_eq!(
        &bytes[plain.len()..],
        &[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0],
        "root, OPT, 1232, ttl 0, rdlen 0"
    );
}

#[test]
fn header_round_trips() {
    let h = Header {
        id: 9,
        qr: true,
        opcode: 2,
        aa: true,
        tc: true,
        rd: false,
        ra: true,
        rcode: 5,
        qdcount: 1,
        ancount: 2,
        nscount: 3,
        arcount: 4,
    };
    let mut bytes = Vec::new();
    h.encode(&mut bytes);
    assert_eq!(bytes.len(), HEADER_LEN);
    assert_eq!(Header::decode(&bytes), Ok(h));
    assert!(matches!(
        Header::decode(&bytes[..11]),
        Err(WireError::Truncated { what: "header", .. })
    ));
}

// ---- responses ---------------------------------------------------------------------------------

#[test]
fn parses_answers_keeping_a_aaaa_cname_and_skipping_others() {
    let q = query(5, "www.test", QueryType::A, false);
    let mx = [&[0, 10][..], &name("mail.test")].concat();
    let msg = reply(
        &q,
        0,
        &[
            rr(&ptr(12), TYPE_CNAME, CLASS_IN, 300, &name("web.test")),
            rr(&name("web.test"), TYPE_A, CLASS_IN, 60, &[192, 0, 2, 1]),
            rr(&name("web.test"), 15, CLASS_IN, 60, &mx), // MX: skipped
            rr(&name("web.test"), TYPE_A, 3, 60, &[192, 0, 2, 99]), // class CH: skipped
            rr(
                &name("web.test"),
                TYPE_AAAA,
                CLASS_IN,
                0x8000_0000,
                &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            ),
        ],
        &[],
    );
    let resp = parse_response(&msg).unwrap();
    assert!(resp.header.qr && resp.header.rd && resp.header.ra && !resp.header.tc);
    assert_eq!(
        resp.questions,
        vec![Question {
            name: n("www.test"),
            qtype: 1,
            qclass: 1
        }]
    );
    assert_eq!(
        resp.answers,
        vec![
            Record {
                name: n("www.test"),
                ttl: 300,
                data: RecordData::Cname(n("web.test"))
            },
            Record {
                name: n("web.test"),
                ttl: 60,
                data: RecordData::A(Ipv4Addr::new(192, 0, 2, 1))
            },
            Record {
                name: n("web.test"),
                ttl: 0,
                data: RecordData::Aaaa("2001:db8::1".parse::<Ipv6Addr>().unwrap())
            },
        ]
    );
    assert_eq!(resp.rcode(), Rcode::NoError);
}

#[test]
fn parses_soa_in_authority_and_skips_ns() {
    let q = query(5, "none.test", QueryType::A, false);
    let mut msg = reply(
        &q,
        3,
        &[],
        &[rr(&name("test"), TYPE_SOA, CLASS_IN, 900, &soa_rdata(120))],
    );
    msg.extend(rr(&name("test"), 2, CLASS_IN, 900, &name("ns.test")));
    msg[9] = 2; // NSCOUNT
    let resp = parse_response(&msg).unwrap();
    assert_eq!(
        resp.authority,
        vec![Record {
            name: n("test"),
            ttl: 900,
            data: RecordData::Soa { minimum: 120 }
        }]
    );
    assert_eq!(resp.rcode(), Rcode::NxDomain);
}

#[test]
fn parses_opt_and_extended_rcode() {
    let mut msg = header(1, QR | 0x0001, [0, 0, 0, 1]);
    // OPT: root, type 41, udp 4096, TTL = ext rcode 1, version 0, flags 0.
    msg.extend(rr(&[0], TYPE_OPT, 4096, 0x0100_0000, &[]));
    let resp = parse_response(&msg).unwrap();
    assert_eq!(
        resp.edns,
        Some(Edns {
            udp_size: 4096,
            extended_rcode: 1,
            version: 0
        })
    );
    assert_eq!(resp.rcode(), Rcode::Other(17), "(1 << 4) | 1");
}

#[test]
fn rejects_bad_opt_records() {
    let opt = rr(&[0], TYPE_OPT, 1232, 0, &[]);
    let two = [header(1, QR, [0, 0, 0, 2]), opt.clone(), opt].concat();
    assert_eq!(
        parse_response(&two),
        Err(WireError::BadOpt("more than one OPT record"))
    );
    let named = [
        header(1, QR, [0, 0, 0, 1]),
        rr(&name("a"), TYPE_OPT, 1232, 0, &[]),
    ]
    .concat();
    assert_eq!(
        parse_response(&named),
        Err(WireError::BadOpt("owner name is not the root"))
    );
}

#[test]
fn rejects_bad_rdata() {
    let q = query(5, "a.test", QueryType::A, false);
    let cases = [
        rr(&ptr(12), TYPE_A, CLASS_IN, 1, &[1, 2, 3]),
        rr(&ptr(12), TYPE_A, CLASS_IN, 1, &[1, 2, 3, 4, 5]),
        rr(&ptr(12), TYPE_AAAA, CLASS_IN, 1, &[0; 4]),
        // A CNAME target followed by junk inside the RDATA.
        rr(
            &ptr(12),
            TYPE_CNAME,
            CLASS_IN,
            1,
            &[name("b.test"), vec![0xff]].concat(),
        ),
    ];
    for record in cases {
        let msg = reply(&q, 0, &[record], &[]);
        assert!(
            matches!(parse_response(&msg), Err(WireError::BadRdata { .. })),
            "{msg:?}"
        );
    }
    // A CNAME whose RDATA is shorter than its name: the name runs into the next field.
    let mut msg = reply(
        &q,
        0,
        &[rr(&ptr(12), TYPE_CNAME, CLASS_IN, 1, &name("b.test"))],
        &[],
    );
    let len_at = msg.len() - name("b.test").len() - 2;
    msg[len_at + 1] -= 2;
    assert!(parse_response(&msg).is_err());
    // An SOA with a missing 32-bit field.
    let short_soa = rr(&name("test"), TYPE_SOA, CLASS_IN, 1, &soa_rdata(1)[..18]);
    assert!(matches!(
        parse_response(&reply(&q, 3, &[], &[short_soa])),
        Err(WireError::BadRdata { rtype: 6, .. })
    ));
}

#[test]
fn cname_targets_may_be_compressed() {
    let q = query(5, "www.example.test", QueryType::A, false);
    // Target "cdn" + pointer to "example.test" inside the question (offset 12 + 4).
    let target = [vec![3, b'c', b'd', b'n'], ptr(16)].concat();
    let msg = reply(
        &q,
        0,
        &[rr(&ptr(12), TYPE_CNAME, CLASS_IN, 1, &target)],
        &[],
    );
    assert_eq!(
        parse_response(&msg).unwrap().answers[0].data,
        RecordData::Cname(n("cdn.example.test"))
    );
}

#[test]
fn every_truncation_of_a_valid_message_is_an_error() {
    let q = query(5, "www.test", QueryType::A, true);
    let msg = reply(
        &q,
        0,
        &[
            rr(&ptr(12), TYPE_CNAME, CLASS_IN, 1, &name("web.test")),
            rr(&name("web.test"), TYPE_A, CLASS_IN, 1, &[1, 2, 3, 4]),
        ],
        &[rr(&name("test"), TYPE_SOA, CLASS_IN, 1, &soa_rdata(1))],
    );
    assert!(parse_response(&msg).is_ok());
    for cut in 0..msg.len() {
        assert!(
            parse_response(&msg[..cut]).is_err(),
            "prefix of {cut} bytes parsed"
        );
    }
}

#[test]
fn truncated_flag_tolerates_cut_sections_but_not_a_cut_question() {
    let q = query(5, "www.test", QueryType::A, false);
    let mut msg = reply(
        &q,
        0,
        &[rr(&ptr(12), TYPE_A, CLASS_IN, 1, &[1, 2, 3, 4])],
        &[],
    );
    msg[2] |= (TC >> 8) as u8;
    let cut = &msg[..msg.len() - 3];
    let resp = parse_response(cut).unwrap();
    assert!(resp.header.tc);
    assert_eq!(resp.questions.len(), 1);
    assert!(resp.answers.is_empty());
    assert!(
        parse_response(&msg[..HEADER_LEN + 3]).is_err(),
        "the question must still be whole"
    );
}

#[test]
fn trailing_bytes_after_the_counted_sections_are_ignored() {
    let q = query(5, "a.test", QueryType::A, false);
    let mut msg = reply(&q, 0, &[], &[]);
    msg.extend([0xde, 0xad]);
    assert!(parse_response(&msg).is_ok());
}

#[test]
fn errors_have_readable_messages() {
    let e = parse_response(&[0; 5]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "DNS message ends inside the header at offset 0"
    );
    let e = decode_name(&ptr(0), 0).unwrap_err();
    assert!(e.to_string().contains("does not point backwards"));
}

// ---- fuzzing -----------------------------------------------------------------------------------

fn sample_response() -> Vec<u8> {
    let q = query(77, "www.example.test", QueryType::Aaaa, true);
    let mut msg = reply(
        &q,
        0,
        &[
            rr(
                &ptr(12),
                TYPE_CNAME,
                CLASS_IN,
                30,
                &[vec![3, b'c', b'd', b'n'], ptr(16)].concat(),
            ),
            rr(&ptr(46), TYPE_AAAA, CLASS_IN, 30, &[0xfd; 16]),
        ],
        &[rr(&ptr(16), TYPE_SOA, CLASS_IN, 30, &soa_rdata(5))],
    );
    msg[11] = 1;
    msg.extend(rr(&[0], TYPE_OPT, 1232, 0, &[]));
    msg
}

#[test]
fn sample_for_fuzzing_is_valid() {
    let resp = parse_response(&sample_response()).unwrap();
    assert_eq!(resp.answers.len(), 2);
    assert_eq!(resp.answers[1].name, n("cdn.example.test"));
    assert_eq!(resp.authority.len(), 1);
    assert!(resp.edns.is_some());
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_response(&bytes);
        for start in 0..bytes.len().min(16) {
            let _ = decode_name(&bytes, start);
        }
    }

    #[test]
    fn random_bytes_after_a_valid_header_never_panic(
        counts in proptest::array::uniform4(0u16..4),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let msg = [header(1, QR, counts), body].concat();
        let _ = parse_response(&msg);
    }

    #[test]
    fn mutated_responses_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut msg = sample_response();
        for (at, byte) in edits {
            let i = at.index(msg.len());
            msg[i] = byte;
        }
        if let Ok(resp) = parse_response(&msg) {
            // Whatever decoded must respect the name limits.
            for r in resp.answers.iter().chain(&resp.authority) {
                prop_assert!(r.name.as_wire().len() <= 255);
            }
        }
    }
}
