//! The handlers of Signal's API, one file per feature: login, the signature request,
//! file retrieval and the biometric session. Each reads the call's fields through the
//! wire (`super::wire`) and drives the one-shot model or Signal's own state
//! (`super::service`); no handler imports another.

pub mod auth;
pub mod biometric;
pub mod files;
pub mod sign;
