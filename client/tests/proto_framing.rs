//! Table test of the response rules of the protocol core: body framing (RFC 9112 §6.3), Content-Length and
//! chunked syntax, interim responses, EOF handling and connection reuse. Each row is one exchange on a
//! fresh connection: response bytes (fed whole, then in every split), request method, whether the server then closes, and the
//! expected status, body and reusability, or the expected error kind.

mod proto_support;

use http::Method;
use proto_support::{exchange, receive, send, Finish, Outcome};
use spool_client::proto::ProtoErrorKind::{self, *};
use spool_client::proto::{ClientConn, Limits};

enum Expect {
    /// Status, body, reusable.
    Ok(u16, &'static [u8], bool),
    Err(ProtoErrorKind),
    /// The head arrived (with this status) but the body needs more bytes.
    Pending(u16),
}

struct Row {
    name: &'static str,
    method: Method,
    response: &'static [u8],
    /// The server closes the connection after the bytes.
    eof: bool,
    expect: Expect,
}

const GET: Method = Method::GET;
const HEAD: Method = Method::HEAD;

fn row(
    name: &'static str,
    method: Method,
    response: &'static [u8],
    eof: bool,
    expect: Expect,
) -> Row {
    Row {
        name,
        method,
        response,
        eof,
        expect,
    }
}

fn rows() -> Vec<Row> {
    use Expect::{Err as E, Ok as K, Pending as P};
    vec![
        // --- Content-Length ---
        row("length", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, K(200, b"hello", true)),
        row("length zero", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, K(200, b"", true)),
        row("length leading zeros", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 005\r\n\r\nhello", false, K(200, b"hello", true)),
        row("length waits for body", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello", false, P(200)),
        row("length equal list", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", false, K(200, b"hello", true)),
        row("length equal lines", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", false, K(200, b"hello", true)),
        row("length differing list", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", false, E(InvalidContentLength)),
        row("length differing lines", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", false, E(InvalidContentLength)),
        row("length plus sign", GET, b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", false, E(InvalidContentLength)),
        row("length minus sign", GET, b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, E(InvalidContentLength)),
        row("length inner space", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 1 0\r\n\r\n", false, E(InvalidContentLength)),
        row("length empty", GET, b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false, E(InvalidContentLength)),
        row("length empty list element", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\nhello", false, E(InvalidContentLength)),
        row("length hex", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello", false, E(InvalidContentLength)),
        row("length 19 digits", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\nabc", false, P(200)),
        row("length 20 digits", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000000000000\r\n\r\n", false, E(InvalidContentLength)),
        row("length overflow", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n", false, E(InvalidContentLength)),
        row("length extra bytes", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello", false, K(200, b"he", false)),
        row("length truncated", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", true, E(IncompleteBody)),
        // The response ends before the EOF is seen, so it is reusable at that moment (see proto_conn.rs for the EOF).
        row("length complete before close", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", true, K(200, b"hello", true)),
        // --- chunked ---
        row("chunked", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false, K(200, b"hello", true)),
        row("chunked empty", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, K(200, b"", true)),
        row("chunked case", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\na\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n", false, K(200, b"01234567890123456789", true)),
        row("chunked ext and trailers", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;name=\"v;x\"\r\nabc\r\n0;last\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n", false, K(200, b"abc", true)),
        // A bare LF ends the head's lines and the trailers (RFC 9112 §2.2), never chunk framing (§7.1).
        row("chunked bare LF head and trailers", GET, b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\r\nabc\r\n0\r\nX: 1\n\n", false, K(200, b"abc", true)),
        row("chunked bare LF size line", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked bare LF after ext", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\nabc\r\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked bare LF after data", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked bare LF last chunk", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\n\r\n", false, E(InvalidChunk)),
        row("chunked all bare LF", GET, b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n", false, E(InvalidChunk)),
        row("chunked 16 digits", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000003\r\nabc\r\n0\r\n\r\n", false, K(200, b"abc", true)),
        row("chunked 17 digits", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000003\r\nabc\r\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked empty size", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked signed size", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked 0x size", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked overlong data", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked bare CR", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\rabc\r\n0\r\n\r\n", false, E(InvalidChunk)),
        row("chunked truncated data", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true, E(IncompleteBody)),
        row("chunked truncated before last", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", true, E(IncompleteBody)),
        row("chunked truncated trailers", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", true, E(IncompleteBody)),
        row("chunked no final CRLF", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", true, E(IncompleteBody)),
        row("chunked wins over length", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, K(200, b"abc", false)),
        row("chunked after gzip", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, K(200, b"abc", true)),
        row("chunked on two lines", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, K(200, b"abc", true)),
        row("chunked twice", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false, E(InvalidTransferEncoding)),
        row("chunked with params", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n0\r\n\r\n", false, E(InvalidTransferEncoding)),
        row("te empty", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n", false, E(InvalidTransferEncoding)),
        row("te not last chunked", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc", true, K(200, b"3\r\nabc", false)),
        row("te gzip until close", GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef", true, K(200, b"abcdef", false)),
        row("te in HTTP/1.0", GET, b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, E(InvalidTransferEncoding)),
        // --- close-delimited ---
        row("close delimited", GET, b"HTTP/1.1 200 OK\r\n\r\nall of it", true, K(200, b"all of it", false)),
        row("close delimited empty", GET, b"HTTP/1.1 200 OK\r\n\r\n", true, K(200, b"", false)),
        row("close delimited waits", GET, b"HTTP/1.1 200 OK\r\n\r\nsome", false, P(200)),
        row("close delimited 1.0", GET, b"HTTP/1.0 200 OK\r\n\r\nold", true, K(200, b"old", false)),
        // --- responses without a body ---
        row("HEAD ignores length", HEAD, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", false, K(200, b"", true)),
        row("HEAD ignores chunked", HEAD, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, K(200, b"", true)),
        row("HEAD ignores bad length", HEAD, b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", false, K(200, b"", true)),
        row("HEAD without framing", HEAD, b"HTTP/1.1 200 OK\r\n\r\n", false, K(200, b"", true)),
        row("HEAD with body sent anyway", HEAD, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, K(200, b"", false)),
        row("204 ignores length", GET, b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false, K(204, b"", true)),
        row("304 ignores chunked", GET, b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false, K(304, b"", true)),
        row("205 has a framed body", GET, b"HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n", false, K(205, b"", true)),
        // --- interim responses ---
        row("100 skipped", GET, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", false, K(200, b"hi", true)),
        row("103 skipped", GET, b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx", false, K(404, b"x", true)),
        row("1xx with length", GET, b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, K(200, b"", true)),
        row("101 unsupported", GET, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", false, E(UnsupportedUpgrade)),
        row("eof after 100", GET, b"HTTP/1.1 100 Continue\r\n\r\n", true, E(IncompleteHead)),
        // --- EOF around the head ---
        row("eof before response", GET, b"", true, E(ClosedBeforeResponse)),
        row("eof mid head", GET, b"HTTP/1.1 200 OK\r\nContent-Le", true, E(IncompleteHead)),
        row("eof after status line", GET, b"HTTP/1.1 200 OK\r\n", true, E(IncompleteHead)),
        // --- reuse ---
        row("1.0 closes", GET, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", false, K(200, b"hi", false)),
        row("1.0 keep-alive", GET, b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi", false, K(200, b"hi", true)),
        row("connection close", GET, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", false, K(200, b"hi", false)),
        row("connection close in list", GET, b"HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 2\r\n\r\nhi", false, K(200, b"hi", false)),
        row("connection close second line", GET, b"HTTP/1.1 200 OK\r\nConnection: upgrade\r\nconnection: Close\r\nContent-Length: 2\r\n\r\nhi", false, K(200, b"hi", false)),
        row("connection closed-ish", GET, b"HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 2\r\n\r\nhi", false, K(200, b"hi", true)),
        row("HEAD with close", HEAD, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n", false, K(200, b"", false)),
        // --- status line and head syntax ---
        row("no reason phrase", GET, b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false, K(200, b"", true)),
        row("bare LF head", GET, b"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", false, K(200, b"hi", true)),
        row("mixed line ends", GET, b"HTTP/1.1 200 OK\nA: b\r\nContent-Length: 2\n\r\nhi", false, K(200, b"hi", true)),
        row("leading empty line", GET, b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, K(200, b"", true)),
        row("bare CR in header", GET, b"HTTP/1.1 200 OK\r\nA: b\rC: d\r\nContent-Length: 0\r\n\r\n", false, E(InvalidHead)),
        row("bare CR ends header", GET, b"HTTP/1.1 200 OK\r\nA: b\r\rContent-Length: 0\r\n\r\n", false, E(InvalidHead)),
        row("bare CR in status line", GET, b"HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", false, E(InvalidHead)),
        row("bare CR ends head", GET, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\r\n", false, E(InvalidHead)),
        row("whitespace before first header", GET, b"HTTP/1.1 200 OK\r\n X: y\r\nContent-Length: 0\r\n\r\n", false, E(InvalidHead)),
        row("fold right after colon", GET, b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nhi", false, K(200, b"hi", true)),
        row("NUL in value", GET, b"HTTP/1.1 200 OK\r\nA: b\0c\r\nContent-Length: 0\r\n\r\n", false, E(InvalidHead)),
        row("space before colon", GET, b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", false, E(InvalidHead)),
        row("HTTP/2 version", GET, b"HTTP/2 200 OK\r\n\r\n", false, E(InvalidHead)),
        row("HTTP/1.2 version", GET, b"HTTP/1.2 200 OK\r\n\r\n", false, E(InvalidHead)),
        row("lower-case version", GET, b"http/1.1 200 OK\r\n\r\n", false, E(InvalidHead)),
        row("two-digit status", GET, b"HTTP/1.1 20 OK\r\n\r\n", false, E(InvalidHead)),
        row("four-digit status", GET, b"HTTP/1.1 2000 OK\r\n\r\n", false, E(InvalidHead)),
        row("status below 100", GET, b"HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n", false, E(InvalidHead)),
        row("not HTTP at all", GET, b"SSH-2.0-OpenSSH_9.6\r\n", false, E(InvalidHead)),
        row("TLS alert bytes", GET, b"\x15\x03\x01\x00\x02\x02\x46", false, E(InvalidHead)),
        row("garbage then eof", GET, b"\x15\x03\x01", true, E(InvalidHead)),
        row("status 599", GET, b"HTTP/1.1 599 Whatever\r\nContent-Length: 0\r\n\r\n", false, K(599, b"", true)),
    ]
}

#[test]
fn framing_table() {
    check_rows(|row| vec![exchange(&row.method, row.response, row.eof)]);
}

/// The same rows, each cut into two reads at every offset and fed one byte per read: the split must
/// not change any outcome (bare-LF chunk framing is refused whichever read its LF arrives in).
#[test]
fn framing_table_in_every_split() {
    check_rows(|row| {
        let mut outs = Vec::new();
        for at in 0..=row.response.len() {
            let (a, b) = row.response.split_at(at);
            outs.push(exchange_in(&row.method, &[a, b], row.eof));
        }
        let bytes: Vec<&[u8]> = row.response.chunks(1).collect();
        outs.push(exchange_in(&row.method, &bytes, row.eof));
        outs
    });
}

/// One exchange in `pieces`. Bytes after the response that arrive in a later read than its end find
/// the connection idle, which the next `decode` refuses (`UnexpectedData`) and closes: the same
/// "not reusable" as when they come in the same read, so that is what this reports.
fn exchange_in(method: &Method, pieces: &[&[u8]], eof: bool) -> Outcome {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, method);
    let mut out = receive(&mut conn, pieces, eof);
    if out.finish == (Finish::End { reusable: true }) && out.unfed > 0 {
        let all = pieces.concat();
        let err = conn
            .decode(&mut bytes::BytesMut::from(&all[all.len() - out.unfed..]))
            .expect_err("stray bytes on an idle connection");
        assert_eq!(err.kind(), UnexpectedData);
        assert!(!conn.is_idle_reusable());
        out.finish = Finish::End { reusable: false };
    }
    out
}

/// Runs every row through `run` and checks each outcome it returns against the row's expectation.
fn check_rows(run: impl Fn(&Row) -> Vec<Outcome>) {
    let mut failures = Vec::new();
    for row in rows() {
        for (i, out) in run(&row).into_iter().enumerate() {
            let status = out.head.as_ref().map(|h| h.status.as_u16());
            let ok = match row.expect {
                Expect::Ok(code, body, reusable) => {
                    status == Some(code)
                        && out.body == body
                        && out.finish == Finish::End { reusable }
                }
                Expect::Err(kind) => out.finish == Finish::Error(kind),
                Expect::Pending(code) => status == Some(code) && out.finish == Finish::Pending,
            };
            if !ok {
                failures.push(format!(
                    "{} (feed #{i}): got status {status:?}, body {:?}, {:?} ({})",
                    row.name,
                    String::from_utf8_lossy(&out.body),
                    out.finish,
                    out.error.map(|e| e.to_string()).unwrap_or_default(),
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} outcomes failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// What the state machine tells the I/O half about the body at the head ([`ClientConn::body_kind`]),
/// so that the client never reads the framing headers a second time.
#[test]
fn body_kind_reports_the_framing_decided_at_the_head() {
    use spool_client::proto::{BodyKind, Event};
    let cases: &[(&str, Method, &[u8], BodyKind)] = &[
        (
            "length",
            GET,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            BodyKind::Length(5),
        ),
        (
            "equal list",
            GET,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
            BodyKind::Length(5),
        ),
        (
            "chunked",
            GET,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            BodyKind::Chunked,
        ),
        (
            "chunked wins over length",
            GET,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            BodyKind::Chunked,
        ),
        (
            "neither",
            GET,
            b"HTTP/1.1 200 OK\r\n\r\n",
            BodyKind::UntilClose,
        ),
        (
            "HEAD keeps what a GET would get",
            HEAD,
            b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n",
            BodyKind::Bodiless {
                content_length: Some(900),
            },
        ),
        (
            "HEAD with a bad length is no error",
            HEAD,
            b"HTTP/1.1 200 OK\r\nContent-Length: nine\r\n\r\n",
            BodyKind::Bodiless {
                content_length: None,
            },
        ),
        (
            "HEAD with chunked declares no length",
            HEAD,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n",
            BodyKind::Bodiless {
                content_length: None,
            },
        ),
        (
            "204",
            GET,
            b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
            BodyKind::Bodiless {
                content_length: Some(7),
            },
        ),
        (
            "304",
            GET,
            b"HTTP/1.1 304 Not Modified\r\n\r\n",
            BodyKind::Bodiless {
                content_length: None,
            },
        ),
    ];
    for (name, method, head, want) in cases {
        let mut conn = ClientConn::new(Limits::default());
        send(&mut conn, method);
        assert_eq!(conn.body_kind(), None, "{name}: before the head");
        let mut buf = bytes::BytesMut::from(*head);
        let event = conn
            .decode(&mut buf)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(matches!(event, Some(Event::Head(_))), "{name}: {event:?}");
        assert_eq!(conn.body_kind(), Some(*want), "{name}");
    }
}
