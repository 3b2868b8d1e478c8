//! The dossier of one document: the document followed by an evidence page (each signer's
//! data, signing time and identity checks), then PAdES-signed once per signer with a
//! fresh single-use certificate, each signature an incremental update.

use super::model::{Document, Dossier, Envelope, Signer};
use super::wire::render::timestamp;
use crate::engine::Engine;
use crate::pki::{text_pdf, SignerIdentity};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// One dossier per document of a completed envelope, its certificates issued and its
/// signatures made at `now` (the envelope's tenant's time).
pub fn build(
    engine: &Engine,
    envelope: &Envelope,
    now: OffsetDateTime,
) -> Result<Vec<Dossier>, String> {
    envelope
        .documents
        .iter()
        .map(|document| {
            let merged = crate::pki::append_pages(&document.bytes, &evidence(envelope, document))
                .map_err(|e| e.to_string())?;
            let mut signed = merged;
            for signer in &envelope.signers {
                let cert = engine
                    .pki
                    .issue_signer(&identity(signer), now)
                    .map_err(|e| e.to_string())?;
                signed = engine
                    .pki
                    .sign_pdf(&signed, &cert, now, None)
                    .map_err(|e| e.to_string())?;
            }
            Ok(Dossier {
                document_id: document.id.clone(),
                bytes: crate::engine::documents::keep_vec(signed),
            })
        })
        .collect()
}

/// The evidence page: what the platform saw of each signer.
fn evidence(envelope: &Envelope, document: &Document) -> Vec<u8> {
    let mut lines: Vec<(String, String)> = vec![
        ("Envelope".into(), envelope.id.clone()),
        ("Subject".into(), envelope.subject.clone()),
        (
            "Document".into(),
            format!("{} ({})", document.name, document.id),
        ),
        (
            "Document SHA-256".into(),
            hex::encode(Sha256::digest(&document.bytes)),
        ),
    ];
    for signer in &envelope.signers {
        let checks = signer.checks.clone().unwrap_or_default();
        lines.push((String::new(), String::new()));
        lines.push(("Signer".into(), format!("{} ({})", signer.name, signer.id)));
        lines.push(("CPF".into(), signer.document_number.clone()));
        lines.push(("Birthdate".into(), signer.birthdate.clone()));
        if let Some(email) = &signer.email {
            lines.push(("E-mail".into(), email.clone()));
        }
        if let Some(phone) = &signer.phone {
            lines.push(("Phone".into(), phone.e164()));
        }
        lines.push((
            "Signed at".into(),
            signer.signed_at.map(timestamp).unwrap_or_default(),
        ));
        lines.push((
            "Biometry".into(),
            format!(
                "face validation available: {}, fraud base: {}, face validation score: {}",
                checks.face_validation_available,
                checks.fraud_base_flag,
                checks.face_validation_score
            ),
        ));
        lines.push(("Liveness".into(), checks.liveness.clone()));
        lines.push((
            "Document check".into(),
            format!(
                "{}, face match score: {}",
                checks.document_check, checks.face_match_score
            ),
        ));
    }
    text_pdf("QI Tech Sign - evidence of signature (signsim)", &lines)
}

fn identity(signer: &Signer) -> SignerIdentity {
    let mut names = signer.name.split_whitespace();
    let given_name = names.next().unwrap_or("Signer").to_owned();
    let rest: Vec<&str> = names.collect();
    SignerIdentity {
        given_name,
        surname_1: if rest.is_empty() {
            "-".to_owned()
        } else {
            rest.join(" ")
        },
        surname_2: None,
        // ETSI EN 319 412-1: national identity number, Brazil, CPF digits.
        serial_number: format!("IDCBR-{}", signer.cpf_digits()),
        country: "BR".into(),
        email: signer.email.clone(),
    }
}
