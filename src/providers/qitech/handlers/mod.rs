//! The handlers of QI Tech's API, one file per resource under `/sign/envelope`: each reads
//! the request (`super::wire`), runs the service (`super::service`) and answers in QI
//! Tech's shapes. They share nothing but the state, the wire and the call's tenant
//! (`ApiKey`).

pub mod documents;
pub mod envelopes;
pub mod reports;
pub mod signers;

use super::wire::{api_key, QError};
use super::SLUG;
use crate::engine::tenant::Tenant;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The call's tenant: QI Tech's tenant named by the API key (`wire::api_key`); a call
/// without a key answers 401.
pub struct ApiKey(pub Tenant);

impl<S: Send + Sync> FromRequestParts<S> for ApiKey {
    type Rejection = QError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ApiKey, QError> {
        let key = api_key::key(&parts.headers)?;
        Ok(ApiKey(Tenant::new(SLUG, key)))
    }
}
