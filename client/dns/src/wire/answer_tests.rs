//! Tests for `answer`: which responses are accepted as ours, and what each kind of response means.

use std::net::IpAddr;

use super::answer::*;
use super::name::Name;
use super::query::{Query, QueryType, CLASS_IN, TYPE_A, TYPE_AAAA, TYPE_CNAME, TYPE_OPT, TYPE_SOA};
use super::response::parse_response;
use super::testmsg::{header, name, ptr, question, reply, rr, soa_rdata, QR, RA, RD, TC};

fn n(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn q(host: &str, qtype: QueryType) -> Query {
    Query {
        id: 0x4242,
        name: n(host),
        qtype,
        edns: true,
    }
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

fn a(owner: &[u8], ttl: u32, ip: [u8; 4]) -> Vec<u8> {
    rr(owner, TYPE_A, CLASS_IN, ttl, &ip)
}

fn cname(owner: &[u8], ttl: u32, target: &str) -> Vec<u8> {
    rr(owner, TYPE_CNAME, CLASS_IN, ttl, &name(target))
}

fn soa(zone: &str, ttl: u32, minimum: u32) -> Vec<u8> {
    rr(&name(zone), TYPE_SOA, CLASS_IN, ttl, &soa_rdata(minimum))
}

fn answer_of(query: &Query, msg: &[u8]) -> Answer {
    read_response(query, msg).unwrap()
}

// ---- validation --------------------------------------------------------------------------------

#[test]
fn accepts_its_own_answer_with_any_case() {
    let query = q("www.example.test", QueryType::A);
    let mut msg = reply(&query, 0, &[a(&ptr(12), 60, [192, 0, 2, 1])], &[]);
    msg[13] = b'W'; // the server echoed "Www.example.test"
    assert_eq!(
        answer_of(&query, &msg),
        Answer::Addresses {
            addrs: ips(&["192.0.2.1"]),
            ttl: 60
        }
    );
}

#[test]
fn rejects_wrong_id_qr_opcode() {
    let query = q("a.test", QueryType::A);
    let good = reply(&query, 0, &[a(&ptr(12), 60, [192, 0, 2, 1])], &[]);
    let mut wrong_id = good.clone();
    wrong_id[1] ^= 1;
    assert_eq!(
        read_response(&query, &wrong_id),
        Err(Rejected::Mismatch(Mismatch::Id {
            expected: 0x4242,
            got: 0x4243
        }))
    );
    let mut not_response = good.clone();
    not_response[2] &= 0x7f;
    assert_eq!(
        read_response(&query, &not_response),
        Err(Rejected::Mismatch(Mismatch::NotAResponse))
    );
    let mut notify = good.clone();
    notify[2] |= 4 << 3; // OPCODE 4, NOTIFY
    assert_eq!(
        read_response(&query, &notify),
        Err(Rejected::Mismatch(Mismatch::Opcode(4)))
    );
}

#[test]
fn rejects_a_different_question() {
    let query = q("a.test", QueryType::A);
    let other_name = reply(
        &q("b.test", QueryType::A),
        0,
        &[a(&ptr(12), 60, [6, 6, 6, 6])],
        &[],
    );
    let other_type = reply(&q("a.test", QueryType::Aaaa), 0, &[], &[]);
    let mut other_class = reply(&query, 0, &[], &[]);
    let class_at = other_class.len() - 1;
    other_class[class_at] = 3;
    for msg in [other_name, other_type, other_class] {
        assert_eq!(
            read_response(&query, &msg),
            Err(Rejected::Mismatch(Mismatch::Question))
        );
    }
}

#[test]
fn question_count_must_be_one_except_for_formerr() {
    let query = q("a.test", QueryType::A);
    let none = header(0x4242, QR | RD | RA, [0, 0, 0, 0]);
    assert_eq!(
        read_response(&query, &none),
        Err(Rejected::Mismatch(Mismatch::QuestionCount(0)))
    );
    let formerr = header(0x4242, QR | RD | RA | 1, [0, 0, 0, 0]);
    assert_eq!(read_response(&query, &formerr), Ok(Answer::FormErr));
    let qn = question(&name("a.test"), TYPE_A);
    let two = [header(0x4242, QR | RD | RA, [2, 0, 0, 0]), qn.clone(), qn].concat();
    assert_eq!(
        read_response(&query, &two),
        Err(Rejected::Mismatch(Mismatch::QuestionCount(2)))
    );
}

#[test]
fn malformed_bytes_are_rejected_not_interpreted() {
    let query = q("a.test", QueryType::A);
    let msg = reply(&query, 0, &[a(&ptr(12), 60, [192, 0, 2, 1])], &[]);
    assert!(matches!(
        read_response(&query, &msg[..msg.len() - 1]),
        Err(Rejected::Malformed(_))
    ));
    assert!(matches!(
        read_response(&query, &[]),
        Err(Rejected::Malformed(_))
    ));
}

// ---- positive answers --------------------------------------------------------------------------

#[test]
fn collects_addresses_of_the_asked_family_with_min_ttl() {
    let query = q("a.test", QueryType::Aaaa);
    let v6 = |ttl, last| {
        rr(
            &ptr(12),
            TYPE_AAAA,
            CLASS_IN,
            ttl,
            &[[0x20, 1, 0xd, 0xb8].as_slice(), &[0; 11], &[last]].concat(),
        )
    };
    let msg = reply(
        &query,
        0,
        &[
            v6(300, 1),
            a(&ptr(12), 5, [192, 0, 2, 1]),
            v6(120, 2),
            v6(500, 1),
        ],
        &[],
    );
    assert_eq!(
        answer_of(&query, &msg),
        Answer::Addresses {
            addrs: ips(&["2001:db8::1", "2001:db8::2"]),
            ttl: 120
        }
    );
}

#[test]
fn follows_a_cname_chain_inside_the_answer() {
    let query = q("www.shop.test", QueryType::A);
    let msg = reply(
        &query,
        0,
        &[
            cname(&ptr(12), 3600, "shop.cdn.test"),
            cname(&name("shop.cdn.test"), 30, "edge.cdn.test"),
            a(&name("edge.cdn.test"), 300, [192, 0, 2, 10]),
            a(&name("edge.cdn.test"), 300, [192, 0, 2, 11]),
        ],
        &[],
    );
    assert_eq!(
        answer_of(&query, &msg),
        Answer::Addresses {
            addrs: ips(&["192.0.2.10", "192.0.2.11"]),
            ttl: 30
        }
    );
}

#[test]
fn records_off_the_chain_are_ignored() {
    let query = q("www.test", QueryType::A);
    // A poisoning attempt: an A record for an unrelated name rides along with the real chain.
    let msg = reply(
        &query,
        0,
        &[
            a(&name("bank.test"), 60, [6, 6, 6, 6]),
            cname(&ptr(12), 60, "web.test"),
            a(&name("web.test"), 60, [192, 0, 2, 5]),
        ],
        &[],
    );
    assert_eq!(
        answer_of(&query, &msg),
        Answer::Addresses {
            addrs: ips(&["192.0.2.5"]),
            ttl: 60
        }
    );
    let only_unrelated = reply(&query, 0, &[a(&name("bank.test"), 60, [6, 6, 6, 6])], &[]);
    assert_eq!(
        answer_of(&query, &only_unrelated),
        Answer::NoData { negative_ttl: None }
    );
}

#[test]
fn chain_leaving_the_answer_names_the_target() {
    let query = q("www.test", QueryType::A);
    let msg = reply(
        &query,
        0,
        &[
            cname(&ptr(12), 600, "a.other.test"),
            cname(&name("a.other.test"), 60, "b.other.test"),
        ],
        &[],
    );
    assert_eq!(
        answer_of(&query, &msg),
        Answer::Cname {
            target: n("b.other.test"),
            ttl: 60
        }
    );
}

#[test]
fn chain_of_exactly_max_hops_resolves_but_one_more_is_a_loop() {
    let query = q("h0.test", QueryType::A);
    let chain = |hops: usize| {
        let mut records: Vec<Vec<u8>> = (0..hops)
            .map(|i| {
                cname(
                    &name(&format!("h{i}.test")),
                    60,
                    &format!("h{}.test", i + 1),
                )
            })
            .collect();
        records.push(a(&name(&format!("h{hops}.test")), 60, [192, 0, 2, 1]));
        reply(&query, 0, &records, &[])
    };
    assert!(matches!(
        answer_of(&query, &chain(MAX_CNAME_HOPS)),
        Answer::Addresses { .. }
    ));
    assert_eq!(
        answer_of(&query, &chain(MAX_CNAME_HOPS + 1)),
        Answer::CnameChainTooLong
    );
    let looped = reply(
        &query,
        0,
        &[
            cname(&ptr(12), 60, "h1.test"),
            cname(&name("h1.test"), 60, "h0.test"),
        ],
        &[],
    );
    assert_eq!(answer_of(&query, &looped), Answer::CnameChainTooLong);
}

// ---- negative answers --------------------------------------------------------------------------

#[test]
fn nxdomain_takes_negative_ttl_from_soa() {
    let query = q("gone.example.test", QueryType::A);
    let with_soa = reply(&query, 3, &[], &[soa("example.test", 900, 60)]);
    assert_eq!(
        answer_of(&query, &with_soa),
        Answer::NxDomain {
            negative_ttl: Some(60)
        }
    );
    let soa_ttl_lower = reply(&query, 3, &[], &[soa("example.test", 10, 60)]);
    assert_eq!(
        answer_of(&query, &soa_ttl_lower),
        Answer::NxDomain {
            negative_ttl: Some(10)
        }
    );
    let without = reply(&query, 3, &[], &[]);
    assert_eq!(
        answer_of(&query, &without),
        Answer::NxDomain { negative_ttl: None }
    );
}

#[test]
fn soa_for_an_unrelated_zone_is_ignored() {
    let query = q("gone.example.test", QueryType::A);
    let msg = reply(&query, 3, &[], &[soa("attacker.test", 900, 86_400)]);
    assert_eq!(
        answer_of(&query, &msg),
        Answer::NxDomain { negative_ttl: None }
    );
}

#[test]
fn nodata_with_and_without_soa() {
    let query = q("v4only.test", QueryType::Aaaa);
    let msg = reply(&query, 0, &[], &[soa("test", 300, 30)]);
    assert_eq!(
        answer_of(&query, &msg),
        Answer::NoData {
            negative_ttl: Some(30)
        }
    );
    // Records of the other family mean "exists, but not this type".
    let msg = reply(&query, 0, &[a(&ptr(12), 60, [192, 0, 2, 1])], &[]);
    assert_eq!(
        answer_of(&query, &msg),
        Answer::NoData { negative_ttl: None }
    );
}

#[test]
fn negative_answers_at_the_end_of_a_chain_are_bounded_by_it() {
    let query = q("www.test", QueryType::A);
    let nx = reply(
        &query,
        3,
        &[cname(&ptr(12), 20, "gone.cdn.test")],
        &[soa("cdn.test", 300, 300)],
    );
    assert_eq!(
        answer_of(&query, &nx),
        Answer::NxDomain {
            negative_ttl: Some(20)
        }
    );
    let nodata = reply(
        &query,
        0,
        &[cname(&ptr(12), 600, "v6.cdn.test")],
        &[soa("cdn.test", 300, 45)],
    );
    assert_eq!(
        answer_of(&query, &nodata),
        Answer::NoData {
            negative_ttl: Some(45)
        }
    );
}

// ---- errors ------------------------------------------------------------------------------------

#[test]
fn error_codes_map_to_actions() {
    let query = q("a.test", QueryType::A);
    for (rcode, expected) in [
        (1, Answer::FormErr),
        (2, Answer::ServFail),
        (4, Answer::OtherError { rcode: 4 }),
        (5, Answer::Refused),
        (9, Answer::OtherError { rcode: 9 }),
    ] {
        assert_eq!(
            answer_of(&query, &reply(&query, rcode, &[], &[])),
            expected,
            "rcode {rcode}"
        );
    }
}

#[test]
fn extended_rcode_from_opt() {
    let query = q("a.test", QueryType::A);
    let mut msg = reply(&query, 0, &[], &[]);
    msg[11] = 1; // ARCOUNT
    msg.extend(rr(&[0], TYPE_OPT, 1232, 0x0100_0000, &[])); // BADVERS = 16
    assert_eq!(answer_of(&query, &msg), Answer::OtherError { rcode: 16 });
}

#[test]
fn truncated_wins_over_everything() {
    let query = q("big.test", QueryType::A);
    let mut msg = reply(&query, 0, &[a(&ptr(12), 60, [192, 0, 2, 1])], &[]);
    msg[2] |= (TC >> 8) as u8;
    assert_eq!(answer_of(&query, &msg), Answer::Truncated);
    // Even cut off mid-record, since TC says the rest may be missing.
    assert_eq!(answer_of(&query, &msg[..msg.len() - 2]), Answer::Truncated);
}

#[test]
fn interpret_matches_read_response() {
    let query = q("a.test", QueryType::A);
    let msg = reply(&query, 0, &[a(&ptr(12), 60, [192, 0, 2, 1])], &[]);
    let resp = parse_response(&msg).unwrap();
    assert_eq!(validate(&query, &resp), Ok(()));
    assert_eq!(Ok(interpret(&query, &resp)), read_response(&query, &msg));
}
