//! The dossier of one document: the document followed by an evidence page (each signer's
//! data, signing time and identity checks), then PAdES-signed once per signer with a
//! fresh single-use certificate, each signature an incremental update.

use super::model::{Document, Dossier, Envelope, Signer};
use super::wire::timestamp;
use crate::engine::Engine;
use crate::pki::{text_pdf, SignerIdentity};
use lopdf::{Document as Pdf, Object};
use sha2::{Digest, Sha256};

/// One dossier per document of a completed envelope.
pub fn build(engine: &Engine, envelope: &Envelope) -> Result<Vec<Dossier>, String> {
    envelope
        .documents
        .iter()
        .map(|document| {
            let merged = merge(&document.bytes, &evidence(envelope, document))?;
            let mut signed = merged;
            let now = engine.now();
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
                bytes: signed.into(),
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

/// `first` with the pages of `second` appended, saved as a new file.
pub fn merge(first: &[u8], second: &[u8]) -> Result<Vec<u8>, String> {
    let mut base = Pdf::load_mem(first).map_err(|e| format!("document: {e}"))?;
    let mut extra = Pdf::load_mem(second).map_err(|e| format!("evidence page: {e}"))?;
    extra.renumber_objects_with(base.max_id + 1);
    let pages_id = base
        .catalog()
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(Object::as_reference)
        .map_err(|e| format!("document has no page tree: {e}"))?;
    let added: Vec<_> = extra.get_pages().into_values().collect();
    // Drop the extra file's own catalog and page tree; its pages join ours.
    let extra_root = extra
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    let extra_pages = extra
        .catalog()
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(Object::as_reference)
        .ok();
    for (id, object) in std::mem::take(&mut extra.objects) {
        if Some(id) == extra_root || Some(id) == extra_pages {
            continue;
        }
        base.objects.insert(id, object);
    }
    for page in &added {
        if let Ok(Object::Dictionary(dict)) = base.get_object_mut(*page) {
            dict.set("Parent", Object::Reference(pages_id));
        }
    }
    // Kids and Count may be indirect objects: resolve them before the tree is borrowed.
    let tree = base
        .get_object(pages_id)
        .and_then(Object::as_dict)
        .map_err(|e| format!("document page tree: {e}"))?;
    let resolve = |key: &[u8]| {
        tree.get(key)
            .ok()
            .and_then(|o| base.dereference(o).ok())
            .map(|(_, o)| o.clone())
    };
    let mut kids = resolve(b"Kids")
        .and_then(|o| o.as_array().ok().cloned())
        .ok_or("document page tree has no /Kids array")?;
    let count = resolve(b"Count")
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(kids.len() as i64);
    kids.extend(added.iter().map(|id| Object::Reference(*id)));
    let tree = base
        .get_object_mut(pages_id)
        .and_then(Object::as_dict_mut)
        .map_err(|e| format!("document page tree: {e}"))?;
    tree.set("Kids", Object::Array(kids));
    // /Count comes from the client's file: never trust it to add without overflowing.
    let count = i64::try_from(added.len())
        .ok()
        .and_then(|added| count.checked_add(added))
        .filter(|total| *total > 0)
        .ok_or("document page tree has an impossible /Count")?;
    tree.set("Count", Object::Integer(count));
    base.max_id = extra.max_id.max(base.max_id);
    let mut out = Vec::new();
    base.save_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_file_has_both_pages() {
        let a = text_pdf("A", &[("x".into(), "1".into())]);
        let b = text_pdf("B", &[("y".into(), "2".into())]);
        let merged = merge(&a, &b).unwrap();
        let pdf = Pdf::load_mem(&merged).unwrap();
        assert_eq!(pdf.get_pages().len(), 2);
    }

    #[test]
    fn indirect_kids_keep_their_pages() {
        let long: Vec<(String, String)> = (0..120)
            .map(|i| (format!("line {i}"), "text".to_owned()))
            .collect();
        let mut doc = Pdf::load_mem(&text_pdf("Long", &long)).unwrap();
        let pages = doc.get_pages().len();
        assert!(pages > 1);
        // Move /Kids into an object of its own, as some writers do.
        let root = doc
            .catalog()
            .unwrap()
            .get(b"Pages")
            .unwrap()
            .as_reference()
            .unwrap();
        let kids = doc
            .get_dictionary(root)
            .unwrap()
            .get(b"Kids")
            .unwrap()
            .clone();
        let kids_id = doc.add_object(kids);
        doc.get_dictionary_mut(root)
            .unwrap()
            .set("Kids", Object::Reference(kids_id));
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let merged = merge(&bytes, &text_pdf("B", &[])).unwrap();
        assert_eq!(Pdf::load_mem(&merged).unwrap().get_pages().len(), pages + 1);
    }
}
