//! The chunked decoder, reached as a client reaches it: a `Transfer-Encoding: chunked` head, then
//! the fuzz bytes as the body, in arbitrary reads.
//!
//! Checked: everything the `response` target checks, and that whatever the decoder accepts is also
//! accepted by a strict reference reading of RFC 9112 §7.1 written here in a few lines, with the
//! same data. The reference requires CRLF after every chunk-size line and after chunk data, so a
//! bare-LF chunk that slips through is a failure.
#![no_main]

#[path = "common/exchange.rs"]
mod exchange;

use exchange::{check_reuse, check_same, Case, Finish};
use libfuzzer_sys::fuzz_target;

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some(case) = Case::parse(data) else {
        return;
    };
    let response = [HEAD, case.response].concat();
    let mut pieces = vec![HEAD];
    pieces.extend(case.pieces());
    let case = Case {
        response: &response,
        cuts: Vec::new(),
        head_method: false,
        eof: case.eof,
    };
    let (_, whole) = exchange::exchange(&case, &[&response]);
    let (mut conn, split) = exchange::exchange(&case, &pieces);
    check_same(&whole, &split);
    if let Finish::End { .. } = whole.finish {
        let body = &response[HEAD.len()..];
        match reference(body) {
            Some(data) => assert_eq!(whole.body, data, "decoded data differs from the reference"),
            None => panic!("accepted a chunked body the strict reference refuses"),
        }
    }
    check_reuse(&mut conn, &split);
});

/// A strict, whole-buffer reading of `chunked-body`: the data, or `None` if it is not one. Chunk
/// extensions and trailer fields are only skipped (their syntax is the decoder's business).
fn reference(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let line_end = find(body, b"\r\n")?;
        let line = &body[..line_end];
        if line.contains(&b'\n') || line.contains(&b'\r') {
            return None;
        }
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 || digits > 16 {
            return None;
        }
        let size = u64::from_str_radix(std::str::from_utf8(&line[..digits]).ok()?, 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            break;
        }
        let size = usize::try_from(size).ok()?;
        if body.len() < size + 2 || &body[size..size + 2] != b"\r\n" {
            return None;
        }
        data.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
    // Trailer section: field lines (CRLF, or a bare LF as §2.2 allows for fields), then an empty line.
    loop {
        let nl = body.iter().position(|&b| b == b'\n')?;
        let line = &body[..nl];
        body = &body[nl + 1..];
        if line.is_empty() || line == b"\r" {
            return Some(data);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
