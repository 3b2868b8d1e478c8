//! The status report: a POST to the account's report URL at every status change, with the
//! fields of the guide's sample, all strings, the nested ones as JSON text (slashes escaped
//! as PHP's `json_encode` writes them, like the sample). JSON or a URL-encoded form, with
//! Basic auth when the panel sets a user.

use crate::engine::tenant::Tenant;
use crate::engine::timefmt::offset_at;
use crate::engine::webhooks::WebhookRequest;
use crate::providers::mensatek::model::{Findings, ReportConfig, ReportFormat, Verification};
use crate::providers::mensatek::SLUG;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

/// `Servicio` of identity verifications.
pub const SERVICE: &str = "VERIFICACION_IDENTIDAD";

/// `2021-10-10 10:10`, Spain's local time (the API's reference).
pub fn minutes(at: OffsetDateTime) -> String {
    local(at)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]"
        ))
        .unwrap_or_default()
}

/// `2021-09-04 19:37:21`, Spain's local time.
pub fn seconds(at: OffsetDateTime) -> String {
    local(at)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

fn local(at: OffsetDateTime) -> OffsetDateTime {
    offset_at("Europe/Madrid", at).map_or(at, |offset| at.to_offset(offset))
}

/// JSON text as PHP writes it: `/` escaped as `\/`.
fn php_json(value: &Value) -> String {
    value.to_string().replace('/', "\\/")
}

fn yes(flag: bool) -> &'static str {
    if flag {
        "Si"
    } else {
        "No"
    }
}

/// The `Result` object.
pub fn result(findings: &Findings, requested: Option<&str>, device: &str) -> Value {
    let document = &findings.document;
    let requested_matches = match requested {
        None => "N/A",
        Some(dni) => yes(dni.eq_ignore_ascii_case(&document.front)),
    };
    let sex = if document.sex == "M" {
        "Hombre"
    } else {
        "Mujer"
    };
    json!({
        "Resultado": findings.similarity,
        "DNIAnverso": document.front,
        "DNIReverso": document.back,
        "AnversoReversoCoinciden": yes(document.front == document.back),
        "DNISolicitado": requested.unwrap_or(""),
        "DNISolicitadoCoincide": requested_matches,
        "DNI": {
            "Edad": document.age,
            "FechaNacimiento": document.birth_date,
            "DNI": document.front,
            "Nacionalidad": "ESP",
            "Pais": "ESP",
            "Nombre": format!("{},{}", document.surnames, document.given_name),
            "NumeroSerie": document.serial,
            "TipoDocumento": "ID-1",
            "Sexo": document.sex,
            "FechaExpira": document.expires,
            "Caducado": "No",
        },
        "ProcesoRelizadoMismaPersona": yes(findings.same_person),
        "Barba": yes(findings.beard),
        "Bigote": yes(findings.beard),
        "GafasLectura": yes(findings.glasses),
        "GafasSol": "No",
        "Sexo": format!("{sex} con probabilidad de {}%", findings.sex_probability),
        "RangoAparenteEdad": format!("{}-{}", findings.apparent_age.0, findings.apparent_age.1),
        "Dispositivo": device,
        "ParecidoPersonaDNI": findings.similarity,
        "PruebaDeVida": yes(findings.liveness),
    })
}

/// The report's fields, in the sample's order; what is not known yet is empty.
pub fn fields(verification: &Verification) -> Vec<(&'static str, String)> {
    let access = verification.access.as_ref();
    let device_short = access
        .map(|a| {
            format!(
                "{}-{}",
                a.os.replace(' ', ".v"),
                a.browser.replace(' ', ".v")
            )
        })
        .unwrap_or_default();
    let nested = |value: Option<Value>| value.map(|v| php_json(&v)).unwrap_or_default();
    let document = verification.findings.as_ref().map(|f| &f.document);
    vec![
        ("Servicio", SERVICE.to_owned()),
        ("ID", verification.id.clone()),
        (
            "FechaEnvio",
            verification.sent_at.map(minutes).unwrap_or_default(),
        ),
        ("Estado", verification.status.code().to_string()),
        ("UltimaActualizacion", minutes(verification.updated_at)),
        (
            "Acceso",
            nested(access.map(|a| {
                json!({ "Fecha": seconds(a.at), "IP": a.ip, "Puerto": a.port.to_string() })
            })),
        ),
        ("Telefono", verification.phone.clone()),
        (
            "DNIAnverso",
            document.map(|d| d.front.clone()).unwrap_or_default(),
        ),
        (
            "DNIReverso",
            document.map(|d| d.back.clone()).unwrap_or_default(),
        ),
        (
            "DNISolicitado",
            verification.requested_dni.clone().unwrap_or_default(),
        ),
        (
            "Posicion",
            nested(access.map(|a| {
                json!({
                    "Direccion": a.address,
                    "Coordenadas": {
                        "Longitud": format!("{:.7}", a.longitude),
                        "Latitud": format!("{:.7}", a.latitude),
                        "Altura": a.altitude,
                        "Precision": a.accuracy,
                    }
                })
            })),
        ),
        (
            "Dispositivo",
            nested(access.map(|a| {
                json!({ "browser": a.browser, "SysOp": a.os, "displayResolution": a.resolution })
            })),
        ),
        (
            "Result",
            nested(
                verification
                    .findings
                    .as_ref()
                    .filter(|_| verification.status.has_result())
                    .map(|f| result(f, verification.requested_dni.as_deref(), &device_short)),
            ),
        ),
    ]
}

/// The delivery of one report to `config`'s URL (or to `url_override`, for a scenario's
/// failing receiver).
pub fn request(
    tenant: &Tenant,
    verification: &Verification,
    config: &ReportConfig,
    url_override: Option<String>,
) -> WebhookRequest {
    let fields = fields(verification);
    let (content_type, body) = match config.format {
        ReportFormat::Json => {
            let object: Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect();
            ("application/json", Value::Object(object).to_string())
        }
        ReportFormat::Form => (
            "application/x-www-form-urlencoded",
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish(),
        ),
    };
    let mut headers = vec![("content-type".to_owned(), content_type.to_owned())];
    if let Some((user, password)) = &config.basic_auth {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.push(("authorization".to_owned(), format!("Basic {encoded}")));
    }
    WebhookRequest {
        provider: SLUG,
        tenant: tenant.name.clone(),
        resource: verification.id.clone(),
        url: url_override.unwrap_or_else(|| config.url.clone()),
        headers,
        body: body.into(),
    }
}
