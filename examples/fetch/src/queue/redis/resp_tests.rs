//! The RESP2 codec on byte slices: every reply type, replies cut at every byte, and hostile input.

use super::*;

fn one(bytes: &[u8]) -> Value {
    let (v, n) = decode(bytes).unwrap().expect("a whole reply");
    assert_eq!(
        n,
        bytes.len(),
        "consumed all of {:?}",
        String::from_utf8_lossy(bytes)
    );
    v
}

#[test]
fn encodes_an_array_of_bulk_strings() {
    let mut out = Vec::new();
    encode(&mut out, &["XACK", "s", ""]);
    assert_eq!(out, b"*3\r\n$4\r\nXACK\r\n$1\r\ns\r\n$0\r\n\r\n");
}

#[test]
fn decodes_every_type() {
    assert_eq!(one(b"+OK\r\n"), Value::Simple("OK".into()));
    assert_eq!(
        one(b"-NOSCRIPT No matching\r\n"),
        Value::Error("NOSCRIPT No matching".into())
    );
    assert!(one(b"-NOSCRIPT No matching\r\n").is_error("NOSCRIPT"));
    assert!(!one(b"-NOSCRIPTX y\r\n").is_error("NOSCRIPT"));
    assert_eq!(one(b":-42\r\n"), Value::Int(-42));
    assert_eq!(one(b"$5\r\na\r\nbc\r\n"), Value::Bulk(b"a\r\nbc".to_vec()));
    assert_eq!(one(b"$0\r\n\r\n"), Value::Bulk(Vec::new()));
    assert_eq!(one(b"$-1\r\n"), Value::Nil);
    assert_eq!(one(b"*-1\r\n"), Value::Nil);
    assert_eq!(one(b"*0\r\n"), Value::Array(vec![]));
    assert_eq!(
        one(b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n"),
        Value::Array(vec![
            Value::Array(vec![Value::Int(1)]),
            Value::Bulk(b"x".to_vec())
        ])
    );
}

#[test]
fn a_reply_cut_anywhere_is_incomplete_and_two_replies_come_one_at_a_time() {
    let whole: &[u8] = b"*3\r\n$3\r\nabc\r\n:7\r\n*1\r\n+OK\r\n";
    for cut in 0..whole.len() {
        assert_eq!(decode(&whole[..cut]), Ok(None), "cut at {cut}");
    }
    let mut two = whole.to_vec();
    two.extend_from_slice(b"-ERR x\r\n");
    let (_, n) = decode(&two).unwrap().unwrap();
    assert_eq!(n, whole.len());
    assert_eq!(
        decode(&two[n..]).unwrap().unwrap().0,
        Value::Error("ERR x".into())
    );
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    for bad in [
        &b"?x\r\n"[..],
        b"\r\n",
        b":12a\r\n",
        b"$3\r\nabcde\r\n",
        b"$99999999999\r\n",
        b"*99999999999\r\n",
        b"$x\r\n",
        b"+\xff\r\n",
    ] {
        assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
    let deep = "*1\r\n".repeat(20) + ":1\r\n";
    assert!(decode(deep.as_bytes()).is_err());
    // Announcing many elements and sending few is only incomplete, and allocates nothing up front.
    assert_eq!(decode(b"*16000000\r\n:1\r\n"), Ok(None));
}

#[test]
fn accessors() {
    assert_eq!(Value::Bulk(b"1-0".to_vec()).as_str(), Some("1-0"));
    assert_eq!(Value::Simple("OK".into()).as_bytes(), Some(&b"OK"[..]));
    assert_eq!(Value::Nil.as_array(), Some(&[][..]));
    assert_eq!(Value::Int(1).as_array(), None);
}
