//! Test harness shared by spool's integration tests: it starts and stops real servers written by
//! others (nginx, Python's `http.server`) on loopback, and offers plain blocking tools to check them.
//!
//! Every top-level test file says `mod support;` and takes what it needs.
//!
//! # Layout
//! - [`skip`]: what happens when a server program is missing: skip with a visible notice on a
//!   developer's machine, fail under `CI=true` (where `.ci/run` must have installed it).
//! - [`ports`]: [`free_port`], [`free_ports`] and the bounded polling loop every readiness check uses.
//! - [`tempdir`]: private temporary directories, removed on drop.
//! - [`process`]: a server child process stopped by its own pid on drop; leftovers of killed runs reaped.
//! - [`nginx_conf`]: [`NginxOptions`] and the `nginx.conf` they render to.
//! - [`nginx_log`]: the access log nginx writes per request, parsed into [`LoggedRequest`]s.
//! - [`nginx`]: the [`Nginx`] guard: start, URLs, connection counting.
//! - [`python`]: the [`PythonServer`] guard around `python3 -m http.server`.
//! - [`certs`]: a throwaway CA and server certificate made with the `openssl` command.
//! - [`redis`]: a private `redis-server` (optionally with an append-only file that survives restarts).
//! - [`raw`]: a tiny blocking HTTP/1.1 exchange on `std::net::TcpStream`, to check servers without spool.
//! - [`fault_proxy`]: a TCP proxy that delays, trickles, resets, stalls or half-closes responses.
//! - [`forward_proxy`]: a forward proxy (absolute-form requests and CONNECT tunnels), recording what it saw.
//! - [`tiny_origin`]: an in-process origin answering every request with the same bytes (e.g. chunked).
//! - [`tinyproxy`]: a private `tinyproxy` (a real forward proxy) on a free loopback port.
//! - [`run`](mod@run): [`run`] and [`run_within`], a test's async body on a new runtime, bounded in time.
//!
//! # Use
//! ```ignore
//! mod support;
//! use support::{Nginx, NginxOptions};
//!
//! #[test]
//! fn gets_a_file() {
//!     // `None` means nginx is not installed: the test skips (and a notice was printed).
//!     let Some(nginx) = Nginx::start(NginxOptions::new().file("a.txt", "hello")) else { return };
//!     let url = nginx.url("/a.txt"); // http://127.0.0.1:<port>/a.txt
//!     // ... fetch `url` with spool, then check what the server saw:
//!     assert_eq!(nginx.accepted_connections(), 1);
//! }
//! ```

// Each test binary compiles this whole module but uses only part of it; without this, every binary
// would warn about the parts it leaves unused and `clippy -D warnings` would fail.
#![allow(dead_code, unused_imports)]

pub mod certs;
pub mod fault_proxy;
pub mod forward_proxy;
pub mod nginx;
pub mod nginx_conf;
pub mod nginx_log;
pub mod ports;
pub mod process;
pub mod python;
pub mod raw;
pub mod redis;
pub mod run;
pub mod skip;
pub mod tempdir;
pub mod tiny_origin;
pub mod tinyproxy;

pub use certs::TestCerts;
pub use fault_proxy::{Fault, FaultProxy};
pub use forward_proxy::ForwardProxy;
pub use nginx::Nginx;
pub use nginx_conf::NginxOptions;
pub use nginx_log::LoggedRequest;
pub use ports::{free_port, free_ports};
pub use python::PythonServer;
pub use raw::RawResponse;
pub use run::{run, run_within};
pub use tempdir::TempDir;
pub use tiny_origin::TinyOrigin;
pub use tinyproxy::TinyProxy;
