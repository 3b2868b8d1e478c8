//! `POST /GetCertificadoVerificacion`: the signed certificate of a verification.

use crate::providers::mensatek::wire::{Call, MError, Refusal};
use crate::providers::mensatek::{ApiUser, Mensatek};
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `POST /GetCertificadoVerificacion {Id, Resp?}`: the PDF itself once the status is 5100.
pub async fn get_certificado(
    State(state): State<Arc<Mensatek>>,
    ApiUser(credentials): ApiUser,
    request: Request,
) -> Response {
    let call = match Call::read(request, credentials, state.body_limit).await {
        Ok(call) => call,
        Err(answer) => return answer,
    };
    match certificate(&state, &call).await {
        Ok(response) => response,
        Err(refusal) => refusal.render(call.format),
    }
}

async fn certificate(state: &Mensatek, call: &Call) -> Result<Response, Refusal> {
    let tenant = &call.tenant;
    let id = call
        .params
        .text("Id")?
        .ok_or_else(|| MError::missing("Id"))?;
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
