//! The parameters of `VerificarIdentidad`, read and checked into a `NewVerification`:
//! the phone, the SMS text with its `[LINK]`, the sender, the expected document and the
//! send time `Fecha` (Spain's local time).

use super::{MError, Params};
use crate::engine::timefmt::offset_at;
use crate::providers::mensatek::model::NewVerification;
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

/// The parameters of `VerificarIdentidad`, checked; `now` is the API user's clock's (a
/// `Fecha` in the past means now).
pub fn new_verification(params: &Params, now: OffsetDateTime) -> Result<NewVerification, MError> {
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
