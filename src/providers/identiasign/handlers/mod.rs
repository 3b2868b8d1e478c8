//! The API calls under `/api`, one file per resource: each reads and checks the request
//! (`super::wire`, where every field error is a 400 that names the field), runs the
//! operations (`super::service`) and renders IdentiaSign's shapes.

pub mod labels;
pub mod login;
pub mod processes;
