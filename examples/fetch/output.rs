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
//! complete response head, in ms) when a response arrived.
//!
//! Lines go through a 64 KiB buffer, flushed when full, when the scheduler asks (it does so about every
//! 100 ms while results arrive) and at the end; a line write per URL would cost a system call per
//! request. When the output is a terminal, every line is flushed at once, for the person watching.

use crate::outcome::Outcome;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::Path;

const BUFFER: usize = 64 * 1024;

/// Where result lines go.
pub struct Output {
    /// `None`: results are counted but not written (the demo without `-o`).
    sink: Option<BufWriter<File>>,
    /// Flush after every line (the output is a terminal).
    eager: bool,
    /// Lines written since the last flush.
    dirty: bool,
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
        }
    }

    fn to_file(file: File, eager: bool) -> Output {
        Output {
            sink: Some(BufWriter::with_capacity(BUFFER, file)),
            eager,
            dirty: false,
        }
    }

    /// Append the line for `o`.
    pub fn write(&mut self, o: &Outcome) -> io::Result<()> {
        let Some(w) = &mut self.sink else {
            return Ok(());
        };
        write_line(w, o)?;
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

/// One result as a JSON line.
pub fn write_line(w: &mut impl Write, o: &Outcome) -> io::Result<()> {
    write!(w, "{{\"index\":{},\"url\":", o.index)?;
    write_string(w, &o.url)?;
    match (&o.failure, o.status) {
        (None, Some(s)) => write!(w, ",\"status\":{s}")?,
        _ => w.write_all(b",\"status\":null")?,
    }
    write!(w, ",\"bytes\":{},\"ms\":", o.bytes)?;
    write_ms(w, o.elapsed)?;
    w.write_all(b",\"error\":")?;
    match &o.failure {
        None => w.write_all(b"null")?,
        Some(f) => {
            write_string(w, &f.message)?;
            write!(w, ",\"kind\":\"{}\"", f.kind.name())?;
            if let Some(s) = o.status {
                write!(w, ",\"response_status\":{s}")?;
            }
        }
    }
    if let Some(r) = o.reused {
        write!(w, ",\"reused\":{r}")?;
    }
    if let Some(t) = &o.timings {
        w.write_all(b",\"timings\":{")?;
        if let Some(c) = t.connect {
            w.write_all(b"\"connect\":")?;
            write_ms(w, c)?;
            w.write_all(b",")?;
        }
        w.write_all(b"\"ttfb\":")?;
        write_ms(w, t.first_byte)?;
        w.write_all(b"}")?;
    }
    w.write_all(b"}\n")
}

/// A duration in milliseconds with three decimals (µs resolution), without floating point.
fn write_ms(w: &mut impl Write, d: std::time::Duration) -> io::Result<()> {
    let micros = d.as_micros();
    write!(w, "{}.{:03}", micros / 1000, micros % 1000)
}

/// A JSON string literal (RFC 8259 §7): quote, backslash and control characters escaped; the rest of
/// UTF-8 as is.
pub fn write_string(w: &mut impl Write, s: &str) -> io::Result<()> {
    w.write_all(b"\"")?;
    let bytes = s.as_bytes();
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
        w.write_all(&bytes[clean_from..i])?;
        if escape.is_empty() {
            write!(w, "\\u{b:04x}")?;
        } else {
            w.write_all(escape)?;
        }
        clean_from = i + 1;
    }
    w.write_all(&bytes[clean_from..])?;
    w.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Failure, Kind, Timings};
    use std::time::Duration;

    fn line(o: &Outcome) -> String {
        let mut v = Vec::new();
        write_line(&mut v, o).unwrap();
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
        };
        assert_eq!(
            line(&o),
            "{\"index\":0,\"url\":\"http://a/x\",\"status\":200,\"bytes\":1234,\"ms\":3.217,\"error\":null,\
             \"reused\":true,\"timings\":{\"ttfb\":2000.001}}\n"
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
             \"error\":\"body exceeds\\n--max-body\",\"kind\":\"max_body\",\"response_status\":200}\n"
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
