//! The handlers of Uanataca's API, one file per resource of the optimizer: each reads the
//! wire (`super::wire`), drives the one-shot model or Uanataca's own state (`super::model`)
//! and answers in the optimizer's envelope.

pub mod documents;
pub mod images;
pub mod requests;
pub mod settings;
pub mod tokens;
pub mod videoid;
