//! Cost of the signing hot path: one single-use certificate, then one PAdES signature on a
//! small and a large PDF. Run with `cargo bench --bench pki`; figures go in the session notes.

use std::time::Instant;

use signsim::pki::{text_pdf, Pki, SignerIdentity};

const ROUNDS: u32 = 50;

fn main() {
    let pki = Pki::new(Some(9), None).expect("a seeded CA");
    let now = time::OffsetDateTime::now_utc();
    let identity = SignerIdentity {
        given_name: "María José".into(),
        surname_1: "García".into(),
        surname_2: Some("Núñez".into()),
        serial_number: "IDCES-12345678Z".into(),
        country: "ES".into(),
        email: Some("mj.garcia@example.com".into()),
    };
    let clause = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.";
    let pdf_of = |lines: usize| {
        let lines: Vec<(String, String)> = (1..=lines)
            .map(|i| (format!("Item {i}"), clause.to_string()))
            .collect();
        text_pdf("Benchmark", &lines)
    };

    let started = Instant::now();
    let signers: Vec<_> = (0..ROUNDS)
        .map(|_| pki.issue_signer(&identity, now).expect("a signer"))
        .collect();
    println!(
        "issue_signer: {:?} per certificate",
        started.elapsed() / ROUNDS
    );

    for pdf in [pdf_of(60), pdf_of(2000)] {
        let started = Instant::now();
        for signer in &signers {
            let signed = pki.sign_pdf(&pdf, signer, now, None).expect("a signature");
            std::hint::black_box(signed);
        }
        println!(
            "sign_pdf on {} KB: {:?} per signature",
            pdf.len() / 1024,
            started.elapsed() / ROUNDS
        );
    }
}
