//! The handlers of Signal's API, one file per feature: login, the signature request,
//! file retrieval and the biometric session.

pub mod auth;
pub mod biometric;
pub mod files;
pub mod sign;
