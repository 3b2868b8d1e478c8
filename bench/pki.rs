//! Cost of the signing hot path: one single-use certificate, then one PAdES signature on a
//! small and a large PDF; then the same with RSA-2048 certificates (`--key-type rsa2048`):
//! raw key generation, a burst served from the full key pool, and a sustained run longer
//! than the pool, where signatures outpace the one filling thread. Run with
//! `cargo bench --bench pki`; figures go in the session notes.

use std::time::{Duration, Instant};

use signsim::pki::{text_pdf, KeyType, Pki, SignerIdentity};

const ROUNDS: u32 = 50;
/// The pool's size (`pki::pool::POOL_SIZE`): a burst this long never waits for a key.
const BURST: u32 = 32;
const SUSTAINED: u32 = 100;

fn identity() -> SignerIdentity {
    SignerIdentity {
        given_name: "María José".into(),
        surname_1: "García".into(),
        surname_2: Some("Núñez".into()),
        serial_number: "IDCES-12345678Z".into(),
        country: "ES".into(),
        email: Some("mj.garcia@example.com".into()),
    }
}

fn pdf_of(lines: usize) -> Vec<u8> {
    let clause = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.";
    let lines: Vec<(String, String)> = (1..=lines)
        .map(|i| (format!("Item {i}"), clause.to_string()))
        .collect();
    text_pdf("Benchmark", &lines)
}

fn main() {
    let pki = Pki::new(Some(9), None).expect("a seeded CA");
    let now = time::OffsetDateTime::now_utc();
    let identity = identity();

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

    rsa(&identity, now);
}

/// Certificate + signature on the small PDF, `rounds` times; per second.
fn certify_and_sign(pki: &Pki, identity: &SignerIdentity, pdf: &[u8], rounds: u32) -> f64 {
    let now = time::OffsetDateTime::now_utc();
    let started = Instant::now();
    for _ in 0..rounds {
        let signer = pki.issue_signer(identity, now).expect("a signer");
        let signed = pki.sign_pdf(pdf, &signer, now, None).expect("a signature");
        std::hint::black_box(signed);
    }
    f64::from(rounds) / started.elapsed().as_secs_f64()
}

fn rsa(identity: &SignerIdentity, now: time::OffsetDateTime) {
    const KEYS: u32 = 20;
    let mut times: Vec<Duration> = (0..KEYS)
        .map(|_| {
            let started = Instant::now();
            let key =
                rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                    .expect("an RSA key");
            std::hint::black_box(key);
            started.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / KEYS;
    println!(
        "rsa2048 keygen (aws-lc): mean {mean:?}, median {:?}, max {:?} over {KEYS} keys",
        times[times.len() / 2],
        times[times.len() - 1]
    );

    let pki = Pki::with_key_type(Some(9), None, KeyType::Rsa2048).expect("a seeded CA");
    let pdf = pdf_of(60);
    // The pool fills in the background; wait for it (bounded) before the burst.
    let started = Instant::now();
    while pki.rsa_keys_ready() < BURST as usize && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "rsa2048 pool: {} keys ready {:?} after start",
        pki.rsa_keys_ready(),
        started.elapsed()
    );
    let signer = pki.issue_signer(identity, now).expect("a signer");
    let started = Instant::now();
    for _ in 0..ROUNDS {
        std::hint::black_box(pki.sign_pdf(&pdf, &signer, now, None).expect("a signature"));
    }
    println!(
        "rsa2048 sign_pdf on {} KB: {:?} per signature",
        pdf.len() / 1024,
        started.elapsed() / ROUNDS
    );
    let burst = certify_and_sign(&pki, identity, &pdf, BURST);
    println!("rsa2048 certificate + signature, burst of {BURST} from the full pool: {burst:.0}/s");
    let sustained = certify_and_sign(&pki, identity, &pdf, SUSTAINED);
    println!(
        "rsa2048 certificate + signature, {SUSTAINED} more (pool drained, keys made inline \
         and by the thread): {sustained:.0}/s"
    );
}
