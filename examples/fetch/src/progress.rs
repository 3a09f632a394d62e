//! What a person sees on stderr: a progress bar redrawn in place while stderr is a terminal, and at the
//! end one summary line that scripts (and the shared benchmark) parse:
//!
//! ```text
//! fetch: urls=10000 ok=10000 http_err=0 err=0 (timeout=0 connect=0 …) wall_s=0.412076 req_per_s=24271 bytes=1230000 peak_rss_mib=9.1
//! ```
//!
//! `ok` counts URLs that got a whole HTTP response with status below 400, `http_err` those that got a
//! whole response of 400 or above, and `err` those that failed (no response, or a response cut short);
//! the three add up to `urls`. The parenthesis splits `err` by kind. `fd_retries` counts requests put
//! back to wait because no file descriptor was free (the tool slowed down instead of failing them).
//! When any https connection was made, `tls_handshakes` and `tls_resumed` (the share of handshakes
//! that resumed an earlier session instead of a full handshake) close the line.

use crate::outcome::{Outcome, KINDS};
use spool_client::tls::HandshakeStats;
use spool_runtime::Driver;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn.
pub const REDRAW: Duration = Duration::from_millis(100);

/// Counts of finished URLs.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// URLs finished.
    pub done: u64,
    /// Whole responses with status < 400.
    pub ok: u64,
    /// Whole responses with status ≥ 400.
    pub http_err: u64,
    /// Failures, per [`KINDS`] slot.
    pub failed: [u64; KINDS.len()],
    /// Body bytes received, over all URLs.
    pub bytes: u64,
    /// Attempts that found no file descriptor and were put back to wait (not failures).
    pub fd_retries: u64,
}

impl Tally {
    /// Count one finished URL.
    pub fn add(&mut self, o: &Outcome) {
        self.done += 1;
        self.bytes += o.bytes;
        match &o.failure {
            Some(f) => self.failed[f.kind.slot()] += 1,
            None if o.is_ok() => self.ok += 1,
            None => self.http_err += 1,
        }
    }

    /// Add the counts of another loop (`--threads`, worker loops).
    pub fn merge(&mut self, other: &Tally) {
        self.done += other.done;
        self.ok += other.ok;
        self.http_err += other.http_err;
        for (a, b) in self.failed.iter_mut().zip(other.failed) {
            *a += b;
        }
        self.bytes += other.bytes;
        self.fd_retries += other.fd_retries;
    }

    /// All failures.
    pub fn err(&self) -> u64 {
        self.failed.iter().sum()
    }
}

/// The bar on stderr, if stderr is a terminal and the user did not say `--no-progress`.
pub struct Progress {
    enabled: bool,
    started: Instant,
    /// Whether a bar is on screen (and must be erased before other stderr output).
    drawn: bool,
    line: String,
}

impl Progress {
    /// A bar that draws only when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, started: Instant) -> Progress {
        Progress {
            enabled: wanted && io::stderr().is_terminal(),
            started,
            drawn: false,
            line: String::new(),
        }
    }

    /// Whether the bar draws at all (so the scheduler knows to wake up for it).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Redraw: `done/total`, a bar when the total is known, rate, failures.
    pub fn draw(&mut self, tally: &Tally, total: Option<u64>, in_flight: usize) {
        if !self.enabled {
            return;
        }
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = tally.done as f64 / secs;
        self.line.clear();
        self.line.push_str("\r\x1b[2K");
        match total {
            Some(t) if t > 0 => {
                const WIDTH: u64 = 30;
                let filled = (tally.done.min(t) * WIDTH / t) as usize;
                let _ = write!(
                    self.line,
                    "[{}{}] {}/{} {:>3}%",
                    "#".repeat(filled),
                    ".".repeat(WIDTH as usize - filled),
                    tally.done,
                    t,
                    tally.done * 100 / t
                );
            }
            _ => {
                let _ = write!(self.line, "{}/?", tally.done);
            }
        }
        let _ = write!(
            self.line,
            "  {rate:.0} req/s  in flight {in_flight}  http 4xx/5xx {}  failed {}",
            tally.http_err,
            tally.err()
        );
        let mut err = io::stderr().lock();
        let _ = err.write_all(self.line.as_bytes());
        let _ = err.flush();
        self.drawn = true;
    }

    /// Erase the bar (before the summary or another message).
    pub fn clear(&mut self) {
        if self.drawn {
            let _ = io::stderr().write_all(b"\r\x1b[2K");
            self.drawn = false;
        }
    }
}

/// The final summary line (without newline); `tls`: the client's handshake counts; `driver`: the I/O
/// driver the loops ran on.
pub fn summary(tally: &Tally, wall: Duration, tls: HandshakeStats, driver: Driver) -> String {
    let secs = wall.as_secs_f64();
    let mut s = format!(
        "fetch: urls={} ok={} http_err={} err={} (",
        tally.done,
        tally.ok,
        tally.http_err,
        tally.err()
    );
    for (i, kind) in KINDS.iter().enumerate() {
        let _ = write!(
            s,
            "{}{}={}",
            if i == 0 { "" } else { " " },
            kind.name(),
            tally.failed[i]
        );
    }
    let rate = if secs > 0.0 {
        tally.done as f64 / secs
    } else {
        0.0
    };
    let _ = write!(
        s,
        ") wall_s={secs:.6} req_per_s={rate:.0} bytes={}",
        tally.bytes
    );
    match peak_rss_kib() {
        Some(kib) => {
            let _ = write!(s, " peak_rss_mib={:.1}", kib as f64 / 1024.0);
        }
        None => s.push_str(" peak_rss_mib=?"),
    }
    let _ = write!(
        s,
        " fd_retries={} driver={}",
        tally.fd_retries,
        driver.name()
    );
    let handshakes = tls.full + tls.resumed;
    if handshakes > 0 {
        let _ = write!(
            s,
            " tls_handshakes={handshakes} tls_resumed={:.0}%",
            tls.resumed_share() * 100.0
        );
    }
    s
}

/// The process's peak resident set size (`VmHWM` in `/proc/self/status`), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Kind;

    #[test]
    fn summary_carries_the_tokens_the_bench_parses() {
        let mut t = Tally::default();
        let mut ok = Outcome::failed(0, "u".into(), Kind::Other, "");
        ok.failure = None;
        ok.status = Some(200);
        ok.bytes = 10;
        t.add(&ok);
        let mut nf = ok.clone();
        nf.status = Some(404);
        t.add(&nf);
        t.add(&Outcome::failed(2, "u".into(), Kind::Timeout, "timed out"));
        let s = summary(
            &t,
            Duration::from_millis(500),
            HandshakeStats::default(),
            Driver::Epoll,
        );
        assert!(
            s.starts_with("fetch: urls=3 ok=1 http_err=1 err=1 (invalid_url=0 "),
            "{s}"
        );
        assert!(s.contains(" timeout=1 "), "{s}");
        assert!(
            s.contains(" wall_s=0.500000 req_per_s=6 bytes=20 peak_rss_mib="),
            "{s}"
        );
        // The bench's regexes: \bok=(\d+) and \berr(?:ors)?=(\d+) must each find exactly the right one.
        assert_eq!(s.matches(" ok=").count(), 1);
        assert_eq!(s.matches(" err=").count(), 1);
        assert!(!s.contains("(err") && !s.contains(" errors="));
        assert!(s.contains(" fd_retries=0 driver=epoll"), "{s}");
        // No https, no TLS figures.
        assert!(!s.contains("tls_"), "{s}");
    }

    #[test]
    fn summary_ends_with_the_resumed_share_after_tls() {
        let tls = HandshakeStats {
            full: 1,
            resumed: 3,
        };
        let s = summary(
            &Tally::default(),
            Duration::from_secs(1),
            tls,
            Driver::IoUring,
        );
        assert!(
            s.ends_with(" driver=io_uring tls_handshakes=4 tls_resumed=75%"),
            "{s}"
        );
    }

    #[test]
    fn peak_rss_is_read() {
        assert!(peak_rss_kib().unwrap() > 0);
    }
}
