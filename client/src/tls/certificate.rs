//! [`Certificate`]: a root certificate to trust, read from PEM (a private CA's `ca.pem`,
//! `fetch --ca-file`) or DER.
//!
//! PEM parsing is rustls-pki-types' own (re-exported by rustls), so no extra crate is needed.
//! Parsing happens when the certificate is added, not at the first connection, so a bad file is
//! reported where it was named.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::error::{TlsError, TlsErrorKind};

/// One X.509 certificate (DER inside), to be trusted as a root.
///
/// ```
/// use spool_client::tls::Certificate;
/// let err = Certificate::from_pem(b"not a certificate").unwrap_err();
/// assert!(err.to_string().contains("no PEM certificate"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: CertificateDer<'static>,
}

impl Certificate {
    /// The first `-----BEGIN CERTIFICATE-----` block of `pem`.
    ///
    /// Errors when there is none, or the base64 inside is broken.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, TlsError> {
        let mut certs = Certificate::from_pem_bundle(pem)?;
        // from_pem_bundle never returns an empty list.
        Ok(certs.swap_remove(0))
    }

    /// Every certificate in `pem` (a CA bundle); other blocks (keys, CRLs) are skipped.
    ///
    /// Errors when there is no certificate at all, or a certificate block is broken.
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<Certificate>, TlsError> {
        let mut certs = Vec::new();
        for (index, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| {
                TlsError::new(
                    TlsErrorKind::Config,
                    format!("PEM certificate #{} is malformed: {e}", index + 1),
                )
            })?;
            certs.push(Certificate { der });
        }
        if certs.is_empty() {
            return Err(TlsError::new(
                TlsErrorKind::Config,
                "no PEM certificate found (expected a \"-----BEGIN CERTIFICATE-----\" block)",
            ));
        }
        Ok(certs)
    }

    /// A certificate in DER (binary) form. It is checked when the connector is built.
    pub fn from_der(der: impl Into<Vec<u8>>) -> Certificate {
        Certificate {
            der: CertificateDer::from(der.into()),
        }
    }

    /// The DER bytes.
    pub fn as_der(&self) -> &[u8] {
        self.der.as_ref()
    }

    pub(crate) fn into_der(self) -> CertificateDer<'static> {
        self.der
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PEM block whose base64 decodes to "hello" (not a valid certificate, but PEM-wise fine).
    const PEM: &str = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";

    #[test]
    fn reads_every_certificate_of_a_bundle() {
        let bundle = format!(
            "junk before\n{PEM}-----BEGIN PRIVATE KEY-----\naGk=\n-----END PRIVATE KEY-----\n{PEM}"
        );
        let certs = Certificate::from_pem_bundle(bundle.as_bytes()).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0].as_der(), b"hello");
        assert_eq!(
            Certificate::from_pem(bundle.as_bytes()).unwrap().as_der(),
            b"hello"
        );
    }

    #[test]
    fn broken_base64_names_the_block() {
        let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        let err = Certificate::from_pem_bundle(broken.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), TlsErrorKind::Config);
        assert!(err.to_string().contains("#1 is malformed"), "{err}");
    }

    #[test]
    fn empty_input_is_an_error() {
        let err = Certificate::from_pem_bundle(b"").unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }
}
