//! An in-process HTTP/1.1 test server for the client tests: it runs on its own thread with its own
//! spool runtime (so it never shares a loop with the client under test), answers each request with
//! whatever the test's handler says (including misbehaving on purpose), and counts connections.
//!
//! ```ignore
//! let server = Server::start(|req| Reply::ok(format!("you asked for {}", req.path)));
//! let url = server.url("/x");
//! // ... requests ...
//! assert_eq!(server.accepted(), 1);
//! ```

#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use spool_runtime::net::{TcpListener, TcpStream};
use spool_runtime::time::sleep;

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    /// The whole head, request line included, as received.
    pub head: String,
    pub body: Vec<u8>,
    /// The connection's number (1 for the first accepted).
    pub conn: usize,
    /// The request's number on its connection (1 for the first).
    pub nth: usize,
}

impl Req {
    /// The value of a header (case-insensitive name), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// What to do after the reply bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Read the next request.
    KeepOpen,
    /// Close the connection.
    Close,
    /// Keep the connection open but never read or write again (until the test ends).
    Hang,
}

/// The server's answer to one request: pieces of bytes, each after a delay, then `after`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub parts: Vec<(Duration, Vec<u8>)>,
    pub after: After,
}

impl Reply {
    /// Exactly these bytes, connection kept open.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply {
            parts: vec![(Duration::ZERO, bytes.into())],
            after: After::KeepOpen,
        }
    }

    /// `200 OK` with `Content-Length`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200, &[], body)
    }

    /// A status with extra header lines (`"Name: value"`) and a `Content-Length` body.
    pub fn status(code: u16, headers: &[&str], body: impl Into<Vec<u8>>) -> Reply {
        let body = body.into();
        let mut out = format!(
            "HTTP/1.1 {code} Something\r\nContent-Length: {}\r\n",
            body.len()
        );
        for h in headers {
            out.push_str(h);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&body);
        Reply::raw(bytes)
    }

    /// A redirect with `Location: to` and a short body.
    pub fn redirect(code: u16, to: &str) -> Reply {
        Reply::status(code, &[&format!("Location: {to}")], "moved")
    }

    /// Close the connection without answering.
    pub fn close_silently() -> Reply {
        Reply {
            parts: Vec::new(),
            after: After::Close,
        }
    }

    /// Never answer; keep the connection open.
    pub fn hang() -> Reply {
        Reply {
            parts: Vec::new(),
            after: After::Hang,
        }
    }

    /// Close after writing.
    pub fn then_close(mut self) -> Reply {
        self.after = After::Close;
        self
    }

    /// Hang after writing.
    pub fn then_hang(mut self) -> Reply {
        self.after = After::Hang;
        self
    }

    /// Wait before writing the first part.
    pub fn delayed(mut self, delay: Duration) -> Reply {
        if let Some(first) = self.parts.first_mut() {
            first.0 += delay;
        } else {
            self.parts.push((delay, Vec::new()));
        }
        self
    }

    /// Adds more bytes after a delay.
    pub fn then_after(mut self, delay: Duration, bytes: impl Into<Vec<u8>>) -> Reply {
        self.parts.push((delay, bytes.into()));
        self
    }
}

type Handler = dyn Fn(&Req) -> Reply + Send + Sync;

/// Counters the server keeps.
#[derive(Debug, Default)]
pub struct Counters {
    pub accepted: AtomicUsize,
    pub active: AtomicUsize,
    pub max_active: AtomicUsize,
    pub requests: AtomicUsize,
}

/// A running server; stopped when dropped.
pub struct Server {
    addrs: Vec<SocketAddr>,
    counters: Arc<Counters>,
    log: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on 127.0.0.1 (a free port) answering with `handler`.
    pub fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_ports(1, handler)
    }

    /// Like [`Server::start`], listening on `ports` ports (distinct origins for the client) that
    /// share the handler and the counters.
    pub fn start_ports(
        ports: usize,
        handler: impl Fn(&Req) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listeners: Vec<std::net::TcpListener> = (0..ports)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind a test server"))
            .collect();
        let addrs = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        let counters = Arc::new(Counters::default());
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let (counters, log, stop) = (counters.clone(), log.clone(), stop.clone());
            thread::spawn(move || {
                spool_runtime::block_on(async move {
                    let mut accept_loops = Vec::new();
                    for std_listener in listeners {
                        let (handler, counters, log, stop) =
                            (handler.clone(), counters.clone(), log.clone(), stop.clone());
                        accept_loops.push(spool_runtime::spawn(async move {
                            let listener = TcpListener::from_std(std_listener).unwrap();
                            accept_loop(listener, handler, counters, log, stop).await
                        }));
                    }
                    // The first port's loop sees the stop flag (Drop connects to it) and ends the
                    // server; the runtime then drops every other task.
                    if let Some(first) = accept_loops.into_iter().next() {
                        let _ = first.await;
                    }
                })
            })
        };
        Server {
            addrs,
            counters,
            log,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addrs[0], path)
    }

    /// The address of the `i`-th port.
    pub fn addr_on(&self, i: usize) -> SocketAddr {
        self.addrs[i]
    }

    /// The URL of `path` on the `i`-th port.
    pub fn url_on(&self, i: usize, path: &str) -> String {
        format!("http://{}{}", self.addrs[i], path)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.counters.accepted.load(Ordering::SeqCst)
    }

    /// Most connections open at the same time so far.
    pub fn max_active(&self) -> usize {
        self.counters.max_active.load(Ordering::SeqCst)
    }

    /// Connections open now (the server notices a client's close on its next read).
    pub fn active(&self) -> usize {
        self.counters.active.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake an accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.addrs[0]);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    handler: Arc<Handler>,
    counters: Arc<Counters>,
    log: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let n = counters.accepted.fetch_add(1, Ordering::SeqCst) + 1;
        let active = counters.active.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_active.fetch_max(active, Ordering::SeqCst);
        let (handler, counters, log) = (handler.clone(), counters.clone(), log.clone());
        spool_runtime::spawn(async move {
            serve(stream, n, &*handler, &counters, &log).await;
            counters.active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Serves one connection until the client closes it or the handler says otherwise.
async fn serve(
    stream: TcpStream,
    conn: usize,
    handler: &Handler,
    counters: &Counters,
    log: &Mutex<Vec<Req>>,
) {
    let mut buf = Vec::new();
    let mut nth = 0;
    loop {
        let Some(req) = read_request(&stream, &mut buf, conn, nth + 1).await else {
            return;
        };
        nth += 1;
        counters.requests.fetch_add(1, Ordering::SeqCst);
        log.lock().unwrap().push(req.clone());
        let reply = handler(&req);
        for (delay, bytes) in &reply.parts {
            if !delay.is_zero() {
                sleep(*delay).await;
            }
            if !bytes.is_empty() && stream.write_all(bytes).await.is_err() {
                return;
            }
        }
        match reply.after {
            After::KeepOpen => {}
            After::Close => return,
            After::Hang => {
                // Hold the connection until the server stops (its runtime drops this task).
                sleep(Duration::from_secs(3600)).await;
                return;
            }
        }
    }
}

/// Reads one request (head, then a `Content-Length` or chunked body); `None` at EOF or on garbage.
async fn read_request(
    stream: &TcpStream,
    buf: &mut Vec<u8>,
    conn: usize,
    nth: usize,
) -> Option<Req> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next()?.to_string();
    let path = words.next()?.to_string();
    let field = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let chunked = field("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let (body, end) = if chunked {
        read_chunked(stream, buf, head_end).await?
    } else {
        let length: usize = field("content-length").map_or(Some(0), |v| v.parse().ok())?;
        while buf.len() < head_end + length {
            read_more(stream, buf).await?;
        }
        (buf[head_end..head_end + length].to_vec(), head_end + length)
    };
    buf.drain(..end);
    Some(Req {
        method,
        path,
        head,
        body,
        conn,
        nth,
    })
}

/// Decodes a chunked body that starts at `at` (RFC 9112 §7.1; written apart from the client's
/// decoder, so a test checks the client's framing against a second reading of the RFC). Returns
/// the body and where the message ends; `None` on a framing error.
async fn read_chunked(
    stream: &TcpStream,
    buf: &mut Vec<u8>,
    mut at: usize,
) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(&buf[at..], b"\r\n") {
                break at + i;
            }
            read_more(stream, buf).await?;
        };
        let line = std::str::from_utf8(&buf[at..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // Trailer lines, then the empty line that ends the message.
            loop {
                while find(&buf[at..], b"\r\n").is_none() {
                    read_more(stream, buf).await?;
                }
                let i = find(&buf[at..], b"\r\n")?;
                at += i + 2;
                if i == 0 {
                    return Some((body, at));
                }
            }
        }
        while buf.len() < at + size + 2 {
            read_more(stream, buf).await?;
        }
        body.extend_from_slice(&buf[at..at + size]);
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return None;
        }
        at += size + 2;
    }
}

/// Appends what one read gives; `None` at EOF or on an error.
async fn read_more(stream: &TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await.ok()?;
    if n == 0 {
        return None;
    }
    buf.extend_from_slice(&chunk[..n]);
    Some(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Runs `f` on a fresh runtime, failing the test if it takes longer than `limit` (every test is
/// bounded in time).
pub fn run<F: std::future::Future>(limit: Duration, f: F) -> F::Output {
    spool_runtime::block_on(async move {
        spool_runtime::time::timeout(limit, f)
            .await
            .unwrap_or_else(|_| panic!("test did not finish within {limit:?}"))
    })
}

/// Polls `cond` every 10 ms for up to 5 s (never a timed assertion: only an upper bound).
#[allow(dead_code)] // not every test file that includes this module polls
pub async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if cond() {
            return true;
        }
        spool_runtime::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

/// Sends `request` and returns the body as text, failing the test on any error: the
/// `send → unwrap → text → unwrap` chain most tests start from.
#[allow(dead_code)] // not every test file that includes this module reads bodies this way
pub async fn text_of(request: spool_client::RequestBuilder) -> String {
    request.send().await.unwrap().text().await.unwrap()
}
