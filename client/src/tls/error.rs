//! [`TlsError`]: why a TLS connection failed, in words a person can act on.
//!
//! rustls reports a rejected certificate as `Error::InvalidCertificate(CertificateError::..)`; this
//! file sorts those (and the other handshake failures) into a [`TlsErrorKind`] a program can match
//! on, and writes the message the person running `fetch` reads: "certificate not trusted: unknown
//! issuer", "certificate expired on 2001-01-01 00:00:00 UTC", "certificate not valid for name
//! 127.0.0.1 (IP address not in the certificate's subject alternative names; it names localhost)".
//!
//! Errors that happen after the handshake (a corrupt record, an alert) travel through the
//! `AsyncRead`/`AsyncWrite` interface as an [`io::Error`] of kind `InvalidData` that wraps a
//! [`TlsError`]; [`TlsError::from_io`] finds it again.

use std::fmt;
use std::io;

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, CertificateError};

use super::utc::utc;

/// What went wrong, for programs. The message ([`TlsError`]'s `Display`) says it for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The certificate chain does not lead to a trusted root: a self-signed certificate, or one
    /// signed by a private CA that was not added with `add_root_certificate`.
    UnknownIssuer,
    /// The certificate (or one in its chain) is past its `notAfter` date.
    Expired,
    /// The certificate (or one in its chain) is before its `notBefore` date.
    NotYetValid,
    /// The certificate does not name the host that was asked for (a DNS name or an IP address
    /// missing from its subject alternative names).
    NameMismatch,
    /// The certificate was revoked.
    Revoked,
    /// Any other certificate problem: bad encoding, bad signature, wrong key usage, an
    /// unsupported algorithm, an unknown critical extension.
    BadCertificate,
    /// The handshake failed for a reason other than the certificate: no protocol version or
    /// cipher suite in common, an alert from the server, a malformed message.
    Handshake,
    /// A TLS record after the handshake was corrupt or could not be decrypted, or the server
    /// sent a fatal alert.
    Protocol,
    /// The socket failed, or the server closed the connection during the handshake.
    Io,
    /// The server did not speak TLS at all: its first bytes were not a TLS record (most often
    /// a plain-HTTP server on the port an `https://` URL named).
    NotTls,
    /// The host name cannot be used as a TLS server name.
    InvalidServerName,
    /// The TLS configuration is unusable: a PEM file without certificates, no trust roots at
    /// all, or the system store asked for without the `native-roots` feature.
    Config,
}

/// A TLS failure: its [`kind`](Self::kind) and a message naming the cause.
///
/// ```
/// use spool_client::tls::{TlsError, TlsErrorKind};
/// let e = TlsError::new(TlsErrorKind::Config, "no trust roots configured");
/// assert_eq!(e.kind(), TlsErrorKind::Config);
/// assert_eq!(e.to_string(), "no trust roots configured");
/// ```
#[derive(Debug)]
pub struct TlsError {
    kind: TlsErrorKind,
    /// Errors are rare: an owned sentence costs nothing on the fast path.
    message: String,
    /// The rustls or socket error underneath, for `Error::source`.
    source: Option<Source>,
}

#[derive(Debug)]
enum Source {
    Rustls(rustls::Error),
    Io(io::Error),
}

impl TlsError {
    /// An error of `kind` with a message.
    pub fn new(kind: TlsErrorKind, message: impl Into<String>) -> TlsError {
        TlsError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// What went wrong, for matching.
    pub fn kind(&self) -> TlsErrorKind {
        self.kind
    }

    /// Whether the certificate was the problem (trust, dates, name, revocation, encoding).
    pub fn is_certificate_error(&self) -> bool {
        use TlsErrorKind::*;
        matches!(
            self.kind,
            UnknownIssuer | Expired | NotYetValid | NameMismatch | Revoked | BadCertificate
        )
    }

    /// The rustls error underneath, when rustls reported it.
    pub fn rustls_error(&self) -> Option<&rustls::Error> {
        match &self.source {
            Some(Source::Rustls(e)) => Some(e),
            _ => None,
        }
    }

    /// Finds the `TlsError` inside an `io::Error` returned by [`TlsStream`](super::TlsStream)'s
    /// reads and writes, if there is one.
    pub fn from_io(error: &io::Error) -> Option<&TlsError> {
        error.get_ref()?.downcast_ref::<TlsError>()
    }

    /// Classifies a rustls error met during the handshake with `server_name`.
    pub(crate) fn handshake(error: rustls::Error, server_name: &ServerName<'_>) -> TlsError {
        let (kind, message) = match &error {
            rustls::Error::InvalidCertificate(_) if super::pinned::is_ca_used_as_end_entity(&error) => (
                TlsErrorKind::UnknownIssuer,
                "certificate not trusted: the server presented a CA certificate (CA:TRUE) as its \
                 own, as a self-signed `openssl req -x509` certificate is; to trust it, add that \
                 exact certificate as a root (fetch --ca-file)"
                    .to_string(),
            ),
            rustls::Error::InvalidCertificate(cert) => certificate_message(cert, server_name),
            rustls::Error::NoCertificatesPresented => (
                TlsErrorKind::BadCertificate,
                "the server presented no certificate".to_string(),
            ),
            // The first byte of a TLS record is its content type (20..=24); "HTTP/1.1 400" opens
            // with 'H' (72). A plain-HTTP server answering the ClientHello is by far the usual
            // cause.
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => (
                TlsErrorKind::NotTls,
                format!(
                    "TLS handshake with {} failed: the server answered in plain text, not TLS: is \
                     this port HTTP? (try the URL with http://)",
                    server_name.to_str()
                ),
            ),
            rustls::Error::AlertReceived(alert) => (
                TlsErrorKind::Handshake,
                format!(
                    "TLS handshake with {} refused by the server: alert {}",
                    server_name.to_str(),
                    alert_name(*alert)
                ),
            ),
            rustls::Error::PeerIncompatible(why) => (
                TlsErrorKind::Handshake,
                format!(
                    "TLS handshake with {} failed: nothing in common with the server ({why:?}); \
                     spool speaks TLS 1.2 and 1.3",
                    server_name.to_str()
                ),
            ),
            other => (
                TlsErrorKind::Handshake,
                format!(
                    "TLS handshake with {} failed: {other}",
                    server_name.to_str()
                ),
            ),
        };
        TlsError {
            kind,
            message,
            source: Some(Source::Rustls(error)),
        }
    }

    /// A rustls error on an established connection (corrupt record, alert).
    pub(crate) fn protocol(error: rustls::Error) -> TlsError {
        let message = match &error {
            rustls::Error::AlertReceived(alert) => {
                format!("TLS alert from the server: {}", alert_name(*alert))
            }
            other => format!("TLS error: {other}"),
        };
        TlsError {
            kind: TlsErrorKind::Protocol,
            message,
            source: Some(Source::Rustls(error)),
        }
    }

    /// A socket error (or EOF) during the handshake with `server_name`.
    pub(crate) fn io(error: io::Error, server_name: &ServerName<'_>) -> TlsError {
        let message = if error.kind() == io::ErrorKind::UnexpectedEof {
            format!(
                "TLS handshake with {}: the server closed the connection",
                server_name.to_str()
            )
        } else {
            format!("TLS handshake with {}: {error}", server_name.to_str())
        };
        TlsError {
            kind: TlsErrorKind::Io,
            message,
            source: Some(Source::Io(error)),
        }
    }

    /// Wraps this error in an `io::Error` for the `AsyncRead`/`AsyncWrite` interface: socket
    /// errors keep their kind, everything else becomes `InvalidData`.
    pub fn into_io(self) -> io::Error {
        let kind = match &self.source {
            Some(Source::Io(e)) => e.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

impl From<TlsError> for io::Error {
    fn from(error: TlsError) -> io::Error {
        error.into_io()
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            Some(Source::Rustls(e)) => Some(e),
            Some(Source::Io(e)) => Some(e),
            None => None,
        }
    }
}

/// The kind and message for a rejected certificate.
fn certificate_message(
    error: &CertificateError,
    server_name: &ServerName<'_>,
) -> (TlsErrorKind, String) {
    use CertificateError as C;
    use TlsErrorKind as K;
    match error {
        C::UnknownIssuer => (
            K::UnknownIssuer,
            "certificate not trusted: unknown issuer (self-signed, or signed by a CA that is \
             not among the trusted roots)"
                .to_string(),
        ),
        C::ExpiredContext { not_after, .. } => (
            K::Expired,
            format!("certificate expired on {}", utc(*not_after)),
        ),
        C::Expired => (K::Expired, "certificate expired".to_string()),
        C::NotValidYetContext { not_before, .. } => (
            K::NotYetValid,
            format!("certificate not valid until {}", utc(*not_before)),
        ),
        C::NotValidYet => (K::NotYetValid, "certificate not valid yet".to_string()),
        C::NotValidForNameContext {
            expected,
            presented,
        } => (K::NameMismatch, name_mismatch(expected, presented)),
        C::NotValidForName => (K::NameMismatch, name_mismatch(server_name, &[])),
        C::Revoked => (K::Revoked, "certificate revoked".to_string()),
        C::BadEncoding => (
            K::BadCertificate,
            "certificate malformed (bad encoding, or a CA certificate used as the server's own)"
                .to_string(),
        ),
        C::BadSignature => (
            K::BadCertificate,
            "certificate has a bad signature: the CA it names as issuer did not sign it (a \
             trusted CA of the same name but another key, or a forgery)"
                .to_string(),
        ),
        other => (K::BadCertificate, format!("certificate rejected: {other}")),
    }
}

/// "certificate not valid for name X (...)", saying what kind of name was missing and, when the
/// verifier told us, which names the certificate does carry.
fn name_mismatch(expected: &ServerName<'_>, presented: &[String]) -> String {
    // A certificate may carry hundreds of names (CDN certificates do): show the first few.
    const SHOWN: usize = 8;
    let mut names = String::new();
    for (i, raw) in presented.iter().take(SHOWN).enumerate() {
        names.push_str(if i == 0 { "; it names " } else { ", " });
        names.push_str(&plain_name(raw));
    }
    if presented.len() > SHOWN {
        names.push_str(&format!(" and {} more", presented.len() - SHOWN));
    }
    match expected {
        ServerName::IpAddress(_) => format!(
            "certificate not valid for name {} (IP address not in the certificate's subject \
             alternative names{names})",
            expected.to_str()
        ),
        _ => format!(
            "certificate not valid for name {} (host name not in the certificate's subject \
             alternative names{names})",
            expected.to_str()
        ),
    }
}

/// webpki lists the certificate's names in `Debug` form (`DnsName("localhost")`,
/// `IpAddress(127.0.0.1)`); a person wants just `localhost` and `127.0.0.1`.
fn plain_name(raw: &str) -> String {
    let inner = raw
        .strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"))
        .or_else(|| raw.strip_prefix("IpAddress(")?.strip_suffix(')'));
    inner.unwrap_or(raw).to_string()
}

/// An alert as the lower-case words of its name ("handshake failure"), as in the RFC.
fn alert_name(alert: AlertDescription) -> String {
    let debug = format!("{alert:?}");
    let mut words = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> ServerName<'static> {
        ServerName::try_from(s.to_string()).unwrap()
    }

    #[test]
    fn unknown_issuer_says_not_trusted() {
        let e = TlsError::handshake(
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            &name("example.com"),
        );
        assert_eq!(e.kind(), TlsErrorKind::UnknownIssuer);
        assert!(e.is_certificate_error());
        assert!(e
            .to_string()
            .starts_with("certificate not trusted: unknown issuer"));
    }

    #[test]
    fn ip_mismatch_says_ip_not_in_san() {
        let e = TlsError::handshake(
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                expected: name("127.0.0.2"),
                presented: vec![
                    "DnsName(\"localhost\")".into(),
                    "IpAddress(127.0.0.1)".into(),
                ],
            }),
            &name("127.0.0.2"),
        );
        assert_eq!(e.kind(), TlsErrorKind::NameMismatch);
        assert!(
            e.to_string().starts_with(
                "certificate not valid for name 127.0.0.2 (IP address not in the certificate's \
                 subject alternative names; it names localhost, 127.0.0.1)"
            ),
            "{e}"
        );
    }

    #[test]
    fn alerts_read_as_words() {
        assert_eq!(
            alert_name(AlertDescription::HandshakeFailure),
            "handshake failure"
        );
        let e = TlsError::protocol(rustls::Error::AlertReceived(AlertDescription::BadRecordMac));
        assert_eq!(e.to_string(), "TLS alert from the server: bad record mac");
    }

    #[test]
    fn io_wrapping_round_trips() {
        let e = TlsError::new(TlsErrorKind::Protocol, "boom").into_io();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            TlsError::from_io(&e).unwrap().kind(),
            TlsErrorKind::Protocol
        );
    }
}
