//! A throwaway certificate authority and a server certificate it signed, made with the `openssl`
//! command, for TLS tests against the harness's nginx ([`crate::support::NginxOptions::tls`]).
//!
//! Two certificates rather than one self-signed: webpki (rustls's verifier) rejects a CA
//! certificate presented as a server's own, so a client that trusts [`TestCerts::ca`] verifies the
//! server certificate the way it would a real one. The server certificate names `localhost`,
//! `127.0.0.1` and `::1`; keys are ECDSA P-256 (PKCS#8 PEM).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::reap_stale;
use super::skip;
use super::tempdir::TempDir;

/// The CA and server certificate files; removed on drop.
#[derive(Debug)]
pub struct TestCerts {
    dir: TempDir,
}

impl TestCerts {
    /// Generates a fresh CA and server certificate (valid for ten years from now).
    ///
    /// Returns `None` with a skip notice when `openssl` is not installed (a panic under
    /// `CI=true`); panics when openssl fails.
    ///
    /// ```ignore
    /// let Some(certs) = TestCerts::generate() else { return };
    /// let options = NginxOptions::new().tls(certs.cert(), certs.key());
    /// let trusted_root_pem = certs.ca_pem();
    /// ```
    pub fn generate() -> Option<TestCerts> {
        if Command::new("openssl").arg("version").output().is_err() {
            skip::missing("the openssl command", "apt-get install openssl");
            return None;
        }
        reap_stale("certs");
        let dir = TempDir::new("certs");
        let leaf_ext = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n\
                        basicConstraints=critical,CA:FALSE\n\
                        keyUsage=critical,digitalSignature\n\
                        extendedKeyUsage=serverAuth\n";
        dir.write("leaf.ext", leaf_ext.as_bytes());
        // Arguments are split on whitespace, so none of them may contain a space.
        let ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        openssl(
            dir.path(),
            &format!(
                "req -x509 {ec_key} -keyout ca.key -out ca.pem -days 3650 -subj /CN=spool-test-CA \
                 -addext basicConstraints=critical,CA:TRUE \
                 -addext keyUsage=critical,keyCertSign,cRLSign"
            ),
        );
        openssl(
            dir.path(),
            &format!("req {ec_key} -keyout server.key -out server.csr -subj /CN=localhost"),
        );
        openssl(
            dir.path(),
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 3650 \
             -extfile leaf.ext -out server.pem",
        );
        Some(TestCerts { dir })
    }

    /// PEM file of the CA certificate: the root a client must trust.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// PEM file of the server certificate (for `ssl_certificate`).
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// PEM file of the server's private key (for `ssl_certificate_key`).
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// The CA certificate's PEM text.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.ca()).expect("the CA file exists while TestCerts lives")
    }
}

/// Runs `openssl` with the whitespace-separated `args` in `dir`; panics with its output on failure.
fn openssl(dir: &Path, args: &str) {
    let args: Vec<&str> = args.split_whitespace().collect();
    let output = Command::new("openssl")
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
    assert!(
        output.status.success(),
        "openssl {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
