//! hello, version and the optimizer's settings.ini, kept per tenant.

use crate::providers::uanataca::model::SETTINGS_SECTIONS;
use crate::providers::uanataca::service::Uanataca;
use crate::providers::uanataca::wire::{invalid_json, ok, Body, TenantHeader, UError, UResult};
use axum::extract::State;
use serde_json::{json, Value};
use std::sync::Arc;

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
    state.settings.insert(&tenant, (), settings);
    Ok(ok("Settings saved successfully"))
}
