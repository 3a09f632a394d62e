//! [`TlsConnector`]: turns a connected `TcpStream` into a [`TlsStream`] by running the handshake
//! on the loop, and counts how many handshakes resumed a cached session.
//!
//! A client builds one connector and clones it into every connection task: the clone shares the
//! `rustls::ClientConfig`, and with it the session cache, which is what lets a second connection
//! to a host resume instead of repeating the full handshake.

use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use spool_runtime::net::TcpStream;

use super::config::TlsConnectorBuilder;
use super::error::{TlsError, TlsErrorKind};
use super::stream::TlsStream;

/// Makes TLS connections; cheap to clone (the configuration and session cache are shared).
///
/// ```no_run
/// use spool_client::tls::TlsConnector;
/// use spool_runtime::net::TcpStream;
/// use futures_io::AsyncWrite;
///
/// spool_runtime::block_on(async {
///     let connector = TlsConnector::new();
///     let tcp = TcpStream::connect("93.184.215.14:443".parse().unwrap()).await?;
///     let tls = connector.connect("example.com", tcp).await?;
///     println!("resumed: {}", tls.is_resumed());
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    /// Shared by the clones, so the client sees every connection's handshake.
    stats: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    full: AtomicU64,
    resumed: AtomicU64,
}

/// How many handshakes a connector (and its clones) completed, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandshakeStats {
    /// Full handshakes (certificate sent and verified).
    pub full: u64,
    /// Abbreviated handshakes that resumed a cached session.
    pub resumed: u64,
}

impl HandshakeStats {
    /// The share of handshakes that resumed, from 0.0 to 1.0 (0.0 when there were none).
    pub fn resumed_share(&self) -> f64 {
        let total = self.full + self.resumed;
        if total == 0 {
            0.0
        } else {
            self.resumed as f64 / total as f64
        }
    }
}

impl TlsConnectorBuilder {
    /// Builds the connector. Fails if a root certificate is malformed, if no root would be
    /// trusted at all, or if the system store was asked for without the `native-roots` feature.
    pub fn build(self) -> Result<TlsConnector, TlsError> {
        Ok(TlsConnector {
            config: Arc::new(self.client_config()?),
            stats: Arc::default(),
        })
    }
}

impl TlsConnector {
    /// A connector with the defaults: Mozilla's roots, TLS 1.2 and 1.3, ALPN `http/1.1`,
    /// session resumption on.
    pub fn new() -> TlsConnector {
        TlsConnector::builder()
            .build()
            .expect("the default TLS configuration is valid")
    }

    /// Starts a builder to choose roots, resumption and (for tests) the dangerous switch.
    pub fn builder() -> TlsConnectorBuilder {
        TlsConnectorBuilder::default()
    }

    /// Runs a TLS handshake over `tcp` with the server `host`, and returns the encrypted stream.
    ///
    /// `host` is the URL's host: a DNS name (sent as SNI and checked against the certificate),
    /// or an IP literal (`127.0.0.1`, `::1` or `[::1]`; no SNI is sent and the certificate must
    /// list the address). A trailing dot is dropped (`example.com.` is `example.com`).
    ///
    /// No time limit is built in: wrap the call in `spool_runtime::time::timeout`.
    /// Cancel-safe in the sense that dropping the future drops the connection.
    pub async fn connect(&self, host: &str, tcp: TcpStream) -> Result<TlsStream, TlsError> {
        let name = server_name(host)?;
        let tls = ClientConnection::new(self.config.clone(), name.clone())
            .map_err(|e| TlsError::handshake(e, &name))?;
        let mut stream = TlsStream::new(tcp, tls);
        poll_fn(|cx| stream.poll_handshake(cx, &name)).await?;
        let counter = if stream.is_resumed() {
            &self.stats.resumed
        } else {
            &self.stats.full
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(stream)
    }

    /// Handshakes completed so far by this connector and its clones.
    pub fn handshake_stats(&self) -> HandshakeStats {
        HandshakeStats {
            full: self.stats.full.load(Ordering::Relaxed),
            resumed: self.stats.resumed.load(Ordering::Relaxed),
        }
    }
}

impl Default for TlsConnector {
    fn default() -> Self {
        TlsConnector::new()
    }
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("alpn", &"http/1.1")
            .field("stats", &self.handshake_stats())
            .finish_non_exhaustive()
    }
}

/// The TLS server name for a URL host: brackets and one trailing dot removed; IP literals become
/// `ServerName::IpAddress` (rustls then sends no SNI, as RFC 6066 §3 requires).
fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let bare = bare.strip_suffix('.').unwrap_or(bare);
    ServerName::try_from(bare.to_string()).map_err(|_| {
        TlsError::new(
            TlsErrorKind::InvalidServerName,
            format!("host {host:?} cannot be used as a TLS server name"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_from_url_hosts() {
        let ip = |s: &str| matches!(server_name(s).unwrap(), ServerName::IpAddress(_));
        assert!(ip("127.0.0.1"));
        assert!(ip("::1"));
        assert!(ip("[::1]"));
        assert!(!ip("localhost"));
        assert_eq!(server_name("example.com.").unwrap().to_str(), "example.com");
        let err = server_name("exa mple.com").unwrap_err();
        assert_eq!(err.kind(), TlsErrorKind::InvalidServerName);
        assert!(err.to_string().contains("\"exa mple.com\""), "{err}");
        assert!(server_name("").is_err());
    }

    #[test]
    fn resumed_share() {
        let stats = HandshakeStats {
            full: 1,
            resumed: 3,
        };
        assert_eq!(stats.resumed_share(), 0.75);
        assert_eq!(HandshakeStats::default().resumed_share(), 0.0);
    }
}
