//! A fault-injecting TCP proxy on loopback, for the fault suite (`tests/faults.rs`): clients connect to
//! it, it connects to the real server, and it damages what the server sends back in one chosen way.
//!
//! Plain std threads and blocking sockets: per accepted connection one thread copies requests
//! upstream untouched and one copies the response downstream through the [`Fault`]. Bytes are never
//! changed, only delayed, cut into pieces or cut off, so the same proxy works for plain HTTP and for
//! TLS (it sees only ciphertext).
//!
//! The proxy counts the connections it accepted and the client-to-server reads on each. A "request"
//! here is one such read: good enough for a client that writes each small request in one call and
//! waits for its response before the next (spool does), and documented where it matters.
//!
//! ```ignore
//! let proxy = FaultProxy::start(nginx_addr, Fault::ResetAfter(100));
//! let url = format!("http://{}/big.bin", proxy.addr()); // the client talks to the proxy
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// What happens to the bytes the server sends back (and, for [`Fault::DropRequest`], to a request).
#[derive(Clone)]
pub enum Fault {
    /// Pass everything through unchanged.
    None,
    /// Each piece read from the server is held this long before it is passed on.
    Latency(Duration),
    /// The response is passed on one byte per write (with `TCP_NODELAY`, so one byte per segment).
    ByteAtATime,
    /// After this many response bytes on a connection, the connection is reset (RST to the client).
    ResetAfter(usize),
    /// After `after` response bytes, nothing more is passed on for `stall`, then the connection is
    /// closed cleanly (FIN), mid-response if the response was longer.
    StallThenClose { after: usize, stall: Duration },
    /// After `after` response bytes, the proxy shuts down its sending side toward the client (FIN)
    /// but keeps reading the client's side: a half-closed connection.
    HalfClose { after: usize },
    /// Called for each read from the client with `(connection index, read index, response bytes sent
    /// so far on this connection)`, all counted from 0; when it returns true, the bytes are swallowed
    /// and the connection closed before any byte of a response to them. Counting response bytes lets
    /// a test say "the second request" over TLS too, where handshake messages are reads as well.
    DropRequest(Arc<dyn Fn(usize, usize, usize) -> bool + Send + Sync>),
}

/// The running proxy; stops accepting when dropped (open connections end with their peers).
pub struct FaultProxy {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    /// Bytes read from the server on all connections (counted as they are passed on).
    down_total: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Listens on an ephemeral loopback port and forwards every connection to `upstream`.
    pub fn start(upstream: SocketAddr, fault: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let down_total = Arc::new(AtomicUsize::new(0));
        let (count, stopping, down) = (accepted.clone(), stop.clone(), down_total.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let index = count.fetch_add(1, Ordering::SeqCst);
                let (fault, down) = (fault.clone(), down.clone());
                thread::spawn(move || {
                    let _ = serve(index, client, upstream, fault, &down);
                });
            }
        });
        FaultProxy {
            addr,
            accepted,
            down_total,
            stop,
        }
    }

    /// Where clients should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<proxy port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `https://127.0.0.1:<proxy port><path>` (the proxy passes TLS through untouched).
    pub fn tls_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Bytes the server sent on all connections so far (for a test to measure an exchange).
    pub fn bytes_down(&self) -> usize {
        self.down_total.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One proxied connection: requests up on a helper thread, the response down through the fault here.
fn serve(
    index: usize,
    client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    total_down: &AtomicUsize,
) -> io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let down_bytes = Arc::new(AtomicUsize::new(0));
    let up = {
        let (mut from, mut to) = (client.try_clone()?, server.try_clone()?);
        let (fault, client) = (fault.clone(), client.try_clone()?);
        let down_bytes = down_bytes.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            let mut requests = 0;
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if let Fault::DropRequest(drop_it) = &fault {
                    if drop_it(index, requests, down_bytes.load(Ordering::SeqCst)) {
                        // Close both ways before the server could answer: the client gets EOF with
                        // no byte of the response.
                        let _ = client.shutdown(Shutdown::Both);
                        let _ = to.shutdown(Shutdown::Both);
                        break;
                    }
                }
                requests += 1;
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        })
    };
    let ending = copy_down(
        server.try_clone()?,
        client.try_clone()?,
        &fault,
        &down_bytes,
        total_down,
    );
    match ending {
        Ok(Ending::HalfClosed) => {} // the client closes when it is done; then the up thread ends
        Ok(Ending::Reset) => {
            // SO_LINGER 0 is set: the last close sends RST. Shutting down only the reading side wakes
            // the up thread (its read returns 0) without sending anything to the client.
            let _ = client.shutdown(Shutdown::Read);
            let _ = server.shutdown(Shutdown::Both);
        }
        Ok(Ending::Closed) | Err(_) => {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
    let _ = up.join();
    ending.map(drop)
}

/// How the downstream copy ended, which decides how the connection is closed.
enum Ending {
    /// The server closed, or the fault closes cleanly: FIN both ways.
    Closed,
    /// The fault resets the connection: RST to the client.
    Reset,
    /// The fault half-closed the client's connection: leave its reading side alone.
    HalfClosed,
}

/// Copies the server's bytes to the client, applying `fault`.
fn copy_down(
    mut server: TcpStream,
    mut client: TcpStream,
    fault: &Fault,
    down_bytes: &AtomicUsize,
    total_down: &AtomicUsize,
) -> io::Result<Ending> {
    let mut buf = [0u8; 16 * 1024];
    let mut sent = 0usize;
    loop {
        let n = server.read(&mut buf)?;
        if n == 0 {
            return Ok(Ending::Closed);
        }
        let piece = &buf[..n];
        // Counted before the write: once the client has these bytes, its next request sees them counted.
        down_bytes.store(sent + n, Ordering::SeqCst);
        total_down.fetch_add(n, Ordering::SeqCst);
        match fault {
            Fault::None | Fault::DropRequest(_) => client.write_all(piece)?,
            Fault::Latency(d) => {
                thread::sleep(*d);
                client.write_all(piece)?;
            }
            Fault::ByteAtATime => {
                for b in piece {
                    client.write_all(std::slice::from_ref(b))?;
                }
            }
            Fault::ResetAfter(limit) => {
                let room = limit.saturating_sub(sent).min(n);
                client.write_all(&piece[..room])?;
                if sent + n >= *limit {
                    // SO_LINGER 0: closing sends RST instead of FIN.
                    socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO))?;
                    return Ok(Ending::Reset);
                }
            }
            Fault::StallThenClose { after, stall } => {
                let room = after.saturating_sub(sent).min(n);
                client.write_all(&piece[..room])?;
                if sent + n >= *after {
                    thread::sleep(*stall);
                    return Ok(Ending::Closed);
                }
            }
            Fault::HalfClose { after } => {
                let room = after.saturating_sub(sent).min(n);
                client.write_all(&piece[..room])?;
                if sent + n >= *after {
                    client.shutdown(Shutdown::Write)?;
                    return Ok(Ending::HalfClosed);
                }
            }
        }
        sent += n;
    }
}
