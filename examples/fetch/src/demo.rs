//! `fetch --demo`: a small keep-alive HTTP/1.1 server started inside the same process, on the same loop
//! and thread as the requests that hit it, so a fresh machine can watch thousands of requests go
//! through one thread with nothing else installed.
//!
//! The server answers `GET /demo/<size>` with `<size>` bytes for each size in [`SIZES`] (anything else
//! gets a 404), keeps connections open, and understands just enough of a request to find where it ends
//! ([`parse_request`], a pure function of the bytes read so far; the connection task only moves bytes).
//! It is a demo, not a web server: no chunked request bodies, no pipelining beyond reading requests in
//! order.

use spool_runtime::net::{TcpListener, TcpStream};
use spool_runtime::time::sleep;
use spool_runtime::JoinHandle;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

/// Body sizes the demo serves, in turn.
pub const SIZES: [usize; 3] = [100, 1_000, 10_000];

/// Request heads longer than this are refused (431) and the connection closed.
const MAX_HEAD: usize = 16 * 1024;

/// A running demo server; stopped when dropped.
pub struct DemoServer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl DemoServer {
    /// Bind 127.0.0.1 on a free port and start serving. Must run inside the runtime.
    pub fn start() -> io::Result<DemoServer> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let addr = listener.local_addr()?;
        let responses = Rc::new(Responses::new());
        let accept = spool_runtime::spawn(accept_loop(listener, responses));
        Ok(DemoServer { addr, accept })
    }

    /// The URL of the `i`-th demo request: the sizes in turn.
    pub fn url(&self, i: u64) -> String {
        format!(
            "http://{}/demo/{}",
            self.addr,
            SIZES[(i % SIZES.len() as u64) as usize]
        )
    }

    /// Body bytes the first `n` demo URLs carry in total.
    #[cfg(test)]
    pub fn expected_bytes(n: u64) -> u64 {
        (0..SIZES.len() as u64)
            .map(|k| {
                (n / SIZES.len() as u64 + u64::from(k < n % SIZES.len() as u64))
                    * SIZES[k as usize] as u64
            })
            .sum()
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Whole responses (head and body), rendered once and written with one call each.
struct Responses {
    by_size: Vec<(usize, Vec<u8>)>,
    not_found: Vec<u8>,
}

impl Responses {
    fn new() -> Responses {
        let render = |status: &str, body: &[u8]| {
            let mut r = format!(
                "HTTP/1.1 {status}\r\nServer: fetch-demo\r\nContent-Type: application/octet-stream\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        };
        Responses {
            by_size: SIZES
                .iter()
                .map(|&n| (n, render("200 OK", &demo_body(n))))
                .collect(),
            not_found: render("404 Not Found", b"not found\n"),
        }
    }

    fn for_path(&self, path: &[u8]) -> &[u8] {
        let size = path
            .strip_prefix(b"/demo/")
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse::<usize>().ok());
        match self.by_size.iter().find(|(n, _)| Some(*n) == size) {
            Some((_, r)) => r,
            None => &self.not_found,
        }
    }
}

/// The body served for `size`: printable, repeating, so saved files are easy to look at.
pub fn demo_body(size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz\n"[i % 27])
        .collect()
}

async fn accept_loop(listener: TcpListener, responses: Rc<Responses>) {
    // Backoff after a failed accept (out of descriptors, most likely: the fetch side of this very process
    // may hold them all). Waiting lets finished requests give some back; it doubles up to a second.
    let mut backoff = Duration::from_millis(1);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                backoff = Duration::from_millis(1);
                spool_runtime::spawn(serve(stream, responses.clone()));
            }
            Err(_) => {
                sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Serve requests on one connection until the client closes it (or sends something unusable).
async fn serve(stream: TcpStream, responses: Rc<Responses>) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 4096];
    let mut have = 0;
    loop {
        match parse_request(&buf[..have]) {
            Parsed::Incomplete => {
                if have == buf.len() {
                    if buf.len() >= MAX_HEAD {
                        let _ = stream
                            .write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .await;
                        return;
                    }
                    buf.resize(buf.len() * 2, 0);
                }
                match stream.read(&mut buf[have..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => have += n,
                }
            }
            Parsed::Bad => {
                let _ = stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                return;
            }
            Parsed::Request {
                head_len,
                path,
                body_len,
                close,
            } => {
                let response = responses.for_path(&buf[path.0..path.1]);
                if stream.write_all(response).await.is_err() {
                    return;
                }
                if close {
                    return;
                }
                // Drop the request (head and body) from the buffer, reading the rest of a body if needed.
                let mut skip = head_len as u64 + body_len;
                while skip > have as u64 {
                    skip -= have as u64;
                    have = match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                }
                buf.copy_within(skip as usize..have, 0);
                have -= skip as usize;
            }
        }
    }
}

/// What the bytes read so far hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// No complete head yet.
    Incomplete,
    /// Not a request this server can answer.
    Bad,
    /// A request: its head's length, the target's byte range, its body length, and whether the client
    /// asked to close.
    Request {
        head_len: usize,
        path: (usize, usize),
        body_len: u64,
        close: bool,
    },
}

/// Find the first request in `buf`: the request line's target, and from the header fields only
/// `Content-Length`, `Transfer-Encoding` (refused) and `Connection: close`.
pub fn parse_request(buf: &[u8]) -> Parsed {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Parsed::Incomplete;
    };
    let head = &buf[..end];
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = lines.next().unwrap_or(b"");
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(_method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Parsed::Bad;
    };
    if !version.starts_with(b"HTTP/1.") || target.is_empty() {
        return Parsed::Bad;
    }
    let path_start = target.as_ptr() as usize - buf.as_ptr() as usize;
    let path_len = target
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(target.len());
    let mut body_len = 0u64;
    let mut close = version == b"HTTP/1.0";
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Parsed::Bad;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            match std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                Some(n) => body_len = n,
                None => return Parsed::Bad,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Parsed::Bad;
        } else if name.eq_ignore_ascii_case(b"connection") {
            close = value.eq_ignore_ascii_case(b"close");
        }
    }
    Parsed::Request {
        head_len: end + 4,
        path: (path_start, path_start + path_len),
        body_len,
        close,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests() {
        assert_eq!(
            parse_request(b"GET /demo/100 HTTP/1.1\r\nHost: x\r\n"),
            Parsed::Incomplete
        );
        let req = b"GET /demo/100?i=3 HTTP/1.1\r\nHost: x\r\n\r\nGET /next";
        assert_eq!(
            parse_request(req),
            Parsed::Request {
                head_len: req.len() - b"GET /next".len(),
                path: (4, 13),
                body_len: 0,
                close: false
            }
        );
        let post = b"POST /x HTTP/1.1\r\ncontent-length: 5\r\nConnection: close\r\n\r\nhello";
        assert!(matches!(
            parse_request(post),
            Parsed::Request {
                body_len: 5,
                close: true,
                ..
            }
        ));
        assert_eq!(parse_request(b"GARBAGE\r\n\r\n"), Parsed::Bad);
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Parsed::Bad
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Parsed::Bad
        );
    }

    #[test]
    fn expected_bytes_matches_the_urls() {
        for n in [0u64, 1, 2, 3, 4, 10, 10_000] {
            let want: u64 = (0..n).map(|i| SIZES[(i % 3) as usize] as u64).sum();
            assert_eq!(DemoServer::expected_bytes(n), want, "{n}");
        }
    }

    #[test]
    fn serves_sizes_and_404() {
        let r = Responses::new();
        let ok = r.for_path(b"/demo/1000");
        assert!(ok.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(ok.ends_with(&demo_body(1000)));
        assert!(r.for_path(b"/demo/7").starts_with(b"HTTP/1.1 404"));
    }

    #[test]
    fn answers_over_a_real_socket() {
        spool_runtime::block_on(async {
            let server = DemoServer::start().unwrap();
            let s = TcpStream::connect(server.addr()).await.unwrap();
            for _ in 0..2 {
                s.write_all(b"GET /demo/100 HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await
                    .unwrap();
                let want = Responses::new().for_path(b"/demo/100").to_vec();
                let mut got = vec![0; want.len()];
                s.read_exact(&mut got).await.unwrap();
                assert_eq!(got, want);
            }
        });
    }
}
