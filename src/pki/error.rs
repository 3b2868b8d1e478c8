//! Why a PKI operation failed: the one error type of `pki`, which every part returns.

/// What went wrong, with a message that says why.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("invalid PDF: {0}")]
    InvalidPdf(String),
    #[error("unsupported PDF: {0}")]
    UnsupportedPdf(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("certificate error: {0}")]
    Cert(String),
    #[error("ASN.1 encoding error: {0}")]
    Encoding(String),
    #[error("CA storage error: {0}")]
    Storage(String),
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError::Encoding(e.to_string())
    }
}

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        PkiError::Cert(e.to_string())
    }
}
