//! The results stream: one JSON object per line per input URL, written as each URL finishes.
//!
//! ```text
//! {"index":0,"url":"http://a/","status":200,"bytes":1234,"ms":3.217,"error":null}
//! {"index":1,"url":"http://b/","status":null,"bytes":0,"ms":0.412,"error":"connection refused","kind":"connect"}
//! ```
//!
//! The six fields above are fixed. Extra fields: `kind` on failures; `response_status` when a head
//! arrived but the URL then failed (`status` is null whenever `error` is set); `reused` (the connection
//! came from the pool) and `timings` (`connect`, absent on a reused connection, and `ttfb`: time to the
//! complete response head, in ms) when a response arrived; `retries` (attempts retried) whenever
//! `--retry` is given.
//!
//! Lines go through a 64 KiB buffer, flushed when full, when the scheduler asks (it does so about every
//! 100 ms while results arrive) and at the end; a line write per URL would cost a system call per
//! request. When the output is a terminal, every line is flushed at once, for the person watching.

use crate::outcome::Outcome;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

const BUFFER: usize = 64 * 1024;

/// Where result lines go.
pub struct Output {
    /// `None`: results are counted but not written (the demo without `-o`). Behind a `dyn Write`
    /// because with `--threads` the sink is the channel to the one writer thread ([`Lines`]).
    sink: Option<BufWriter<Box<dyn Write>>>,
    /// Flush after every line (the output is a terminal).
    eager: bool,
    /// Lines written since the last flush.
    dirty: bool,
    /// The line being rendered, reused.
    line: Vec<u8>,
}

impl Output {
    /// Standard output (a duplicate of fd 1, so the writes skip std's line buffer and its lock).
    pub fn stdout() -> io::Result<Output> {
        let eager = io::stdout().is_terminal();
        let fd = io::stdout().as_fd().try_clone_to_owned()?;
        Ok(Output::to_file(File::from(fd), eager))
    }

    /// A results file, created or truncated.
    pub fn create(path: &Path) -> io::Result<Output> {
        Ok(Output::to_file(File::create(path)?, false))
    }

    /// Nowhere: results are only counted.
    pub fn discard() -> Output {
        Output {
            sink: None,
            eager: false,
            dirty: false,
            line: Vec::new(),
        }
    }

    /// Lines to the writer thread of `--threads` (the only one writing the results file).
    pub fn lines(to: std::sync::mpsc::SyncSender<Vec<u8>>, eager: bool) -> Output {
        Output::to_writer(Box::new(Lines(to)), eager)
    }

    fn to_file(file: File, eager: bool) -> Output {
        Output::to_writer(Box::new(file), eager)
    }

    fn to_writer(w: Box<dyn Write>, eager: bool) -> Output {
        Output {
            sink: Some(BufWriter::with_capacity(BUFFER, w)),
            eager,
            dirty: false,
            line: Vec::with_capacity(512),
        }
    }

    /// Append the line for `o`.
    pub fn write(&mut self, o: &Outcome) -> io::Result<()> {
        let Some(w) = &mut self.sink else {
            return Ok(());
        };
        self.line.clear();
        render_line(&mut self.line, o);
        w.write_all(&self.line)?;
        if self.eager {
            w.flush()
        } else {
            self.dirty = true;
            Ok(())
        }
    }

    /// Whether lines wait in the buffer.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Push buffered lines to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.dirty = false;
        match &mut self.sink {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

/// A loop's end of the channel to the writer thread. Each `write` is sent as one message, and the
/// `BufWriter` in front only ever writes whole lines (all it has buffered, or one line larger than its
/// buffer), so lines of different loops never interleave mid-line.
struct Lines(std::sync::mpsc::SyncSender<Vec<u8>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| io::Error::other("the results writer stopped"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One result as a JSON line, appended to `out`.
///
/// Hand-rendered rather than through `write!`: this runs once per URL, and `core::fmt` costs several
/// times more than the request's own bookkeeping.
pub fn render_line(out: &mut Vec<u8>, o: &Outcome) {
    out.extend_from_slice(b"{\"index\":");
    push_u64(out, o.index);
    out.extend_from_slice(b",\"url\":");
    push_string(out, &o.url);
    match (&o.failure, o.status) {
        (None, Some(s)) => {
            out.extend_from_slice(b",\"status\":");
            push_u64(out, u64::from(s));
        }
        _ => out.extend_from_slice(b",\"status\":null"),
    }
    out.extend_from_slice(b",\"bytes\":");
    push_u64(out, o.bytes);
    out.extend_from_slice(b",\"ms\":");
    push_ms(out, o.elapsed);
    out.extend_from_slice(b",\"error\":");
    match &o.failure {
        None => out.extend_from_slice(b"null"),
        Some(f) => {
            push_string(out, &f.message);
            out.extend_from_slice(b",\"kind\":\"");
            out.extend_from_slice(f.kind.name().as_bytes());
            out.push(b'"');
            if let Some(s) = o.status {
                out.extend_from_slice(b",\"response_status\":");
                push_u64(out, u64::from(s));
            }
        }
    }
    match o.reused {
        Some(true) => out.extend_from_slice(b",\"reused\":true"),
        Some(false) => out.extend_from_slice(b",\"reused\":false"),
        None => {}
    }
    if let Some(t) = &o.timings {
        out.extend_from_slice(b",\"timings\":{");
        if let Some(c) = t.connect {
            out.extend_from_slice(b"\"connect\":");
            push_ms(out, c);
            out.push(b',');
        }
        out.extend_from_slice(b"\"ttfb\":");
        push_ms(out, t.first_byte);
        out.push(b'}');
    }
    out.extend_from_slice(b",\"wire_bytes\":");
    push_u64(out, o.wire_bytes);
    if let Some(redirects) = o.redirects {
        out.extend_from_slice(b",\"final_url\":");
        push_string(out, o.final_url.as_deref().unwrap_or(&o.url));
        out.extend_from_slice(b",\"redirects\":");
        push_u64(out, u64::from(redirects));
    }
    if let Some(n) = o.retries {
        out.extend_from_slice(b",\"retries\":");
        push_u64(out, u64::from(n));
    }
    out.extend_from_slice(b"}\n");
}

/// Decimal digits of `n`.
fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A duration in milliseconds with three decimals (µs resolution), without floating point.
fn push_ms(out: &mut Vec<u8>, d: Duration) {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    push_u64(out, micros / 1000);
    let frac = micros % 1000;
    out.extend_from_slice(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

/// A JSON string literal (RFC 8259 §7): quote, backslash and control characters escaped; the rest of
/// UTF-8 as is.
pub fn push_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // The usual string (a URL) needs no escape: one scan, one copy.
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut clean_from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[clean_from..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        } else {
            out.extend_from_slice(escape);
        }
        clean_from = i + 1;
    }
    out.extend_from_slice(&bytes[clean_from..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Failure, Kind, Timings};

    fn line(o: &Outcome) -> String {
        let mut v = Vec::new();
        render_line(&mut v, o);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn success_line() {
        let mut o = Outcome {
            index: 0,
            url: "http://a/x".into(),
            elapsed: Duration::from_micros(3217),
            status: Some(200),
            bytes: 1234,
            failure: None,
            reused: Some(true),
            timings: Some(Timings {
                connect: None,
                first_byte: Duration::from_micros(2_000_001),
            }),
            wire_bytes: 1234,
            redirects: Some(0),
            final_url: None,
            retries: None,
        };
        assert_eq!(
            line(&o),
            "{\"index\":0,\"url\":\"http://a/x\",\"status\":200,\"bytes\":1234,\"ms\":3.217,\"error\":null,\
             \"reused\":true,\"timings\":{\"ttfb\":2000.001},\"wire_bytes\":1234,\
             \"final_url\":\"http://a/x\",\"redirects\":0}\n"
        );
        o.redirects = Some(2);
        o.final_url = Some("http://b/y".into());
        let v: serde_json::Value = serde_json::from_str(&line(&o)).unwrap();
        assert_eq!(
            (v["final_url"].as_str(), v["redirects"].as_u64()),
            (Some("http://b/y"), Some(2))
        );
        o.timings.as_mut().unwrap().connect = Some(Duration::from_micros(450));
        let v: serde_json::Value = serde_json::from_str(&line(&o)).unwrap();
        assert_eq!(v["timings"]["connect"], 0.45);
    }

    #[test]
    fn failure_line_escapes_and_nulls_the_status() {
        let mut o = Outcome::failed(
            7,
            "http://a/\"q\"\\\u{1}é".into(),
            Kind::MaxBody,
            "body exceeds\n--max-body",
        );
        o.status = Some(200);
        o.elapsed = Duration::from_micros(12);
        assert_eq!(
            line(&o),
            "{\"index\":7,\"url\":\"http://a/\\\"q\\\"\\\\\\u0001é\",\"status\":null,\"bytes\":0,\"ms\":0.012,\
             \"error\":\"body exceeds\\n--max-body\",\"kind\":\"max_body\",\"response_status\":200,\"wire_bytes\":0}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&line(&o)).unwrap();
        assert_eq!(parsed["url"], "http://a/\"q\"\\\u{1}é");
        assert_eq!(
            o.failure,
            Some(Failure {
                kind: Kind::MaxBody,
                message: "body exceeds\n--max-body".into()
            })
        );
    }
}
