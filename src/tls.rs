//! Serving https (`--tls`): a certificate the simulator's CA issues for the names people
//! dial, or the user's own files. The serve loop (`crate::serve`) runs each handshake in
//! the connection's own task, under a deadline.

use crate::pki::Pki;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the https certificate comes from.
#[derive(Debug, Clone)]
pub enum Tls {
    /// Issued at start by the simulator's CA for `localhost`, `127.0.0.1`, `::1` and
    /// these names, so trusting `ca.pem` once is enough.
    Issued { names: Vec<String> },
    /// The user's own certificate chain and private key, PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("cannot issue the https certificate: {0}")]
    Issue(#[from] crate::pki::PkiError),
}

/// The names every issued certificate covers: what a person or a test on this machine dials.
const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

impl Tls {
    /// The rustls configuration this setting stands for; `pki` issues the certificate of
    /// `Tls::Issued`.
    pub fn server_config(&self, pki: &Pki) -> Result<Arc<ServerConfig>, TlsError> {
        match self {
            Tls::Issued { names } => {
                let mut all: Vec<String> = LOCAL_NAMES.iter().map(|n| n.to_string()).collect();
                for name in names {
                    let name = name.trim();
                    if !name.is_empty() && !all.iter().any(|n| n == name) {
                        all.push(name.to_owned());
                    }
                }
                let issued = pki.issue_server(&all)?;
                server_config(issued.cert_pem.as_bytes(), issued.key_pem.as_bytes())
            }
            Tls::Files { cert, key } => {
                let read = |path: &PathBuf| {
                    crate::files::read_bounded(path, crate::files::SMALL_FILE_LIMIT).map_err(
                        |source| TlsError::Read {
                            path: path.display().to_string(),
                            source,
                        },
                    )
                };
                server_config(&read(cert)?, &read(key)?).map_err(|e| match e {
                    TlsError::Invalid(why) => TlsError::Invalid(format!(
                        "{why} (certificate {}, key {})",
                        cert.display(),
                        key.display()
                    )),
                    other => other,
                })
            }
        }
    }
}

/// A server configuration from a PEM chain (leaf first) and a PEM private key (PKCS#8,
/// PKCS#1 or SEC1).
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Invalid(format!("the certificate is not PEM: {e}")))?;
    if chain.is_empty() {
        return Err(TlsError::Invalid(
            "no CERTIFICATE block in the certificate file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| TlsError::Invalid(format!("no usable private key: {e}")))?;
    // ring explicitly: rustls is built with ring only, and naming it keeps a second
    // provider pulled in by another crate from making the choice ambiguous.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Invalid(format!("certificate and key do not fit: {e}")))?;
    // axum serves HTTP/1.1 only (its http2 feature is off).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
