//! Mensatek identity verification (/mensatek/...): the three calls in every format and
//! both body encodings, Basic auth, the status reports, the certificate, credits, the
//! verification page, expiry and the scenarios.

use crate::common::{answer, Answer, Sim};
use crate::receiver::{self, eventually};
use crate::validators::check_pdfs;
use base64::Engine as _;
use insta::assert_json_snapshot;
use serde_json::{json, Value};

const USER: &str = "api-user-alpha";
const TOKEN: &str = "tok-123";

fn basic(user: &str, token: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
    format!("Basic {encoded}")
}

fn m(sim: &Sim, function: &str) -> String {
    sim.url(&format!("/mensatek/{function}"))
}

/// A call as JSON with `authorization` (none when `None`).
async fn call_as(sim: &Sim, function: &str, auth: Option<&str>, body: Value) -> Answer {
    let mut request = sim.http.post(m(sim, function)).json(&body);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    answer(request.send().await.expect("request sent")).await
}

async fn call(sim: &Sim, function: &str, body: Value) -> Answer {
    call_as(sim, function, Some(&basic(USER, TOKEN)), body).await
}

/// A call as an URL-encoded form.
async fn call_form(sim: &Sim, function: &str, form: &[(&str, &str)]) -> Answer {
    let request = sim
        .http
        .post(m(sim, function))
        .header("authorization", basic(USER, TOKEN))
        .form(form);
    answer(request.send().await.expect("request sent")).await
}

/// What snapshots pin: status, content type and the body as text (or JSON), with the
/// given values replaced.
fn shape(answer: &Answer, redact: &[(&str, &str)]) -> Value {
    let mut text = String::from_utf8_lossy(&answer.bytes).into_owned();
    for (value, placeholder) in redact {
        text = text.replace(value, placeholder);
    }
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    json!({ "code": answer.status, "content_type": answer.content_type, "body": body })
}

/// The `Res` of an answer in JSON.
fn res(answer: &Answer) -> String {
    answer.json()[0]["Res"].as_str().expect("Res").to_owned()
}

async fn verify(sim: &Sim, mut body: Value) -> String {
    body["Resp"] = json!("JSON");
    let sent = call(sim, "VerificarIdentidad", body).await;
    assert_eq!(res(&sent), "10", "{:?}", sent.json());
    sent.json()[0]["ID"].as_str().unwrap().to_owned()
}

async fn advance(sim: &Sim, seconds: u64) {
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": seconds }),
        )
        .await;
    assert_eq!(moved.status, 200);
}

async fn complete(sim: &Sim, id: &str, outcome: &str) -> Answer {
    sim.post_json(
        &sim.url(&format!("/_signsim/mensatek/verifications/{id}/complete")),
        json!({ "api_user": USER, "outcome": outcome }),
    )
    .await
}

async fn outbox(sim: &Sim) -> Vec<Value> {
    let messages = sim
        .get(&sim.url("/_signsim/outbox?provider=mensatek"))
        .await;
    messages.json().as_array().cloned().unwrap_or_default()
}

/// The form bodies a receiver got, as JSON objects.
fn form_bodies(hook: &receiver::Receiver) -> Vec<Value> {
    hook.inbox
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect::<serde_json::Map<_, _>>()
                .into()
        })
        .collect()
}

fn estados(bodies: &[Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| b["Estado"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn mensatek_calls_in_every_format_and_encoding() {
    let sim = crate::common::start().await;
    let request = json!({
        "Telefono": "34600000001", "Mensaje": "Verifique su identidad: [LINK]",
        "Dni": "00000000T", "Remitente": "MiEmpresa",
    });
    for (resp, name) in [
        (Some("JSON"), "json"),
        (Some("XML"), "xml"),
        (Some("TXT"), "txt"),
        (None, "legacy"),
    ] {
        let mut body = request.clone();
        if let Some(resp) = resp {
            body["Resp"] = json!(resp);
        }
        let sent = call(&sim, "VerificarIdentidad", body).await;
        let text = String::from_utf8_lossy(&sent.bytes).into_owned();
        let id: String = text
            .split(|c: char| !c.is_ascii_digit())
            .find(|part| part.len() == 10)
            .unwrap_or_else(|| panic!("an ID in {text}"))
            .to_owned();
        assert_json_snapshot!(
            format!("mensatek_verificar_{name}"),
            shape(&sent, &[(&id, "[id]")])
        );
        let credits = match resp {
            Some(resp) => call(&sim, "GetCreditos", json!({ "Resp": resp })).await,
            None => call(&sim, "GetCreditos", json!({})).await,
        };
        assert_json_snapshot!(format!("mensatek_creditos_{name}"), shape(&credits, &[]));
    }
    // A form, names in any case, the phone with + and spaces.
    let form = call_form(
        &sim,
        "VerificarIdentidad",
        &[
            ("telefono", "+34 600 000 002"),
            ("MENSAJE", "Hola [LINK]"),
            ("resp", "json"),
        ],
    )
    .await;
    assert_eq!(res(&form), "10", "{:?}", form.json());
    assert_eq!(form.json()[0]["Cred"], "95");
    let credits = call_form(&sim, "GetCreditos", &[("Resp", "XML")]).await;
    assert_eq!(
        String::from_utf8_lossy(&credits.bytes),
        "<?xml version=\"1.0\"?><result><Res>10</Res><Cred>95</Cred></result>"
    );
    // The SMS carries the link in place of [LINK].
    let messages = outbox(&sim).await;
    assert_eq!(messages.len(), 5);
    let last = messages.last().unwrap();
    assert_eq!(last["to"], "34600000002");
    let link = last["link"].as_str().unwrap();
    assert_eq!(last["text"], format!("Hola {link}"));
    // The certificate call in every format, before there is one.
    let id = verify(&sim, json!({ "Telefono": "34600000003" })).await;
    for (resp, name) in [
        ("JSON", "json"),
        ("XML", "xml"),
        ("TXT", "txt"),
        ("", "legacy"),
    ] {
        let early = call(
            &sim,
            "GetCertificadoVerificacion",
            json!({ "Id": id, "Resp": resp }),
        )
        .await;
        assert_json_snapshot!(
            format!("mensatek_certificado_early_{name}"),
            shape(&early, &[])
        );
    }
    let unknown = call(
        &sim,
        "GetCertificadoVerificacion",
        json!({ "Id": "1234567890", "Resp": "JSON" }),
    )
    .await;
    assert_json_snapshot!("mensatek_certificado_unknown", shape(&unknown, &[]));
    let early_form = call_form(
        &sim,
        "GetCertificadoVerificacion",
        &[("id", &id), ("Resp", "TXT")],
    )
    .await;
    assert!(String::from_utf8_lossy(&early_form.bytes).starts_with("Res:-5;"));
}

#[tokio::test]
async fn mensatek_bad_credentials_answer_res_minus_one() {
    let sim = crate::common::start().await;
    let bad = [
        None,
        Some("Bearer abc".to_owned()),
        Some("Basic !!!".to_owned()),
        Some(basic(USER, "")),
        Some(basic("", TOKEN)),
    ];
    for auth in &bad {
        for function in [
            "VerificarIdentidad",
            "GetCreditos",
            "GetCertificadoVerificacion",
        ] {
            let answered = call_as(
                &sim,
                function,
                auth.as_deref(),
                json!({ "Telefono": "34600000001", "Id": "1", "Resp": "JSON" }),
            )
            .await;
            assert_eq!(answered.status, 200);
            assert_eq!(res(&answered), "-1", "{function} with {auth:?}");
        }
    }
    let json = call_as(&sim, "GetCreditos", None, json!({ "Resp": "JSON" })).await;
    assert_json_snapshot!("mensatek_auth_json", shape(&json, &[]));
    let legacy = call_as(&sim, "GetCreditos", None, json!({})).await;
    assert_json_snapshot!("mensatek_auth_legacy", shape(&legacy, &[]));
    assert!(outbox(&sim).await.is_empty());
}

#[tokio::test]
async fn mensatek_invalid_data_answers_res_minus_three() {
    let sim = crate::common::start().await;
    let cases = [
        ("missing_telefono", json!({ "Resp": "JSON" })),
        (
            "bad_telefono",
            json!({ "Telefono": "call me", "Resp": "JSON" }),
        ),
        (
            "no_link",
            json!({ "Telefono": "34600000001", "Mensaje": "MiEmpresa", "Resp": "JSON" }),
        ),
        (
            "long_remitente",
            json!({ "Telefono": "34600000001", "Remitente": "MiEmpresaLarga", "Resp": "JSON" }),
        ),
        (
            "bad_fecha",
            json!({ "Telefono": "34600000001", "Fecha": "01/05/2022", "Resp": "JSON" }),
        ),
        (
            "far_fecha",
            json!({ "Telefono": "34600000001", "Fecha": "2999-01-01 10:00", "Resp": "JSON" }),
        ),
        (
            "array_value",
            json!({ "Telefono": ["34600000001"], "Resp": "JSON" }),
        ),
    ];
    for (name, body) in cases {
        let refused = call(&sim, "VerificarIdentidad", body).await;
        assert_json_snapshot!(format!("mensatek_invalid_{name}"), shape(&refused, &[]));
    }
    let not_json = sim
        .http
        .post(m(&sim, "VerificarIdentidad"))
        .header("authorization", basic(USER, TOKEN))
        .header("content-type", "application/json")
        .body("{\"Telefono\":")
        .send()
        .await
        .unwrap();
    let not_json = answer(not_json).await;
    assert_json_snapshot!("mensatek_invalid_body", shape(&not_json, &[]));
    // Nothing was spent.
    let credits = call(&sim, "GetCreditos", json!({ "Resp": "JSON" })).await;
    assert_eq!(credits.json()[0]["Cred"], "100");
    let wrong_method = sim.get(&m(&sim, "GetCreditos")).await;
    assert_eq!(wrong_method.status, 405);
    let unknown = call(&sim, "EnviarSMS", json!({})).await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn mensatek_reports_reach_the_receiver_as_json_with_basic_auth() {
    let sim = crate::common::start().await;
    let hook = receiver::start(0).await;
    let configured = sim
        .post_json(
            &sim.url("/_signsim/mensatek/report-url"),
            json!({ "api_user": USER, "url": hook.url, "username": "hook", "password": "secret", "format": "json" }),
        )
        .await;
    assert_json_snapshot!("mensatek_report_url", configured.shape(), { ".body.url" => "[url]" });
    let id = verify(
        &sim,
        json!({ "Telefono": "34600000001", "Dni": "00000000T", "Mensaje": "[LINK]", "Resp": "JSON" }),
    )
    .await;
    let done = complete(&sim, &id, "verified").await;
    assert_json_snapshot!("mensatek_complete", done.shape(), { ".body.id" => "[id]" });
    eventually("four reports", async || hook.bodies().len() == 4).await;
    // The certificate is not ready until 5100.
    let early = call(
        &sim,
        "GetCertificadoVerificacion",
        json!({ "Id": id, "Resp": "JSON" }),
    )
    .await;
    assert_eq!(res(&early), "-5");
    advance(&sim, 60).await;
    eventually("the certificate report", async || hook.bodies().len() == 5).await;
    let bodies = hook.bodies();
    assert_eq!(estados(&bodies), ["5001", "5002", "5003", "5010", "5100"]);
    for (headers, _) in hook.inbox.received.lock().unwrap().iter() {
        assert_eq!(headers["authorization"], basic("hook", "secret"));
        assert_eq!(headers["content-type"], "application/json");
    }
    let sent = &bodies[0];
    assert_eq!(sent["Acceso"], "");
    assert_eq!(sent["Result"], "");
    assert_eq!(sent["DNISolicitado"], "00000000T");
    let last = &bodies[4];
    let result: Value = serde_json::from_str(last["Result"].as_str().unwrap()).unwrap();
    assert_eq!(result["DNISolicitadoCoincide"], "Si");
    assert_eq!(result["PruebaDeVida"], "Si");
    assert!(last["Result"].as_str().unwrap().contains("\\/"));
    assert_json_snapshot!("mensatek_report_certified", last, {
        ".ID" => "[id]",
        ".FechaEnvio" => "[time]",
        ".UltimaActualizacion" => "[time]",
        ".Acceso" => "[json]",
        ".Posicion" => "[json]",
        ".Dispositivo" => "[json]",
        ".Result" => "[json]",
    });
    let mut result_shape = result.clone();
    for key in ["Resultado", "ParecidoPersonaDNI"] {
        assert!(result_shape[key].as_f64().unwrap() > 80.0);
        result_shape[key] = json!("[score]");
    }
    assert_json_snapshot!("mensatek_report_result", result_shape, {
        ".DNI" => "[document]",
        ".Barba" => "[flag]", ".Bigote" => "[flag]", ".GafasLectura" => "[flag]",
        ".Sexo" => "[text]", ".RangoAparenteEdad" => "[text]", ".Dispositivo" => "[text]",
    });
    let pdf = call(
        &sim,
        "GetCertificadoVerificacion",
        json!({ "Id": id, "Resp": "JSON" }),
    )
    .await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF"));
    check_pdfs(&sim, &[("mensatek-certificate.pdf", pdf.bytes.clone())]).await;
    // The person cannot act again.
    let again = complete(&sim, &id, "verified").await;
    assert_eq!(again.status, 409, "{:?}", again.json());
    // Another API user sees nothing of it.
    let other = call_as(
        &sim,
        "GetCertificadoVerificacion",
        Some(&basic("someone-else", "x")),
        json!({ "Id": id, "Resp": "JSON" }),
    )
    .await;
    assert_eq!(res(&other), "-50");
}

#[tokio::test]
async fn mensatek_page_and_form_reports() {
    let sim = crate::common::start().await;
    let hook = receiver::start(0).await;
    let configured = sim
        .post_json(
            &sim.url("/_signsim/mensatek/report-url"),
            json!({ "api_user": USER, "url": hook.url, "format": "form" }),
        )
        .await;
    assert_eq!(configured.status, 200);
    let id = verify(&sim, json!({ "Telefono": "34600000001" })).await;
    let link = outbox(&sim).await[0]["link"].as_str().unwrap().to_owned();
    let opened = sim.browse(&link).await;
    assert_eq!(opened.status, 200);
    let html = String::from_utf8_lossy(&opened.bytes).into_owned();
    assert!(html.contains(&id) && html.contains("selfie"), "{html}");
    let finished = sim
        .submit_form(&link, &opened, &[("outcome", "liveness_failed")])
        .await;
    assert_eq!(finished.status, 200);
    assert!(String::from_utf8_lossy(&finished.bytes).contains("did not succeed"));
    eventually("four reports", async || {
        hook.inbox.received.lock().unwrap().len() == 4
    })
    .await;
    let bodies = form_bodies(&hook);
    assert_eq!(estados(&bodies), ["5001", "5002", "5003", "5020"]);
    let headers = hook.inbox.received.lock().unwrap()[0].0.clone();
    assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    assert!(headers.get("authorization").is_none());
    let result: Value = serde_json::from_str(bodies[3]["Result"].as_str().unwrap()).unwrap();
    assert_eq!(result["PruebaDeVida"], "No");
    assert_eq!(result["DNISolicitadoCoincide"], "N/A");
    // A finished verification's page says so, with 410.
    let again = sim.browse(&link).await;
    assert_eq!(again.status, 410);
    let again = String::from_utf8_lossy(&again.bytes).into_owned();
    assert!(
        again.contains("5020") && again.contains("has been used"),
        "{again}"
    );
    let unknown = sim.browse(&sim.url("/_signsim/mensatek/v/nope")).await;
    assert_eq!(unknown.status, 404);
    let bad = complete(&sim, &id, "maybe").await;
    assert_json_snapshot!("mensatek_complete_bad_outcome", bad.shape());
}

#[tokio::test]
async fn mensatek_fecha_schedules_and_unopened_links_expire() {
    let sim = crate::common::start().await;
    let hook = receiver::start(0).await;
    sim.post_json(
        &sim.url("/_signsim/mensatek/report-url"),
        json!({ "api_user": USER, "url": hook.url }),
    )
    .await;
    let now = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let fecha = format!(
        "{:04}-{:02}-{:02} 12:00",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let id = verify(&sim, json!({ "Telefono": "34600000001", "Fecha": fecha })).await;
    assert!(outbox(&sim).await.is_empty());
    let early = complete(&sim, &id, "verified").await;
    assert_eq!(early.status, 409);
    advance(&sim, 3 * 24 * 3600).await;
    assert_eq!(outbox(&sim).await.len(), 1);
    eventually("the send report", async || hook.bodies().len() == 1).await;
    advance(&sim, 72 * 3600).await;
    eventually("the expiry report", async || hook.bodies().len() == 2).await;
    assert_eq!(estados(&hook.bodies()), ["5001", "5030"]);
    let late = complete(&sim, &id, "verified").await;
    assert_eq!(late.status, 409);
    // The expired link's page says so, with 410.
    let link = outbox(&sim).await[0]["link"].as_str().unwrap().to_owned();
    let expired = sim.browse(&link).await;
    assert_eq!(expired.status, 410);
    assert!(String::from_utf8_lossy(&expired.bytes).contains("has expired"));
}

#[tokio::test]
async fn mensatek_credits_run_out() {
    let sim = crate::common::start().await;
    let set = sim
        .post_json(
            &sim.url("/_signsim/mensatek/credits"),
            json!({ "api_user": USER, "credits": 1 }),
        )
        .await;
    assert_json_snapshot!("mensatek_credits_set", set.shape());
    let first = call(
        &sim,
        "VerificarIdentidad",
        json!({ "Telefono": "34600000001", "Resp": "JSON" }),
    )
    .await;
    assert_eq!(first.json()[0]["Cred"], "0");
    for (resp, name) in [
        ("JSON", "json"),
        ("XML", "xml"),
        ("TXT", "txt"),
        ("", "legacy"),
    ] {
        let refused = call(
            &sim,
            "VerificarIdentidad",
            json!({ "Telefono": "34600000001", "Resp": resp }),
        )
        .await;
        assert_json_snapshot!(format!("mensatek_credits_out_{name}"), shape(&refused, &[]));
    }
    let credits = call(&sim, "GetCreditos", json!({ "Resp": "JSON" })).await;
    assert_eq!(credits.json()[0]["Cred"], "0");
    assert_eq!(outbox(&sim).await.len(), 1);
    let too_many = sim
        .post_json(
            &sim.url("/_signsim/mensatek/credits"),
            json!({ "api_user": USER, "credits": "99999999999999999999" }),
        )
        .await;
    assert_eq!(too_many.status, 400);
}

#[tokio::test]
async fn mensatek_scenarios() {
    let sim = crate::common::start().await;
    let hook = receiver::start(0).await;
    sim.post_json(
        &sim.url("/_signsim/mensatek/report-url"),
        json!({ "api_user": USER, "url": hook.url }),
    )
    .await;

    // liveness-failed: the person says verified, the check fails anyway.
    let id = verify(&sim, json!({ "Telefono": "34600000101" })).await;
    let done = complete(&sim, &id, "verified").await;
    assert_eq!(done.json()["estado"], 5020);
    assert_eq!(done.json()["outcome"], "liveness_failed");

    // document-mismatch: another document than the Dni asked for.
    let id = verify(
        &sim,
        json!({ "Telefono": "34600000102", "Dni": "00000000T" }),
    )
    .await;
    let done = complete(&sim, &id, "verified").await;
    assert_eq!(done.json()["estado"], 5020);
    eventually("the mismatch report", async || {
        hook.bodies()
            .iter()
            .any(|b| b["ID"] == id.as_str() && b["Estado"] == "5020")
    })
    .await;
    let report = hook
        .bodies()
        .into_iter()
        .find(|b| b["ID"] == id.as_str() && b["Estado"] == "5020")
        .unwrap();
    let result: Value = serde_json::from_str(report["Result"].as_str().unwrap()).unwrap();
    assert_eq!(result["DNISolicitado"], "00000000T");
    assert_eq!(result["DNISolicitadoCoincide"], "No");
    assert_ne!(result["DNIAnverso"], "00000000T");

    // never-opens: no SMS, the act is refused, the link expires.
    let sms_before = outbox(&sim).await.len();
    let id = verify(&sim, json!({ "Telefono": "34600000103" })).await;
    assert_eq!(outbox(&sim).await.len(), sms_before);
    let refused = complete(&sim, &id, "verified").await;
    assert_eq!(refused.status, 409);
    advance(&sim, 72 * 3600).await;
    eventually("the expiry report", async || {
        hook.bodies()
            .iter()
            .any(|b| b["ID"] == id.as_str() && b["Estado"] == "5030")
    })
    .await;

    // out-of-credits.
    let empty = call(
        &sim,
        "VerificarIdentidad",
        json!({ "Telefono": "34600000104", "Resp": "JSON" }),
    )
    .await;
    assert_eq!(empty.json(), json!([{ "Res": "-2", "Cred": "0" }]));

    // report-receiver-fails: every delivery goes to a receiver that answers 503.
    sim.post_json(
        &sim.url("/_signsim/mensatek/credits"),
        json!({ "api_user": USER, "credits": 5 }),
    )
    .await;
    let id = verify(&sim, json!({ "Telefono": "34600000105" })).await;
    let attempts = || async { sim.get(&sim.url("/_signsim/webhooks")).await.json() };
    eventually("a failed attempt", async || {
        attempts()
            .await
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["resource"] == id.as_str() && a["response_status"] == 503)
    })
    .await;
    assert!(!hook.bodies().iter().any(|b| b["ID"] == id.as_str()));
}

#[tokio::test]
async fn mensatek_scenario_by_header() {
    let sim = crate::common::start().await;
    let chosen = sim
        .http
        .post(m(&sim, "VerificarIdentidad"))
        .header("authorization", basic(USER, TOKEN))
        .header("x-signsim-scenario", "liveness-failed")
        .json(&json!({ "Telefono": "34600000001", "Resp": "JSON" }))
        .send()
        .await
        .unwrap();
    let chosen = answer(chosen).await;
    let id = chosen.json()[0]["ID"].as_str().unwrap().to_owned();
    let done = complete(&sim, &id, "verified").await;
    assert_eq!(done.json()["outcome"], "liveness_failed");
    let unknown = sim
        .http
        .post(m(&sim, "VerificarIdentidad"))
        .header("authorization", basic(USER, TOKEN))
        .header("x-signsim-scenario", "nope")
        .json(&json!({ "Telefono": "34600000001", "Resp": "JSON" }))
        .send()
        .await
        .unwrap();
    let unknown = answer(unknown).await;
    assert_eq!(res(&unknown), "-3");
    assert!(unknown.json()[0]["Error"]
        .as_str()
        .unwrap()
        .contains("unknown scenario 'nope'"));
}

/// The verification's timeline (`/_signsim/events`).
async fn timeline(sim: &Sim, id: &str) -> Vec<Value> {
    let events = sim
        .get(&sim.url(&format!("/_signsim/events?provider=mensatek&id={id}")))
        .await;
    assert_eq!(events.status, 200);
    events.json().as_array().cloned().unwrap_or_default()
}

/// A `VerificarIdentidad` that names its scenario by header.
async fn verify_with_scenario(sim: &Sim, scenario: &str, phone: &str) -> String {
    let sent = sim
        .http
        .post(m(sim, "VerificarIdentidad"))
        .header("authorization", basic(USER, TOKEN))
        .header("x-signsim-scenario", scenario)
        .json(&json!({ "Telefono": phone, "Resp": "JSON" }))
        .send()
        .await
        .unwrap();
    let sent = answer(sent).await;
    assert_eq!(res(&sent), "10", "{:?}", sent.json());
    sent.json()[0]["ID"].as_str().unwrap().to_owned()
}

/// The `[from, to]` of each status event, in order.
fn status_moves(events: &[Value]) -> Vec<(Value, Value)> {
    events
        .iter()
        .filter(|e| e["kind"] == "status")
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect()
}

#[tokio::test]
async fn mensatek_scenario_by_header_is_on_the_timeline() {
    let sim = crate::common::start().await;
    // A phone no scenario matches: only the header chooses.
    let id = verify_with_scenario(&sim, "liveness-failed", "34600000001").await;
    let events = timeline(&sim, &id).await;
    let scenario: Vec<&Value> = events.iter().filter(|e| e["kind"] == "scenario").collect();
    assert_eq!(scenario.len(), 1, "{events:?}");
    assert_eq!(scenario[0]["text"], "scenario liveness-failed");
    // Chosen by its `match` (the phone), the same.
    let id = verify(&sim, json!({ "Telefono": "34600000102" })).await;
    let events = timeline(&sim, &id).await;
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "scenario" && e["text"] == "scenario document-mismatch"),
        "{events:?}"
    );
    // None chosen: no scenario event.
    let id = verify(&sim, json!({ "Telefono": "34600000002" })).await;
    assert!(!timeline(&sim, &id)
        .await
        .iter()
        .any(|e| e["kind"] == "scenario"));
}

#[tokio::test]
async fn mensatek_overflowing_times_never_come() {
    let sim = crate::common::start().await;
    sim.load_scenarios(
        "[[scenario]]\nname = \"fails-never\"\nprovider = \"mensatek\"\n\n\
         [[scenario.effects]]\noperation = \"complete\"\n\
         transition = { after_seconds = 18446744073709551615, to = \"failed\" }\n\n\
         [[scenario]]\nname = \"link-forever\"\nprovider = \"mensatek\"\n\n\
         [[scenario.effects]]\noperation = \"send\"\nexpiry_seconds = 18446744073709551615\n",
    )
    .await;
    let id = verify_with_scenario(&sim, "fails-never", "34600000001").await;
    let done = complete(&sim, &id, "verified").await;
    assert_eq!(done.json()["estado"], 5010, "{:?}", done.json());
    let unopened = verify_with_scenario(&sim, "link-forever", "34600000001").await;
    advance(&sim, 3_155_760_000).await;

    // A hundred years on, the certificate is there: the verification never failed.
    let pdf = call(&sim, "GetCertificadoVerificacion", json!({ "Id": id })).await;
    assert_eq!(pdf.content_type, "application/pdf");
    let events = timeline(&sim, &id).await;
    assert_eq!(
        status_moves(&events).last(),
        Some(&(
            json!("5010 (verified)"),
            json!("5100 (certificate_available)")
        )),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| e["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("by the scenario")),
        "{events:?}"
    );
    // A link lifetime past the year 9999 never runs out either (it expired at once).
    let done = complete(&sim, &unopened, "verified").await;
    assert_eq!(done.json()["estado"], 5010, "{:?}", done.json());
}

#[tokio::test]
async fn mensatek_status_events_carry_from_and_to() {
    let sim = crate::common::start().await;
    let id = verify(&sim, json!({ "Telefono": "34600000001" })).await;
    complete(&sim, &id, "verified").await;
    advance(&sim, 60).await;
    let events = timeline(&sim, &id).await;
    // Each status as the reports and the dashboard name it: the `Estado` and its name.
    assert_eq!(
        status_moves(&events),
        [
            (Value::Null, json!("5000 (scheduled)")),
            (json!("5000 (scheduled)"), json!("5001 (sent)")),
            (json!("5001 (sent)"), json!("5002 (opened)")),
            (json!("5002 (opened)"), json!("5003 (in_progress)")),
            (json!("5003 (in_progress)"), json!("5010 (verified)")),
            (
                json!("5010 (verified)"),
                json!("5100 (certificate_available)")
            ),
        ],
        "{events:?}"
    );
    // The text for people is as before.
    let texts: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "status")
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(
        texts[0].ends_with("; created in status 5000 (scheduled)"),
        "{texts:?}"
    );
    assert_eq!(texts[1], "5000 (scheduled) → 5001 (sent)");

    // A scenario's scripted status, too.
    sim.load_scenarios(
        "[[scenario]]\nname = \"expires-soon\"\nprovider = \"mensatek\"\n\n\
         [[scenario.effects]]\noperation = \"verificar\"\n\
         transition = { after_seconds = 10, to = \"expired\" }\n",
    )
    .await;
    let id = verify_with_scenario(&sim, "expires-soon", "34600000001").await;
    advance(&sim, 10).await;
    let events = timeline(&sim, &id).await;
    let last = events
        .iter()
        .rfind(|e| e["kind"] == "status")
        .expect("a status event");
    assert_eq!(last["from"], "5001 (sent)", "{events:?}");
    assert_eq!(last["to"], "5030 (expired)");
    assert_eq!(
        last["text"],
        "by the scenario: 5001 (sent) → 5030 (expired)"
    );
}

// Tenants (issue 20): the API user is a Mensatek tenant, with its own verifications,
// balance, report URL, clock, journal rows, events and outbox.

/// A `VerificarIdentidad` of API user `user` in JSON: the verification's ID.
async fn verify_as(sim: &Sim, user: &str, mut body: Value) -> String {
    body["Resp"] = json!("JSON");
    let sent = call_as(sim, "VerificarIdentidad", Some(&basic(user, TOKEN)), body).await;
    assert_eq!(res(&sent), "10", "{:?}", sent.json());
    sent.json()[0]["ID"].as_str().unwrap().to_owned()
}

/// `GetCertificadoVerificacion` of API user `user` in JSON: `Res` (-50 unknown, -5 not
/// yet) or the PDF's answer.
async fn certificate_as(sim: &Sim, user: &str, id: &str) -> Answer {
    call_as(
        sim,
        "GetCertificadoVerificacion",
        Some(&basic(user, TOKEN)),
        json!({ "Id": id, "Resp": "JSON" }),
    )
    .await
}

async fn complete_as(sim: &Sim, user: &str, id: &str, outcome: &str) -> Answer {
    sim.post_json(
        &sim.url(&format!("/_signsim/mensatek/verifications/{id}/complete")),
        json!({ "api_user": user, "outcome": outcome }),
    )
    .await
}

/// The person's act through the link the SMS carried (what the page's form posts).
async fn complete_by_link(sim: &Sim, code: &str, id: &str) -> Answer {
    sim.post_json(
        &sim.url(&format!("/_signsim/mensatek/verifications/{id}/complete")),
        json!({ "link": code, "outcome": "verified" }),
    )
    .await
}

/// An admin list (`outbox`, `events`, `requests`) filtered to `provider` and `tenant`,
/// each row checked to be theirs.
async fn rows_of(sim: &Sim, view: &str, provider: &str, tenant: &str) -> Vec<Value> {
    let listed = sim
        .get(&sim.url(&format!(
            "/_signsim/{view}?provider={provider}&tenant={tenant}"
        )))
        .await;
    assert_eq!(listed.status, 200, "{view}");
    let rows = listed.json().as_array().cloned().unwrap_or_default();
    for row in &rows {
        assert_eq!(row["provider"], provider, "{view}: {row}");
        assert_eq!(row["tenant"], tenant, "{view}: {row}");
    }
    rows
}

/// Moves the clock of `tenant` in `provider` alone.
async fn advance_tenant(sim: &Sim, provider: &str, tenant: &str, seconds: u64) {
    let moved = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": seconds, "tenant": tenant, "provider": provider }),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.json());
}

async fn reset_tenant(sim: &Sim, provider: &str, tenant: &str) {
    let reset = sim
        .post_json(
            &sim.url(&format!(
                "/_signsim/reset?tenant={tenant}&provider={provider}"
            )),
            json!({}),
        )
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json());
}

/// The link code of the newest SMS of API user `user`, and the whole link.
async fn last_link(sim: &Sim, user: &str) -> (String, String) {
    let messages = rows_of(sim, "outbox", "mensatek", user).await;
    let link = messages.last().expect("an SMS")["link"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = link.rsplit('/').next().unwrap().to_owned();
    (code, link)
}

/// `Fecha` for noon (Spain's time) `days` after today (real time, UTC).
fn fecha_in_days(days: i64) -> String {
    let day = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    format!(
        "{:04}-{:02}-{:02} 12:00",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

#[tokio::test]
async fn mensatek_admin_acts_answer_404_409_410_by_the_one_rule() {
    let sim = crate::common::start().await;
    // 404: an unknown verification, an unknown link, a link to another verification.
    let unknown = complete_as(&sim, USER, "1234567890", "verified").await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.json());
    let page = sim.browse(&sim.url("/_signsim/mensatek/v/nope")).await;
    assert_eq!(page.status, 404);
    let scheduled = verify_as(
        &sim,
        USER,
        json!({ "Telefono": "34600000001", "Fecha": fecha_in_days(2) }),
    )
    .await;
    let no_link = complete_by_link(&sim, "nope", &scheduled).await;
    assert_eq!(no_link.status, 404, "{:?}", no_link.json());

    // 409: the verification's state does not allow the act (its SMS is not sent yet).
    let early = complete_as(&sim, USER, &scheduled, "verified").await;
    assert_eq!(early.status, 409, "{:?}", early.json());

    // Used: 409 by the API user (the state is over), 410 through the link.
    let used = verify_as(&sim, USER, json!({ "Telefono": "34600000002" })).await;
    let (used_code, used_link) = last_link(&sim, USER).await;
    let elsewhere = complete_by_link(&sim, &used_code, &scheduled).await;
    assert_eq!(
        elsewhere.status, 404,
        "a link leads to its own verification"
    );
    let done = complete_by_link(&sim, &used_code, &used).await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    let again = complete_as(&sim, USER, &used, "verified").await;
    assert_eq!(again.status, 409, "{:?}", again.json());
    let reused = complete_by_link(&sim, &used_code, &used).await;
    assert_eq!(reused.status, 410, "{:?}", reused.json());
    assert!(
        reused.json()["error"]
            .as_str()
            .unwrap()
            .contains("has been used"),
        "{:?}",
        reused.json()
    );
    assert_eq!(sim.browse(&used_link).await.status, 410);

    // Expired (72 hours on this API user's clock): 409 by the API user, 410 through the
    // link and on its page.
    let expiring = verify_as(&sim, USER, json!({ "Telefono": "34600000003" })).await;
    let (expired_code, expired_link) = last_link(&sim, USER).await;
    advance_tenant(&sim, "mensatek", USER, 72 * 3600).await;
    let late = complete_as(&sim, USER, &expiring, "verified").await;
    assert_eq!(late.status, 409, "{:?}", late.json());
    let late_link = complete_by_link(&sim, &expired_code, &expiring).await;
    assert_eq!(late_link.status, 410, "{:?}", late_link.json());
    assert!(late_link.json()["error"]
        .as_str()
        .unwrap()
        .contains("has expired"));
    assert_eq!(sim.browse(&expired_link).await.status, 410);
}

#[tokio::test]
async fn mensatek_scheduled_fecha_goes_out_on_its_own_tenants_clock() {
    let sim = crate::common::start().await;
    let (alpha, beta) = ("alpha", "beta");
    let hook = receiver::start(0).await;
    let configured = sim
        .post_json(
            &sim.url("/_signsim/mensatek/report-url"),
            json!({ "api_user": alpha, "url": hook.url }),
        )
        .await;
    assert_eq!(configured.status, 200);
    let fecha = fecha_in_days(2);
    let scheduled = verify_as(
        &sim,
        alpha,
        json!({ "Telefono": "34600000001", "Fecha": fecha }),
    )
    .await;
    let sent_now = verify_as(&sim, beta, json!({ "Telefono": "34600000002" })).await;

    // Another API user's three days, and the same name's in another provider: alpha's
    // Fecha has not come.
    advance_tenant(&sim, "mensatek", beta, 3 * 86_400).await;
    advance_tenant(&sim, "qitech", alpha, 3 * 86_400).await;
    assert!(rows_of(&sim, "outbox", "mensatek", alpha).await.is_empty());
    // Beta's own link expired on beta's clock.
    let expired = complete_as(&sim, beta, &sent_now, "verified").await;
    assert_eq!(expired.status, 409, "{:?}", expired.json());

    // Alpha's own three days: the SMS goes out at Fecha, on alpha's clock.
    advance_tenant(&sim, "mensatek", alpha, 3 * 86_400).await;
    let sms = rows_of(&sim, "outbox", "mensatek", alpha).await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    let at = time::OffsetDateTime::parse(
        sms[0]["at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(at > time::OffsetDateTime::now_utc() + time::Duration::days(1));
    // Its report says it went out at Fecha itself (the timer fired at its due time).
    eventually("the send report", async || hook.bodies().len() == 1).await;
    assert_eq!(hook.bodies()[0]["FechaEnvio"], fecha.as_str());
    assert_eq!(hook.bodies()[0]["Estado"], "5001");

    // Fecha was a day or less ago on alpha's clock: the link is still open.
    let done = complete_as(&sim, alpha, &scheduled, "verified").await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    // The certificate comes a minute later on alpha's clock, not on beta's.
    advance_tenant(&sim, "mensatek", beta, 3600).await;
    assert_eq!(res(&certificate_as(&sim, alpha, &scheduled).await), "-5");
    advance_tenant(&sim, "mensatek", alpha, 60).await;
    let pdf = certificate_as(&sim, alpha, &scheduled).await;
    assert_eq!(pdf.content_type, "application/pdf");
}

#[tokio::test]
async fn mensatek_reset_of_one_api_user_forgets_only_its_own() {
    let sim = crate::common::start().await;
    let (alpha, beta) = ("alpha", "beta");
    let mut ids = Vec::new();
    for user in [alpha, beta] {
        let set = sim
            .post_json(
                &sim.url("/_signsim/mensatek/credits"),
                json!({ "api_user": user, "credits": 10 }),
            )
            .await;
        assert_eq!(set.status, 200);
        let id = verify_as(&sim, user, json!({ "Telefono": "34600000001" })).await;
        let done = complete_as(&sim, user, &id, "verified").await;
        assert_eq!(done.status, 200);
        ids.push(id);
    }
    let (alpha_code, alpha_link) = last_link(&sim, alpha).await;
    reset_tenant(&sim, "mensatek", alpha).await;

    // Alpha's journal rows, events and SMS are gone; beta's are all there.
    for view in ["requests", "events", "outbox"] {
        let gone = rows_of(&sim, view, "mensatek", alpha).await;
        assert!(gone.is_empty(), "{view} kept {gone:?}");
        let kept = rows_of(&sim, view, "mensatek", beta).await;
        assert!(!kept.is_empty(), "beta lost its {view}");
    }
    // Alpha's verification, link and balance are forgotten; beta's are kept.
    assert_eq!(res(&certificate_as(&sim, alpha, &ids[0]).await), "-50");
    assert_eq!(sim.browse(&alpha_link).await.status, 404);
    assert_eq!(
        complete_by_link(&sim, &alpha_code, &ids[0]).await.status,
        404
    );
    assert_eq!(res(&certificate_as(&sim, beta, &ids[1]).await), "-5");
    let credits = |user: &'static str| {
        let sim = &sim;
        async move {
            call_as(
                sim,
                "GetCreditos",
                Some(&basic(user, TOKEN)),
                json!({ "Resp": "JSON" }),
            )
            .await
            .json()[0]["Cred"]
                .clone()
        }
    };
    assert_eq!(credits(alpha).await, "100", "back to the starting balance");
    assert_eq!(credits(beta).await, "9");
}

#[tokio::test]
async fn mensatek_the_same_name_in_another_provider_is_another_tenant() {
    let sim = crate::common::start().await;
    let name = "corp";
    let id = verify_as(&sim, name, json!({ "Telefono": "34600000001" })).await;
    let envelope = |envelope: &'static str| {
        let sim = &sim;
        async move {
            let expires = time::OffsetDateTime::now_utc().date() + time::Duration::days(5);
            let created = sim
                .http
                .post(sim.url("/qitech/sign/envelope"))
                .header("authorization", name)
                .json(&json!({
                    "id": envelope, "subject": "Contrato", "expiration_date": expires.to_string(),
                    "signers": [{
                        "id": "1", "name": "Ana Corp", "email": "ana@example.com",
                        "birthdate": "1992-09-15", "document_number": "111.111.111-11",
                        "phone": {"international_dial_code": "55", "area_code": "11", "number": "988878722"},
                        "document_submission_method": "email",
                        "authentication_submission_method": "sms"
                    }]
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(created.status(), 201);
        }
    };
    let envelope_status = |envelope: &'static str| {
        let sim = &sim;
        async move {
            sim.http
                .get(sim.url(&format!("/qitech/sign/envelope/{envelope}")))
                .header("authorization", name)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    envelope("e1").await;

    // QI Tech's `corp` is reset and moved 73 hours: Mensatek's `corp` keeps its
    // verification, SMS and timeline, and its link has not expired.
    reset_tenant(&sim, "qitech", name).await;
    assert_eq!(envelope_status("e1").await, 404);
    advance_tenant(&sim, "qitech", name, 73 * 3600).await;
    assert_eq!(res(&certificate_as(&sim, name, &id).await), "-5");
    assert_eq!(rows_of(&sim, "outbox", "mensatek", name).await.len(), 1);
    assert!(!rows_of(&sim, "events", "mensatek", name).await.is_empty());
    assert!(
        rows_of(&sim, "outbox", "qitech", name).await.is_empty(),
        "Mensatek's SMS is not QI Tech's corp's"
    );
    let open = complete_as(&sim, name, &id, "verified").await;
    assert_eq!(open.status, 200, "{:?}", open.json());

    // Mensatek's `corp` is reset: QI Tech's `corp` keeps its envelope.
    envelope("e2").await;
    reset_tenant(&sim, "mensatek", name).await;
    assert_eq!(res(&certificate_as(&sim, name, &id).await), "-50");
    assert_eq!(envelope_status("e2").await, 200);
}

#[tokio::test]
async fn mensatek_admin_acts_are_journaled_under_their_api_user() {
    let sim = crate::common::start().await;
    let hook = receiver::start(0).await;
    let (alpha, beta) = ("alpha", "beta");
    let admin = |path: &str| format!("/_signsim/mensatek/{path}");
    sim.post_json(
        &sim.url(&admin("report-url")),
        json!({ "api_user": alpha, "url": hook.url }),
    )
    .await;
    sim.post_json(
        &sim.url(&admin("credits")),
        json!({ "api_user": alpha, "credits": 5 }),
    )
    .await;
    let refused = sim
        .post_json(
            &sim.url(&admin("credits")),
            json!({ "api_user": alpha, "credits": "many" }),
        )
        .await;
    assert_eq!(refused.status, 400);
    let id = verify_as(&sim, alpha, json!({ "Telefono": "34600000001" })).await;
    let (code, link) = last_link(&sim, alpha).await;
    assert_eq!(sim.browse(&link).await.status, 200);
    assert_eq!(complete_by_link(&sim, &code, &id).await.status, 200);
    assert_eq!(complete_by_link(&sim, &code, &id).await.status, 410);
    assert_eq!(
        complete_as(&sim, alpha, "1234567890", "verified")
            .await
            .status,
        404
    );
    advance_tenant(&sim, "mensatek", alpha, 60).await;
    let certificate = sim
        .get(&sim.url(&format!(
            "{}?api_user={alpha}",
            admin(&format!("verifications/{id}/certificate"))
        )))
        .await;
    assert_eq!(certificate.status, 200);

    // Every act is listed under alpha, with its answer's status.
    let journaled: Vec<(String, u64)> = rows_of(&sim, "requests", "mensatek", alpha)
        .await
        .iter()
        .map(|row| {
            (
                row["path"].as_str().unwrap().to_owned(),
                row["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let complete = admin(&format!("verifications/{id}/complete"));
    for act in [
        (admin("report-url"), 200),
        (admin("credits"), 200),
        (admin("credits"), 400),
        (admin(&format!("v/{code}")), 200),
        (complete.clone(), 200),
        (complete, 410),
        (admin("verifications/1234567890/complete"), 404),
        (admin(&format!("verifications/{id}/certificate")), 200),
    ] {
        assert!(
            journaled.contains(&act),
            "{act:?} is not journaled under {alpha}: {journaled:?}"
        );
    }
    // None of them under another API user.
    assert!(rows_of(&sim, "requests", "mensatek", beta).await.is_empty());
}

#[tokio::test]
async fn mensatek_times_1_on_verificar_counts_per_api_user() {
    let sim = crate::common::start().await;
    sim.load_scenarios(
        "[[scenario]]\nname = \"gateway-once\"\nprovider = \"mensatek\"\n\n\
         [[scenario.effects]]\noperation = \"verificar\"\ntimes = 1\n\
         respond = { status = 503, body = { error = \"down\" } }\n",
    )
    .await;
    let create = |user: &'static str| {
        let sim = &sim;
        async move {
            answer(
                sim.http
                    .post(m(sim, "VerificarIdentidad"))
                    .header("authorization", basic(user, TOKEN))
                    .header("x-signsim-scenario", "gateway-once")
                    .json(&json!({ "Telefono": "34600000001", "Resp": "JSON" }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(create("alpha").await.status, 503);
    let retried = create("alpha").await;
    assert_eq!(retried.status, 200);
    assert_eq!(res(&retried), "10", "the retry works");
    assert_eq!(
        create("beta").await.status,
        503,
        "another API user counts on its own"
    );
}
