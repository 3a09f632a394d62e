//! Shared by the `response` and `chunked` targets: turn fuzz input into read boundaries, run one
//! exchange on a fresh `ClientConn` the way the I/O driver does, and compare outcomes.
//!
//! Input layout: byte 0 = flags (bit 0: the request was HEAD, bit 1: the server closes after the
//! bytes), byte 1 = number of cuts (mod 8), then two bytes per cut (little-endian offset, taken
//! modulo the response length + 1), then the response bytes. The fuzzer mutates all of it, so it
//! explores both the bytes and where the reads end.

use bytes::BytesMut;
use spool_client::proto::{ClientConn, Event, Limits, ProtoErrorKind, RequestHead};

/// One fuzz case, decoded from the input.
pub struct Case<'a> {
    pub head_method: bool,
    pub eof: bool,
    pub cuts: Vec<usize>,
    pub response: &'a [u8],
}

impl<'a> Case<'a> {
    pub fn parse(data: &'a [u8]) -> Option<Case<'a>> {
        let (&flags, rest) = data.split_first()?;
        let (&ncuts, mut rest) = rest.split_first()?;
        let mut raw = Vec::new();
        for _ in 0..ncuts % 8 {
            let (pair, tail) = rest.split_at_checked(2)?;
            raw.push(usize::from(u16::from_le_bytes([pair[0], pair[1]])));
            rest = tail;
        }
        let mut cuts: Vec<usize> = raw.iter().map(|c| c % (rest.len() + 1)).collect();
        cuts.sort_unstable();
        Some(Case {
            head_method: flags & 1 != 0,
            eof: flags & 2 != 0,
            cuts,
            response: rest,
        })
    }

    /// The response cut at the case's points (empty pieces included: a read may bring nothing new).
    pub fn pieces(&self) -> Vec<&'a [u8]> {
        let mut pieces = Vec::new();
        let mut at = 0;
        for &c in self.cuts.iter().chain([&self.response.len()]) {
            pieces.push(&self.response[at..c]);
            at = c;
        }
        pieces
    }
}

/// How an exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    End { reusable: bool },
    Error(ProtoErrorKind),
    Pending,
}

/// What one exchange produced.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<u16>,
    pub headers: Option<http::HeaderMap>,
    pub body: Vec<u8>,
    pub finish: Finish,
    /// Response bytes were left over after `End` (in the buffer or in reads not yet fed).
    pub leftover: bool,
}

/// Sends a bodiless request on `conn`.
pub fn send(conn: &mut ClientConn, head_method: bool) {
    let uri = http::Uri::from_static("http://fuzz.test/");
    let headers = http::HeaderMap::new();
    let method = if head_method {
        http::Method::HEAD
    } else {
        http::Method::GET
    };
    let req = RequestHead {
        method: &method,
        uri: &uri,
        headers: &headers,
        body_len: spool_client::proto::BodyLen::Empty,
        user_agent: None,
        accept_encoding: None,
    };
    conn.encode_request(&req, &mut Vec::new())
        .expect("an idle connection encodes a plain GET");
}

/// Feeds `pieces` one read at a time (then EOF if `eof`), checking the event contract on the way.
pub fn receive(conn: &mut ClientConn, pieces: &[&[u8]], eof: bool) -> Outcome {
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        status: None,
        headers: None,
        body: Vec::new(),
        finish: Finish::Pending,
        leftover: false,
    };
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        if drain(conn, &mut buf, &mut out, false) {
            out.leftover = !buf.is_empty() || pieces[i + 1..].iter().any(|p| !p.is_empty());
            return out;
        }
    }
    if eof {
        drain(conn, &mut buf, &mut out, true);
        out.leftover = !buf.is_empty();
        assert_ne!(
            out.finish,
            Finish::Pending,
            "decode_eof left the response pending"
        );
    }
    out
}

/// Decodes until more bytes are needed (false) or the response ended or failed (true).
fn drain(conn: &mut ClientConn, buf: &mut BytesMut, out: &mut Outcome, eof: bool) -> bool {
    // Every event but End consumes at least one byte, so this bound is never reached legitimately.
    for _ in 0..buf.len() + 4 {
        let before = buf.len();
        let result = if eof {
            conn.decode_eof(buf)
        } else {
            conn.decode(buf)
        };
        match result {
            Ok(None) => return false,
            Ok(Some(Event::Head(head))) => {
                assert!(out.status.is_none(), "two heads for one response");
                assert!(!head.status.is_informational(), "a 1xx head was surfaced");
                assert!(buf.len() < before, "a head consumed no bytes");
                out.status = Some(head.status.as_u16());
                out.headers = Some(head.headers);
            }
            Ok(Some(Event::Data(data))) => {
                assert!(out.status.is_some(), "data before the head");
                assert!(!data.is_empty(), "an empty Data event");
                assert!(!head_only(out), "data for a response that has none");
                out.body.extend_from_slice(&data);
            }
            Ok(Some(Event::End { reusable })) => {
                assert!(out.status.is_some(), "end before the head");
                assert_eq!(
                    conn.is_idle_reusable(),
                    reusable,
                    "End disagrees with the conn"
                );
                assert_eq!(
                    conn.close_reason().is_none(),
                    reusable,
                    "close_reason disagrees"
                );
                out.finish = Finish::End { reusable };
                return true;
            }
            Err(e) => {
                assert!(!conn.is_idle_reusable(), "reusable after an error");
                assert!(!e.to_string().is_empty(), "an error without a message");
                out.finish = Finish::Error(e.kind());
                return true;
            }
        }
    }
    panic!("the decoder did not settle");
}

/// 204 and 304 never carry data (HEAD is checked by the caller's expectations).
fn head_only(out: &Outcome) -> bool {
    matches!(out.status, Some(204 | 304))
}

/// One whole exchange on a fresh connection.
pub fn exchange(case: &Case<'_>, pieces: &[&[u8]]) -> (ClientConn, Outcome) {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, case.head_method);
    let out = receive(&mut conn, pieces, case.eof);
    (conn, out)
}

/// The split-invariance rule: a response that completes when read whole completes identically in
/// any split, and the other way round. Two differences are allowed. Error kinds: a short head is
/// parsed eagerly, so garbage is refused at the first read that shows it, a longer one only when its
/// end arrives. Reuse with bytes left over: bytes in the same read as the end make the connection
/// unusable at once; bytes in a later read find it idle and fail there (`UnexpectedData`), so in
/// both cases the connection carries nothing more.
pub fn check_same(whole: &Outcome, split: &Outcome) {
    let done = |o: &Outcome| matches!(o.finish, Finish::End { .. });
    if done(whole) || done(split) {
        let usable = |o: &Outcome| match o.finish {
            Finish::End { reusable } => Finish::End {
                reusable: reusable && !o.leftover,
            },
            ref other => other.clone(),
        };
        assert_eq!(
            (whole.status, &whole.headers, &whole.body, usable(whole)),
            (split.status, &split.headers, &split.body, usable(split)),
            "the read boundaries changed the result"
        );
    }
}

/// After a reusable end, the connection carries another exchange from a clean state.
pub fn check_reuse(conn: &mut ClientConn, out: &Outcome) {
    if !conn.is_idle_reusable() || out.leftover {
        return;
    }
    send(conn, false);
    let out = receive(
        conn,
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
        false,
    );
    assert_eq!(
        out.finish,
        Finish::End { reusable: true },
        "second exchange failed"
    );
    assert_eq!(out.body, b"ok");
}
