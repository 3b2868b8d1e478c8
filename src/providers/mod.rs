//! One folder per provider: its model (state machine) apart from its wire shapes (http).

pub mod oneshot;
pub mod qitech;
pub mod signal;
pub mod uanataca;
