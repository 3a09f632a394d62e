//! A small forward proxy on loopback for the proxy tests, on std threads and blocking sockets: it
//! takes absolute-form requests (`GET http://host:port/path HTTP/1.1`) and `CONNECT host:port`.
//!
//! - Plain requests are sent upstream in origin form over one kept-alive upstream connection per
//!   client connection (per upstream address), `Proxy-Authorization` and `Proxy-Connection`
//!   removed; responses are relayed with their `Content-Length` body (all this proxy supports:
//!   nginx and the tiny origin send it), and the client connection is kept alive.
//! - `CONNECT` opens the upstream connection, answers `200 Connection established` (or the status
//!   the test chose) and then copies bytes both ways until either side closes.
//! - With [`ForwardProxy::require_auth`], a request without the expected `Proxy-Authorization` gets
//!   `407` and is recorded as refused.
//!
//! Every request line is recorded with the `Proxy-Authorization` value it carried, so a test can
//! check what reached the proxy; connections accepted are counted.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `GET http://127.0.0.1:8080/a HTTP/1.1`, `CONNECT 127.0.0.1:8443 HTTP/1.1`.
    pub line: String,
    /// The `Proxy-Authorization` value, if any.
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    accepted: AtomicUsize,
}

/// How the proxy behaves.
#[derive(Clone, Default)]
struct Rules {
    auth: Option<String>,
    connect_status: Option<u16>,
}

/// The running proxy; its threads live as long as the test process.
pub struct ForwardProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl ForwardProxy {
    /// A proxy that forwards everything.
    pub fn start() -> ForwardProxy {
        ForwardProxy::with(Rules::default())
    }

    /// A proxy that answers 407 unless `Proxy-Authorization` is exactly `value`.
    pub fn require_auth(value: &str) -> ForwardProxy {
        ForwardProxy::with(Rules {
            auth: Some(value.to_string()),
            ..Rules::default()
        })
    }

    /// A proxy that answers every CONNECT with `status` (and no tunnel).
    pub fn refusing_connect(status: u16) -> ForwardProxy {
        ForwardProxy::with(Rules {
            connect_status: Some(status),
            ..Rules::default()
        })
    }

    fn with(rules: Rules) -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the forward proxy");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                state.accepted.fetch_add(1, Ordering::SeqCst);
                let (state, rules) = (state.clone(), rules.clone());
                thread::spawn(move || {
                    let _ = serve(stream, &state, &rules);
                });
            }
        });
        ForwardProxy { addr, shared }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request line seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Client connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

/// A request head: its lines, without the blank one.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            return Ok(Some(lines));
        }
        lines.push(line);
    }
}

fn header<'a>(lines: &'a [String], name: &str) -> Option<&'a str> {
    lines[1..].iter().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn serve(client: TcpStream, shared: &Shared, rules: &Rules) -> io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    let mut upstream: Option<(String, TcpStream, BufReader<TcpStream>)> = None;
    while let Some(lines) = read_head(&mut reader)? {
        let authorization = header(&lines, "proxy-authorization").map(str::to_string);
        shared.seen.lock().unwrap().push(Seen {
            line: lines[0].clone(),
            authorization: authorization.clone(),
        });
        let mut parts = lines[0].split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let length: usize = header(&lines, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        if let Some(want) = &rules.auth {
            if authorization.as_deref() != Some(want.as_str()) {
                writer.write_all(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                      Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
                )?;
                continue;
            }
        }
        if method == "CONNECT" {
            if let Some(status) = rules.connect_status {
                let reply = format!("HTTP/1.1 {status} No\r\nContent-Length: 0\r\n\r\n");
                writer.write_all(reply.as_bytes())?;
                continue;
            }
            let up = match TcpStream::connect(target) {
                Ok(up) => up,
                Err(_) => {
                    writer.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
                    continue;
                }
            };
            writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            return splice(reader, writer, up);
        }
        // Absolute form: http://host:port/path
        let Some(rest) = target.strip_prefix("http://") else {
            writer.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")?;
            continue;
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let authority = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        if upstream.as_ref().is_none_or(|(a, _, _)| *a != authority) {
            let up = TcpStream::connect(&authority)?;
            let up_reader = BufReader::new(up.try_clone()?);
            upstream = Some((authority.clone(), up, up_reader));
        }
        let (_, up, up_reader) = upstream.as_mut().unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\n");
        for line in &lines[1..] {
            let name = line.split(':').next().unwrap_or("").trim();
            if !name.eq_ignore_ascii_case("proxy-authorization")
                && !name.eq_ignore_ascii_case("proxy-connection")
            {
                request.push_str(line);
                request.push_str("\r\n");
            }
        }
        request.push_str("\r\n");
        up.write_all(request.as_bytes())?;
        up.write_all(&body)?;
        let Some(head) = read_head(up_reader)? else {
            return Ok(());
        };
        let length: usize = header(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut reply = head.join("\r\n");
        reply.push_str("\r\n\r\n");
        let mut body = vec![0; if method == "HEAD" { 0 } else { length }];
        up_reader.read_exact(&mut body)?;
        writer.write_all(reply.as_bytes())?;
        writer.write_all(&body)?;
    }
    Ok(())
}

/// Copies both ways until either side closes (the tunnel).
fn splice(
    mut from_client: BufReader<TcpStream>,
    mut to_client: TcpStream,
    up: TcpStream,
) -> io::Result<()> {
    let mut up_read = up.try_clone()?;
    let mut up_write = up;
    // Bytes the client sent right after the CONNECT head (its TLS hello) are in the BufReader.
    let pending = from_client.buffer().to_vec();
    from_client.consume(pending.len());
    up_write.write_all(&pending)?;
    let mut client_side = from_client.into_inner();
    let back = thread::spawn(move || {
        let _ = io::copy(&mut up_read, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Both);
    });
    let _ = io::copy(&mut client_side, &mut up_write);
    let _ = up_write.shutdown(Shutdown::Both);
    let _ = back.join();
    Ok(())
}
