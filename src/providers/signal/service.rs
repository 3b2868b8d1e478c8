//! Signal's state handle (`Signal`): the shared one-shot model, its RAO's certificate and
//! Signal's own state (the residence the one-shot model does not keep, the links it hands
//! out). No HTTP types here.

use super::model::{FileLink, Residence, Session};
use crate::engine::links::Links;
use crate::engine::store::TenantStore;
use crate::pki::{PkiError, SignerIdentity};
use crate::providers::shared::oneshot::{IssuedCertificate, OneShot};
use std::sync::Arc;

/// The surface's name: its path prefix, and the provider its events and messages carry.
pub const SLUG: &str = "signal";

/// The RAO that approves every Signal request, as the docs show it.
pub(super) const RAO_GIVEN_NAME: &str = "RAO Ecuador One-Shot";
pub(super) const RAO_SURNAME: &str = "SandBox";
pub(super) const RAO_DOCUMENT: &str = "99999999R";

pub struct Signal {
    pub(super) oneshot: Arc<OneShot>,
    /// The approving RAO's certificate, shown in the request details.
    pub(super) rao_certificate: IssuedCertificate,
    pub(super) residences: Arc<TenantStore<u64, Residence>>,
    pub(super) files: Links<FileLink>,
    pub(super) biometrics: Links<Session>,
    pub(super) body_limit: usize,
}

impl Signal {
    pub fn new(oneshot: Arc<OneShot>, body_limit: usize) -> Result<Signal, PkiError> {
        let engine = oneshot.engine();
        let rao = SignerIdentity {
            given_name: RAO_GIVEN_NAME.into(),
            surname_1: RAO_SURNAME.into(),
            surname_2: None,
            serial_number: format!("IDCEC-{RAO_DOCUMENT}"),
            country: "EC".into(),
            email: None,
        };
        let rao_certificate =
            // The RAO is no tenant's: its certificate is dated by the shared clock (the PKI
            // makes it outlast every tenant's).
            IssuedCertificate::from(&engine.pki.issue_operator(&rao, engine.clock.now())?);
        Ok(Signal {
            rao_certificate,
            residences: engine.new_store("signal.residences"),
            files: Links::new(engine, "signal.files"),
            biometrics: Links::new(engine, "signal.biometrics"),
            oneshot,
            body_limit,
        })
    }
}
