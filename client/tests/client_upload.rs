//! Request bodies streamed from a reader (`body_reader`, `body_file`, and chunked with
//! `body_stream`), checked on the wire of the
//! in-process server: the bytes arrive whole and the connection is reused; a reader that ends
//! early fails the request; a spent body is never resent (retry, redirect, a cloned request).

mod server;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::AsyncRead;
use server::{run, Reply, Server};
use spool_client::{Client, ErrorKind, RetryPolicy, StatusCode};

const LIMIT: Duration = Duration::from_secs(20);

/// Hands out `total` bytes of a repeating pattern, at most `piece` per read, and answers
/// `Pending` (waking itself at once) before every other piece, as a socket or a pipe would.
struct Trickle {
    total: usize,
    given: usize,
    piece: usize,
    wait_next: bool,
}

impl Trickle {
    fn new(total: usize, piece: usize) -> Trickle {
        Trickle {
            total,
            given: 0,
            piece,
            wait_next: true,
        }
    }
}

fn pattern(i: usize) -> u8 {
    b"0123456789abcdefghijklmnopqrstuvwxyz"[i % 36]
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let wait = self.wait_next;
        self.wait_next = !wait;
        if wait {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = buf.len().min(self.piece).min(self.total - self.given);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern(self.given + k);
        }
        self.given += n;
        Poll::Ready(Ok(n))
    }
}

fn expected(total: usize) -> Vec<u8> {
    (0..total).map(pattern).collect()
}

/// Answers every request with its body; `/redirect` with a 307 to `/elsewhere`.
fn echo_body() -> Server {
    Server::start(|req| match req.path.as_str() {
        "/redirect" => Reply::redirect(307, "/elsewhere"),
        _ => Reply::ok(req.body.clone()),
    })
}

#[test]
fn a_streamed_body_arrives_whole_and_the_connection_is_reused() {
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        // Larger than one 64 KiB chunk, given in odd pieces.
        let total = 200_003;
        let response = client
            .post(server.url("/up"))
            .body_reader(Trickle::new(total, 7_777), total as u64)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.bytes().await.unwrap(), expected(total));
        // The body ended where Content-Length said, so the connection carries the next one.
        let again = client
            .post(server.url("/up"))
            .body_reader(Trickle::new(10, 3), 10)
            .send()
            .await
            .unwrap();
        assert!(again.info().reused, "the connection was reused");
        assert_eq!(again.bytes().await.unwrap(), expected(10));
    });
    assert_eq!(server.accepted(), 1);
    let requests = server.requests();
    assert!(
        requests[0].head.contains("Content-Length: 200003\r\n"),
        "{}",
        requests[0].head
    );
}

#[test]
fn a_reader_that_ends_early_fails_the_request_and_never_looks_complete() {
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        let err = client
            .post(server.url("/up"))
            .body_reader(Trickle::new(1_000, 300), 5_000)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(
            err.to_string().contains("ended after 1000 of 5000 bytes"),
            "{err}"
        );
        // The half-sent connection was closed, not pooled.
        assert_eq!(client.pool_status().open, 0);
    });
    assert_eq!(
        server.request_count(),
        0,
        "the server never saw a whole request"
    );
}

#[test]
fn bytes_past_the_announced_length_are_not_read() {
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        let response = client
            .put(server.url("/up"))
            .body_reader(Trickle::new(1_000, 1_000), 600)
            .send()
            .await
            .unwrap();
        assert_eq!(response.bytes().await.unwrap(), expected(600));
    });
}

#[test]
fn a_file_body_is_streamed_with_its_length() {
    let dir = std::env::temp_dir().join(format!("spool-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("body.bin");
    let total = 300_000;
    std::fs::write(&path, expected(total)).unwrap();
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        let response = client
            .post(server.url("/file"))
            .body_file(&path)
            .send()
            .await
            .unwrap();
        assert_eq!(response.bytes().await.unwrap(), expected(total));
    });
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(server.requests()[0]
        .head
        .contains(&format!("Content-Length: {total}\r\n")));
}

#[test]
fn a_307_with_a_streamed_body_is_the_response_not_followed() {
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        let response = client
            .post(server.url("/redirect"))
            .body_reader(Trickle::new(50, 50), 50)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(response.headers()["location"], "/elsewhere");
        assert_eq!(response.info().redirects, 0);
    });
    assert_eq!(server.request_count(), 1, "the redirect was not followed");
}

#[test]
fn a_spent_body_is_not_resent_by_a_clone_or_the_retry_policy() {
    let server = Server::start(|req| match req.path.as_str() {
        "/busy" => Reply::status(503, &[], "later"),
        _ => Reply::ok(req.body.clone()),
    });
    run(LIMIT, async {
        let client = Client::builder()
            .retry(RetryPolicy::new(3).retry_non_idempotent(true))
            .build()
            .unwrap();
        let request = client
            .put(server.url("/once"))
            .body_reader(Trickle::new(20, 20), 20)
            .build()
            .unwrap();
        let twin = request.clone();
        let first = client.execute(request).await.unwrap();
        assert_eq!(first.bytes().await.unwrap(), expected(20));
        let err = client.execute(twin).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Builder, "{err}");
        assert!(err.to_string().contains("already sent"), "{err}");
        // A 503 would be retried with an in-memory body; this one cannot be sent again.
        let busy = client
            .put(server.url("/busy"))
            .body_reader(Trickle::new(20, 20), 20)
            .send()
            .await
            .unwrap();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.info().retries, 0);
    });
    // /once, then /busy once: the clone and the retry sent nothing.
    assert_eq!(server.request_count(), 2);
}

/// A reader that gives `good` bytes of the pattern, then fails.
struct Failing {
    inner: Trickle,
    good: usize,
}

impl AsyncRead for Failing {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.inner.given >= self.good {
            return Poll::Ready(Err(io::Error::other("the pipe broke")));
        }
        let room = self.good - self.inner.given;
        let n = buf.len().min(room);
        Pin::new(&mut self.inner).poll_read(cx, &mut buf[..n])
    }
}

#[test]
fn a_body_of_unknown_length_goes_chunked_and_the_connection_is_reused() {
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        // More than one 64 KiB read, in odd pieces: one chunk per read.
        let total = 150_001;
        let response = client
            .post(server.url("/up"))
            .body_stream(Trickle::new(total, 9_999))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.bytes().await.unwrap(), expected(total));
        // The last chunk told the server where the body ended, so the connection carries the next.
        let again = client
            .put(server.url("/up"))
            .body_stream(Trickle::new(5, 2))
            .send()
            .await
            .unwrap();
        assert!(again.info().reused, "the connection was reused");
        assert_eq!(again.bytes().await.unwrap(), expected(5));
    });
    assert_eq!(server.accepted(), 1);
    for req in server.requests() {
        assert!(
            req.head.contains("Transfer-Encoding: chunked\r\n"),
            "{}",
            req.head
        );
        assert!(
            !req.head.to_ascii_lowercase().contains("content-length"),
            "{}",
            req.head
        );
    }
}

#[test]
fn an_empty_stream_is_a_body_of_zero_bytes() {
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        let response = client
            .post(server.url("/empty"))
            .body_stream(Trickle::new(0, 1))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.bytes().await.unwrap().is_empty());
    });
    assert_eq!(server.request_count(), 1);
}

#[test]
fn a_stream_that_fails_fails_the_request_and_never_ends_the_body() {
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        let err = client
            .post(server.url("/up"))
            .body_stream(Failing {
                inner: Trickle::new(100_000, 10_000),
                good: 30_000,
            })
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(err.to_string().contains("the pipe broke"), "{err}");
        // The last chunk was never written: the connection closed instead of going to the pool.
        assert_eq!(client.pool_status().open, 0);
    });
    assert_eq!(
        server.request_count(),
        0,
        "the server never saw a whole request"
    );
}

#[test]
fn a_307_with_a_stream_is_the_response_not_followed() {
    let server = echo_body();
    run(LIMIT, async {
        let client = Client::new();
        let response = client
            .post(server.url("/redirect"))
            .body_stream(Trickle::new(50, 50))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 307);
    });
    assert_eq!(server.request_count(), 1);
}
