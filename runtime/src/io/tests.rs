//! Unit tests for the buffered reader and writer, over scripted in-memory streams that return
//! their data in chosen chunks with a `Pending` (and a self-wake) between chunks.

use super::{BufReader, BufWriter};
use crate::block_on;
use futures_io::{AsyncRead, AsyncWrite};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}

/// Yields `chunks` one per read, `Pending` before each (waking itself, so `block_on` goes on).
struct Script {
    chunks: VecDeque<Vec<u8>>,
    pending_next: bool,
    reads: usize,
}

fn script(chunks: &[&[u8]]) -> Script {
    Script {
        chunks: chunks.iter().map(|c| c.to_vec()).collect(),
        pending_next: true,
        reads: 0,
    }
}

impl AsyncRead for Script {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if std::mem::replace(&mut self.pending_next, false) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = true;
        self.reads += 1;
        let Some(mut chunk) = self.chunks.pop_front() else {
            return Poll::Ready(Ok(0));
        };
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.chunks.push_front(chunk.split_off(n));
        }
        Poll::Ready(Ok(n))
    }
}

#[test]
fn lines_join_chunks_and_strip_line_endings() {
    block_on(async {
        let reader = BufReader::new(script(&[b"he", b"llo\r\nwor", b"ld\n\nlast"]));
        let mut lines = reader.lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["hello", "world", "", "last"]);
    });
}

#[test]
fn read_line_keeps_the_newline_and_returns_zero_at_the_end() {
    block_on(async {
        let mut reader = BufReader::with_capacity(4, script(&[b"abcdefg\nxy"]));
        let mut line = String::from(">");
        assert_eq!(reader.read_line(&mut line).await.unwrap(), 8);
        assert_eq!(line, ">abcdefg\n", "appended, across several 4-byte fills");
        line.clear();
        assert_eq!(reader.read_line(&mut line).await.unwrap(), 2);
        assert_eq!(reader.read_line(&mut line).await.unwrap(), 0);
        assert_eq!(line, "xy");
    });
}

#[test]
fn a_line_past_the_limit_fails_but_one_at_the_limit_passes() {
    block_on(async {
        let mut lines = BufReader::new(script(&[b"1234\r\n12345\n"]))
            .lines()
            .max_line_len(4);
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("1234"));
        let err = lines.next_line().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // An endless line without a newline is refused as soon as it passes the limit.
        let endless: Vec<u8> = vec![b'x'; 1 << 20];
        let mut lines = BufReader::new(script(&[&endless]))
            .lines()
            .max_line_len(100);
        assert_eq!(
            lines.next_line().await.unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        assert!(
            lines.get_ref().get_ref().reads <= 2,
            "stopped reading early"
        );
    });
}

#[test]
fn invalid_utf8_is_an_error_not_a_panic() {
    block_on(async {
        let mut lines = BufReader::new(script(&[b"\xff\xfe\n"])).lines();
        assert_eq!(
            lines.next_line().await.unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    });
}

#[test]
fn a_dropped_next_line_loses_nothing() {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut lines = BufReader::new(script(&[b"par", b"tial\n"])).lines();
    // Each poll returns Pending (the script alternates), then data: poll a fresh future each time,
    // as a select loop would after another branch won.
    let mut got = None;
    for _ in 0..10 {
        let mut fut = Box::pin(lines.next_line());
        if let Poll::Ready(line) = fut.as_mut().poll(&mut cx) {
            got = Some(line.unwrap());
            break;
        }
    }
    assert_eq!(got, Some(Some("partial".to_string())));
}

#[test]
fn an_idle_reader_holds_no_buffer() {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut reader = BufReader::new(script(&[b"ab"]));
    let mut fill = |r: &mut BufReader<Script>| {
        futures_io::AsyncBufRead::poll_fill_buf(Pin::new(r), &mut cx).map(|b| b.unwrap().to_vec())
    };
    assert!(fill(&mut reader).is_pending());
    assert_eq!(reader.buf.len(), 0, "no allocation before any data");
    assert_eq!(fill(&mut reader), Poll::Ready(b"ab".to_vec()));
    assert_eq!(reader.buf.len(), 8192, "allocated for the read");
    futures_io::AsyncBufRead::consume(Pin::new(&mut reader), 2);
    assert!(fill(&mut reader).is_pending());
    assert_eq!(reader.buf.len(), 0, "released once empty and idle");
}

/// Accepts at most `per_write` bytes per write and counts the writes.
struct Sink {
    data: Vec<u8>,
    writes: usize,
    per_write: usize,
}

impl AsyncWrite for Sink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.per_write);
        self.data.extend_from_slice(&buf[..n]);
        self.writes += 1;
        Poll::Ready(Ok(n))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn sink(per_write: usize) -> Sink {
    Sink {
        data: Vec::new(),
        writes: 0,
        per_write,
    }
}

#[test]
fn small_writes_go_out_in_one_write_on_flush_and_the_buffer_is_released() {
    block_on(async {
        let mut out = BufWriter::new(sink(usize::MAX));
        for i in 0..100 {
            out.write_all(format!("line {i}\n").as_bytes())
                .await
                .unwrap();
        }
        assert_eq!(out.get_ref().writes, 0);
        out.flush().await.unwrap();
        assert_eq!(out.get_ref().writes, 1, "one write for 100 lines");
        assert_eq!(out.buf.capacity(), 0, "released after a complete flush");
        assert!(out.get_ref().data.starts_with(b"line 0\nline 1\n"));
    });
}

#[test]
fn short_writes_resume_where_they_stopped() {
    block_on(async {
        let mut out = BufWriter::with_capacity(16, sink(3));
        out.write_all(b"0123456789").await.unwrap();
        out.write_all(b"abcdefghij").await.unwrap(); // does not fit: flushes the first ten
        out.write_all(&[b'z'; 40]).await.unwrap(); // larger than the buffer: goes straight out
        out.flush().await.unwrap();
        let mut expected = b"0123456789abcdefghij".to_vec();
        expected.extend_from_slice(&[b'z'; 40]);
        assert_eq!(out.get_ref().data, expected);
        assert_eq!(out.buffered(), 0);
    });
}
