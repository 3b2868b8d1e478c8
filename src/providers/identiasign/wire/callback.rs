//! The payload POSTed to `urlCallback` when the signers conclude a process, in the shape of
//! the docs' example (dates as Unix seconds, each signer's `sign_data`).

use super::challenges;
use crate::providers::identiasign::model::{Process, Signer};
use serde_json::{json, Map, Value};

/// How long the facial evidence is reported valid after the act: the docs' example shows
/// `facial.expire` ten seconds after `sign_data.date`.
const FACIAL_EXPIRE_SECONDS: i64 = 10;

fn signer(signer: &Signer) -> Value {
    let mut out = Map::new();
    out.insert("nat".into(), json!(signer.nat.as_str()));
    out.insert(
        "stampPositions".into(),
        Value::Object(signer.stamp_positions.clone()),
    );
    if let Some(contact) = &signer.contact {
        out.insert(
            "contactInfo".into(),
            json!({
                "type": contact.channel.as_str(),
                "value": contact.value,
                "tz": contact.tz,
                "notified": contact.notified,
            }),
        );
    }
    if let Some((act, at)) = signer.act {
        let mut data = Map::new();
        data.insert("signAction".into(), json!(act.as_str()));
        if let Some(facial) = &signer.facial {
            data.insert(
                "facial".into(),
                json!({
                    "result": facial.result,
                    "msg": if facial.result { "success" } else { "failed" },
                    "id": facial.id,
                    "expire": facial.at.unix_timestamp().saturating_add(FACIAL_EXPIRE_SECONDS),
                    "selfie": format!("{}_{}", signer.nat.as_str(), signer.doc_id),
                }),
            );
        }
        data.insert("date".into(), json!(at.unix_timestamp()));
        data.insert("result".into(), json!(act.as_str()));
        out.insert("sign_data".into(), Value::Object(data));
    }
    out.insert(
        "pinfo".into(),
        json!({ "given_name": signer.alias.clone().unwrap_or_default(), "family_name": "" }),
    );
    out.insert("signatureType".into(), json!(signer.signature_type));
    out.insert("signChallenges".into(), json!(challenges(signer)));
    out.insert("doc_id".into(), json!(signer.doc_id));
    if let Some(alias) = &signer.alias {
        out.insert("signerAlias".into(), json!(alias));
    }
    Value::Object(out)
}

/// The payload; `documents` are each document's id and a fresh download URL.
pub fn body(process: &Process, documents: &[(String, Option<String>)]) -> Value {
    let documents: Vec<Value> = process
        .documents
        .iter()
        .zip(documents)
        .map(|(document, (_, url))| {
            json!({
                "name": document.name,
                "id": document.id,
                "pages": document.pages,
                "url": url.clone().unwrap_or_default(),
            })
        })
        .collect();
    let first = process.signers.first();
    json!({
        "signers_search": process.signers.iter().map(Signer::key).collect::<Vec<_>>(),
        "sign_order": process.sign_order,
        "status": process.status.as_str(),
        "expire": process.expires_at.unix_timestamp(),
        "documents": documents,
        "signers": process.signers.iter().map(signer).collect::<Vec<_>>(),
        "date": process.created_at.unix_timestamp(),
        "urlCallback": process.url_callback.clone().unwrap_or_default(),
        "labels": process.labels,
        "readChallenges": ["signerId"],
        "description": process.description,
        "id": process.id,
        "nat": first.map(|s| s.nat.as_str()).unwrap_or_default(),
        "per_id": first.map(|s| s.doc_id.clone()).unwrap_or_default(),
    })
}
