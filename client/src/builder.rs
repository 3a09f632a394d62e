//! [`ClientBuilder`]: every setting of a [`Client`](crate::Client), with the defaults a caller gets
//! from [`Client::new`](crate::Client::new).

use std::time::Duration;

use http::HeaderValue;

use crate::dial::{DnsSettings, ResolverKind};
use crate::error::{Error, ErrorKind};
use crate::polite::PoliteConfig;
use crate::pool::PoolConfig;
use crate::proto::Limits;
use crate::proxy::ProxySettings;
use crate::redirect::Policy;
use crate::retry::RetryPolicy;
use crate::tls::{Certificate, TlsConnector, TlsConnectorBuilder};

/// The user agent sent when the caller sets none.
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("spool/", env!("CARGO_PKG_VERSION"));

/// Settings shared by every request of a client (fixed once built).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub limits: Limits,
    pub max_body_bytes: u64,
    pub pool: PoolConfig,
    pub redirect: Policy,
    /// Checked at build time to be a valid header value.
    pub user_agent: Option<String>,
    pub nodelay: bool,
    /// Which resolver, name servers and pinned names; Happy Eyeballs timing.
    pub dns: DnsSettings,
    /// Send `Accept-Encoding` and decode compressed bodies (see `decoded.rs`).
    pub decompress: bool,
    /// Forward proxies (explicit, or from the environment) and the hosts that bypass them.
    pub proxy: ProxySettings,
    /// Which failed attempts are tried again (default: none).
    pub retry: RetryPolicy,
    /// Requests per second and the connection ramp, per origin (default: neither).
    pub polite: PoliteConfig,
}

/// Builds a [`Client`](crate::Client) with settings other than the defaults.
///
/// | setting | default |
/// |---|---|
/// | [`connect_timeout`](Self::connect_timeout) (resolve + connect + TLS handshake) | 10 s |
/// | [`timeout`](Self::timeout) (whole request, body included) | none |
/// | [`read_timeout`](Self::read_timeout) (longest wait for the next bytes) | 30 s |
/// | [`max_response_head_bytes`](Self::max_response_head_bytes) | 64 KiB |
/// | [`max_headers`](Self::max_headers) | 128 |
/// | [`max_body_bytes`](Self::max_body_bytes) (for `bytes()`/`text()`) | 10 MiB |
/// | [`pool_idle_timeout`](Self::pool_idle_timeout) | 15 s |
/// | [`pool_max_idle_per_host`](Self::pool_max_idle_per_host) | the per-host limit |
/// | [`pool_max_idle`](Self::pool_max_idle) | the total limit |
/// | [`max_connections`](Self::max_connections) | 256 |
/// | [`max_connections_per_host`](Self::max_connections_per_host) | 8 |
/// | [`redirect`](Self::redirect) | follow up to 10 |
/// | [`user_agent`](Self::user_agent) | `spool/0.1.0` |
/// | [`tcp_nodelay`](Self::tcp_nodelay) | true |
/// | [`resolver`](Self::resolver) | the on-loop DNS stub resolver |
/// | [`happy_eyeballs`](Self::happy_eyeballs) | 250 ms between attempts, 50 ms for AAAA |
/// | [`tls_built_in_root_certs`](Self::tls_built_in_root_certs) (Mozilla's roots) | true |
/// | [`tls_native_root_certs`](Self::tls_native_root_certs) (the system store) | false |
/// | [`add_root_certificate`](Self::add_root_certificate) | none |
/// | [`tls_session_cache_hosts`](Self::tls_session_cache_hosts) | 512 |
/// | [`danger_accept_invalid_certs`](Self::danger_accept_invalid_certs) | false |
/// | [`decompress`](Self::decompress) (gzip, deflate, br, zstd) | true |
/// | [`proxy`](Self::proxy) | from `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` |
/// | [`retry`](Self::retry) | no retries |
/// | [`rate_limit_per_host`](Self::rate_limit_per_host) | none |
/// | [`connection_ramp`](Self::connection_ramp) | none (0) |
///
/// ```
/// use std::time::Duration;
/// let client = spool_client::Client::builder()
///     .timeout(Duration::from_secs(30))
///     .max_connections_per_host(4)
///     .redirect(spool_client::redirect::Policy::none())
///     .user_agent("my-crawler/1.0")
///     .build()
///     .unwrap();
/// # drop(client);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ClientBuilder {
    /// Also set by the methods in `builder_policy.rs`.
    pub(crate) config: Config,
    max_idle_per_host: Option<usize>,
    max_idle: Option<usize>,
    user_agent: Option<String>,
    /// Turned into the client's `TlsConnector` by `build`.
    tls: TlsConnectorBuilder,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            config: Config {
                connect_timeout: Some(Duration::from_secs(10)),
                timeout: None,
                read_timeout: Some(Duration::from_secs(30)),
                limits: Limits::default(),
                max_body_bytes: 10 * 1024 * 1024,
                pool: PoolConfig {
                    idle_timeout: Some(Duration::from_secs(15)),
                    max_idle_per_host: 8,
                    max_idle: 256,
                    max_connections: 256,
                    max_per_host: 8,
                },
                redirect: Policy::default(),
                user_agent: Some(DEFAULT_USER_AGENT.to_string()),
                nodelay: true,
                dns: DnsSettings::default(),
                decompress: true,
                proxy: ProxySettings::default(),
                retry: RetryPolicy::none(),
                polite: PoliteConfig::default(),
            },
            max_idle_per_host: None,
            max_idle: None,
            user_agent: None,
            tls: TlsConnectorBuilder::default(),
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults listed above.
    pub fn new() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Longest time to resolve the host, open the TCP connection and, for https, finish the TLS
    /// handshake (`None`: no limit). Default 10 s.
    pub fn connect_timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.config.connect_timeout = limit.into();
        self
    }

    /// Longest time for a whole request: waiting for a connection, connecting, sending, redirects,
    /// and reading the body to its end (`None`: no limit, the default). A request's own
    /// [`RequestBuilder::timeout`](crate::RequestBuilder::timeout) takes precedence.
    pub fn timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.config.timeout = limit.into();
        self
    }

    /// Longest wait for the server to send the next bytes, or to take more of the request, before
    /// giving up (`None`: no limit). It restarts whenever bytes move. Default 30 s.
    pub fn read_timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.config.read_timeout = limit.into();
        self
    }

    /// Largest response head (status line and headers) accepted; larger is
    /// [`ErrorKind::TooLarge`]. Default 64 KiB.
    pub fn max_response_head_bytes(mut self, bytes: usize) -> Self {
        self.config.limits.max_head_bytes = bytes;
        self
    }

    /// Most header fields accepted in a response head; more is [`ErrorKind::TooLarge`]. Default 128.
    pub fn max_headers(mut self, count: usize) -> Self {
        self.config.limits.max_headers = count;
        self
    }

    /// Largest body [`Response::bytes`](crate::Response::bytes) and
    /// [`Response::text`](crate::Response::text) collect; larger is [`ErrorKind::TooLarge`].
    /// [`Response::chunk`](crate::Response::chunk) streams without a cap. Default 10 MiB.
    pub fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.config.max_body_bytes = bytes;
        self
    }

    /// How long an unused connection stays in the pool (`None`: until the server closes it).
    /// Shortened for a connection whose server sent `Keep-Alive: timeout=N`. Default 15 s.
    pub fn pool_idle_timeout(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.config.pool.idle_timeout = limit.into();
        self
    }

    /// Most idle connections kept per host (never more than the per-host limit; 0 disables
    /// keep-alive). Default: the per-host limit.
    pub fn pool_max_idle_per_host(mut self, count: usize) -> Self {
        self.max_idle_per_host = Some(count);
        self
    }

    /// Most idle connections kept over all hosts; beyond it the oldest is closed. Default: the total
    /// connection limit.
    pub fn pool_max_idle(mut self, count: usize) -> Self {
        self.max_idle = Some(count);
        self
    }

    /// Most connections open at once over all hosts, idle ones included (0: no limit). Requests
    /// beyond it wait in arrival order; an idle connection to another host is closed to make room.
    /// Default 256.
    pub fn max_connections(mut self, count: usize) -> Self {
        self.config.pool.max_connections = count;
        self
    }

    /// Most connections open at once to one scheme+host+port (0: no limit). Requests beyond it
    /// wait in arrival order, without holding back requests to other hosts. Default 8.
    pub fn max_connections_per_host(mut self, count: usize) -> Self {
        self.config.pool.max_per_host = count;
        self
    }

    /// Which redirects to follow. Default: up to 10, never from https to http.
    pub fn redirect(mut self, policy: Policy) -> Self {
        self.config.redirect = policy;
        self
    }

    /// The `User-Agent` sent with every request that does not set its own. Default `spool/0.1.0`.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Disables Nagle's algorithm on new connections (default true: requests leave at once).
    pub fn tcp_nodelay(mut self, enabled: bool) -> Self {
        self.config.nodelay = enabled;
        self
    }

    /// Which resolver turns host names into addresses: [`ResolverKind::Stub`], the DNS stub resolver
    /// on the event loop configured from `/etc/resolv.conf` and `/etc/hosts` (the default), or
    /// [`ResolverKind::System`], `getaddrinfo` on a helper thread, for names that need nsswitch.
    pub fn resolver(mut self, kind: ResolverKind) -> Self {
        self.config.dns.kind = kind;
        self
    }

    /// Uses this stub resolver (configured with [`spool_dns::ResolverBuilder`]) and selects
    /// [`ResolverKind::Stub`]. Pins from [`resolve`](Self::resolve) are added to it.
    pub fn dns_resolver(mut self, resolver: spool_dns::Resolver) -> Self {
        self.config.dns.kind = ResolverKind::Stub;
        self.config.dns.custom = Some(resolver);
        self
    }

    /// Asks these DNS servers instead of those of `/etc/resolv.conf` (like curl's
    /// `--dns-servers`); selects [`ResolverKind::Stub`]. Parse user input with
    /// [`spool_dns::parse_server_addr`].
    pub fn dns_servers(mut self, servers: impl IntoIterator<Item = std::net::SocketAddr>) -> Self {
        self.config.dns.kind = ResolverKind::Stub;
        self.config.dns.servers = servers.into_iter().collect();
        self
    }

    /// Resolves `host` to `addr` for every port, without asking DNS (like reqwest's `resolve`).
    /// Repeat it to give a host several addresses.
    pub fn resolve(mut self, host: &str, addr: std::net::IpAddr) -> Self {
        self.pin(host, None, addr);
        self
    }

    /// Resolves `pin.host` to `pin.addrs` for connections to `pin.port` only, like curl's
    /// `--resolve HOST:PORT:ADDR` (parse that syntax with `str::parse::<`[`spool_dns::ResolvePin`]`>`).
    pub fn resolve_pin(mut self, pin: spool_dns::ResolvePin) -> Self {
        for addr in pin.addrs {
            self.pin(&pin.host, Some(pin.port), addr);
        }
        self
    }

    fn pin(&mut self, host: &str, port: Option<u16>, addr: std::net::IpAddr) {
        let pins = &mut self.config.dns.pins;
        match pins.iter_mut().find(|(h, p, _)| h == host && *p == port) {
            Some((_, _, addrs)) if !addrs.contains(&addr) => addrs.push(addr),
            Some(_) => {}
            None => pins.push((host.to_owned(), port, vec![addr])),
        }
    }

    /// Timing of Happy Eyeballs (RFC 8305) when a host has several addresses: the delay before
    /// the next connection attempt starts, and how long to wait for IPv6 addresses once IPv4 ones
    /// have arrived.
    pub fn happy_eyeballs(mut self, timing: crate::connect::HappyEyeballs) -> Self {
        self.config.dns.timing = timing;
        self
    }

    /// Trusts `cert` as a root for https, besides the built-in roots (a private CA).
    ///
    /// ```no_run
    /// use spool_client::tls::Certificate;
    /// let pem = std::fs::read("ca.pem").unwrap();
    /// let client = spool_client::Client::builder()
    ///     .add_root_certificate(Certificate::from_pem(&pem).unwrap())
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.tls = self.tls.add_root_certificate(cert);
        self
    }

    /// Whether to trust Mozilla's root certificates, compiled in (default true). With false, only
    /// the roots added with [`add_root_certificate`](Self::add_root_certificate) (and the system
    /// store, if enabled) are trusted.
    pub fn tls_built_in_root_certs(mut self, enabled: bool) -> Self {
        self.tls = self.tls.tls_built_in_root_certs(enabled);
        self
    }

    /// Whether to also trust the operating system's root store (default false). Needs
    /// spool-client's `native-roots` feature; without it, `build` fails saying so.
    pub fn tls_native_root_certs(mut self, enabled: bool) -> Self {
        self.tls = self.tls.tls_native_root_certs(enabled);
        self
    }

    /// How many hosts' TLS sessions are remembered for resumption (default 512; 0: never resume).
    pub fn tls_session_cache_hosts(mut self, hosts: usize) -> Self {
        self.tls = self.tls.session_cache_hosts(hosts);
        self
    }

    /// **Dangerous**: accept any https certificate (any issuer, any name, expired). Anyone on the
    /// network path can then read and change the traffic. For tests against throwaway servers
    /// only. Default false.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls = self.tls.danger_accept_invalid_certs(accept);
        self
    }

    /// Whether to ask for compressed bodies and decode them (default true, as aiohttp and httpx
    /// do; reqwest with its `gzip`/`brotli`/`zstd`/`deflate` features).
    ///
    /// On: every request says `Accept-Encoding: gzip, deflate, br, zstd` unless it sets its own
    /// `Accept-Encoding` (or a `Range`), and a response with `Content-Encoding` is decoded as it
    /// is read, whatever the request asked. Such a response loses its `Content-Encoding` and
    /// `Content-Length` headers, as in reqwest: they describe the bytes on the wire, not the body
    /// the caller gets ([`Response::content_length`](crate::Response::content_length) is then
    /// `None`; [`Response::wire_bytes`](crate::Response::wire_bytes) counts the compressed bytes).
    /// [`max_body_bytes`](Self::max_body_bytes) counts decoded bytes, so a decompression bomb
    /// stops at it with [`ErrorKind::TooLarge`]; a coding spool does not know, or a corrupt or
    /// truncated stream, is [`ErrorKind::Decode`].
    ///
    /// Off: no `Accept-Encoding` is added and bodies come exactly as sent.
    pub fn decompress(mut self, enabled: bool) -> Self {
        self.config.decompress = enabled;
        self
    }

    /// The checks of `build` (in `client.rs`): the settings made whole, and the TLS connector.
    pub(crate) fn checked(self) -> Result<(Config, TlsConnector), Error> {
        let mut config = self.config;
        if let Some(agent) = self.user_agent {
            if HeaderValue::from_str(&agent).is_err() {
                return Err(Error::new(
                    ErrorKind::Builder,
                    format!("user agent {agent:?} contains a control character"),
                ));
            }
            config.user_agent = Some(agent);
        }
        if config.limits.max_head_bytes < 16 {
            return Err(Error::new(
                ErrorKind::Builder,
                format!(
                    "max_response_head_bytes {} cannot hold a status line",
                    config.limits.max_head_bytes
                ),
            ));
        }
        let unlimited = |n: usize| if n == 0 { usize::MAX } else { n };
        let pool = &mut config.pool;
        pool.max_connections = unlimited(pool.max_connections);
        pool.max_per_host = unlimited(pool.max_per_host);
        pool.max_idle_per_host = self
            .max_idle_per_host
            .unwrap_or(usize::MAX)
            .min(pool.max_per_host);
        pool.max_idle = self
            .max_idle
            .unwrap_or(usize::MAX)
            .min(pool.max_connections);
        if let Some(rate) = config.polite.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(Error::new(
                    ErrorKind::Builder,
                    format!("rate_limit_per_host {rate} is not a positive number of requests per second"),
                ));
            }
        }
        let tls = self.tls.build().map_err(|e| {
            Error::new(ErrorKind::Builder, format!("TLS settings: {e}")).with_source(e)
        })?;
        Ok((config, tls))
    }
}
