//! The API calls, one file per call group: each reads the call (`super::wire::Call`,
//! which checks the credentials after `Resp`, so that -1 answers in the format asked
//! for), drives the verifications (`super::service`) and answers a `Reply`.

pub mod certificates;
pub mod credits;
pub mod verifications;
