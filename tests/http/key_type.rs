//! `--key-type rsa2048`: the Uanataca classic flow signs with an RSA-2048 single-use
//! certificate, which pyHanko trusts under the (P-256) CA.

use crate::common::{sample_pdf, start_with};
use crate::validators::check_pdfs;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::{Decode, Reader};
use serde_json::json;
use signsim::pki::KeyType;
use signsim::Config;

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";

/// PKCS#1 `RSAPublicKey`, what an RSA SubjectPublicKeyInfo's bit string holds.
#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: der::asn1::UintRef<'a>,
    public_exponent: der::asn1::UintRef<'a>,
}

/// The last signature's CMS in `pdf`: the hex of its `/Contents`, zero-padded after the DER.
fn last_signature(pdf: &[u8]) -> SignedData {
    let marker = b"/Contents <";
    let start = pdf
        .windows(marker.len())
        .rposition(|w| w == marker)
        .expect("a signature dictionary")
        + marker.len();
    let len = pdf[start..].iter().position(|&b| b == b'>').unwrap();
    let der = hex::decode(&pdf[start..start + len]).unwrap();
    let mut reader = der::SliceReader::new(&der).unwrap();
    let info: ContentInfo = reader.decode().unwrap();
    info.content.decode_as().unwrap()
}

/// The signer's certificate algorithm and modulus bits, and the SignerInfo's algorithm.
fn signer_key(signed: &SignedData) -> (String, usize, String) {
    let info = signed.signer_infos.0.get(0).expect("one signer");
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &info.sid else {
        panic!("signer named by subject key identifier");
    };
    let cert = signed
        .certificates
        .as_ref()
        .unwrap()
        .0
        .iter()
        .find_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c)
                if c.tbs_certificate.serial_number == sid.serial_number =>
            {
                Some(c)
            }
            _ => None,
        })
        .expect("the signer's certificate is embedded");
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let bits = match RsaPublicKey::from_der(spki.subject_public_key.raw_bytes()) {
        Ok(key) => {
            let modulus = key.modulus.as_bytes();
            let leading = modulus.first().map_or(8, |b| b.leading_zeros() as usize);
            modulus.len() * 8 - leading
        }
        Err(_) => 0,
    };
    (
        spki.algorithm.oid.to_string(),
        bits,
        info.signature_algorithm.oid.to_string(),
    )
}

#[tokio::test]
async fn uanataca_classic_flow_signs_with_rsa_2048() {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config.engine.key_type = KeyType::Rsa2048;
    let sim = start_with(config).await;

    let pk = sim.create_request("Maria").await;
    let pdf = sample_pdf("Contract to sign with RSA");
    let uploaded = sim.upload(pk, vec![("file", "doc.pdf", pdf.clone())]).await;
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();
    let otp = sim
        .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    assert_eq!(otp.status, 200, "{:?}", otp.json());
    let code = sim.last_otp().await;
    let signed = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": code }))
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());

    let document = sim
        .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
        .await;
    assert_eq!(document.status, 200);
    assert!(document.bytes.starts_with(&pdf));
    let (key_algorithm, bits, signature_algorithm) = signer_key(&last_signature(&document.bytes));
    assert_eq!(key_algorithm, RSA_ENCRYPTION, "the signer's key is RSA");
    assert_eq!(bits, 2048);
    assert_eq!(signature_algorithm, SHA256_WITH_RSA);

    // The contract is signed with the same kind of key; pyHanko trusts both.
    let contract = sim.get(&sim.api(&format!("document/{pk}/contract"))).await;
    let (key_algorithm, bits, _) = signer_key(&last_signature(&contract.bytes));
    assert_eq!((key_algorithm.as_str(), bits), (RSA_ENCRYPTION, 2048));
    check_pdfs(
        &sim,
        &[
            ("rsa.pdf", document.bytes),
            ("rsa-contract.pdf", contract.bytes),
        ],
    )
    .await;
}

/// The default stays P-256: the same flow without `key_type` signs with an EC key.
#[tokio::test]
async fn the_default_signer_key_is_p256() {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    let sim = start_with(config).await;
    let pk = sim.create_request("Maria").await;
    sim.post_json(&sim.api(&format!("otp/{pk}")), json!({}))
        .await;
    let code = sim.last_otp().await;
    let signed = sim
        .post_json(&sim.api(&format!("sign/{pk}")), json!({ "secret": code }))
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    let contract = sim.get(&sim.api(&format!("document/{pk}/contract"))).await;
    let (key_algorithm, _, signature_algorithm) = signer_key(&last_signature(&contract.bytes));
    assert_eq!(key_algorithm, "1.2.840.10045.2.1", "id-ecPublicKey");
    assert_eq!(
        signature_algorithm, "1.2.840.10045.4.3.2",
        "ecdsa-with-SHA256"
    );
}

/// The flag and its variable take `p256` or `rsa2048`, and the help says RSA keys do not
/// repeat under --seed.
#[test]
fn the_flag_names_its_values_and_the_seed_caveat() {
    use std::process::Command;
    let help = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "--key-type",
        "SIGNSIM_KEY_TYPE",
        "p256",
        "rsa2048",
        "--seed",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let bogus = Command::new(env!("CARGO_BIN_EXE_signsim"))
        .args(["serve", "--port", "0"])
        .env("SIGNSIM_KEY_TYPE", "rsa1024")
        .output()
        .unwrap();
    assert!(!bogus.status.success());
    let error = String::from_utf8_lossy(&bogus.stderr);
    assert!(
        error.contains("rsa1024") && error.contains("rsa2048"),
        "{error}"
    );
}
