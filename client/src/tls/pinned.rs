//! Trusting a self-signed certificate that is marked as a CA, as curl does.
//!
//! `openssl req -x509 -newkey ... -subj /CN=host` makes a certificate with `CA:TRUE` (OpenSSL's
//! default extensions). Given to curl with `--cacert`, it works: OpenSSL finds the server's
//! certificate itself in the trust store and accepts a chain of one. webpki, which rustls uses,
//! refuses any `CA:TRUE` certificate as a server's own (`CaUsedAsEndEntity`), even a trusted one,
//! so the same file that works with curl failed here.
//!
//! [`PinnedSelfSigned`] wraps rustls's normal verifier and changes one case only: when that
//! verifier rejects the server's certificate *because it is a CA*, and the certificate is
//! **byte for byte** one the caller added with `add_root_certificate` (`fetch --ca-file`), it
//! is accepted after the checks that still apply to it:
//! - the name asked for is among its subject alternative names (webpki's own name check);
//! - now is within its `notBefore`..`notAfter` (read in `validity.rs`);
//! - the handshake signature is verified against its public key, as for every certificate, so
//!   the server proves it holds the private key.
//!
//! Why this is safe: the certificate is not vouched for by anything; it *is* the trust anchor,
//! chosen by the caller, so accepting it exactly is pinning — stricter than trusting it as a CA,
//! which already lets it sign certificates for any name. Roots from webpki-roots or the system
//! store are never pinned this way (a public CA's own certificate is never a server's). Not
//! checked, as curl does not either: extended key usage (a CA certificate rarely lists
//! `serverAuth`) and revocation.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};

use super::validity::validity;

/// A configured root that may also stand as a server's whole chain.
#[derive(Debug)]
struct Pin {
    der: CertificateDer<'static>,
    not_before: UnixTime,
    not_after: UnixTime,
}

/// rustls's verifier, plus exact acceptance of configured self-signed CA certificates.
#[derive(Debug)]
pub(super) struct PinnedSelfSigned {
    webpki: Arc<WebPkiServerVerifier>,
    pins: Vec<Pin>,
}

impl PinnedSelfSigned {
    /// Wraps `webpki`; `roots` are the caller's own roots. `None` when none of them is
    /// self-signed and readable, so the plain verifier does.
    pub(super) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        roots: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Option<PinnedSelfSigned> {
        let pins: Vec<Pin> = roots
            .into_iter()
            .filter_map(|der| {
                let (not_before, not_after) = validity(der.as_ref())?;
                Some(Pin {
                    der,
                    not_before,
                    not_after,
                })
            })
            .collect();
        (!pins.is_empty()).then_some(PinnedSelfSigned { webpki, pins })
    }
}

/// Whether rustls rejected the certificate for being a CA used as a server's own.
pub(super) fn is_ca_used_as_end_entity(error: &Error) -> bool {
    match error {
        Error::InvalidCertificate(CertificateError::Other(other)) => matches!(
            other.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

impl Pin {
    fn check(&self, name: &ServerName<'_>, now: UnixTime) -> Result<ServerCertVerified, Error> {
        let cert = webpki::EndEntityCert::try_from(&self.der)
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        cert.verify_is_valid_for_subject_name(name)
            .map_err(|_| Error::InvalidCertificate(CertificateError::NotValidForName))?;
        if now.as_secs() < self.not_before.as_secs() {
            return Err(Error::InvalidCertificate(
                CertificateError::NotValidYetContext {
                    time: now,
                    not_before: self.not_before,
                },
            ));
        }
        if now.as_secs() > self.not_after.as_secs() {
            return Err(Error::InvalidCertificate(
                CertificateError::ExpiredContext {
                    time: now,
                    not_after: self.not_after,
                },
            ));
        }
        Ok(ServerCertVerified::assertion())
    }
}

impl ServerCertVerifier for PinnedSelfSigned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(e) if is_ca_used_as_end_entity(&e) => {
                match self
                    .pins
                    .iter()
                    .find(|p| p.der.as_ref() == end_entity.as_ref())
                {
                    Some(pin) => pin.check(server_name, now),
                    None => Err(e),
                }
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.webpki.root_hint_subjects()
    }
}
