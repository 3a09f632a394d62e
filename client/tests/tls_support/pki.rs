//! Certificates generated at test time with rcgen: a throwaway CA, server certificates it signs
//! (valid, expired, not yet valid, for chosen names), and a self-signed one.
//!
//! Keys are ECDSA P-256 (rcgen's default), which rustls's ring provider verifies.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate chain and its private key, as a rustls server wants them.
pub struct ServerIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// The validity window of a generated certificate.
#[derive(Clone, Copy, Debug)]
pub enum Validity {
    /// 2000-01-01 to 4000-01-01: valid for any test run.
    Current,
    /// 2000-01-01 to 2001-01-01.
    Expired,
    /// 3000-01-01 to 4000-01-01.
    NotYetValid,
}

/// A test CA that signs server certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new() -> TestCa {
        TestCa::named("spool TLS test CA")
    }

    /// A CA with the common name `name` (two CAs of the same name are told apart by key only).
    pub fn named(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    /// The CA certificate in PEM, as a client would load it from a file.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP literals), signed by this CA.
    pub fn server(&self, names: &[&str], validity: Validity) -> ServerIdentity {
        let key = KeyPair::generate().unwrap();
        let params = leaf_params(names, validity);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        ServerIdentity {
            chain: vec![cert.der().clone()],
            key: private_key(&key),
        }
    }
}

impl TestCa {
    /// A client certificate (extended key usage clientAuth) for `name`, signed by this CA, as
    /// PEM: (certificate, private key).
    pub fn client(&self, name: &str) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// The CA certificate in DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }
}

/// A self-signed certificate for `names` marked `CA:TRUE`, as `openssl req -x509` makes: the
/// server's identity and the certificate's PEM.
pub fn self_signed_ca(names: &[&str], validity: Validity) -> (ServerIdentity, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = leaf_params(names, validity);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let pem = cert.pem();
    (
        ServerIdentity {
            chain: vec![cert.der().clone()],
            key: private_key(&key),
        },
        pem,
    )
}

/// A certificate for `names` signed by its own key: no CA vouches for it.
pub fn self_signed(names: &[&str]) -> ServerIdentity {
    let key = KeyPair::generate().unwrap();
    let cert = leaf_params(names, Validity::Current)
        .self_signed(&key)
        .unwrap();
    ServerIdentity {
        chain: vec![cert.der().clone()],
        key: private_key(&key),
    }
}

fn leaf_params(names: &[&str], validity: Validity) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "spool TLS test server");
    let (from, to) = match validity {
        Validity::Current => ((2000, 1, 1), (4000, 1, 1)),
        Validity::Expired => ((2000, 1, 1), (2001, 1, 1)),
        Validity::NotYetValid => ((3000, 1, 1), (4000, 1, 1)),
    };
    params.not_before = date_time_ymd(from.0, from.1, from.2);
    params.not_after = date_time_ymd(to.0, to.1, to.2);
    params
}

fn private_key(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}
