//! `POST /VerificarIdentidad`: a new verification, its scenario, and the SMS.

use crate::providers::mensatek::wire::verification::new_verification;
use crate::providers::mensatek::wire::{Call, MError, Refusal, Reply};
use crate::providers::mensatek::{ApiUser, Mensatek, SLUG};
use crate::wire::RequestedScenario;
use axum::extract::{Request, State};
use axum::response::Response;
use std::sync::Arc;

/// `POST /VerificarIdentidad {Telefono, Mensaje?, Dni?, Fecha?, Remitente?, Resp?}`.
pub async fn verificar_identidad(
    State(state): State<Arc<Mensatek>>,
    ApiUser(credentials): ApiUser,
    RequestedScenario(requested): RequestedScenario,
    request: Request,
) -> Response {
    let call = match Call::read(request, credentials, state.body_limit).await {
        Ok(call) => call,
        Err(answer) => return answer,
    };
    match verify(&state, &call, requested.as_deref()).await {
        Ok(reply) => reply.render(call.format),
        Err(refusal) => refusal.render(call.format),
    }
}

async fn verify(state: &Mensatek, call: &Call, requested: Option<&str>) -> Result<Reply, Refusal> {
    let engine = state.engine();
    let tenant = &call.tenant;
    // A past `Fecha` is now, and the SMS goes out when `Fecha` comes, on this API user's
    // clock.
    let new = new_verification(&call.params, engine.now(tenant))?;
    let scenario = engine
        .scenarios
        .choose(SLUG, requested, |field| match field {
            "telefono" => Some(new.phone.clone()),
            "dni" => new.requested_dni.clone(),
            "remitente" => new.sender.clone(),
            _ => None,
        })
        .map_err(MError::Invalid)?;
    let id = state.new_id(tenant);
    engine.assign_scenario(tenant, &id, scenario);
    let applied = state.script(tenant, &id, "verificar").await?;
    // A scenario may set the account's balance first (`credits = 0`: out of credits).
    if let Some(credits) = applied.values.get("credits").and_then(|v| v.as_u64()) {
        state.set_credits(tenant, credits);
    }
    let (verification, left) = state.create(tenant, id, new)?;
    Ok(Reply::ok(vec![
        ("ID", verification.id),
        ("Cred", left.to_string()),
    ]))
}
