//! Connection-lifecycle tests of the protocol core: keep-alive across requests, idle-state rules, EOF
//! handling, error states and the reasons a connection is not reused.

mod proto_support;

use bytes::BytesMut;
use http::{HeaderMap, Method, Uri};
use proto_support::{receive, send, Finish};
use spool_client::proto::{
    BodyLen, ClientConn, CloseReason, Event, Limits, ProtoErrorKind, RequestHead,
};

const OK_HI: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
const CHUNKED_YO: &[u8] =
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\n";

#[test]
fn keep_alive_two_responses_back_to_back() {
    let mut conn = ClientConn::new(Limits::default());
    for (i, (response, status, body)) in [
        (OK_HI, 200, &b"hi"[..]),
        (CHUNKED_YO, 201, b"yo"),
        (OK_HI, 200, b"hi"),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(conn.is_idle_reusable(), "request {i}");
        send(&mut conn, &Method::GET);
        assert!(!conn.is_idle_reusable());
        // Split the response in two so each request also crosses a read boundary.
        let (a, b) = response.split_at(response.len() / 2);
        let out = receive(&mut conn, &[a, b], false);
        assert_eq!(out.head.unwrap().status, status, "request {i}");
        assert_eq!(out.body, body, "request {i}");
        assert_eq!(out.finish, Finish::End { reusable: true }, "request {i}");
        assert_eq!(conn.close_reason(), None);
    }
}

#[test]
fn head_request_then_get_on_same_connection() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::HEAD);
    let out = receive(
        &mut conn,
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"],
        false,
    );
    assert_eq!(out.finish, Finish::End { reusable: true });
    assert!(out.body.is_empty());
    // The next response is read with GET framing again, not HEAD's.
    send(&mut conn, &Method::GET);
    let out = receive(&mut conn, &[OK_HI], false);
    assert_eq!(
        (out.body.as_slice(), out.finish),
        (&b"hi"[..], Finish::End { reusable: true })
    );
}

#[test]
fn bytes_after_response_make_it_not_reusable() {
    let mut both = OK_HI.to_vec();
    both.extend_from_slice(OK_HI);
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let out = receive(&mut conn, &[&both], false);
    assert_eq!(out.finish, Finish::End { reusable: false });
    assert_eq!(
        out.leftover,
        OK_HI.len(),
        "the extra bytes are left, not eaten"
    );
    assert_eq!(conn.close_reason(), Some(CloseReason::TrailingBytes));
    let err = send_err(&mut conn);
    assert_eq!(err, ProtoErrorKind::NotIdle);
}

#[test]
fn bytes_while_idle_are_unexpected() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    receive(&mut conn, &[OK_HI], false);
    assert!(conn.is_idle_reusable());
    let mut buf = BytesMut::from(&b"\r\n"[..]);
    let err = conn.decode(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ProtoErrorKind::UnexpectedData);
    assert_eq!(buf.len(), 2, "unexpected bytes are not consumed");
    assert!(!conn.is_idle_reusable());
    assert_eq!(conn.close_reason(), Some(CloseReason::TrailingBytes));
}

#[test]
fn eof_while_idle_closes_quietly() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    receive(&mut conn, &[OK_HI], false);
    let mut buf = BytesMut::new();
    assert!(
        conn.decode(&mut buf).unwrap().is_none(),
        "an empty read buffer while idle is fine"
    );
    assert!(conn.decode_eof(&mut buf).unwrap().is_none());
    assert!(!conn.is_idle_reusable());
    assert_eq!(conn.close_reason(), Some(CloseReason::PeerClosed));
    assert!(
        conn.decode_eof(&mut buf).unwrap().is_none(),
        "repeated EOF stays quiet"
    );
    assert_eq!(send_err(&mut conn), ProtoErrorKind::NotIdle);
}

#[test]
fn stale_pooled_connection_reports_closed_before_response() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    receive(&mut conn, &[OK_HI], false);
    send(&mut conn, &Method::GET);
    let out = receive(&mut conn, &[], true);
    assert_eq!(
        out.finish,
        Finish::Error(ProtoErrorKind::ClosedBeforeResponse)
    );
    assert!(out.error.unwrap().to_string().contains("closed"));
}

#[test]
fn encode_refused_while_response_pending() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    assert_eq!(send_err(&mut conn), ProtoErrorKind::NotIdle);
    // The refusal does not disturb the outstanding exchange.
    let out = receive(
        &mut conn,
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"],
        false,
    );
    assert_eq!(out.finish, Finish::Pending);
    assert_eq!(send_err(&mut conn), ProtoErrorKind::NotIdle);
}

#[test]
fn errors_close_the_connection() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let out = receive(
        &mut conn,
        &[b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"],
        false,
    );
    assert_eq!(
        out.finish,
        Finish::Error(ProtoErrorKind::InvalidContentLength)
    );
    assert_eq!(conn.close_reason(), Some(CloseReason::Error));
    assert_eq!(send_err(&mut conn), ProtoErrorKind::NotIdle);
}

#[test]
fn close_reasons_are_reported() {
    let cases: [(&[u8], Method, CloseReason); 5] = [
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            Method::GET,
            CloseReason::ResponseClose,
        ),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            Method::GET,
            CloseReason::Http10,
        ),
        (
            b"HTTP/1.1 200 OK\r\n\r\n",
            Method::GET,
            CloseReason::CloseDelimited,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            Method::GET,
            CloseReason::ChunkedWithContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab",
            Method::GET,
            CloseReason::TrailingBytes,
        ),
    ];
    for (response, method, reason) in cases {
        let mut conn = ClientConn::new(Limits::default());
        send(&mut conn, &method);
        let out = receive(&mut conn, &[response], true);
        assert_eq!(out.finish, Finish::End { reusable: false }, "{reason:?}");
        assert_eq!(conn.close_reason(), Some(reason));
    }
}

#[test]
fn request_connection_close_ends_the_connection() {
    let mut conn = ClientConn::new(Limits::default());
    let uri = Uri::from_static("http://example.test/");
    let mut headers = HeaderMap::new();
    headers.insert("connection", "close".parse().unwrap());
    let req = RequestHead {
        method: &Method::GET,
        uri: &uri,
        headers: &headers,
        body_len: BodyLen::Empty,
        user_agent: None,
        accept_encoding: None,
    };
    conn.encode_request(&req, &mut Vec::new()).unwrap();
    let out = receive(&mut conn, &[OK_HI], false);
    assert_eq!(out.finish, Finish::End { reusable: false });
    assert_eq!(conn.close_reason(), Some(CloseReason::RequestClose));
}

#[test]
fn eof_right_after_complete_response() {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let mut buf = BytesMut::from(OK_HI);
    assert!(matches!(
        conn.decode_eof(&mut buf),
        Ok(Some(Event::Head(_)))
    ));
    assert!(matches!(
        conn.decode_eof(&mut buf),
        Ok(Some(Event::Data(_)))
    ));
    // The peer is gone, so even a perfectly framed response cannot leave the connection reusable.
    assert!(matches!(
        conn.decode_eof(&mut buf),
        Ok(Some(Event::End { reusable: false }))
    ));
    assert_eq!(conn.close_reason(), Some(CloseReason::PeerClosed));
    assert!(conn.decode_eof(&mut buf).unwrap().is_none());
}

fn send_err(conn: &mut ClientConn) -> ProtoErrorKind {
    let uri = Uri::from_static("http://example.test/");
    let headers = HeaderMap::new();
    let req = RequestHead {
        method: &Method::GET,
        uri: &uri,
        headers: &headers,
        body_len: BodyLen::Empty,
        user_agent: None,
        accept_encoding: None,
    };
    let mut out = Vec::new();
    let err = conn.encode_request(&req, &mut out).unwrap_err();
    assert!(out.is_empty(), "nothing written on refusal");
    err.kind()
}
