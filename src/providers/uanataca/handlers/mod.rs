//! The handlers of Uanataca's API, one file per resource of the optimizer: each reads the
//! call's fields through the wire (`super::wire`), drives the one-shot model or Uanataca's
//! own state (`super::service`, `super::model`) and answers in the optimizer's envelope.
//! No handler imports another.

pub mod documents;
pub mod images;
pub mod requests;
pub mod settings;
pub mod tokens;
pub mod videoid;
