//! A small blocking TLS server for tests: rustls's `ServerConnection` over a `std::net`
//! socket on its own thread, bound to 127.0.0.1, serving a fixed number of connections.
//!
//! Each accepted connection completes its handshake (or records why it failed) and is then
//! handed to the test's handler as a [`Session`]. Everything is bounded: accepting gives up after
//! 10 s, socket reads and writes time out after 10 s, and [`TlsServer::finish`] joins the thread.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, SupportedProtocolVersion};

use super::pki::ServerIdentity;

const LIMIT: Duration = Duration::from_secs(10);

/// TLS 1.3 only, TLS 1.2 only, or both (what the server accepts).
pub const TLS13: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];
pub const TLS12: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];
pub const BOTH: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// What happened on one accepted connection, in order of acceptance.
#[derive(Debug)]
pub struct Outcome {
    /// `Err` holds rustls's error text when the handshake failed (e.g. the client's alert).
    pub handshake: Result<(), String>,
    /// Whether the client resumed a session.
    pub resumed: bool,
    /// Notes the handler added (e.g. how the client closed).
    pub notes: Vec<String>,
}

/// A running test server; [`finish`](Self::finish) joins it.
pub struct TlsServer {
    addr: SocketAddr,
    thread: Option<JoinHandle<Vec<Outcome>>>,
}

impl TlsServer {
    /// Serves `connections` connections with `identity`, accepting `versions`, calling
    /// `handler` on each session whose handshake succeeded.
    pub fn start(
        identity: ServerIdentity,
        versions: &'static [&'static SupportedProtocolVersion],
        connections: usize,
        handler: impl Fn(&mut Session) + Send + 'static,
    ) -> TlsServer {
        TlsServer::start_with_config(server_config(identity, versions), connections, handler)
    }

    /// As [`start`](Self::start), with a server configuration of the test's own (client
    /// certificates required, say).
    pub fn start_with_config(
        config: ServerConfig,
        connections: usize,
        handler: impl Fn(&mut Session) + Send + 'static,
    ) -> TlsServer {
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            (0..connections)
                .map(|_| serve_one(&listener, &config, &handler))
                .collect()
        });
        TlsServer {
            addr,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the server thread and returns what happened on each connection.
    pub fn finish(mut self) -> Vec<Outcome> {
        let thread = self.thread.take().unwrap();
        match thread.join() {
            Ok(outcomes) => outcomes,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

fn server_config(
    identity: ServerIdentity,
    versions: &'static [&'static SupportedProtocolVersion],
) -> ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Stateless tickets (TLS 1.2 and 1.3) besides the default stateful session cache.
    config.ticketer = rustls::crypto::ring::Ticketer::new().unwrap();
    config
}

fn serve_one(
    listener: &TcpListener,
    config: &Arc<ServerConfig>,
    handler: &impl Fn(&mut Session),
) -> Outcome {
    let tcp = accept_within(listener, LIMIT);
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    tcp.set_write_timeout(Some(LIMIT)).unwrap();
    let mut session = Session {
        tls: ServerConnection::new(config.clone()).unwrap(),
        tcp,
        notes: Vec::new(),
    };
    while session.tls.is_handshaking() {
        if let Err(e) = session.tls.complete_io(&mut session.tcp) {
            return Outcome {
                handshake: Err(e.to_string()),
                resumed: false,
                notes: Vec::new(),
            };
        }
    }
    let resumed = session.tls.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    handler(&mut session);
    Outcome {
        handshake: Ok(()),
        resumed,
        notes: session.notes,
    }
}

/// Accepts one connection, polling so that a client that never comes fails the test in time.
fn accept_within(listener: &TcpListener, limit: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((tcp, _)) => {
                tcp.set_nonblocking(false).unwrap();
                return tcp;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("test server: no client connected within {limit:?}: {e}"),
        }
    }
}

/// One established server-side TLS session.
pub struct Session {
    tls: ServerConnection,
    tcp: TcpStream,
    notes: Vec<String>,
}

impl Session {
    /// Reads one HTTP request: the head and a `Content-Length` body. Returns it whole.
    pub fn read_request(&mut self) -> Vec<u8> {
        let mut request = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let head_end = loop {
            if let Some(end) = find(&request, b"\r\n\r\n") {
                break end + 4;
            }
            let n = self
                .read(&mut buf)
                .expect("test server: reading the request head");
            assert!(
                n > 0,
                "test server: client closed before the request head ended"
            );
            request.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
        let body_len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0);
        while request.len() < head_end + body_len {
            let n = self
                .read(&mut buf)
                .expect("test server: reading the request body");
            assert!(
                n > 0,
                "test server: client closed in the middle of the body"
            );
            request.extend_from_slice(&buf[..n]);
        }
        request
    }

    /// Plaintext from the client (`Ok(0)` after its close_notify).
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        rustls::Stream::new(&mut self.tls, &mut self.tcp).read(buf)
    }

    /// Sends `bytes` to the client and flushes them to the socket.
    pub fn write_all(&mut self, bytes: &[u8]) {
        let mut stream = rustls::Stream::new(&mut self.tls, &mut self.tcp);
        stream.write_all(bytes).unwrap();
        stream.flush().unwrap();
    }

    /// Ends the connection properly: close_notify, then the TCP write side.
    pub fn close_notify(&mut self) {
        self.tls.send_close_notify();
        while self.tls.wants_write() {
            self.tls.write_tls(&mut self.tcp).unwrap();
        }
        let _ = self.tcp.shutdown(Shutdown::Write);
    }

    /// Ends the connection the way a truncating attacker or sloppy server would: a TCP FIN with
    /// no close_notify before it.
    pub fn bare_close(&mut self) {
        let _ = self.tcp.shutdown(Shutdown::Write);
    }

    /// Reads until the client ends the connection and notes how: "clean close" after its
    /// close_notify, "bare close" after a TCP FIN without it.
    pub fn note_how_client_closes(&mut self) {
        let mut buf = [0u8; 1024];
        let how = loop {
            match self.read(&mut buf) {
                Ok(0) => break "clean close".to_string(),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break "bare close".into(),
                Err(e) => break format!("error: {e}"),
            }
        };
        self.notes.push(how);
    }

    /// The certificates the client presented, leaf first (empty when it sent none).
    pub fn peer_certificates(&self) -> Vec<Vec<u8>> {
        self.tls
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(|c| c.as_ref().to_vec())
            .collect()
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
