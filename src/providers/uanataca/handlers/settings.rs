//! hello, version and the optimizer's settings.ini, kept per tenant.

use crate::providers::uanataca::model::SETTINGS_SECTIONS;
use crate::providers::uanataca::service::Uanataca;
use crate::providers::uanataca::wire::{invalid_json, ok, Body, TenantHeader, UError, UResult};
use axum::extract::State;
use serde_json::{json, Value};
use std::sync::Arc;

/// The most a tenant's settings.ini may weigh, in bytes.
const SETTINGS_LIMIT: usize = 64 * 1024;

pub async fn hello() -> UResult {
    Ok(ok("Hello"))
}

pub async fn version() -> UResult {
    Ok(ok(json!({
        "info": {
            "machine": std::env::consts::ARCH,
            "version": "signsim",
            "release": env!("CARGO_PKG_VERSION"),
            "hostname": "signsim",
            "system": "Linux",
            "processor": std::env::consts::ARCH,
        },
        "version": "1.5.0",
        "name": "OneShot Optimizer",
    })))
}

pub async fn get(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
) -> UResult {
    Ok(ok(state.settings_of(&tenant)))
}

/// Merges the given sections into the tenant's settings; unknown sections are refused.
pub async fn update(
    State(state): State<Arc<Uanataca>>,
    TenantHeader(tenant): TenantHeader,
    Body(fields): Body<{ invalid_json::BARE }>,
) -> UResult {
    let mut settings = state.settings_of(&tenant);
    for (section, values) in fields.values {
        if !SETTINGS_SECTIONS.contains(&section.as_str()) {
            return Err(UError::bad_request(format!(
                "Unknown settings section '{section}'. Valid sections are tsa, request, billing, general"
            )));
        }
        let Value::Object(values) = values else {
            return Err(UError::bad_request(format!(
                "Invalid value for '{section}': expected an object"
            )));
        };
        if let Some(Value::Object(current)) = settings.get_mut(&section) {
            current.extend(values);
        }
    }
    // settings.ini holds URLs and credentials: a few kilobytes. A larger one is refused
    // rather than kept (it is metered like every stored value, but one tenant must not
    // fill the cap with it).
    let size = crate::engine::quota::Stored::heap_bytes(&settings);
    if size > SETTINGS_LIMIT {
        return Err(UError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("Settings too large: {size} bytes, the limit is {SETTINGS_LIMIT} bytes"),
        ));
    }
    state.settings.insert(&tenant, (), settings);
    Ok(ok("Settings saved successfully"))
}
