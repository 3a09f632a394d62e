//! Shared helpers for the protocol-core tests: send a request on a `ClientConn`, then feed it a response in
//! pieces and collect what it reports, exactly as an I/O driver would.

#![allow(dead_code)] // each test crate uses a different subset

use bytes::BytesMut;
use http::{HeaderMap, Method, Uri};
use spool_client::proto::{
    BodyLen, ClientConn, Event, Limits, ProtoError, ProtoErrorKind, RequestHead, ResponseHead,
};

/// How an exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// `Event::End` arrived.
    End { reusable: bool },
    /// `decode` or `decode_eof` failed.
    Error(ProtoErrorKind),
    /// All bytes were used and the response is still incomplete.
    Pending,
}

/// Everything a response produced.
#[derive(Debug)]
pub struct Outcome {
    pub head: Option<ResponseHead>,
    pub body: Vec<u8>,
    pub finish: Finish,
    pub error: Option<ProtoError>,
    /// Bytes left in the buffer after `End` or an error.
    pub leftover: usize,
    /// Bytes of later pieces that were never fed, because the response had ended (or failed) before.
    pub unfed: usize,
}

/// Encodes a bodiless request for `http://example.test/` with `method` and returns its bytes.
pub fn send(conn: &mut ClientConn, method: &Method) -> Vec<u8> {
    let uri = Uri::from_static("http://example.test/");
    let headers = HeaderMap::new();
    let req = RequestHead {
        method,
        uri: &uri,
        headers: &headers,
        body_len: BodyLen::Empty,
        user_agent: None,
        accept_encoding: None,
    };
    let mut out = Vec::new();
    conn.encode_request(&req, &mut out)
        .expect("request encodes");
    out
}

/// Feeds `pieces` one after another (decoding after each), then EOF if `eof`.
pub fn receive(conn: &mut ClientConn, pieces: &[&[u8]], eof: bool) -> Outcome {
    let mut buf = BytesMut::new();
    let mut out = Outcome {
        head: None,
        body: Vec::new(),
        finish: Finish::Pending,
        error: None,
        leftover: 0,
        unfed: 0,
    };
    for (i, piece) in pieces.iter().enumerate() {
        buf.extend_from_slice(piece);
        if drain(conn, &mut buf, &mut out, false) {
            out.unfed = pieces[i + 1..].iter().map(|p| p.len()).sum();
            return out;
        }
    }
    if eof {
        drain(conn, &mut buf, &mut out, true);
    }
    out
}

/// One whole exchange on a fresh connection with default limits.
pub fn exchange(method: &Method, response: &[u8], eof: bool) -> Outcome {
    exchange_with(Limits::default(), method, response, eof)
}

/// One whole exchange on a fresh connection.
pub fn exchange_with(limits: Limits, method: &Method, response: &[u8], eof: bool) -> Outcome {
    let mut conn = ClientConn::new(limits);
    send(&mut conn, method);
    receive(&mut conn, &[response], eof)
}

/// Decodes until the decoder wants more bytes (false) or the response ended or failed (true).
fn drain(conn: &mut ClientConn, buf: &mut BytesMut, out: &mut Outcome, eof: bool) -> bool {
    // Bounded: every event consumes at least one byte, except Head→End transitions.
    for _ in 0..1_000_000 {
        let result = if eof {
            conn.decode_eof(buf)
        } else {
            conn.decode(buf)
        };
        match result {
            Ok(None) => return false,
            Ok(Some(Event::Head(head))) => {
                assert!(out.head.is_none(), "two heads for one response");
                out.head = Some(head);
            }
            Ok(Some(Event::Data(data))) => {
                assert!(out.head.is_some(), "data before the head");
                assert!(!data.is_empty(), "empty Data event");
                out.body.extend_from_slice(&data);
            }
            Ok(Some(Event::End { reusable })) => {
                assert!(out.head.is_some(), "end before the head");
                assert_eq!(
                    conn.is_idle_reusable(),
                    reusable,
                    "End.reusable disagrees with the conn"
                );
                out.finish = Finish::End { reusable };
                out.leftover = buf.len();
                return true;
            }
            Err(e) => {
                assert!(!conn.is_idle_reusable(), "conn reusable after an error");
                out.finish = Finish::Error(e.kind());
                out.error = Some(e);
                out.leftover = buf.len();
                return true;
            }
        }
    }
    panic!("decoder did not settle");
}
