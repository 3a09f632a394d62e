//! Property tests of the protocol core: for any valid response (random version, status, headers, line
//! ends, folding, interim responses, framing and body), decoding does not depend on how the bytes are split
//! into reads; any truncation of a framed response is an error at EOF, never a short success; and arbitrary
//! or corrupted input never panics or stalls. And a chunked request body framed by `ChunkWriter`
//! reads back whole through the same chunked decoder.

mod proto_support;

use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use proto_support::{exchange, receive, send, Finish, Outcome};
use spool_client::proto::{ChunkWriter, ClientConn, Limits, ProtoErrorKind};

/// How the generated body is delimited.
#[derive(Debug, Clone)]
enum Kind {
    Length,
    /// Chunk sizes (the last one may be cut to fit), upper-case hex, per-chunk extension, trailers.
    Chunked {
        sizes: Vec<usize>,
        upper: bool,
        ext: Vec<bool>,
        trailers: Vec<(String, String)>,
    },
    Close,
}

/// A generated response and what decoding it must produce.
#[derive(Debug, Clone)]
struct Generated {
    /// Interim responses followed by the final head.
    head: Vec<u8>,
    /// Where the final head starts in `head` (after interim responses).
    final_head_start: usize,
    /// The framed body as sent.
    wire_body: Vec<u8>,
    /// The body content.
    body: Vec<u8>,
    status: u16,
    headers: HeaderMap,
    framed: bool,
    reusable: bool,
}

impl Generated {
    fn bytes(&self) -> Vec<u8> {
        [self.head.as_slice(), self.wire_body.as_slice()].concat()
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Length),
        (
            prop::collection::vec(1usize..700, 1..12),
            any::<bool>(),
            prop::collection::vec(any::<bool>(), 12),
            prop::collection::vec(("X-T[a-z]{1,8}", "[!-~]{1,20}"), 0..3),
        )
            .prop_map(|(sizes, upper, ext, trailers)| Kind::Chunked {
                sizes,
                upper,
                ext,
                trailers
            }),
        Just(Kind::Close),
    ]
}

/// A header value without leading/trailing whitespace (the parser trims it).
fn value() -> impl Strategy<Value = String> {
    "[!-~]([ -~]{0,30}[!-~])?"
}

prop_compose! {
    fn response()(
        http11 in any::<bool>(),
        keep_alive_10 in any::<bool>(),
        status in prop_oneof![Just(200u16), Just(404), Just(500), 201u16..=299].prop_filter("204 has no body", |s| *s != 204),
        interim in prop::collection::vec(prop_oneof![Just(100u16), Just(103)], 0..3),
        extra in prop::collection::vec(("X-[A-Za-z0-9]{1,12}", value()), 0..8),
        fold in prop::option::of((value(), value())),
        bare_lf in any::<bool>(),
        kind in kind(),
        body in prop::collection::vec(any::<u8>(), 0..3000),
    ) -> Generated {
        build(http11, keep_alive_10, status, interim, extra, fold, bare_lf, kind, body)
    }
}

#[allow(clippy::too_many_arguments)]
fn build(
    http11: bool,
    keep_alive_10: bool,
    status: u16,
    interim: Vec<u16>,
    extra: Vec<(String, String)>,
    fold: Option<(String, String)>,
    bare_lf: bool,
    mut kind: Kind,
    body: Vec<u8>,
) -> Generated {
    if !http11 && matches!(kind, Kind::Chunked { .. }) {
        kind = Kind::Length; // HTTP/1.0 has no Transfer-Encoding
    }
    let eol: &[u8] = if bare_lf { b"\n" } else { b"\r\n" };
    let version = if http11 { "HTTP/1.1" } else { "HTTP/1.0" };
    let mut head = Vec::new();
    if http11 {
        for code in &interim {
            head.extend_from_slice(format!("HTTP/1.1 {code} Interim").as_bytes());
            head.extend_from_slice(eol);
            head.extend_from_slice(b"Link: </x>; rel=preload");
            head.extend_from_slice(eol);
            head.extend_from_slice(eol);
        }
    }
    let final_head_start = head.len();
    let mut headers = HeaderMap::new();
    let mut line = |head: &mut Vec<u8>, name: &str, wire: &str, value: &str| {
        head.extend_from_slice(format!("{name}: {wire}").as_bytes());
        head.extend_from_slice(eol);
        headers.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    };
    head.extend_from_slice(format!("{version} {status} Whatever").as_bytes());
    head.extend_from_slice(eol);
    for (name, v) in &extra {
        line(&mut head, name, v, v);
    }
    if let Some((a, b)) = &fold {
        let eol_str = std::str::from_utf8(eol).unwrap();
        line(
            &mut head,
            "X-Folded",
            &format!("{a}{eol_str} \t{b}"),
            &format!("{a} {b}"),
        );
    }
    if !http11 && keep_alive_10 {
        line(&mut head, "Connection", "keep-alive", "keep-alive");
    }
    let mut wire_body = Vec::new();
    match &kind {
        Kind::Length => {
            let n = body.len().to_string();
            line(&mut head, "Content-Length", &n, &n);
            wire_body.extend_from_slice(&body);
        }
        Kind::Close => wire_body.extend_from_slice(&body),
        Kind::Chunked {
            sizes,
            upper,
            ext,
            trailers,
        } => {
            line(&mut head, "Transfer-Encoding", "chunked", "chunked");
            let mut rest = body.as_slice();
            let mut i = 0;
            while !rest.is_empty() {
                let n = sizes[i % sizes.len()].min(rest.len());
                let size = if *upper {
                    format!("{n:X}")
                } else {
                    format!("{n:x}")
                };
                wire_body.extend_from_slice(size.as_bytes());
                if ext[i % ext.len()] {
                    wire_body.extend_from_slice(b"; name=\"quoted;value\"");
                }
                // Chunk framing always ends in CRLF (RFC 9112 §7.1); only fields may use a bare LF.
                wire_body.extend_from_slice(b"\r\n");
                wire_body.extend_from_slice(&rest[..n]);
                wire_body.extend_from_slice(b"\r\n");
                rest = &rest[n..];
                i += 1;
            }
            wire_body.extend_from_slice(b"0\r\n");
            for (name, v) in trailers {
                wire_body.extend_from_slice(format!("{name}: {v}").as_bytes());
                wire_body.extend_from_slice(eol);
            }
            wire_body.extend_from_slice(eol);
        }
    }
    head.extend_from_slice(eol);
    let framed = !matches!(kind, Kind::Close);
    Generated {
        head,
        final_head_start,
        wire_body,
        body,
        status,
        headers,
        framed,
        reusable: framed && (http11 || keep_alive_10),
    }
}

/// Splits `bytes` at the given cut points (any order, duplicates fine).
fn split_at_cuts(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in cuts.into_iter().chain([bytes.len()]) {
        pieces.push(bytes[at..c].to_vec());
        at = c;
    }
    pieces
}

fn feed(pieces: &[Vec<u8>], eof: bool) -> Outcome {
    let mut conn = ClientConn::new(Limits::default());
    send(&mut conn, &Method::GET);
    let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
    receive(&mut conn, &refs, eof)
}

/// Checks an outcome against what the generated response must decode to.
fn check(out: &Outcome, gen: &Generated) -> Result<(), TestCaseError> {
    let head = out
        .head
        .as_ref()
        .ok_or_else(|| TestCaseError::fail(format!("no head: {:?}", out.error)))?;
    prop_assert_eq!(head.status.as_u16(), gen.status);
    prop_assert_eq!(&head.headers, &gen.headers);
    prop_assert_eq!(&out.body, &gen.body);
    prop_assert_eq!(
        &out.finish,
        &Finish::End {
            reusable: gen.reusable
        }
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any split into reads decodes like the whole response, and like what was generated.
    #[test]
    fn split_anywhere_same_result(gen in response(), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let bytes = gen.bytes();
        let whole = feed(std::slice::from_ref(&bytes), !gen.framed);
        check(&whole, &gen)?;
        let split = feed(&split_at_cuts(&bytes, &cuts), !gen.framed);
        check(&split, &gen)?;
    }

    /// One byte per read works too.
    #[test]
    fn byte_by_byte(gen in response()) {
        let bytes = gen.bytes();
        let pieces: Vec<Vec<u8>> = bytes.chunks(1).map(<[u8]>::to_vec).collect();
        check(&feed(&pieces, !gen.framed), &gen)?;
    }

    /// Cutting a framed response short and closing is an error of the right kind, never a short body.
    #[test]
    fn truncation_is_an_error(gen in response(), cut in any::<usize>(), pieces in 1usize..4) {
        prop_assume!(gen.framed);
        let bytes = gen.bytes();
        let cut = cut % bytes.len();
        let truncated = &bytes[..cut];
        let step = truncated.len() / pieces + 1;
        let chunks: Vec<Vec<u8>> = truncated.chunks(step).map(<[u8]>::to_vec).collect();
        let out = feed(&chunks, true);
        let expected = if cut == 0 {
            ProtoErrorKind::ClosedBeforeResponse
        } else if cut < gen.head.len() {
            ProtoErrorKind::IncompleteHead
        } else {
            ProtoErrorKind::IncompleteBody
        };
        prop_assert_eq!(&out.finish, &Finish::Error(expected), "cut at {} of {} (final head at {})", cut, bytes.len(), gen.final_head_start);
    }

    /// Two generated responses on one connection, each split arbitrarily.
    #[test]
    fn keep_alive_sequence(a in response(), b in response(), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
        let mut conn = ClientConn::new(Limits::default());
        send(&mut conn, &Method::GET);
        let pieces = split_at_cuts(&a.bytes(), &cuts);
        let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        let out = receive(&mut conn, &refs, !a.framed);
        check(&out, &a)?;
        prop_assert_eq!(conn.is_idle_reusable(), a.reusable);
        if a.reusable {
            send(&mut conn, &Method::GET);
            let pieces = split_at_cuts(&b.bytes(), &cuts);
            let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            check(&receive(&mut conn, &refs, !b.framed), &b)?;
        }
    }

    /// Arbitrary bytes, in arbitrary reads, then EOF: no panic, and the decoder always settles.
    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let out = feed(&split_at_cuts(&bytes, &cuts), true);
        prop_assert!(out.finish != Finish::Pending, "{:?}", out.finish);
    }

    /// A valid response with one byte changed either decodes or fails cleanly.
    #[test]
    fn corruption_never_panics(gen in response(), at in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = gen.bytes();
        let at = at % bytes.len();
        bytes[at] = byte;
        let out = exchange(&Method::GET, &bytes, true);
        prop_assert!(out.finish != Finish::Pending, "{:?}", out.finish);
    }

    /// Pieces of any sizes (empty ones included) framed by `ChunkWriter` decode, by the same
    /// chunked decoder that reads responses, to their concatenation, and nothing is left over.
    #[test]
    fn chunk_writer_frames_what_the_decoder_reads(pieces in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8), cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let mut chunks = ChunkWriter::new();
        for piece in &pieces {
            chunks.prefix(piece.len(), &mut wire);
            wire.extend_from_slice(piece);
        }
        chunks.finish(&mut wire);
        let out = feed(&split_at_cuts(&wire, &cuts), false);
        prop_assert_eq!(&out.finish, &Finish::End { reusable: true });
        prop_assert_eq!(out.body, pieces.concat());
        prop_assert_eq!(out.leftover, 0);
    }
}
