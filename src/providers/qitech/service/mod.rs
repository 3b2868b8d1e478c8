//! The envelope operations with their engine effects (events on the timeline, messages to
//! the outbox, timers, links, webhooks), one file per concern; each is `impl QiTech`.
//! The model underneath holds the data and its table of moves, and knows no engine.

pub mod envelopes;
pub mod expiry;
pub mod files;
pub mod signing;
