//! From a host name to a connected `TcpStream`: [`Resolver`] turns a name into addresses, [`connect`]
//! tries them in order.
//!
//! Literal IP addresses (`127.0.0.1`, `[::1]`) skip resolution and allocate nothing. Names go to the
//! system resolver (`getaddrinfo`, through `std::net::ToSocketAddrs`) on a helper thread of
//! [`spool_runtime::spawn_blocking`], whose answer wakes the loop: the loop thread itself never
//! blocks on a lookup.
//!
//! This is the seam where the on-loop DNS stub resolver (client/src/dns) and Happy Eyeballs
//! (RFC 8305) plug in: a new [`Resolver`] variant and a smarter [`connect`].

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use spool_runtime::net::TcpStream;

/// How host names become addresses.
#[derive(Debug, Clone)]
pub(crate) enum Resolver {
    /// `getaddrinfo` on a blocking helper thread.
    System,
}

/// The addresses of one host, in the order to try them.
#[derive(Debug, Clone)]
pub(crate) enum Addrs {
    /// A literal IP: no lookup, no allocation.
    One(SocketAddr),
    /// What a resolver returned (never empty).
    Many(Vec<SocketAddr>),
}

impl Addrs {
    pub(crate) fn as_slice(&self) -> &[SocketAddr] {
        match self {
            Addrs::One(a) => std::slice::from_ref(a),
            Addrs::Many(v) => v,
        }
    }
}

impl Resolver {
    /// The addresses of `host` (no brackets around IPv6) at `port`.
    ///
    /// Fails with the resolver's own error (for example "failed to lookup address information: Name
    /// or service not known"), or `NotFound` when it returned no address.
    pub(crate) async fn resolve(&self, host: &str, port: u16) -> io::Result<Addrs> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(Addrs::One(SocketAddr::new(ip, port)));
        }
        match self {
            Resolver::System => {
                let name = host.to_string();
                let found = spool_runtime::spawn_blocking(move || {
                    (name.as_str(), port)
                        .to_socket_addrs()
                        .map(|addrs| addrs.collect::<Vec<_>>())
                })
                .await?;
                if found.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        "the resolver returned no address",
                    ));
                }
                Ok(Addrs::Many(found))
            }
        }
    }
}

/// Why [`connect`] failed: the last address tried, its error, and how many addresses failed.
#[derive(Debug)]
pub(crate) struct ConnectError {
    pub addr: SocketAddr,
    pub error: io::Error,
    pub tried: usize,
}

/// Connects to the first address that accepts, trying them one after another.
///
/// There is no time limit here: the caller bounds the whole attempt with the connect timeout.
pub(crate) async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, ConnectError> {
    let mut last = None;
    for (i, &addr) in addrs.iter().enumerate() {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(error) => {
                last = Some(ConnectError {
                    addr,
                    error,
                    tried: i + 1,
                })
            }
        }
    }
    Err(last.unwrap_or_else(|| ConnectError {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        error: io::Error::new(io::ErrorKind::NotFound, "no address to connect to"),
        tried: 0,
    }))
}
