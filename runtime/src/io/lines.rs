//! `Lines`: a stream of text lines, one `String` per line, safe to use in a `select`-style loop.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use futures_io::AsyncRead;

use super::BufReader;

/// The lines of a [`BufReader`], without their `\n` or `\r\n`. Made by [`BufReader::lines`].
///
/// **Cancel-safe**: the part of a line read so far is kept here, not in the future, so a pending
/// [`next_line`](Self::next_line) may be dropped (another branch of a select won) and the next call
/// carries on where it stopped. The partial line is handed over to the caller with the line, so a
/// `Lines` between lines holds no allocation of its own.
///
/// ```
/// use spool_runtime::io::BufReader;
///
/// spool_runtime::block_on(async {
///     let mut lines = BufReader::new(&b"one\r\ntwo\nthree"[..]).lines();
///     let mut got = Vec::new();
///     while let Some(line) = lines.next_line().await.unwrap() {
///         got.push(line);
///     }
///     assert_eq!(got, ["one", "two", "three"]); // the last line needs no newline
/// });
/// ```
pub struct Lines<R> {
    reader: BufReader<R>,
    /// The line being read, until its `\n` arrives.
    partial: Vec<u8>,
    /// Longest line accepted, in bytes, not counting the line ending.
    max_len: usize,
}

impl<R: AsyncRead + Unpin> Lines<R> {
    pub(super) fn new(reader: BufReader<R>) -> Self {
        Lines {
            reader,
            partial: Vec::new(),
            max_len: usize::MAX,
        }
    }

    /// Refuses lines longer than `max_len` bytes: [`next_line`](Self::next_line) fails with
    /// `InvalidData` instead of buffering without end (what a server facing strangers wants).
    pub fn max_line_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// The next line; `None` at the end of the stream. A last line without `\n` is still returned.
    /// Fails with `InvalidData` if a line is not UTF-8 or is too long.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        poll_fn(|cx| self.poll_next_line(cx)).await
    }

    /// The poll behind [`next_line`](Self::next_line), for hand-written futures.
    pub fn poll_next_line(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<String>>> {
        let limit = self.max_len.saturating_add(1); // a `\r` before the `\n` is not the line's
        let result = self
            .reader
            .poll_read_until(cx, b'\n', &mut self.partial, limit);
        match result {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                self.partial.clear();
                Poll::Ready(Err(e))
            }
            Poll::Ready(Ok(_)) if self.partial.is_empty() => Poll::Ready(Ok(None)),
            Poll::Ready(Ok(_)) => {
                let mut line = std::mem::take(&mut self.partial);
                if line.last() == Some(&b'\n') {
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                }
                if line.len() > self.max_len {
                    return Poll::Ready(Err(too_long(self.max_len)));
                }
                Poll::Ready(String::from_utf8(line).map(Some).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, "line is not valid UTF-8")
                }))
            }
        }
    }

    /// The reader underneath (and through it, the stream).
    pub fn get_ref(&self) -> &BufReader<R> {
        &self.reader
    }

    /// The reader back; a partly read line is lost.
    pub fn into_inner(self) -> BufReader<R> {
        self.reader
    }
}

fn too_long(max_len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("line longer than {max_len} bytes"),
    )
}

impl<R> std::fmt::Debug for Lines<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lines")
            .field("partial", &self.partial.len())
            .finish()
    }
}
