//! [`Identity`]: a client certificate and its private key, for servers that ask the client to
//! prove who it is (mutual TLS; curl's `--cert` and `--key`, reqwest's `Identity`).
//!
//! Read from PEM: the certificate file may hold the whole chain (leaf first, then its
//! intermediates) and, as curl allows, the key too. Keys in PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1
//! (`BEGIN RSA PRIVATE KEY`) and SEC1 (`BEGIN EC PRIVATE KEY`) form are read; an encrypted key is
//! refused with the `openssl` command that decrypts it. Whether key and certificate belong
//! together is checked when the connector is built, so a mismatch is reported before any
//! connection is made.

use std::fmt;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::{TlsError, TlsErrorKind};

/// A client certificate chain and its private key.
///
/// ```
/// use spool_client::tls::Identity;
/// let err = Identity::from_pem(b"", b"").unwrap_err();
/// assert!(err.to_string().contains("no PEM certificate"), "{err}");
/// ```
pub struct Identity {
    pub(super) chain: Vec<CertificateDer<'static>>,
    pub(super) key: PrivateKeyDer<'static>,
}

impl Identity {
    /// The certificate chain in `cert_pem` (leaf first) and the private key in `key_pem`.
    /// Pass the same bytes twice when one file holds both.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Identity, TlsError> {
        let mut chain = Vec::new();
        for (index, item) in CertificateDer::pem_slice_iter(cert_pem).enumerate() {
            chain.push(item.map_err(|e| {
                config(format!(
                    "client certificate: PEM certificate #{} is malformed: {e}",
                    index + 1
                ))
            })?);
        }
        if chain.is_empty() {
            return Err(config(
                "client certificate: no PEM certificate found (expected a \
                 \"-----BEGIN CERTIFICATE-----\" block)",
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| match e {
            pem::Error::NoItemsFound if contains(key_pem, b"ENCRYPTED PRIVATE KEY") => config(
                "client key: the private key is encrypted, which spool does not read; decrypt \
                 it with `openssl pkey -in key.pem -out key-plain.pem`",
            ),
            pem::Error::NoItemsFound => config(
                "client key: no PEM private key found (expected \"-----BEGIN PRIVATE KEY-----\", \
                 \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")",
            ),
            other => config(format!(
                "client key: the PEM private key is malformed: {other}"
            )),
        })?;
        Ok(Identity { chain, key })
    }

    /// The certificates of the chain, leaf first, in DER.
    pub fn certificates(&self) -> impl Iterator<Item = &[u8]> {
        self.chain.iter().map(|c| c.as_ref())
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// Never shows the key.
impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.chain.len())
            .field("key", &"<hidden>")
            .finish()
    }
}

fn config(message: impl Into<String>) -> TlsError {
    TlsError::new(TlsErrorKind::Config, message)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PEM-wise valid blocks (their contents are not real keys or certificates).
    const CERT: &str = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\naGk=\n-----END PRIVATE KEY-----\n";

    #[test]
    fn reads_chain_and_key_from_one_file_or_two() {
        let both = format!("{CERT}{CERT}{KEY}");
        let id = Identity::from_pem(both.as_bytes(), both.as_bytes()).unwrap();
        assert_eq!(id.certificates().count(), 2);
        let id = Identity::from_pem(CERT.as_bytes(), KEY.as_bytes()).unwrap();
        assert_eq!(id.certificates().next(), Some(&b"hello"[..]));
        assert!(!format!("{id:?}").contains("aGk"), "the key never shows");
    }

    #[test]
    fn missing_or_encrypted_keys_say_so() {
        let err = Identity::from_pem(CERT.as_bytes(), CERT.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("no PEM private key"), "{err}");
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\naGk=\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let err = Identity::from_pem(CERT.as_bytes(), encrypted.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("openssl pkey"), "{err}");
        assert_eq!(err.kind(), TlsErrorKind::Config);
    }
}
