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

async fn load_scenario(sim: &Sim, file: &str) {
    let loaded = sim
        .post_raw(
            &sim.url("/_signsim/scenarios"),
            Some("application/toml"),
            file.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(loaded.status, 200, "{:?}", loaded.json());
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
    load_scenario(
        &sim,
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
    load_scenario(
        &sim,
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
