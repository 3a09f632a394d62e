//! # spool-client
//!
//! A minimal HTTP/1.1 client for the single-threaded [spool runtime](spool_runtime): one thread,
//! thousands of requests in flight, a keep-alive pool, and an API shaped like reqwest's.
//!
//! ```no_run
//! spool_runtime::block_on(async {
//!     let client = spool_client::Client::new();
//!     let response = client.get("http://127.0.0.1:8080/hello.txt").send().await?;
//!     assert!(response.status().is_success());
//!     let text = response.text().await?;
//!     println!("{text}");
//!     Ok::<(), spool_client::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! ## Layout
//! Two layers: a sans-IO protocol core that only sees bytes, and the I/O half that owns sockets,
//! time and the pool.
//!
//! - [`proto`] — the sans-IO HTTP/1.1 state machine: encodes request heads, parses response heads,
//!   frames bodies (RFC 9112), says whether a connection may be reused. No sockets, no clock.
//! - The top floor, one way down: `client.rs` ([`Client::new`], `get`/`post`/..., and
//!   [`ClientBuilder::build`]) → `builder.rs` ([`ClientBuilder`], the settings and their defaults)
//!   and `request.rs` ([`RequestBuilder`]) → `send.rs` → `redirect.rs` → `prepared.rs` ([`Request`],
//!   checked before anything is sent) and `handle.rs` (the [`Client`] handle and what its clones
//!   share). `request_api.rs` adds `query`, `form`, `json` (feature `json`), `basic_auth`,
//!   `bearer_auth`, `body_file`, [`Client::execute`], `error_for_status`.
//! - `send.rs` — one request from `send()` to a response head: redirects, the stale-connection
//!   retry, getting a connection.
//! - `pool/` — the keep-alive pool and the total / per-host connection limits, with FIFO waiting.
//! - `conn/` — one connection: the transport `Stream` (plain TCP or TLS), the I/O driver that
//!   feeds the state machine, the request/idle timer.
//! - [`tls`] — HTTPS: rustls driven over the runtime's `TcpStream`, verified by default, one
//!   session cache per client; certificate failures say why.
//! - `dial.rs` — host name to connection per the client's settings: the on-loop DNS stub
//!   resolver ([`spool_dns`], the default) or `getaddrinfo` on a helper thread ([`ResolverKind`]), pinned
//!   names, literal IPs; [`connect`] races the addresses (Happy Eyeballs, RFC 8305).
//! - `response.rs` + `body.rs` — [`Response`] and reading its body (`chunk`, `bytes`, `text`);
//!   `charset.rs` decodes text.
//! - `redirect.rs` — [`redirect::Policy`] and the RFC 9110 §15.4 rules; `reference.rs` resolves
//!   relative `Location`s (RFC 3986 §5.2).
//! - `url.rs` checks URLs; `origin.rs` is scheme + host + port (the pool key); `auth.rs` turns
//!   `user:pass@` into Basic authorization.
//! - [`proxy`] — forward proxies: the environment, `NO_PROXY` rules, absolute-form requests and
//!   CONNECT tunnels (the CONNECT bytes themselves are sans-IO, in [`proto`]).
//! - `polite/` — per-origin politeness: a request rate (token bucket) and a connection ramp.
//! - `retry.rs` — [`RetryPolicy`]: transient failures and 408/429/5xx tried again, exponential
//!   backoff with jitter, `Retry-After`.
//! - `redact.rs` — [`redact_url`]: `user:***@` for URLs shown to people.
//! - [`decode`] — content codings (gzip, deflate, br, zstd) decoded as the body streams, held to a
//!   decoded-size limit; `decoded.rs` puts them between a response's body and its reader
//!   ([`ClientBuilder::decompress`], on by default).
//! - `buffers.rs` — per-thread free lists of read and write buffers.
//! - `error.rs` — [`Error`] and [`ErrorKind`].
//!
//! ## How a request flows
//! 1. `client.get(url)` checks the URL (scheme http/https, a host, no spaces or control characters);
//!    `.header()` checks names and values. A mistake is returned by `send()` before any byte is sent.
//! 2. `send()` asks the pool for a connection to the URL's origin (scheme + host + port). An idle
//!    one is reused if a free probe finds it still open; otherwise the request takes a host slot,
//!    then a global slot (waiting in line when either limit is reached), and a new connection is
//!    opened: resolve the host, connect, all within the connect timeout.
//! 3. The driver asks the state machine to encode the request head and writes head and body in one
//!    system call. If the socket cannot take them, the task parks its waker in the runtime's reactor
//!    and returns `Pending`; the loop waits in `epoll_wait` until readiness or the next timer.
//! 4. When the socket turns readable, the driver takes a read buffer, reads, and feeds the bytes to
//!    the state machine, which yields the response head: `send()` returns a [`Response`].
//!    A pooled connection that the server closed before answering is retried once on a fresh
//!    connection, for idempotent methods. A 301/302/303/307/308 is followed per the redirect policy.
//! 5. The body is read on demand; its bytes are slices of the read buffer, not copies. At the end,
//!    the state machine says whether the connection may be reused: it goes back to the pool
//!    (buffers released) or is closed. Dropping a response before its end closes its connection,
//!    unless the rest of the body is already buffered (then the connection is reused).
//!
//! ## What it does not do (yet)
//! HTTP/2, pipelining, cookies, `Expect: 100-continue`, SOCKS or TLS-to-the-proxy.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod body;
mod buffers;
mod builder;
mod builder_policy;
mod charset;
mod client;
mod conn;
mod decoded;
mod dial;
mod error;
mod handle;
mod origin;
mod polite;
mod pool;
mod prepared;
mod redact;
mod reference;
mod request;
mod request_api;
mod response;
mod retry;
mod send;
mod upload;
mod url;

pub mod connect;
pub mod decode;
pub mod proto;
pub mod proxy;
pub mod redirect;
pub mod tls;

/// Hooks for the fuzz targets (`fuzz/`); not API.
#[doc(hidden)]
pub mod __fuzz;

pub use builder::ClientBuilder;
pub use dial::ResolverKind;
pub use error::{Error, ErrorKind};
pub use handle::Client;
pub use origin::write_origin_key;
pub use pool::PoolStatus;
pub use prepared::Request;
pub use proxy::{NoProxy, Proxy};
pub use redact::redact_url;
pub use request::RequestBuilder;
pub use response::{Response, ResponseInfo};
pub use retry::RetryPolicy;
pub use url::IntoUrl;

/// Re-exported from the `http` crate: the types requests and responses are made of.
pub use http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};

/// Re-exported from the `bytes` crate: body chunks are [`Bytes`].
pub use bytes::Bytes;
