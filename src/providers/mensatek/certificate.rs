//! The verification certificate: a PDF page with what the process found, PAdES-signed by
//! the simulated provider with a fresh single-use certificate from the throwaway CA.

use super::model::Verification;
use super::wire::report::{minutes, SERVICE};
use crate::engine::tenant::Tenant;
use crate::engine::Engine;
use crate::pki::{text_pdf, SignerIdentity};

/// Who signs the certificates: the simulated service itself.
fn issuer() -> SignerIdentity {
    SignerIdentity {
        given_name: "Mensatek".into(),
        surname_1: "Verificacion de identidad (simulada)".into(),
        surname_2: None,
        serial_number: "VATES-B00000000".into(),
        country: "ES".into(),
        email: None,
    }
}

/// The page's lines: the request and the result.
fn lines(verification: &Verification) -> Vec<(String, String)> {
    let mut lines = vec![
        ("Servicio".to_owned(), SERVICE.to_owned()),
        ("ID".to_owned(), verification.id.clone()),
        ("Telefono".to_owned(), verification.phone.clone()),
        (
            "Fecha de envio".to_owned(),
            verification.sent_at.map(minutes).unwrap_or_default(),
        ),
        (
            "Fecha de verificacion".to_owned(),
            minutes(verification.updated_at),
        ),
        (
            "DNI solicitado".to_owned(),
            verification.requested_dni.clone().unwrap_or_default(),
        ),
    ];
    if let Some(access) = &verification.access {
        lines.push(("IP de acceso".to_owned(), access.ip.clone()));
        lines.push(("Posicion".to_owned(), access.address.clone()));
        lines.push((
            "Dispositivo".to_owned(),
            format!("{} / {}", access.os, access.browser),
        ));
    }
    if let Some(findings) = &verification.findings {
        let document = &findings.document;
        let yes = |flag: bool| if flag { "Si" } else { "No" };
        lines.extend([
            (
                "Nombre".to_owned(),
                format!("{},{}", document.surnames, document.given_name),
            ),
            ("DNI (anverso)".to_owned(), document.front.clone()),
            ("DNI (reverso)".to_owned(), document.back.clone()),
            ("Numero de serie".to_owned(), document.serial.clone()),
            (
                "Fecha de nacimiento".to_owned(),
                document.birth_date.clone(),
            ),
            ("Fecha de caducidad".to_owned(), document.expires.clone()),
            (
                "Parecido persona / DNI".to_owned(),
                format!("{:.2}", findings.similarity),
            ),
            (
                "Prueba de vida".to_owned(),
                yes(findings.liveness).to_owned(),
            ),
            (
                "Proceso realizado por la misma persona".to_owned(),
                yes(findings.same_person).to_owned(),
            ),
        ]);
    }
    lines
}

/// The signed certificate of a verified verification, signed at `tenant`'s time.
pub fn build(
    engine: &Engine,
    tenant: &Tenant,
    verification: &Verification,
) -> Result<Vec<u8>, String> {
    let pdf = text_pdf(
        "Certificado de verificacion de identidad",
        &lines(verification),
    );
    let now = engine.now(tenant);
    let cert = engine
        .pki
        .issue_signer(&issuer(), now)
        .map_err(|e| e.to_string())?;
    engine
        .pki
        .sign_pdf(&pdf, &cert, now, None)
        .map_err(|e| e.to_string())
}
