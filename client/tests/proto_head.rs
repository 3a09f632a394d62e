//! Response-head details and limits of the protocol core: header order, duplicates and folding, values and
//! body data shared with the read buffer (zero-copy), `Keep-Alive`, and every size/count limit failing
//! with `TooLarge` at the limit rather than hanging or failing early.

mod proto_support;

use bytes::BytesMut;
use http::Method;
use proto_support::{exchange, exchange_with, receive, send, Finish};
use spool_client::proto::{ClientConn, Event, Limits, ProtoErrorKind};

const OK_HI: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

#[test]
fn body_data_and_header_values_share_the_read_buffer() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let mut buf = BytesMut::with_capacity(256);
    buf.extend_from_slice(
        b"HTTP/1.1 200 OK\r\nX-Custom: some value\r\nContent-Length: 5\r\n\r\nhello",
    );
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let Some(Event::Head(head)) = conn.decode(&mut buf).unwrap() else {
        panic!("no head")
    };
    let value = head.headers.get("x-custom").unwrap();
    assert_eq!(value, "some value");
    assert!(
        range.contains(&(value.as_bytes().as_ptr() as usize)),
        "header value was copied"
    );
    let Some(Event::Data(data)) = conn.decode(&mut buf).unwrap() else {
        panic!("no data")
    };
    assert_eq!(data, "hello");
    assert!(
        range.contains(&(data.as_ptr() as usize)),
        "body data was copied"
    );
}

#[test]
fn headers_keep_order_duplicates_and_unfold() {
    let out = exchange(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Fold: first \r\n  second\r\n\tthird\r\nSet-Cookie: b=2\r\n\
          X-Empty:\r\nX-Obs: caf\xc3\xa9\r\nX-Trail: v \t \r\nContent-Length: 0\r\n\r\n",
        false,
    );
    assert_eq!(out.finish, Finish::End { reusable: true });
    let headers = out.head.unwrap().headers;
    let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(headers["x-fold"], "first second third");
    assert_eq!(headers["x-empty"], "");
    assert_eq!(headers["x-obs"].as_bytes(), "café".as_bytes());
    assert_eq!(headers["x-trail"], "v");
}

#[test]
fn fold_split_across_reads() {
    let response = b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n";
    let at = response.windows(3).position(|w| w == b"\r\n ").unwrap() + 2; // just before the fold's space
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let out = receive(&mut conn, &[&response[..at], &response[at..]], false);
    assert_eq!(out.head.unwrap().headers["x-fold"], "a b");
}

#[test]
fn keep_alive_timeout_from_response() {
    let out = exchange(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=15, max=100\r\nContent-Length: 0\r\n\r\n",
        false,
    );
    assert_eq!(
        out.head.unwrap().keep_alive_timeout(),
        Some(std::time::Duration::from_secs(15))
    );
}

/// A head with `n` filler headers of `value_len` bytes each, then `Content-Length: 0` and the blank line.
fn big_head(n: usize, value_len: usize) -> Vec<u8> {
    let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..n {
        head.extend_from_slice(format!("X-Filler-{i}: ").as_bytes());
        head.extend(std::iter::repeat_n(b'v', value_len));
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    head
}

#[test]
fn head_size_limit_is_exact() {
    let limits = Limits {
        max_head_bytes: 8 * 1024,
        ..Limits::default()
    };
    let mut head = big_head(1, 0);
    let filler = limits.max_head_bytes - head.len();
    head = big_head(1, filler);
    assert_eq!(head.len(), limits.max_head_bytes);
    let out = exchange_with(limits, &Method::GET, &head, false);
    assert_eq!(
        out.finish,
        Finish::End { reusable: true },
        "{:?}",
        out.error
    );
    let head = big_head(1, filler + 1);
    let out = exchange_with(limits, &Method::GET, &head, false);
    assert_eq!(out.finish, Finish::Error(ProtoErrorKind::TooLarge));
}

#[test]
fn endless_head_fails_at_the_limit_not_later() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nX-Endless: "[..]);
    let mut fed = buf.len();
    let err = loop {
        match conn.decode(&mut buf) {
            Ok(None) => {}
            Ok(Some(ev)) => panic!("unexpected event {ev:?}"),
            Err(e) => break e,
        }
        assert!(fed < 64 * 1024 + 1024, "no error past the head limit");
        buf.extend_from_slice(&[b'z'; 1000]);
        fed += 1000;
    };
    assert_eq!(err.kind(), ProtoErrorKind::TooLarge);
    assert!(fed >= 64 * 1024, "failed too early, after {fed} bytes");
    assert!(err.to_string().contains("65536"), "{err}");
}

#[test]
fn header_count_limit() {
    // The head already has Content-Length, so 127 fillers make 128 fields.
    let out = exchange(&Method::GET, &big_head(127, 1), false);
    assert_eq!(out.finish, Finish::End { reusable: true });
    assert_eq!(out.head.unwrap().headers.len(), 128);
    let out = exchange(&Method::GET, &big_head(128, 1), false);
    assert_eq!(out.finish, Finish::Error(ProtoErrorKind::TooLarge));
    assert!(out.error.unwrap().to_string().contains("128"));
    // A raised limit works beyond the parser's on-stack array.
    let limits = Limits {
        max_headers: 300,
        ..Limits::default()
    };
    let out = exchange_with(limits, &Method::GET, &big_head(250, 1), false);
    assert_eq!(out.head.unwrap().headers.len(), 251);
}

#[test]
fn large_head_fed_byte_by_byte() {
    // Bigger than the eager-parse threshold, so the blank-line scan is exercised, with leading empty lines
    // and bare-LF line ends (a `\n\n` end) thrown in.
    let mut response = b"\r\n\n".to_vec();
    response.extend_from_slice(&big_head(60, 100));
    let len = response.len();
    response.truncate(len - 4);
    response.extend_from_slice(b"\n\n");
    assert!(response.len() > 6000);
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let pieces: Vec<&[u8]> = response.chunks(1).collect();
    let out = receive(&mut conn, &pieces, false);
    assert_eq!(out.head.as_ref().map(|h| h.headers.len()), Some(61));
    assert_eq!(out.finish, Finish::End { reusable: true });
}

/// Every way of cutting `response` into two reads, and one byte per read: the outcomes.
fn every_split(response: &[u8]) -> Vec<proto_support::Outcome> {
    let mut outs = Vec::new();
    for at in 0..=response.len() {
        let mut conn = ClientConn::new(Limits::default());
        send(&mut conn, &Method::GET);
        outs.push(receive(
            &mut conn,
            &[&response[..at], &response[at..]],
            false,
        ));
    }
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let bytes: Vec<&[u8]> = response.chunks(1).collect();
    outs.push(receive(&mut conn, &bytes, false));
    outs
}

#[test]
fn twenty_early_hints_then_the_response() {
    // Interim responses are bounded by their bytes (the head limit), not by a small count.
    let hint = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n";
    let mut response = hint.repeat(20);
    response.extend_from_slice(OK_HI);
    for out in every_split(&response) {
        assert_eq!(
            out.finish,
            Finish::End { reusable: true },
            "{:?}",
            out.error
        );
        assert_eq!(out.head.as_ref().map(|h| h.status.as_u16()), Some(200));
        assert_eq!(out.body, b"hi");
    }
}

#[test]
fn interim_responses_past_the_head_limit_are_refused() {
    let limits = Limits {
        max_head_bytes: 1024,
        ..Limits::default()
    };
    let hint = b"HTTP/1.1 100 Continue\r\n\r\n"; // 25 bytes
    for (count, fits) in [(40, true), (41, false)] {
        let mut response = hint.repeat(count);
        response.extend_from_slice(OK_HI);
        for pieces in [vec![&response[..]], response.chunks(7).collect()] {
            let mut conn = ClientConn::new(limits);
            send(&mut conn, &Method::GET);
            let out = receive(&mut conn, &pieces, false);
            if fits {
                assert_eq!(out.finish, Finish::End { reusable: true }, "{count}");
            } else {
                assert_eq!(
                    out.finish,
                    Finish::Error(ProtoErrorKind::TooLarge),
                    "{count}"
                );
                let msg = out.error.unwrap().to_string();
                assert!(
                    msg.contains("interim") && msg.contains("1024 bytes"),
                    "{msg}"
                );
            }
        }
    }
}

#[test]
fn trailer_and_extension_limits() {
    let mut trailers = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
    for i in 0..400 {
        trailers.extend_from_slice(
            format!("X-T{i}: 0123456789012345678901234567890123456789\r\n").as_bytes(),
        );
    }
    trailers.extend_from_slice(b"\r\n");
    let out = exchange(&Method::GET, &trailers, false);
    assert_eq!(out.finish, Finish::Error(ProtoErrorKind::TooLarge));

    let exts = |n: usize| {
        let mut exts = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..n {
            exts.extend_from_slice(b"1;ext=0123456789012345678901234567890123456789\r\nx\r\n");
        }
        exts.extend_from_slice(b"0\r\n\r\n");
        exts
    };
    let out = exchange(&Method::GET, &exts(400), false);
    assert_eq!(out.finish, Finish::Error(ProtoErrorKind::TooLarge));
    // Well under the limit, the same shape decodes.
    let out = exchange(&Method::GET, &exts(10), false);
    assert_eq!(
        (out.body.len(), out.finish),
        (10, Finish::End { reusable: true })
    );
}

#[test]
fn error_messages_name_the_problem() {
    let out = exchange(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
        false,
    );
    let msg = out.error.unwrap().to_string();
    assert!(
        msg.contains("Content-Length") && msg.contains('5') && msg.contains('6'),
        "{msg}"
    );
    let out = exchange(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        true,
    );
    let msg = out.error.unwrap().to_string();
    assert!(msg.contains("7 bytes"), "{msg}");
    let out = exchange(&Method::GET, b"HTTP/2.0 200 OK\r\n\r\n", false);
    let msg = out.error.unwrap().to_string();
    assert!(msg.contains("HTTP/2.0"), "{msg}");
    let out = exchange(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nGood: 1\r\nBad Name: 2\r\n\r\n",
        false,
    );
    let msg = out.error.unwrap().to_string();
    assert!(msg.contains("Bad Name: 2"), "{msg}");
    let out = exchange(
        &Method::GET,
        b"HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\n\r\n",
        false,
    );
    let msg = out.error.unwrap().to_string();
    assert!(msg.contains("X-Nul: a\\x00b"), "{msg}");
}
