//! Black-box tests: the app runs on an ephemeral port and is spoken to over HTTP.

mod admin;
mod cli;
mod clock;
mod common;
mod hostile;
mod identiasign;
mod load_faults;
mod mensatek;
mod pages;
mod paths;
mod qitech;
mod receiver;
mod scenarios;
mod signal;
mod uanataca_classic;
mod uanataca_fidelity;
mod uanataca_hash;
mod uanataca_input;
mod uanataca_videoid;
mod uanataca_visible;
mod validators;
mod webhooks;
mod webhooks_tls;
