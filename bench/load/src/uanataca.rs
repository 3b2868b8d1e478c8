//! `uanataca BASE`: complete classic One-Shot flows, each worker in its own tenant
//! (`X-Signsim-Tenant`): create the request, upload the PDF, ask for the OTP, read it from
//! the outbox, sign, download the signed PDF. The calls and credentials are those of
//! tests/http/uanataca_classic.rs and bench/flow.py.

use crate::client::{expect, json_of, Conn, Target};
use crate::drive::{drive, Budget, Tally};
use bytes::Bytes;
use hyper::Method;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// The demo token of the docs' quick start (tests/http/common.rs DEMO_TOKEN).
pub const TOKEN: &str = "fd6a21e6fb7d43b9893a520d67d6ff60";
const API: &str = "/uanataca/api/v1";
pub const STEPS: &[&str] = &["create", "upload", "otp", "outbox", "sign", "download"];
const BOUNDARY: &str = "signsim-load-boundary-7c1f";

/// What every worker shares: the run's tenant prefix and the document, built once.
pub struct Setup {
    pub tenant_prefix: String,
    pub pdf: Bytes,
    /// The upload's whole multipart body, built once: every flow sends the same bytes.
    upload: Bytes,
    /// Only create requests (no document, OTP or signature): to count what a stored
    /// request costs.
    pub create_only: bool,
}

impl Setup {
    pub fn new(tenant_prefix: String, pdf: Vec<u8>, create_only: bool) -> Setup {
        let mut upload = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"doc.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        upload.extend(&pdf);
        upload.extend(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        Setup {
            tenant_prefix,
            pdf: Bytes::from(pdf),
            upload: Bytes::from(upload),
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
            let tenant = format!("{}-u{w}", setup.tenant_prefix);
            let mut conn = match Conn::new(target).with_header("x-signsim-tenant", &tenant) {
                Ok(conn) => conn,
                Err(e) => {
                    tally.fail(e);
                    return tally;
                }
            };
            while let Some(n) = budget.next() {
                let started = Instant::now();
                match flow(&mut conn, &setup, &tenant, n, &mut tally).await {
                    Ok(()) => tally.units.record(started.elapsed()),
                    Err(e) => tally.fail(e),
                }
            }
            tally
        }
    })
    .await
}

/// One flow; each step's latency goes in `tally.steps` in the order of `STEPS`.
async fn flow(
    conn: &mut Conn,
    setup: &Setup,
    tenant: &str,
    n: usize,
    tally: &mut Tally,
) -> Result<(), String> {
    // A phone of its own per flow, so the outbox query finds this flow's OTP alone; +347,
    // because the built-in scenarios match magic phones +34600000001... (scenarios/).
    let phone = format!("+347{:08}", n % 100_000_000);
    let step = Instant::now();
    let created = conn
        .json(
            Method::POST,
            &format!("{API}/request"),
            &json!({
                "token": TOKEN, "given_name": "Bench", "surname_1": "Mark",
                "email": "b@example.com", "mobile_phone_number": phone,
            }),
        )
        .await?;
    let created = expect("create", created, 201)?;
    tally.steps[0].record(step.elapsed());
    let pk = json_of("create", &created)?["details"]
        .as_u64()
        .ok_or("create: no pk in details")?;
    if setup.create_only {
        return Ok(());
    }

    let step = Instant::now();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let uploaded = conn
        .send(
            Method::POST,
            &format!("{API}/document/{pk}"),
            Some(&content_type),
            setup.upload.clone(),
        )
        .await?;
    let uploaded = expect("upload", uploaded, 200)?;
    tally.steps[1].record(step.elapsed());
    let uid = json_of("upload", &uploaded)?["details"].clone();
    let uid = match uid {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        other => return Err(format!("upload: no document id in details: {other}")),
    };

    let step = Instant::now();
    let otp = conn
        .send(Method::POST, &format!("{API}/otp/{pk}"), None, Bytes::new())
        .await?;
    expect("otp", otp, 200)?;
    tally.steps[2].record(step.elapsed());

    let step = Instant::now();
    let outbox = conn
        .get(&format!(
            "/_signsim/outbox?provider=uanataca&tenant={tenant}&to=%2B{}",
            &phone[1..]
        ))
        .await?;
    let outbox = expect("outbox", outbox, 200)?;
    tally.steps[3].record(step.elapsed());
    let messages = json_of("outbox", &outbox)?;
    let secret = messages
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["otp"].as_str())
        .ok_or("outbox: no OTP for this flow's phone")?
        .to_owned();

    let step = Instant::now();
    let signed = conn
        .json(
            Method::POST,
            &format!("{API}/sign/{pk}"),
            &json!({ "secret": secret }),
        )
        .await?;
    expect("sign", signed, 200)?;
    tally.steps[4].record(step.elapsed());

    let step = Instant::now();
    let download = conn
        .get(&format!("{API}/document/{pk}/signed/{uid}"))
        .await?;
    let download = expect("download", download, 200)?;
    tally.steps[5].record(step.elapsed());
    if !download.body.starts_with(&setup.pdf) {
        return Err("download: the signed PDF does not start with the uploaded one".into());
    }
    Ok(())
}
