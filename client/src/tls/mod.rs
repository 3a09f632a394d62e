//! HTTPS underneath the HTTP/1.1 driver: rustls (with the `ring` provider) run without blocking
//! over the runtime's `TcpStream`, verified by default.
//!
//! # Layout
//!
//! - `config.rs` — [`TlsConnectorBuilder`]: trust roots (Mozilla's `webpki-roots` by default, the
//!   system store with the `native-roots` feature, extra PEM roots), ALPN `http/1.1`, the session
//!   cache, and the dangerous accept-anything switch for tests.
//! - `connector.rs` — [`TlsConnector`]: one per client, cloned into each connection; runs the
//!   handshake and counts full vs. resumed handshakes ([`HandshakeStats`]).
//! - `stream.rs` — [`TlsStream`]: `futures_io::AsyncRead + AsyncWrite` over the TLS session.
//!   Start reading here to see how rustls is pumped.
//! - `io.rs` — the adapter that lets rustls's `std::io` calls poll the runtime's socket.
//! - `error.rs` — [`TlsError`]: certificate failures classified into words ("certificate not
//!   trusted: unknown issuer", "certificate expired on ...", "certificate not valid for name ...").
//! - `utc.rs` — certificate dates printed for those messages.
//! - `certificate.rs` — [`Certificate`]: roots read from PEM or DER.
//! - `identity.rs` — [`Identity`]: a client certificate and key for servers that ask for one.
//! - `pinned.rs` — accepts a configured self-signed `CA:TRUE` certificate as a server's own, as
//!   curl does (webpki alone refuses it); `validity.rs` reads its dates.
//! - `danger.rs` — the accept-anything verifier behind
//!   [`danger_accept_invalid_certs`](TlsConnectorBuilder::danger_accept_invalid_certs).
//!
//! # How a connection is made
//!
//! 1. The client connects a `TcpStream` to the resolved address.
//! 2. [`TlsConnector::connect`]`(host, tcp)` creates a `rustls::ClientConnection` for `host` (SNI for
//!    a DNS name, none for an IP literal) and pumps the handshake: write what rustls queued, read
//!    what the server sent, `process_new_packets`, until rustls is no longer handshaking. Each
//!    `WouldBlock` is a `Pending` with the task's waker parked in the reactor.
//! 3. A certificate problem ends the handshake with a [`TlsError`] that says why (its
//!    [`kind`](TlsError::kind) for programs); rustls's alert is sent to the server on the way out.
//! 4. The driver then reads and writes the [`TlsStream`] as it would the `TcpStream`.
//!
//! # Contract for the HTTP driver
//!
//! **Flushing.** `poll_write` hands bytes to rustls, which encrypts them and writes records to the
//! socket as far as it takes them; the rest waits in rustls. Call `poll_flush` after the request
//! (a no-op for `TcpStream`, so it is cheap to do for both). A read also flushes first, so a
//! request cannot get stuck behind a driver that forgot.
//!
//! **End of stream and truncation.** A TLS server ends a connection with a `close_notify` alert;
//! only that proves that nothing was cut off. So `poll_read` returns:
//! - `Ok(0)` — the server sent `close_notify`: a clean end, exactly like a TCP EOF on plain HTTP;
//! - `Err(e)` with `e.kind() == UnexpectedEof` — the TCP connection closed *without*
//!   `close_notify`: an attacker (or a sloppy server) may have cut the stream.
//!
//! What the driver does with `UnexpectedEof` depends on where the response is:
//! - **Close-delimited body** (no `Content-Length`, not chunked): an error, never a complete
//!   body. Only `Ok(0)` may call `decode_eof` to end such a body.
//! - **Body whose framing shows it incomplete** (Content-Length not reached, chunked without its
//!   last chunk): an error, as with plain TCP.
//! - **Fully framed body already complete**: the driver has stopped reading at `Event::End`, so it
//!   never sees the close; the response is a success.
//! - **Before any byte of the response, or on an idle pooled connection**: treat it like a TCP
//!   EOF (pass it to `decode_eof`): the server closed an idle keep-alive connection, and many
//!   servers skip `close_notify` when they do; this is the usual retry-once case.
//!
//! **Idle connections.** To check a pooled connection without a task context, use
//! [`TlsStream::try_read`] (never the `TcpStream` underneath: that would eat TLS records). Before
//! parking a connection in the pool, call [`TlsStream::shrink_idle_buffers`].
//!
//! **Errors.** After the handshake, TLS failures arrive as `io::Error` of kind `InvalidData`
//! wrapping a [`TlsError`] ([`TlsError::from_io`] gets it back); socket errors are plain
//! `io::Error`s. [`TlsError`] converts into `io::Error` with `?`.
//!
//! # Memory
//!
//! rustls keeps per connection: its state and keys, a buffer for incoming records (4 KiB when
//! idle, up to ~18 KiB used while a 16 KiB record is assembled, in a `Vec` whose capacity may
//! have doubled to 32 KiB), and queues for outgoing records and decrypted plaintext that are
//! empty when idle. [`TlsStream::shrink_idle_buffers`] returns the incoming buffer to 4 KiB;
//! rustls allows no smaller. The client's pool calls it when a connection goes idle.
//!
//! Measured by `tests/tls_memory.rs` (resident memory of 400 idle connections to nginx, per
//! connection, beyond a plain TCP connection; release build):
//!
//! | state of the idle connection | bytes |
//! |---|---|
//! | handshake done | ~8,300 |
//! | after a 100-byte response | ~8,300 |
//! | after a 256 KiB response, buffers as rustls left them | ~35,500 |
//! | after a 256 KiB response and `shrink_idle_buffers` | ~9,100 |

mod certificate;
mod config;
mod connector;
mod danger;
mod error;
mod identity;
mod io;
mod pinned;
mod stream;
mod utc;
mod validity;

pub use certificate::Certificate;
pub use config::{TlsConnectorBuilder, DEFAULT_SESSION_CACHE_HOSTS};
pub use connector::{HandshakeStats, TlsConnector};
pub use error::{TlsError, TlsErrorKind};
pub use identity::Identity;
pub use stream::{TlsStream, TlsVersion};
