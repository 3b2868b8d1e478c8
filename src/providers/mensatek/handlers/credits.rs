//! `POST /GetCreditos`: the API user's balance.

use crate::providers::mensatek::wire::{Call, Reply};
use crate::providers::mensatek::{ApiUser, Mensatek};
use axum::extract::{Request, State};
use axum::response::Response;
use std::sync::Arc;

/// `POST /GetCreditos {Resp?}`: `Res` and `Cred`.
pub async fn get_creditos(
    State(state): State<Arc<Mensatek>>,
    ApiUser(credentials): ApiUser,
    request: Request,
) -> Response {
    let call = match Call::read(request, credentials, state.body_limit).await {
        Ok(call) => call,
        Err(answer) => return answer,
    };
    Reply::ok(vec![("Cred", state.credits(&call.tenant).to_string())]).render(call.format)
}
