//! [`Dialer`]: from a host name to a connected `TcpStream`, the way the client's settings say:
//! which resolver turns names into addresses, which names are pinned, and Happy Eyeballs (RFC 8305,
//! see [`crate::connect`]) to race the addresses. It resolves *and* connects, hence "dialer".
//!
//! Two resolvers, chosen with [`ClientBuilder::resolver`](crate::ClientBuilder::resolver):
//! * [`ResolverKind::Stub`] (the default): the on-loop DNS stub resolver ([`spool_dns::Resolver`]):
//!   UDP queries from the loop itself, a cache, and connecting starts as soon as the first address
//!   family has answered.
//! * [`ResolverKind::System`]: `getaddrinfo` (through `std::net::ToSocketAddrs`) on a helper thread
//!   of [`spool_runtime::spawn_blocking`], for systems whose names need nsswitch (mDNS, LDAP, NIS).
//!   The loop thread itself never blocks on it; its addresses are raced the same way.
//!
//! Literal IP addresses (`127.0.0.1`, `[::1]`) skip both and connect directly.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use spool_runtime::net::TcpStream;

use crate::connect::{connect_happy, connect_host, ConnectError, HappyEyeballs};
use spool_dns::{self as dns, DnsError, DnsErrorKind};

/// Which resolver a [`Client`](crate::Client) uses for host names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResolverKind {
    /// The DNS stub resolver on the event loop, configured from `/etc/resolv.conf` and `/etc/hosts`
    /// (the default).
    #[default]
    Stub,
    /// The C library's `getaddrinfo` on a helper thread: slower under load, but it follows
    /// `/etc/nsswitch.conf` (mDNS, LDAP...).
    System,
}

/// A pinned name: (host lowercased without trailing dot, port or `None` for all) → addresses.
type Pins = HashMap<(String, Option<u16>), Vec<IpAddr>>;

/// The client's DNS settings, as the builder collects them.
#[derive(Debug, Clone, Default)]
pub(crate) struct DnsSettings {
    pub kind: ResolverKind,
    /// A stub resolver the caller configured completely.
    pub custom: Option<dns::Resolver>,
    /// Name servers replacing resolv.conf's (`--dns-server`).
    pub servers: Vec<SocketAddr>,
    pub pins: Vec<(String, Option<u16>, Vec<IpAddr>)>,
    pub timing: HappyEyeballs,
}

impl DnsSettings {
    /// The dialer these settings describe. Reads resolv.conf and hosts for a default stub.
    pub(crate) fn build(&self) -> Dialer {
        match self.kind {
            ResolverKind::Stub => {
                let resolver = self.custom.clone().unwrap_or_else(|| {
                    dns::Resolver::builder()
                        .nameservers(self.servers.iter().copied())
                        .build()
                });
                for (host, port, addrs) in &self.pins {
                    resolver.pin(host, *port, addrs.clone());
                }
                Dialer::Stub {
                    dns: resolver,
                    timing: self.timing,
                }
            }
            ResolverKind::System => {
                let pins = self
                    .pins
                    .iter()
                    .map(|(h, p, a)| ((normalize(h), *p), a.clone()))
                    .collect();
                Dialer::System {
                    pins,
                    timing: self.timing,
                }
            }
        }
    }
}

fn normalize(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// How host names become connections.
#[derive(Debug, Clone)]
pub(crate) enum Dialer {
    /// `getaddrinfo` on a blocking helper thread, after the pins.
    System { pins: Pins, timing: HappyEyeballs },
    /// The on-loop stub resolver (which holds the pins itself).
    Stub {
        dns: dns::Resolver,
        timing: HappyEyeballs,
    },
}

impl Dialer {
    /// Connects to `host` (no brackets around IPv6) at `port`: resolve, then race the addresses.
    ///
    /// There is no time limit here: the caller bounds the whole attempt with the connect timeout.
    pub(crate) async fn dial(&self, host: &str, port: u16) -> Result<TcpStream, ConnectError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, port);
            return connect_happy(vec![addr], HappyEyeballs::default().attempt_delay)
                .await
                .map_err(ConnectError::Connect);
        }
        // The name paths are boxed: their futures (DNS rounds, the resolving race) are several
        // times the size of a plain connect, and a future reserves room for its largest path, so
        // every connection to a literal IP would otherwise carry them.
        match self {
            Dialer::Stub { dns, timing } => Box::pin(connect_host(dns, host, port, *timing)).await,
            Dialer::System { pins, timing } => {
                Box::pin(async {
                    let addrs = system_lookup(pins, host, port)
                        .await
                        .map_err(ConnectError::Resolve)?;
                    connect_happy(addrs, timing.attempt_delay)
                        .await
                        .map_err(ConnectError::Connect)
                })
                .await
            }
        }
    }
}

/// Pins first, then `getaddrinfo` on a helper thread.
async fn system_lookup(pins: &Pins, host: &str, port: u16) -> Result<Vec<SocketAddr>, DnsError> {
    let key = normalize(host);
    let pinned = pins
        .get(&(key.clone(), Some(port)))
        .or_else(|| pins.get(&(key, None)));
    if let Some(ips) = pinned {
        return Ok(ips.iter().map(|&ip| SocketAddr::new(ip, port)).collect());
    }
    let name = host.to_string();
    let found = spool_runtime::spawn_blocking(move || {
        (name.as_str(), port)
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>())
    })
    .await
    .map_err(|e: io::Error| {
        DnsError::new(
            host,
            DnsErrorKind::Io {
                kind: e.kind(),
                os_error: e.raw_os_error(),
                message: format!("{e} (system resolver)"),
            },
        )
    })?;
    if found.is_empty() {
        return Err(DnsError::new(
            host,
            DnsErrorKind::NoAddresses { server: None },
        ));
    }
    Ok(found)
}
