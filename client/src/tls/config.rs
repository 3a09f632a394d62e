//! [`TlsConnectorBuilder`]: which roots to trust and how sessions are cached, turned into the one
//! `rustls::ClientConfig` a [`TlsConnector`](super::TlsConnector) shares among all its connections.
//!
//! Choices made here, and why:
//! - Crypto provider `ring` (builds with a C compiler alone), TLS 1.2 and 1.3 only: older versions
//!   are broken, and every server worth reaching speaks 1.2.
//! - Roots: Mozilla's list (`webpki-roots`, compiled in) unless turned off; the operating
//!   system's store with the `native-roots` cargo feature; plus any PEM roots added by the caller.
//! - ALPN offers `http/1.1` only, so a server that would prefer h2 knows to speak HTTP/1.1.
//! - One in-memory session cache per config, hence per client: a second connection to a host
//!   resumes the first one's session (a ticket or session id) instead of a full handshake.

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};

use rustls::client::WebPkiServerVerifier;

use super::certificate::Certificate;
use super::danger::AcceptAnyCertificate;
use super::error::{TlsError, TlsErrorKind};
use super::identity::Identity;
use super::pinned::PinnedSelfSigned;

/// rustls keeps up to 8 TLS 1.3 tickets per host in its cache; the cache size counts tickets.
const TICKETS_PER_HOST: usize = 8;

/// Hosts whose sessions are remembered by default. A crawler touching thousands of hosts keeps
/// the most recent 512; each remembered ticket costs a few hundred bytes.
pub const DEFAULT_SESSION_CACHE_HOSTS: usize = 512;

/// Builds a [`TlsConnector`](super::TlsConnector); see [`TlsConnector::builder`](super::TlsConnector::builder).
///
/// ```
/// use spool_client::tls::TlsConnector;
/// // Mozilla's roots, session resumption on: what `TlsConnector::new()` gives.
/// let connector = TlsConnector::builder().build().unwrap();
/// # drop(connector);
/// ```
#[derive(Debug, Clone)]
pub struct TlsConnectorBuilder {
    built_in_roots: bool,
    native_roots: bool,
    extra_roots: Vec<Certificate>,
    accept_invalid_certs: bool,
    session_cache_hosts: usize,
    identity: Option<Identity>,
}

impl Default for TlsConnectorBuilder {
    fn default() -> Self {
        TlsConnectorBuilder {
            built_in_roots: true,
            native_roots: false,
            extra_roots: Vec::new(),
            accept_invalid_certs: false,
            session_cache_hosts: DEFAULT_SESSION_CACHE_HOSTS,
            identity: None,
        }
    }
}

impl TlsConnectorBuilder {
    /// Whether to trust Mozilla's root list compiled in from `webpki-roots` (default `true`).
    /// Turn it off to trust only the roots you add (a private network).
    pub fn tls_built_in_root_certs(mut self, enabled: bool) -> Self {
        self.built_in_roots = enabled;
        self
    }

    /// Whether to also trust the operating system's store (default `false`). Needs the
    /// `native-roots` cargo feature of spool-client; without it, [`build`](Self::build) fails
    /// saying so.
    pub fn tls_native_root_certs(mut self, enabled: bool) -> Self {
        self.native_roots = enabled;
        self
    }

    /// Trusts `cert` as a root as well (a private CA).
    ///
    /// A self-signed certificate marked `CA:TRUE` (what `openssl req -x509` makes) is also
    /// accepted as a server's whole chain when the server presents exactly it, as curl's
    /// `--cacert` does; its name and dates are still checked (see `tls/pinned.rs` for why this
    /// is safe).
    ///
    /// ```
    /// use spool_client::tls::{Certificate, TlsConnector};
    /// # let pem = b"";
    /// if let Ok(ca) = Certificate::from_pem(pem) {
    ///     let connector = TlsConnector::builder().add_root_certificate(ca).build();
    ///     # drop(connector);
    /// }
    /// ```
    pub fn add_root_certificate(mut self, cert: Certificate) -> Self {
        self.extra_roots.push(cert);
        self
    }

    /// **Dangerous**: accept any server certificate, whoever signed it, for whatever name, even
    /// expired. Anyone between you and the server can then read and alter the traffic. Meant for
    /// tests against throwaway servers; never turn it on for real traffic. Default `false`.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// Presents `identity` (a certificate and its key) to servers that ask for a client
    /// certificate. [`build`](Self::build) fails if the key does not match the certificate.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// How many hosts' sessions to remember for resumption (default
    /// [`DEFAULT_SESSION_CACHE_HOSTS`]); `0` turns resumption off.
    pub fn session_cache_hosts(mut self, hosts: usize) -> Self {
        self.session_cache_hosts = hosts;
        self
    }

    /// The rustls configuration these settings describe (behind `build`, in `connector.rs`).
    pub(super) fn client_config(self) -> Result<ClientConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| TlsError::new(TlsErrorKind::Config, format!("TLS setup: {e}")))?;
        let builder = if self.accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate::new(provider)))
        } else {
            let roots = Arc::new(self.root_store()?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                .build()
                .map_err(|e| TlsError::new(TlsErrorKind::Config, format!("TLS setup: {e}")))?;
            let own_roots = self.extra_roots.iter().map(|c| c.clone().into_der());
            match PinnedSelfSigned::new(webpki.clone(), own_roots) {
                Some(pinned) => builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(pinned)),
                None => builder.with_webpki_verifier(webpki),
            }
        };
        let mut config = match self.identity {
            None => builder.with_no_client_auth(),
            Some(identity) => builder
                .with_client_auth_cert(identity.chain, identity.key)
                .map_err(|e| {
                    let why = match e {
                        rustls::Error::InconsistentKeys(_) => {
                            "the private key does not belong to the certificate".to_string()
                        }
                        other => other.to_string(),
                    };
                    TlsError::new(TlsErrorKind::Config, format!("client certificate: {why}"))
                })?,
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.resumption = match self.session_cache_hosts {
            0 => Resumption::disabled(),
            hosts => Resumption::in_memory_sessions(hosts.saturating_mul(TICKETS_PER_HOST)),
        };
        Ok(config)
    }

    /// The trust anchors: built-in, native and added roots.
    fn root_store(&self) -> Result<RootCertStore, TlsError> {
        let mut roots = RootCertStore::empty();
        if self.built_in_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.native_roots {
            add_native_roots(&mut roots)?;
        }
        for (index, cert) in self.extra_roots.iter().enumerate() {
            roots.add(cert.clone().into_der()).map_err(|e| {
                TlsError::new(
                    TlsErrorKind::Config,
                    format!(
                        "root certificate #{} is not a usable X.509 CA certificate: {e}",
                        index + 1
                    ),
                )
            })?;
        }
        if roots.is_empty() {
            return Err(TlsError::new(
                TlsErrorKind::Config,
                "no trust roots configured: built-in roots are off and no root certificate was added",
            ));
        }
        Ok(roots)
    }
}

/// Adds the operating system's roots. Unreadable entries are skipped, as browsers do, but a store
/// that yields nothing usable is an error.
#[cfg(feature = "native-roots")]
fn add_native_roots(roots: &mut RootCertStore) -> Result<(), TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(TlsError::new(
            TlsErrorKind::Config,
            format!("no usable certificate in the system trust store{why}"),
        ));
    }
    Ok(())
}

#[cfg(not(feature = "native-roots"))]
fn add_native_roots(_roots: &mut RootCertStore) -> Result<(), TlsError> {
    Err(TlsError::new(
        TlsErrorKind::Config,
        "the system trust store needs spool-client built with the `native-roots` feature",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build() {
        TlsConnectorBuilder::default().build().unwrap();
    }

    #[test]
    fn no_roots_at_all_is_an_error() {
        let err = TlsConnectorBuilder::default()
            .tls_built_in_root_certs(false)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), TlsErrorKind::Config);
        assert!(err.to_string().starts_with("no trust roots"), "{err}");
    }

    #[test]
    fn garbage_root_is_an_error_naming_it() {
        let err = TlsConnectorBuilder::default()
            .add_root_certificate(Certificate::from_der(b"not DER".to_vec()))
            .build()
            .unwrap_err();
        assert!(err.to_string().starts_with("root certificate #1"), "{err}");
    }

    #[cfg(not(feature = "native-roots"))]
    #[test]
    fn native_roots_without_the_feature_says_so() {
        let err = TlsConnectorBuilder::default()
            .tls_native_root_certs(true)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("`native-roots` feature"), "{err}");
    }

    #[test]
    fn accepting_invalid_certs_needs_no_roots() {
        TlsConnectorBuilder::default()
            .tls_built_in_root_certs(false)
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
    }
}
