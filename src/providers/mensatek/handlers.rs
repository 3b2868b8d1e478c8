//! The API calls: read the parameters, check the credentials (after `Resp`, so that -1
//! answers in the format asked for), drive the model, answer a `Reply`.

use super::model::service::NewVerification;
use super::wire::{Credentials, Format, MError, Params, Refusal, Reply};
use super::{Mensatek, SLUG};
use crate::engine::timefmt::offset_at;
use crate::wire::RequestedScenario;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Longest `Remitente`, as the guide says.
const MAX_SENDER_CHARS: usize = 11;
/// Longest `Mensaje` accepted (an SMS campaign text, bounded).
const MAX_MESSAGE_CHARS: usize = 1000;
/// How far ahead `Fecha` may schedule the send.
const MAX_SCHEDULE_DAYS: i64 = 366;
/// What the SMS says when the call gives no `Mensaje`.
pub const DEFAULT_MESSAGE: &str =
    "Necesitamos verificar su identidad. Pulse el siguiente enlace para comenzar: [LINK]";

/// Reads the parameters and the tenant; a body that cannot be read answers -3 in the
/// legacy form (its `Resp` is unknown).
async fn begin(
    state: &Mensatek,
    credentials: Option<String>,
    request: Request,
) -> Result<(Params, Format, String), Response> {
    let params = Params::read(request, state.body_limit)
        .await
        .map_err(|e| MError::from(e).reply().render(Format::Legacy))?;
    let format = params.format();
    let tenant = credentials.ok_or_else(|| MError::Auth.reply().render(format))?;
    Ok((params, format, tenant))
}

/// `POST /VerificarIdentidad {Telefono, Mensaje?, Dni?, Fecha?, Remitente?, Resp?}`.
pub async fn verificar_identidad(
    State(state): State<Arc<Mensatek>>,
    Credentials(credentials): Credentials,
    RequestedScenario(requested): RequestedScenario,
    request: Request,
) -> Response {
    let (params, format, tenant) = match begin(&state, credentials, request).await {
        Ok(begun) => begun,
        Err(answer) => return answer,
    };
    match verify(&state, &tenant, requested.as_deref(), &params).await {
        Ok(reply) => reply.render(format),
        Err(refusal) => refusal.render(format),
    }
}

async fn verify(
    state: &Mensatek,
    tenant: &str,
    requested: Option<&str>,
    params: &Params,
) -> Result<Reply, Refusal> {
    let new = new_verification(state, params)?;
    let engine = state.engine();
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
    engine.assign_scenario(SLUG, tenant, &id, scenario);
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

/// The parameters of `VerificarIdentidad`, checked.
fn new_verification(state: &Mensatek, params: &Params) -> Result<NewVerification, MError> {
    let phone = params
        .text("Telefono")?
        .ok_or_else(|| MError::missing("Telefono"))?;
    let phone: String = phone
        .trim_start_matches('+')
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    if !(6..=15).contains(&phone.len()) || !phone.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MError::invalid(
            "Invalid Telefono: give the mobile number with its country code (34600000001)",
        ));
    }
    let message = params
        .text("Mensaje")?
        .unwrap_or_else(|| DEFAULT_MESSAGE.to_owned());
    if !message.contains("[LINK]") {
        return Err(MError::invalid(
            "Invalid Mensaje: it must include the keyword [LINK]",
        ));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(MError::invalid(format!(
            "Invalid Mensaje: at most {MAX_MESSAGE_CHARS} characters"
        )));
    }
    let sender = params.text("Remitente")?;
    if sender
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SENDER_CHARS)
    {
        return Err(MError::invalid(format!(
            "Invalid Remitente: at most {MAX_SENDER_CHARS} characters"
        )));
    }
    let dni = params.text("Dni")?.map(|d| d.to_ascii_uppercase());
    if dni
        .as_ref()
        .is_some_and(|d| d.len() > 20 || !d.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(MError::invalid(
            "Invalid Dni: letters and digits only, at most 20",
        ));
    }
    let now = state.engine().now();
    let send_at = match params.text("Fecha")? {
        None => now,
        Some(text) => schedule(&text, now)?,
    };
    Ok(NewVerification {
        phone,
        message,
        sender,
        requested_dni: dni,
        send_at,
    })
}

/// `Fecha`: `YYYY-MM-DD HH:MM` in Spain's local time; a past time means now, and at most
/// `MAX_SCHEDULE_DAYS` ahead.
fn schedule(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, MError> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let local = PrimitiveDateTime::parse(text, format)
        .map_err(|_| MError::invalid("Invalid Fecha: use the format YYYY-MM-DD HH:MM"))?;
    let at = madrid(local);
    let latest = crate::engine::later(now, time::Duration::days(MAX_SCHEDULE_DAYS));
    if at > latest {
        return Err(MError::invalid(format!(
            "Invalid Fecha: at most {MAX_SCHEDULE_DAYS} days ahead"
        )));
    }
    Ok(at.max(now))
}

/// A local time in Madrid as an instant: the offset is the one in force at that instant
/// (the guess from the local time as if UTC is corrected once).
fn madrid(local: PrimitiveDateTime) -> OffsetDateTime {
    let guess = local.assume_utc();
    let first = offset_at("Europe/Madrid", guess).unwrap_or(time::UtcOffset::UTC);
    let at = local.assume_offset(first);
    match offset_at("Europe/Madrid", at) {
        Some(second) if second != first => local.assume_offset(second),
        _ => at,
    }
}

/// `POST /GetCertificadoVerificacion {Id, Resp?}`: the PDF itself once the status is 5100.
pub async fn get_certificado(
    State(state): State<Arc<Mensatek>>,
    Credentials(credentials): Credentials,
    request: Request,
) -> Response {
    let (params, format, tenant) = match begin(&state, credentials, request).await {
        Ok(begun) => begun,
        Err(answer) => return answer,
    };
    match certificate(&state, &tenant, &params).await {
        Ok(response) => response,
        Err(refusal) => refusal.render(format),
    }
}

async fn certificate(state: &Mensatek, tenant: &str, params: &Params) -> Result<Response, Refusal> {
    let id = params.text("Id")?.ok_or_else(|| MError::missing("Id"))?;
    if id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MError::invalid("Invalid Id: the ID the send function answered").into());
    }
    state.get(tenant, &id)?;
    state.script(tenant, &id, "certificado").await?;
    let pdf = state.certificate(tenant, &id)?;
    let disposition = format!("attachment; filename=\"certificado_{id}.pdf\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response())
}

/// `POST /GetCreditos {Resp?}`: `Res` and `Cred`.
pub async fn get_creditos(
    State(state): State<Arc<Mensatek>>,
    Credentials(credentials): Credentials,
    request: Request,
) -> Response {
    let (_, format, tenant) = match begin(&state, credentials, request).await {
        Ok(begun) => begun,
        Err(answer) => return answer,
    };
    Reply::ok(vec![("Cred", state.credits(&tenant).to_string())]).render(format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fecha_is_spain_time() {
        let now = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(
            schedule("2026-07-01 15:10", now).unwrap(),
            datetime!(2026-07-01 13:10 UTC)
        );
        assert_eq!(
            schedule("2026-02-01 15:10", now).unwrap(),
            datetime!(2026-02-01 14:10 UTC)
        );
        assert_eq!(schedule("2020-01-01 10:00", now).unwrap(), now);
        assert!(schedule("2099-01-01 10:00", now).is_err());
        assert!(schedule("01/02/2026", now).is_err());
    }
}
