//! Bytes kept per flow: a complete Uanataca flow with a 10 KB PDF costs the health meter
//! what it holds (the original once, its signed copy, the contract and its signed copy),
//! not a fixed 16 KB of hex zeros per signature nor a second copy of each original.

use crate::common::{sample_pdf, start, Sim};
use crate::validators::check_pdfs;
use serde_json::json;

/// A real PDF padded to about `kb` kilobytes with a comment, closed again with the same
/// `startxref`, so it stays valid.
fn pdf_of(kb: usize) -> Vec<u8> {
    let mut pdf = sample_pdf("Growth");
    let at = pdf
        .windows(9)
        .rposition(|w| w == b"startxref")
        .expect("startxref");
    let tail = pdf[at..].to_vec();
    pdf.extend(b"\n%");
    pdf.extend(std::iter::repeat_n(b'x', kb * 1024));
    pdf.extend(b"\n");
    pdf.extend(tail);
    pdf
}

async fn used(sim: &Sim) -> u64 {
    let health = sim.get(&sim.url("/_signsim/health")).await.json();
    health["storage"]["used_bytes"]
        .as_u64()
        .expect("used_bytes")
}

/// One flow: create, upload, OTP, sign; returns the request, the document's uid and the
/// signed PDF.
async fn flow(sim: &Sim, pdf: &[u8]) -> (u64, String, Vec<u8>) {
    let pk = sim.create_request("Maria").await;
    let uploaded = sim.upload(pk, vec![("file", "a.pdf", pdf.to_vec())]).await;
    assert_eq!(uploaded.status, 200, "{:?}", uploaded.json());
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();
    let signed = sim.sign_with_otp(&pk).await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    let signed = sim
        .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
        .await;
    assert_eq!(signed.status, 200);
    (pk, uid, signed.bytes)
}

/// A 10 KB flow keeps under 32 KB (it kept about 60 KB: 16 KB of hex zeros in each of
/// the two signed PDFs, and the original held apart from its signed copy); the signed
/// PDF grows by under 8 KB; what is kept still reads back byte for byte and validates.
#[tokio::test]
async fn a_10_kb_flow_keeps_its_documents_once_and_signatures_their_size() {
    let sim = start().await;
    let pdf = pdf_of(10);
    // A first flow so the second measures a flow alone.
    flow(&sim, &pdf).await;
    let before = used(&sim).await;
    let (pk, uid, signed) = flow(&sim, &pdf).await;
    let kept = used(&sim).await - before;
    println!(
        "input {} B, signed {} B, kept {kept} B",
        pdf.len(),
        signed.len()
    );
    assert!(signed.starts_with(&pdf), "an incremental update");
    let growth = signed.len() - pdf.len();
    assert!(growth < 8 * 1024, "the signed PDF grew by {growth} bytes");
    assert!(kept < 32 * 1024, "a 10 KB flow keeps {kept} bytes");

    let original = sim
        .get(&sim.api(&format!("document/{pk}/original/{uid}")))
        .await;
    assert_eq!(original.status, 200);
    assert_eq!(original.bytes, pdf, "the original reads back byte for byte");
    let contract = sim.get(&sim.api(&format!("document/{pk}/contract"))).await;
    assert_eq!(contract.status, 200);
    check_pdfs(
        &sim,
        &[
            ("growth-signed.pdf", signed),
            ("growth-contract.pdf", contract.bytes),
        ],
    )
    .await;

    // Forgetting the request gives back all it weighed: nothing is counted twice or lost.
    let reset = sim.post_json(&sim.url("/_signsim/reset"), json!({})).await;
    assert!(reset.status < 300, "{:?}", reset.json());
    assert_eq!(used(&sim).await, 0);
}
