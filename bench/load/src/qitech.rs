//! `qitech BASE`: complete QI Tech envelopes, each worker with its own API key (the key is
//! the tenant): create, add the document, submit, sign through the admin signer act, read
//! the report and download the dossier. The calls are those of tests/http/qitech.rs.

use crate::client::{expect, json_of, Conn, Target};
use crate::drive::{drive, Budget, Tally};
use base64::Engine as _;
use hyper::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

pub const STEPS: &[&str] = &["create", "document", "submit", "sign", "report", "dossier"];

pub struct Setup {
    pub key_prefix: String,
    /// The document's `document_add` body without the envelope: the same base64 for every
    /// flow, encoded once.
    document: Value,
    expiration_date: String,
    /// Only create envelopes (no document, no signature): to count what a stored envelope
    /// costs.
    pub create_only: bool,
}

impl Setup {
    pub fn new(key_prefix: String, pdf: &[u8], create_only: bool) -> Setup {
        let in_ten_days = time::OffsetDateTime::now_utc().date() + time::Duration::days(10);
        Setup {
            key_prefix,
            document: json!({
                "document_b64": base64::engine::general_purpose::STANDARD.encode(pdf),
                "name": "Contrato", "document_type": "pdf",
            }),
            expiration_date: format!(
                "{:04}-{:02}-{:02}",
                in_ten_days.year(),
                u8::from(in_ten_days.month()),
                in_ten_days.day()
            ),
            create_only,
        }
    }
}

pub async fn run(
    target: Target,
    workers: usize,
    budget: Budget,
    setup: Setup,
) -> (Tally, std::time::Duration) {
    let (budget, setup) = (Arc::new(budget), Arc::new(setup));
    drive(workers, STEPS.len(), move |w| {
        let (target, budget, setup) = (target.clone(), budget.clone(), setup.clone());
        async move {
            let mut tally = Tally::new(STEPS.len());
            let key = format!("{}-q{w}", setup.key_prefix);
            let mut conn = match Conn::new(target).with_header("authorization", &key) {
                Ok(conn) => conn,
                Err(e) => {
                    tally.fail(e);
                    return tally;
                }
            };
            while let Some(n) = budget.next() {
                let started = Instant::now();
                match flow(&mut conn, &setup, &key, n, &mut tally).await {
                    Ok(()) => tally.units.record(started.elapsed()),
                    Err(e) => tally.fail(e),
                }
            }
            tally
        }
    })
    .await
}

async fn flow(
    conn: &mut Conn,
    setup: &Setup,
    key: &str,
    n: usize,
    tally: &mut Tally,
) -> Result<(), String> {
    // The client names the envelope; `n` is unique in the run, the key in the server.
    let id = format!("bench-{n}");
    let envelope = format!("/qitech/sign/envelope/{id}");

    let step = Instant::now();
    let created = conn
        .json(
            Method::POST,
            "/qitech/sign/envelope",
            &json!({
                "id": id, "subject": "CCB QiTech", "expiration_date": setup.expiration_date,
                "signers": [{
                    "id": "1", "name": "John Sample", "email": "one@example.com",
                    "birthdate": "1992-09-15", "document_number": "111.111.111-11",
                    "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
                    "document_submission_method": "email",
                    "authentication_submission_method": "sms"
                }],
            }),
        )
        .await?;
    expect("create", created, 201)?;
    tally.steps[0].record(step.elapsed());
    if setup.create_only {
        return Ok(());
    }

    let step = Instant::now();
    let document = conn
        .json(
            Method::POST,
            &format!("{envelope}/document"),
            &setup.document,
        )
        .await?;
    expect("document", document, 201)?;
    tally.steps[1].record(step.elapsed());

    let step = Instant::now();
    let submitted = conn
        .json(Method::PATCH, &envelope, &json!({ "status": "submitted" }))
        .await?;
    expect("submit", submitted, 200)?;
    tally.steps[2].record(step.elapsed());

    let step = Instant::now();
    let signed = conn
        .json(
            Method::POST,
            &format!("/_signsim/qitech/envelopes/{id}/signers/1/sign"),
            &json!({ "api_key": key }),
        )
        .await?;
    let signed = expect("sign", signed, 200)?;
    tally.steps[3].record(step.elapsed());
    if json_of("sign", &signed)?["envelope_status"] != "completed" {
        return Err("sign: the envelope is not completed after its only signer".into());
    }

    let step = Instant::now();
    let report = conn.get(&format!("{envelope}/report")).await?;
    let report = expect("report", report, 200)?;
    tally.steps[4].record(step.elapsed());
    let url = json_of("report", &report)?["documents_reports"][0]["url"]
        .as_str()
        .ok_or("report: no dossier URL")?
        .to_owned();

    let step = Instant::now();
    let dossier = conn.get(&conn.target().path_of(&url)?).await?;
    let dossier = expect("dossier", dossier, 200)?;
    tally.steps[5].record(step.elapsed());
    if !dossier.body.starts_with(b"%PDF-") {
        return Err("dossier: not a PDF".into());
    }
    Ok(())
}
