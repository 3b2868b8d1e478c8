//! The hash signature flow: a JSON hashfile in, a detached CMS (p7m) out.

use crate::common::{start, Sim};
use base64::Engine as _;
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::Encode;
use insta::assert_json_snapshot;
use reqwest::multipart::{Form, Part};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::process::Command;

/// A hashfile as the docs describe it, for `data`.
pub fn hashfile(data: &[u8], signing_time: bool) -> Vec<u8> {
    let digest = Sha256::digest(data);
    let mut values = SetOfVec::new();
    values
        .insert(der::Any::encode_from(&OctetString::new(digest.as_slice()).unwrap()).unwrap())
        .unwrap();
    let attribute = x509_cert::attr::Attribute {
        oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4"),
        values,
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(attribute.to_der().unwrap());
    serde_json::to_vec(&json!({
        "messageDigest": encoded,
        "digestAlgorithm": "sha256",
        "addAuthAttribute": 1,
        "addSigningTime": if signing_time { 1 } else { 0 },
        "otherAuthAttributes": []
    }))
    .unwrap()
}

async fn upload_hashfile(sim: &Sim, pk: u64, bytes: Vec<u8>) -> crate::common::Answer {
    let form = Form::new().part("hashfile", Part::bytes(bytes).file_name("test.json"));
    sim.post_form(&sim.api(&format!("document/{pk}")), form)
        .await
}

#[tokio::test]
async fn hash_flow_returns_a_p7m_that_openssl_verifies() {
    let sim = start().await;
    let data = b"the business document stays on the client's premises".to_vec();
    let pk = sim.create_request("Hash").await;
    let uploaded = upload_hashfile(&sim, pk, hashfile(&data, true)).await;
    assert_json_snapshot!("hash_upload", uploaded.shape(), { ".body.details" => "[uid]" });
    let uid = uploaded.json()["details"].as_str().unwrap().to_owned();

    let signed = sim.sign_with_otp(&pk).await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());

    let p7m = sim
        .get(&sim.api(&format!("document/{pk}/signed/{uid}")))
        .await;
    assert_eq!(p7m.status, 200);
    assert_eq!(p7m.content_type, "application/pkcs7-mime");
    assert_eq!(p7m.bytes[0], 0x30, "a DER SEQUENCE");
    let original = sim
        .get(&sim.api(&format!("document/{pk}/original/{uid}")))
        .await;
    assert_eq!(original.bytes, hashfile(&data, true));

    let have_openssl = Command::new("openssl").arg("version").output().is_ok();
    if !have_openssl {
        assert!(
            std::env::var_os("SIGNSIM_REQUIRE_VALIDATORS").is_none(),
            "openssl missing"
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("signsim-p7m-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sig.p7m"), &p7m.bytes).unwrap();
    std::fs::write(dir.join("data"), &data).unwrap();
    std::fs::write(dir.join("other"), b"tampered").unwrap();
    std::fs::write(
        dir.join("ca.pem"),
        sim.get(&sim.url("/_signsim/ca.pem")).await.bytes,
    )
    .unwrap();
    let verify = |content: &str| {
        Command::new("openssl")
            .args([
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ])
            .arg("-in")
            .arg(dir.join("sig.p7m"))
            .arg("-content")
            .arg(dir.join(content))
            .arg("-CAfile")
            .arg(dir.join("ca.pem"))
            .output()
            .unwrap()
    };
    let good = verify("data");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(
        !verify("other").status.success(),
        "a different content must not verify"
    );
    let printed = Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(dir.join("sig.p7m"))
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&printed.stdout);
    assert!(
        printed.contains("signingTime"),
        "addSigningTime asks for signingTime"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn malformed_hashfiles_are_explained() {
    let sim = start().await;
    let pk = sim.create_request("Hash").await;
    let cases = [
        ("not_json", b"{nope".to_vec()),
        ("no_digest", br#"{"digestAlgorithm": "sha256"}"#.to_vec()),
        ("bad_base64", br#"{"messageDigest": "%%%"}"#.to_vec()),
        ("wrong_algorithm", br#"{"messageDigest": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "digestAlgorithm": "md5"}"#.to_vec()),
    ];
    for (name, bytes) in cases {
        let answer = upload_hashfile(&sim, pk, bytes).await;
        assert_eq!(answer.status, 400, "{name}");
        assert_json_snapshot!(format!("hashfile_{name}"), answer.shape());
    }
    let none = sim.get(&sim.api(&format!("documents/{pk}"))).await;
    assert_eq!(none.status, 404, "nothing was stored");
}
