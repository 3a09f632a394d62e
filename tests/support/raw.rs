//! A tiny blocking HTTP/1.x exchange on `std::net::TcpStream`, independent of spool, so the harness
//! can check what the real servers send (and a test can compare spool against the raw bytes).
//!
//! It reads only well-formed responses from trusted local servers: framing by `Content-Length`,
//! `chunked` (sizes kept, so a test can see the chunking), or end of stream. Every read has a
//! timeout, so a wrong expectation fails the test instead of hanging it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

/// Read/write timeout on raw connections: long enough for a loaded CI machine.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Upper bound on a response head, so garbage cannot make the reader loop for long.
const MAX_HEAD_LINES: usize = 200;

/// Upper bound on the number of chunks read from one body.
const MAX_CHUNKS: usize = 1_000_000;

/// One response as the server sent it.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status line, e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// Status code from the status line.
    pub status: u16,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body after removing chunked framing.
    pub body: Vec<u8>,
    /// Sizes of the chunks, in order, when the body was chunked (the final 0 not included).
    pub chunk_sizes: Option<Vec<usize>>,
}

impl RawResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when the body arrived with `Transfer-Encoding: chunked` framing.
    pub fn is_chunked(&self) -> bool {
        self.chunk_sizes.is_some()
    }
}

/// A blocking connection to `127.0.0.1:port` with [`IO_TIMEOUT`] on reads and writes.
pub fn connect(port: u16) -> io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(BufReader::new(stream))
}

/// Sends a `GET path HTTP/1.1` with `Host` plus `extra_headers` (each `"Name: value"`).
pub fn send_get(
    conn: &mut BufReader<TcpStream>,
    path: &str,
    extra_headers: &[&str],
) -> io::Result<()> {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for header in extra_headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    conn.get_mut().write_all(request.as_bytes())
}

/// One `GET` on a fresh connection with `Connection: close`; panics on any I/O error.
pub fn get(port: u16, path: &str) -> RawResponse {
    let result = connect(port).and_then(|mut conn| {
        send_get(&mut conn, path, &["Connection: close"])?;
        read_response(&mut conn, false)
    });
    result.unwrap_or_else(|e| panic!("raw GET 127.0.0.1:{port}{path} failed: {e}"))
}

/// Reads the next response from `conn`; `head_request` says the request was `HEAD` (no body).
///
/// Bytes after the response stay buffered in `conn` for the next call (keep-alive, pipelining).
pub fn read_response(
    conn: &mut BufReader<TcpStream>,
    head_request: bool,
) -> io::Result<RawResponse> {
    let status_line = read_line(conn)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| invalid(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    for _ in 0..MAX_HEAD_LINES {
        let line = read_line(conn)?;
        if line.is_empty() {
            let mut response = RawResponse {
                status_line,
                status,
                headers,
                body: Vec::new(),
                chunk_sizes: None,
            };
            read_body(conn, &mut response, head_request)?;
            return Ok(response);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Err(invalid(format!("more than {MAX_HEAD_LINES} header lines")))
}

fn read_body(
    conn: &mut BufReader<TcpStream>,
    response: &mut RawResponse,
    head_request: bool,
) -> io::Result<()> {
    let no_body = head_request || response.status < 200 || matches!(response.status, 204 | 304);
    if no_body {
        return Ok(());
    }
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut sizes = Vec::new();
        for _ in 0..MAX_CHUNKS {
            let size_line = read_line(conn)?;
            let hex = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(hex, 16)
                .map_err(|_| invalid(format!("bad chunk size line {size_line:?}")))?;
            if size == 0 {
                // Trailer fields end with an empty line, like the head.
                for _ in 0..MAX_HEAD_LINES {
                    if read_line(conn)?.is_empty() {
                        response.chunk_sizes = Some(sizes);
                        return Ok(());
                    }
                }
                return Err(invalid(format!("more than {MAX_HEAD_LINES} trailer lines")));
            }
            let start = response.body.len();
            response.body.resize(start + size, 0);
            conn.read_exact(&mut response.body[start..])?;
            if !read_line(conn)?.is_empty() {
                return Err(invalid("chunk data not followed by CRLF".to_string()));
            }
            sizes.push(size);
        }
        return Err(invalid(format!("more than {MAX_CHUNKS} chunks")));
    }
    if let Some(length) = response.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| invalid(format!("bad Content-Length {length:?}")))?;
        response.body.resize(length, 0);
        return conn.read_exact(&mut response.body);
    }
    // Neither: the body runs to the end of the stream (HTTP/1.0 style).
    conn.read_to_end(&mut response.body).map(|_| ())
}

/// One CRLF- (or LF-) terminated line without its terminator; end of stream is an error.
fn read_line(conn: &mut BufReader<TcpStream>) -> io::Result<String> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before the response was complete",
        ));
    }
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
