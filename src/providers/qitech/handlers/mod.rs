//! The handlers of QI Tech's API, one file per resource under `/sign/envelope`: each reads
//! the request (`super::wire`), runs the service (`super::service`) and answers in QI
//! Tech's shapes. They share nothing but the state and the wire.

pub mod documents;
pub mod envelopes;
pub mod reports;
pub mod signers;
