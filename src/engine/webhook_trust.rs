//! What an https webhook receiver's certificate may chain to: the system's roots (read
//! once, on the first delivery), the simulator's own CA (so a test can run a receiver with
//! a certificate from `Pki::issue_server`), and the certificates of the `--webhook-ca`
//! file; and the HTTP client that trusts them. Delivery itself is `webhooks`.

use super::webhook_allow::{AllowList, Guard};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// An HTTP client that trusts `roots` for https, follows no redirect (a receiver's 3xx is
/// its answer: following one would let a receiver send the simulator anywhere, a 307 with
/// the body) and, when `allow` lists anything, resolves names through its check.
pub fn http_client(
    timeout: std::time::Duration,
    roots: RootCertStore,
    allow: &AllowList,
) -> Result<reqwest::Client, TrustError> {
    // ring, named rather than looked up as the process default: it is the backend rustls is
    // built with here (rcgen compiles it in anyway), and nothing installs a default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Client(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .use_preconfigured_tls(tls);
    if !allow.is_open() {
        // A proxy would connect in the simulator's stead, to addresses nothing checked.
        builder = builder
            .no_proxy()
            .dns_resolver(Arc::new(Guard(allow.clone())));
    }
    builder
        .build()
        .map_err(|e| TrustError::Client(e.to_string()))
}

/// Why the webhook client could not be set up; each is a start-up error.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the webhook CA file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the webhook CA file {}: {reason}", path.display())]
    Parse { path: PathBuf, reason: String },
    #[error("cannot trust the simulator's CA for webhooks: {0}")]
    SimulatorCa(String),
    #[error("cannot set up the webhook HTTP client: {0}")]
    Client(String),
}

/// What an https receiver's certificate may chain to besides the system's roots (added
/// on the first delivery): the simulator's CA (`simulator_ca`, DER) and every certificate
/// of the PEM file `ca_file`.
pub fn https_roots(
    simulator_ca: &[u8],
    ca_file: Option<&Path>,
) -> Result<RootCertStore, TrustError> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(simulator_ca.to_vec()))
        .map_err(|e| TrustError::SimulatorCa(e.to_string()))?;
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert.der).map_err(|e| TrustError::Parse {
                path: path.to_owned(),
                reason: format!("certificate {} is not usable: {e}", cert.index),
            })?;
        }
    }
    Ok(roots)
}

struct NumberedCert {
    /// 1 for the first certificate of the file, for error messages.
    index: usize,
    der: CertificateDer<'static>,
}

/// The certificates of a PEM file; a file without any is an error, since whoever passed
/// it meant to trust something.
fn read_ca_file(path: &Path) -> Result<Vec<NumberedCert>, TrustError> {
    let bytes =
        crate::files::read_bounded(path, crate::files::SMALL_FILE_LIMIT).map_err(|source| {
            TrustError::Read {
                path: path.to_owned(),
                source,
            }
        })?;
    let parse_error = |reason: String| TrustError::Parse {
        path: path.to_owned(),
        reason,
    };
    let mut certs = Vec::new();
    for (i, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let der = cert.map_err(|e| parse_error(format!("not PEM: {e}")))?;
        certs.push(NumberedCert { index: i + 1, der });
    }
    if certs.is_empty() {
        return Err(parse_error(
            "holds no certificate (expected PEM blocks \"-----BEGIN CERTIFICATE-----\")".into(),
        ));
    }
    Ok(certs)
}

/// The operating system's root certificates, read once per process: the store does not
/// change while we run, and tests build many engines. A missing or empty store (a slim
/// container image without ca-certificates) is not an error: https receivers then need
/// the simulator's CA or --webhook-ca, and the log says so once.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut store = RootCertStore::empty();
        // Stores often hold a few ancient certificates webpki cannot parse; skip those.
        let (usable, _unusable) = store.add_parsable_certificates(found.certs);
        if usable == 0 {
            tracing::warn!(
                "no system root certificates found; https webhooks trust only the simulator's CA \
                 and --webhook-ca (install ca-certificates or set SSL_CERT_FILE for more)"
            );
        } else {
            tracing::debug!("https webhooks trust {usable} system root certificates");
        }
        store
    })
}

/// `roots` and the operating system's root certificates, in one store.
pub fn with_system_roots(roots: &RootCertStore) -> RootCertStore {
    let mut all = system_roots().clone();
    all.roots.extend(roots.roots.iter().cloned());
    all
}
