//! Models shared by more than one provider surface. They are not providers: they have no
//! routes and no wire shapes, and each surface that uses one turns its values and errors
//! into its own answers.
//!
//! - `oneshot`: the one-shot signature request (Uanataca One-Shot, and Signal's facade
//!   over it), with the certificate JSON both surfaces show.

pub mod oneshot;
