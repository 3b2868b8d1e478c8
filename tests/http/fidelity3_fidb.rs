//! Issue 23, items 1, 3, 4 and 5: Mensatek's functions at `/v7/<Function>` (prefixed and on
//! its own listener), its 5003 report without `Result`, the one-shot phone as a string, and
//! certificates written as the real service writes them (Uanataca and Signal).

use crate::common::{answer, sample_pdf, start, Answer, Sim, DEMO_TOKEN};
use crate::receiver::{self, eventually};
use base64::Engine as _;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn basic(user: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:token"));
    format!("Basic {encoded}")
}

/// A Mensatek call as JSON at `url`, as API user `fidb`.
async fn mensatek(sim: &Sim, url: &str, body: Value) -> Answer {
    let request = sim
        .http
        .post(url)
        .header("authorization", basic("fidb"))
        .json(&body);
    answer(request.send().await.expect("request sent")).await
}

fn res(answer: &Answer) -> String {
    answer.json()[0]["Res"]
        .as_str()
        .unwrap_or_else(|| panic!("a Res in {answer:?}"))
        .to_owned()
}

// Item 1: every function at /v7/<Function> as well as at the root.

#[tokio::test]
async fn mensatek_serves_every_function_under_v7_too() {
    let sim = start().await;
    for base in ["/mensatek/v7", "/mensatek"] {
        let credits = mensatek(
            &sim,
            &sim.url(&format!("{base}/GetCreditos")),
            json!({ "Resp": "JSON" }),
        )
        .await;
        assert_eq!(credits.status, 200, "{base}: {credits:?}");
        assert_eq!(res(&credits), "10", "{base}");
        let sent = mensatek(
            &sim,
            &sim.url(&format!("{base}/VerificarIdentidad")),
            json!({ "Telefono": "34600000001", "Mensaje": "[LINK]", "Resp": "JSON" }),
        )
        .await;
        assert_eq!(res(&sent), "10", "{base}: {sent:?}");
        let id = sent.json()[0]["ID"].as_str().unwrap().to_owned();
        let early = mensatek(
            &sim,
            &sim.url(&format!("{base}/GetCertificadoVerificacion")),
            json!({ "Id": id, "Resp": "JSON" }),
        )
        .await;
        assert_eq!(res(&early), "-5", "{base}: {early:?}");
    }
    // The verifications made at either path are one API user's: the balance counts both.
    let credits = mensatek(
        &sim,
        &sim.url("/mensatek/v7/GetCreditos"),
        json!({ "Resp": "JSON" }),
    )
    .await;
    assert_eq!(credits.json()[0]["Cred"], "98");
    // What is not a function stays a plain 404 or 405, under /v7/ too.
    let unknown = mensatek(&sim, &sim.url("/mensatek/v7/EnviarSMS"), json!({})).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        String::from_utf8_lossy(&unknown.bytes),
        "Not Found: no function at /v7/EnviarSMS"
    );
    let wrong = sim.get(&sim.url("/mensatek/v7/GetCreditos")).await;
    assert_eq!(wrong.status, 405);
    let deeper = mensatek(&sim, &sim.url("/mensatek/v7/v7/GetCreditos"), json!({})).await;
    assert_eq!(deeper.status, 404);
}

/// Kills the child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn mensatek_listener_serves_v7_and_the_root() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_signsim"))
            .args(["serve", "--port", "0", "--seed", "3"])
            .args(["--listen", "mensatek=127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Standard output: `NAME URL`, the main listener first, then Mensatek's.
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut url = None;
    while url.is_none() {
        let line = lines.next().expect("a line").expect("text");
        url = line.strip_prefix("mensatek ").map(str::to_owned);
    }
    let url = url.unwrap();
    let http = reqwest::Client::new();
    for path in ["/v7/GetCreditos", "/GetCreditos"] {
        let sent = http
            .post(format!("{url}{path}"))
            .header("authorization", basic("fidb"))
            .form(&[("Resp", "JSON")])
            .send()
            .await
            .expect("sent");
        let got = answer(sent).await;
        assert_eq!(got.status, 200, "{path}: {got:?}");
        assert_eq!(res(&got), "10", "{path}");
    }
}

// Item 3: the in-progress report carries no `Result` yet.

#[tokio::test]
async fn mensatek_in_progress_report_has_an_empty_result() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    let configured = sim
        .post_json(
            &sim.url("/_signsim/mensatek/report-url"),
            json!({ "api_user": "fidb", "url": hook.url, "format": "json" }),
        )
        .await;
    assert_eq!(configured.status, 200, "{:?}", configured.json());
    let sent = mensatek(
        &sim,
        &sim.url("/mensatek/VerificarIdentidad"),
        json!({ "Telefono": "34600000001", "Dni": "00000000T", "Mensaje": "[LINK]", "Resp": "JSON" }),
    )
    .await;
    let id = sent.json()[0]["ID"].as_str().unwrap().to_owned();
    let done = sim
        .post_json(
            &sim.url(&format!("/_signsim/mensatek/verifications/{id}/complete")),
            json!({ "api_user": "fidb", "outcome": "verified" }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    eventually("four reports", async || hook.bodies().len() == 4).await;
    let bodies = hook.bodies();
    let estados: Vec<&str> = bodies
        .iter()
        .map(|b| b["Estado"].as_str().unwrap())
        .collect();
    assert_eq!(estados, ["5001", "5002", "5003", "5010"]);
    let in_progress = &bodies[2];
    // The document is known at 5003, the result only at the final status.
    assert_eq!(in_progress["DNIAnverso"], "00000000T");
    assert_eq!(in_progress["Result"], "", "{in_progress}");
    let result: Value = serde_json::from_str(bodies[3]["Result"].as_str().unwrap()).unwrap();
    assert_eq!(result["PruebaDeVida"], "Si");
}

#[tokio::test]
async fn mensatek_failed_verification_reports_result_only_at_5020() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    sim.post_json(
        &sim.url("/_signsim/mensatek/report-url"),
        json!({ "api_user": "fidb", "url": hook.url, "format": "form" }),
    )
    .await;
    let sent = mensatek(
        &sim,
        &sim.url("/mensatek/v7/VerificarIdentidad"),
        json!({ "Telefono": "34600000002", "Mensaje": "[LINK]", "Resp": "JSON" }),
    )
    .await;
    let id = sent.json()[0]["ID"].as_str().unwrap().to_owned();
    let done = sim
        .post_json(
            &sim.url(&format!("/_signsim/mensatek/verifications/{id}/complete")),
            json!({ "api_user": "fidb", "outcome": "liveness_failed" }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json());
    eventually("four reports", async || {
        hook.inbox.received.lock().unwrap().len() == 4
    })
    .await;
    let forms: Vec<Vec<(String, String)>> = hook
        .inbox
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| url::form_urlencoded::parse(body).into_owned().collect())
        .collect();
    let field = |form: &[(String, String)], name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} in {form:?}"))
    };
    assert_eq!(field(&forms[2], "Estado"), "5003");
    assert_eq!(field(&forms[2], "Result"), "");
    assert_eq!(field(&forms[3], "Estado"), "5020");
    assert!(field(&forms[3], "Result").starts_with('{'));
}

// Item 4: the phone is a string in every body, whatever the client sent.

/// Uanataca's create call as JSON with `phone` as given (a number or a string); the pk.
async fn uanataca_create(sim: &Sim, phone: Value) -> u64 {
    let created = sim
        .post_json(
            &sim.api("request"),
            json!({
                "token": DEMO_TOKEN,
                "profile": "PFnubeQAFCiudadano",
                "given_name": "Maria",
                "surname_1": "Garcia",
                "serial_number": "12345678Z",
                "email": "signer@example.com",
                "mobile_phone_number": phone,
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json());
    created.json()["details"].as_u64().expect("pk")
}

#[tokio::test]
async fn uanataca_details_show_the_phone_as_a_string() {
    let sim = start().await;
    // A form value (the docs' quick start), a JSON string, and a JSON number (which cannot
    // carry the plus: its digits are the number with the country code).
    let by_form = sim.create_request("Maria").await;
    let details = sim
        .get(&sim.api(&format!("request/{by_form}")))
        .await
        .json();
    assert_eq!(details["details"]["mobile_phone_number"], "+34600123123");
    let by_string = uanataca_create(&sim, json!("+34 600 123 124")).await;
    let by_number = uanataca_create(&sim, json!(34600123125u64)).await;
    for (pk, phone) in [
        (by_form, "+34600123123"),
        (by_string, "+34600123124"),
        (by_number, "+34600123125"),
    ] {
        let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
        assert_eq!(
            details["details"]["mobile_phone_number"],
            json!(phone),
            "{details}"
        );
    }
    // A number on update and on the video call is read the same way.
    let scratchcard = sim
        .get(&sim.api(&format!("request/{by_form}")))
        .await
        .json()["details"]["scratchcard"]
        .clone();
    let updated = sim
        .http
        .put(sim.api(&format!("request/{by_form}")))
        .json(&json!({ "scratchcard": scratchcard, "mobile_phone_number": 34600123126u64 }))
        .send()
        .await
        .expect("sent");
    let updated = answer(updated).await;
    assert_eq!(updated.status, 200, "{:?}", updated.json());
    let details = sim
        .get(&sim.api(&format!("request/{by_form}")))
        .await
        .json();
    assert_eq!(details["details"]["mobile_phone_number"], "+34600123126");
    let video = sim
        .post_json(
            &sim.api("videoid"),
            json!({ "mobile_phone_number": 34611000001u64, "email": "v@example.com", "videoid_mode": 1 }),
        )
        .await;
    assert_eq!(video.status, 200, "{:?}", video.json());
    let pk = video.json()["details"]["request_pk"].as_u64().expect("pk");
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
    assert_eq!(details["details"]["mobile_phone_number"], "+34611000001");
}

const SIGNAL_TOKEN: &str = "fidb-signal-token";

/// Signal's create call with the docs' body and `phone` as given.
async fn signal_create(sim: &Sim, phone: Value) -> Answer {
    let mut body = crate::signal::create_body("+593991234567", &sample_pdf("To sign"));
    body["mobile_phone_number"] = phone;
    let request = sim
        .http
        .post(sim.url("/signal/sign/request"))
        .header("authorization", format!("Bearer {SIGNAL_TOKEN}"))
        .json(&body);
    answer(request.send().await.expect("sent")).await
}

#[tokio::test]
async fn signal_takes_a_numeric_phone_and_answers_a_string() {
    let sim = start().await;
    let created = signal_create(&sim, json!(593991234568u64)).await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    let shown = &created.json()["details"][0]["requestDetails"]["mobile_phone_number"];
    assert_eq!(shown, "+593991234568");
    let pk = created.json()["pk"].as_u64().unwrap();
    let got = sim
        .http
        .get(sim.url(&format!("/signal/sign/{pk}")))
        .header("authorization", format!("Bearer {SIGNAL_TOKEN}"))
        .send()
        .await
        .expect("sent");
    let got = answer(got).await;
    assert_eq!(
        got.json()["details"]["mobile_phone_number"],
        "+593991234568"
    );
}

// Item 5: certificates as the real service writes them, and true to the certificate.

/// Checks one certificate object: dates `2022-11-23T16:49:00Z`, a serial of 16 lower-case
/// hex digits, and both the very ones of the certificate in `data`.
fn check_certificate(shown: &Value) -> String {
    use der::Decode;
    let serial = shown["serial_number"].as_str().expect("serial_number");
    assert_eq!(serial.len(), 16, "{shown}");
    assert!(
        serial
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{shown}"
    );
    let der = base64::engine::general_purpose::STANDARD
        .decode(shown["data"].as_str().expect("data"))
        .expect("base64");
    let cert = x509_cert::Certificate::from_der(&der).expect("a certificate");
    let tbs = &cert.tbs_certificate;
    assert_eq!(hex::encode(tbs.serial_number.as_bytes()), serial);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let date = |t: &x509_cert::time::Time| {
        let secs = t.to_unix_duration().as_secs() as i64;
        time::OffsetDateTime::from_unix_timestamp(secs)
            .unwrap()
            .format(format)
            .unwrap()
    };
    assert_eq!(
        shown["valid_from"],
        date(&tbs.validity.not_before),
        "{shown}"
    );
    assert_eq!(shown["valid_to"], date(&tbs.validity.not_after), "{shown}");
    serial.to_owned()
}

#[tokio::test]
async fn uanataca_certificates_look_like_the_real_ones() {
    let sim = start().await;
    let pk = sim.create_request("Maria").await;
    let signed = sim.sign_with_otp(&pk).await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    let details = sim.get(&sim.api(&format!("request/{pk}"))).await.json();
    let rao = check_certificate(&details["details"]["approving_rao"]["certificate"]);
    let issued = check_certificate(&details["details"]["certificate_set"][0]);
    assert_ne!(rao, issued, "every certificate has a serial of its own");
    // Another request's certificate has another serial.
    let other = sim.create_request("Ana").await;
    sim.post_json(&sim.api(&format!("otp/{other}")), json!({}))
        .await;
    let otp = sim.last_otp().await;
    sim.post_json(&sim.api(&format!("sign/{other}")), json!({ "secret": otp }))
        .await;
    let details = sim.get(&sim.api(&format!("request/{other}"))).await.json();
    let second = check_certificate(&details["details"]["certificate_set"][0]);
    assert_ne!(second, issued);
}

#[tokio::test]
async fn signal_certificates_look_like_the_real_ones() {
    let sim = start().await;
    let created = signal_create(&sim, json!("+593991234567")).await;
    assert_eq!(created.status, 200, "{:?}", created.json());
    let details = &created.json()["details"][0]["requestDetails"];
    check_certificate(&details["approving_rao"]["certificate"]);
}
