//! Lines of a URL list: a byte stream (a file, or stdin) cut into trimmed lines, blank lines and `#`
//! comments skipped, read one buffer at a time.
//!
//! A line longer than [`MAX_LINE`] or not valid UTF-8 comes out with a `problem` (so it still gets its
//! result line) and reading goes on. Reads of a pipe or terminal run on a helper thread (see
//! `input.rs` for why); everything else is read on the loop's thread.

use spool_runtime::{spawn_blocking, BlockingTask};
use std::fs::File;
use std::future::Future;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Bytes read per refill.
const CHUNK: usize = 64 * 1024;
/// A longer line is reported as an error line (and skipped to its end), so that one endless line cannot
/// grow the buffer without bound.
pub const MAX_LINE: usize = 64 * 1024;

/// A URL line as read: text, or what was wrong with it.
pub struct Line {
    /// The trimmed line (or what can be shown of it).
    pub text: Rc<str>,
    /// Why it cannot be a URL, if it cannot.
    pub problem: Option<&'static str>,
}

/// Where lines come from.
pub enum Source {
    /// Read on the loop's thread.
    File(File),
    /// Stdin when it is a pipe or terminal: each read on a helper thread; `pending` is the read in flight.
    Blocking {
        pending: Option<BlockingTask<(Vec<u8>, io::Result<usize>)>>,
    },
}

/// Splits a byte stream into trimmed URL lines, skipping blank lines and `#` comments.
pub struct LineReader {
    source: Source,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// Inside an over-long line that was already reported: drop bytes up to its newline.
    skipping: bool,
}

impl LineReader {
    pub fn new(source: Source) -> LineReader {
        LineReader {
            source,
            buf: vec![0; MAX_LINE + CHUNK],
            start: 0,
            end: 0,
            eof: false,
            skipping: false,
        }
    }

    /// Stdin: read directly when it is a regular file, through a helper thread otherwise.
    pub fn stdin() -> io::Result<LineReader> {
        let fd = io::stdin().as_fd().try_clone_to_owned()?;
        let file = File::from(fd);
        if file.metadata()?.is_file() {
            Ok(LineReader::new(Source::File(file)))
        } else {
            Ok(LineReader::new(Source::Blocking { pending: None }))
        }
    }

    pub fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Line>>> {
        loop {
            if let Some(line) = self.take_line() {
                return Poll::Ready(Some(Ok(line)));
            }
            if self.eof {
                return Poll::Ready(None);
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    self.eof = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Ok(())) => {}
            }
        }
    }

    /// The next complete line in the buffer (or the last one, without newline, at EOF).
    fn take_line(&mut self) -> Option<Line> {
        loop {
            let unread = &self.buf[self.start..self.end];
            let (line_len, complete) = match unread.iter().position(|&b| b == b'\n') {
                Some(nl) => (nl, true),
                None => (unread.len(), self.eof && !unread.is_empty()),
            };
            if !self.skipping && line_len > MAX_LINE {
                // Report the over-long line once; if its end has not arrived yet, drop the rest of it
                // as it does.
                let shown = String::from_utf8_lossy(&unread[..80]) + "…";
                self.start = if complete {
                    self.start + (line_len + 1).min(unread.len())
                } else {
                    self.end
                };
                self.skipping = !complete;
                return Some(Line {
                    text: shown.into(),
                    problem: Some("input line longer than 65536 bytes"),
                });
            }
            if !complete {
                if self.skipping {
                    self.start = self.end;
                }
                return None;
            }
            let raw = &unread[..line_len];
            self.start += (line_len + 1).min(unread.len());
            if std::mem::take(&mut self.skipping) {
                continue;
            }
            let text = raw.trim_ascii();
            if text.is_empty() || text[0] == b'#' {
                continue;
            }
            return Some(match std::str::from_utf8(text) {
                Ok(s) => Line {
                    text: s.into(),
                    problem: None,
                },
                Err(_) => Line {
                    text: String::from_utf8_lossy(text).into(),
                    problem: Some("input line is not valid UTF-8"),
                },
            });
        }
    }

    /// Read more bytes after the unread ones (moving those to the front first).
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let room = &mut self.buf[self.end..];
        let n = match &mut self.source {
            Source::File(f) => loop {
                match f.read(room) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            },
            Source::Blocking { pending } => {
                let task = pending.get_or_insert_with(|| {
                    let want = room.len().min(CHUNK);
                    spawn_blocking(move || {
                        let mut chunk = vec![0; want];
                        let r = loop {
                            match io::stdin().read(&mut chunk) {
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                                other => break other,
                            }
                        };
                        (chunk, r)
                    })
                });
                let (chunk, result) = match Pin::new(task).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(done) => done,
                };
                *pending = None;
                let n = result?;
                room[..n].copy_from_slice(&chunk[..n]);
                n
            }
        };
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Poll::Ready(Ok(()))
    }
}
