//! Integration tests for the PKI module. External validators (pyhanko, qpdf, openssl)
//! are used when found on PATH; otherwise those assertions are skipped with a note.

use std::path::{Path, PathBuf};
use std::process::Command;

use signsim::pki::{
    text_pdf, Appearance, KeyType, Pki, PkiError, SignedAttribute, SignerIdentity,
    MAX_ATTRIBUTE_VALUE,
};

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

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

fn sample_pdf() -> Vec<u8> {
    let lines: Vec<(String, String)> = (1..=60)
        .map(|i| {
            (
                format!("Clause {i}"),
                format!("The provider shall render service number {i} with due diligence, in accordance with the applicable terms and conditions of this agreement."),
            )
        })
        .collect();
    text_pdf("Service contract – Señal Simulada S.L.", &lines)
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pki-lab-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether `tool` is on PATH. CI sets SIGNSIM_REQUIRE_VALIDATORS, and then a missing
/// tool fails the test instead of skipping its checks.
fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("SIGNSIM_REQUIRE_VALIDATORS").is_none(),
            "SIGNSIM_REQUIRE_VALIDATORS is set but {tool} is not on PATH"
        );
        eprintln!("note: {tool} not on PATH, skipping its checks");
    }
    found
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs qpdf --check and pyHanko validation on `pdf`, asserting success.
fn validate(dir: &Path, file: &str, pdf: &[u8], pki: &Pki) {
    let path = dir.join(file);
    std::fs::write(&path, pdf).unwrap();
    std::fs::write(dir.join("ca.pem"), pki.ca_pem()).unwrap();
    if have("qpdf") {
        let (ok, text) = run(Command::new("qpdf").arg("--check").arg(&path));
        println!("qpdf --check {file}:\n{text}");
        assert!(ok, "qpdf --check failed: {text}");
        assert!(
            text.contains("No syntax or stream encoding errors"),
            "{text}"
        );
    }
    if have("pyhanko") {
        let validate = |pretty: bool| {
            let mut cmd = Command::new("pyhanko");
            cmd.args(["sign", "validate", "--trust-replace", "--trust"])
                .arg(dir.join("ca.pem"));
            if pretty {
                cmd.arg("--pretty-print");
            }
            run(cmd.arg(&path))
        };
        let (ok, summary) = validate(false);
        println!("pyhanko sign validate {file}:\n{summary}");
        assert!(ok, "pyhanko failed: {summary}");
        let lines: Vec<&str> = summary
            .lines()
            .filter(|l| l.starts_with("Signature"))
            .collect();
        assert!(!lines.is_empty(), "{summary}");
        for line in lines {
            assert!(
                line.contains(":INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
                "{line}"
            );
        }
        let (ok, pretty) = validate(true);
        assert!(ok, "pyhanko --pretty-print failed: {pretty}");
        for needle in [
            "The signature is judged VALID",
            "The signer's certificate is trusted",
            "The timestamp token is cryptographically sound",
            "The TSA certificate is trusted",
        ] {
            assert!(pretty.contains(needle), "missing {needle:?} in:\n{pretty}");
        }
    }
}

#[test]
fn seeded_ca_is_reproducible() {
    let a = Pki::new(Some(1), None).unwrap();
    let b = Pki::new(Some(1), None).unwrap();
    let c = Pki::new(Some(2), None).unwrap();
    assert_eq!(a.ca_der(), b.ca_der());
    assert_ne!(a.ca_der(), c.ca_der());
}

#[test]
fn signers_are_single_use() {
    let pki = Pki::new(Some(7), None).unwrap();
    let t = now();
    let s1 = pki.issue_signer(&identity(), t).unwrap();
    let s2 = pki.issue_signer(&identity(), t).unwrap();
    assert_ne!(s1.cert_der(), s2.cert_der());
    assert_ne!(s1.serial_hex(), s2.serial_hex());
    assert_eq!(s1.common_name(), "María José García Núñez");
    assert_eq!(
        s1.subject_string(),
        "C=ES, GN=María José, SN=García Núñez, serialNumber=IDCES-12345678Z, CN=María José García Núñez, E=mj.garcia@example.com"
    );
    if have("openssl") {
        let dir = tmp_dir("signer");
        std::fs::write(dir.join("s.pem"), s1.cert_pem()).unwrap();
        let (ok, text) = run(Command::new("openssl")
            .args(["x509", "-noout", "-text", "-nameopt", "utf8", "-in"])
            .arg(dir.join("s.pem")));
        assert!(ok, "{text}");
        for needle in [
            "GN=María José",
            "SN=García Núñez",
            "serialNumber=IDCES-12345678Z",
            "Non Repudiation",
            "E-mail Protection",
            "email:mj.garcia@example.com",
        ] {
            assert!(text.contains(needle), "missing {needle:?}:\n{text}");
        }
    }
}

#[test]
fn ca_dir_is_created_then_reused() {
    let dir = tmp_dir("cadir");
    let _ = std::fs::remove_file(dir.join("ca.pem"));
    let _ = std::fs::remove_file(dir.join("ca.key"));
    let a = Pki::new(None, Some(&dir)).unwrap();
    let b = Pki::new(None, Some(&dir)).unwrap();
    assert_eq!(a.ca_pem(), b.ca_pem());
    // A certificate from the reloaded CA must chain to the saved one.
    let signer = b.issue_signer(&identity(), now()).unwrap();
    let signed = b.sign_pdf(&sample_pdf(), &signer, now(), None).unwrap();
    validate(&dir, "reloaded.pdf", &signed, &a);
}

#[test]
fn sign_text_pdf_and_validate() {
    let pki = Pki::new(None, None).unwrap();
    let pdf = sample_pdf();
    assert!(pdf.len() > 5000);
    let signer = pki.issue_signer(&identity(), now()).unwrap();
    let signed = pki.sign_pdf(&pdf, &signer, now(), None).unwrap();
    assert!(signed.starts_with(&pdf), "original must be a byte prefix");
    let dir = tmp_dir("text");
    std::fs::write(dir.join("unsigned.pdf"), &pdf).unwrap();
    validate(&dir, "signed.pdf", &signed, &pki);

    // A second signature on top of the first keeps both valid.
    let signer2 = pki.issue_signer(&identity(), now()).unwrap();
    let twice = pki.sign_pdf(&signed, &signer2, now(), None).unwrap();
    assert!(twice.starts_with(&signed));
    validate(&dir, "signed-twice.pdf", &twice, &pki);
}

#[test]
fn sign_xref_stream_pdf() {
    if !have("qpdf") {
        return;
    }
    let dir = tmp_dir("xrefstm");
    std::fs::write(dir.join("in.pdf"), sample_pdf()).unwrap();
    let (ok, text) = run(Command::new("qpdf")
        .arg("--object-streams=generate")
        .arg(dir.join("in.pdf"))
        .arg(dir.join("objstm.pdf")));
    assert!(ok, "{text}");
    let pdf = std::fs::read(dir.join("objstm.pdf")).unwrap();
    assert!(pdf.windows(9).any(|w| w == b"/XRef") || pdf.windows(5).any(|w| w == b"/XRef"));
    let pki = Pki::new(None, None).unwrap();
    let signer = pki.issue_signer(&identity(), now()).unwrap();
    let signed = pki.sign_pdf(&pdf, &signer, now(), None).unwrap();
    assert!(signed.starts_with(&pdf));
    validate(&dir, "signed-objstm.pdf", &signed, &pki);
}

#[test]
fn visible_signature_with_png() {
    let pki = Pki::new(None, None).unwrap();
    let signer = pki.issue_signer(&identity(), now()).unwrap();
    let dir = tmp_dir("visible");
    for (name, color_type) in [("rgb", 2u8), ("rgba", 6u8)] {
        let app = Appearance {
            page: 1,
            rect: [56.0, 600.0, 356.0, 680.0],
            lines: vec![
                format!("Digitally signed by {}", signer.common_name()),
                signer.subject_string().to_string(),
                "Date: 2024-05-01 10:00:00 UTC".into(),
            ],
            png: Some(test_png(48, 32, color_type).into()),
        };
        let signed = pki
            .sign_pdf(&sample_pdf(), &signer, now(), Some(&app))
            .unwrap();
        validate(&dir, &format!("visible-{name}.pdf"), &signed, &pki);
    }
}

#[test]
fn sign_digest_verifies_with_openssl() {
    use sha2::Digest;
    let pki = Pki::new(None, None).unwrap();
    let signer = pki.issue_signer(&identity(), now()).unwrap();
    let data = b"hello, hash signing\n".repeat(100);
    let digest = sha2::Sha256::digest(&data);
    assert!(matches!(
        pki.sign_digest(&digest[..20], &signer, now(), true),
        Err(PkiError::InvalidInput(_))
    ));
    for with_time in [true, false] {
        let p7m = pki.sign_digest(&digest, &signer, now(), with_time).unwrap();
        if !have("openssl") {
            return;
        }
        let dir = tmp_dir(&format!("digest-{with_time}"));
        let (ok, text) = openssl_cms_verify(&dir, &p7m, &data, &pki);
        println!("openssl cms -verify (signingTime={with_time}): {text}");
        assert!(ok && text.contains("Verification successful"), "{text}");
        // Tampered content must fail.
        let (ok, _) = openssl_cms_verify(&dir, &p7m, b"tampered", &pki);
        assert!(!ok);
    }
}

/// `openssl cms -verify` of the detached `p7m` over `data`, trusting only the CA of `pki`.
fn openssl_cms_verify(dir: &Path, p7m: &[u8], data: &[u8], pki: &Pki) -> (bool, String) {
    std::fs::write(dir.join("x.p7m"), p7m).unwrap();
    std::fs::write(dir.join("data"), data).unwrap();
    std::fs::write(dir.join("ca.pem"), pki.ca_pem()).unwrap();
    run(Command::new("openssl")
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
            "-in",
        ])
        .arg(dir.join("x.p7m"))
        .arg("-content")
        .arg(dir.join("data"))
        .arg("-CAfile")
        .arg(dir.join("ca.pem")))
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// PKCS#1 `RSAPublicKey`, what an RSA SubjectPublicKeyInfo's bit string holds.
#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: der::asn1::UintRef<'a>,
    public_exponent: der::asn1::UintRef<'a>,
}

/// The RSA modulus size in bits of a certificate's public key; `None` when it is not RSA.
fn rsa_bits(cert_der: &[u8]) -> Option<usize> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(cert_der).unwrap();
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid.to_string() != RSA_ENCRYPTION {
        return None;
    }
    let key = RsaPublicKey::from_der(spki.subject_public_key.raw_bytes()).unwrap();
    assert_eq!(key.public_exponent.as_bytes(), [1, 0, 1], "e = 65537");
    let modulus = key.modulus.as_bytes();
    let leading = modulus.first().map_or(8, |b| b.leading_zeros() as usize);
    Some(modulus.len() * 8 - leading)
}

#[test]
fn p256_is_the_default() {
    let pki = Pki::new(Some(4), None).unwrap();
    assert_eq!(pki.key_type(), KeyType::P256);
    let signer = pki.issue_signer(&identity(), now()).unwrap();
    assert_eq!(rsa_bits(signer.cert_der()), None);
}

#[test]
fn rsa_signer_pdf_validates_and_its_key_is_rsa_2048() {
    let pki = Pki::with_key_type(Some(4), None, KeyType::Rsa2048).unwrap();
    assert_eq!(pki.key_type(), KeyType::Rsa2048);
    let signer = pki.issue_signer(&identity(), now()).unwrap();
    assert_eq!(rsa_bits(signer.cert_der()), Some(2048));
    let other = pki.issue_signer(&identity(), now()).unwrap();
    assert_ne!(other.cert_der(), signer.cert_der(), "single use");
    // The CA stays P-256 under an RSA signer.
    assert_eq!(rsa_bits(pki.ca_der()), None);

    let signed = pki.sign_pdf(&sample_pdf(), &signer, now(), None).unwrap();
    let dir = tmp_dir("rsa");
    validate(&dir, "signed-rsa.pdf", &signed, &pki);
    let twice = pki.sign_pdf(&signed, &other, now(), None).unwrap();
    validate(&dir, "signed-rsa-twice.pdf", &twice, &pki);

    if have("openssl") {
        std::fs::write(dir.join("s.pem"), signer.cert_pem()).unwrap();
        let (ok, text) = run(Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(dir.join("s.pem")));
        assert!(ok, "{text}");
        for needle in [
            "rsaEncryption",
            "Public-Key: (2048 bit)",
            "ecdsa-with-SHA256",
        ] {
            assert!(text.contains(needle), "missing {needle:?}:\n{text}");
        }
    }
}

#[test]
fn rsa_p7m_verifies_with_openssl() {
    use sha2::Digest;
    let pki = Pki::with_key_type(None, None, KeyType::Rsa2048).unwrap();
    let signer = pki.issue_signer(&identity(), now()).unwrap();
    assert_eq!(rsa_bits(signer.cert_der()), Some(2048));
    let data = b"hello, RSA hash signing\n".repeat(100);
    let p7m = pki
        .sign_digest(&sha2::Sha256::digest(&data), &signer, now(), true)
        .unwrap();
    if !have("openssl") {
        return;
    }
    let dir = tmp_dir("rsa-digest");
    let (ok, text) = openssl_cms_verify(&dir, &p7m, &data, &pki);
    assert!(ok && text.contains("Verification successful"), "{text}");
    let (ok, _) = openssl_cms_verify(&dir, &p7m, b"tampered", &pki);
    assert!(!ok, "a changed document must not verify");
    std::fs::write(dir.join("x.p7m"), &p7m).unwrap();
    let (ok, text) = run(Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(dir.join("x.p7m")));
    assert!(ok, "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");
}

#[test]
fn malformed_pdfs_are_rejected() {
    let pki = Pki::new(Some(3), None).unwrap();
    let signer = pki.issue_signer(&identity(), now()).unwrap();
    let pdf = sample_pdf();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("not a pdf", b"hello world, definitely not a PDF".to_vec()),
        ("truncated", pdf[..pdf.len() / 2].to_vec()),
        ("tail cut", pdf[..pdf.len() - 10].to_vec()),
        ("no pages", no_pages_pdf()),
        ("garbage body", {
            let mut p = b"%PDF-1.7\n".to_vec();
            p.extend_from_slice(&[0xff; 300]);
            p.extend_from_slice(b"\nstartxref\n9\n%%EOF\n");
            p
        }),
    ];
    for (name, bytes) in cases {
        let err = pki.sign_pdf(&bytes, &signer, now(), None).unwrap_err();
        println!("{name}: {err}");
        assert!(matches!(err, PkiError::InvalidPdf(_)), "{name}: {err:?}");
    }
    let bad_page = Appearance {
        page: 99,
        rect: [0.0, 0.0, 100.0, 50.0],
        ..Default::default()
    };
    assert!(matches!(
        pki.sign_pdf(&pdf, &signer, now(), Some(&bad_page)),
        Err(PkiError::InvalidInput(_))
    ));
    let bad_rect = Appearance {
        page: 0,
        rect: [100.0, 0.0, 10.0, 50.0],
        ..Default::default()
    };
    assert!(matches!(
        pki.sign_pdf(&pdf, &signer, now(), Some(&bad_rect)),
        Err(PkiError::InvalidInput(_))
    ));
    let bad_png = Appearance {
        page: 0,
        rect: [0.0, 0.0, 100.0, 50.0],
        png: Some(bytes::Bytes::from_static(b"\x89PNG\r\n\x1a\nxx")),
        ..Default::default()
    };
    assert!(matches!(
        pki.sign_pdf(&pdf, &signer, now(), Some(&bad_png)),
        Err(PkiError::InvalidInput(_))
    ));

    if have("qpdf") {
        let dir = tmp_dir("encrypted");
        std::fs::write(dir.join("in.pdf"), &pdf).unwrap();
        let (ok, text) = run(Command::new("qpdf")
            .args(["--encrypt", "user", "owner", "256", "--"])
            .arg(dir.join("in.pdf"))
            .arg(dir.join("enc.pdf")));
        assert!(ok, "{text}");
        let enc = std::fs::read(dir.join("enc.pdf")).unwrap();
        let err = pki.sign_pdf(&enc, &signer, now(), None).unwrap_err();
        println!("encrypted: {err}");
        assert!(
            matches!(err, PkiError::UnsupportedPdf(_) | PkiError::InvalidPdf(_)),
            "{err:?}"
        );
    }
}

fn no_pages_pdf() -> Vec<u8> {
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Count 0 /Kids [] >>",
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = out.len();
    out.extend_from_slice(b"xref\n0 3\n0000000000 65535 f\r\n");
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    out
}

/// A small gradient PNG (zlib "stored" blocks, no compression library needed).
fn test_png(w: u32, h: u32, color_type: u8) -> Vec<u8> {
    let ch = if color_type == 6 { 4 } else { 3 };
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0u8); // filter: None
        for x in 0..w {
            raw.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 160]);
            if ch == 4 {
                raw.push(if (x / 8 + y / 8) % 2 == 0 { 255 } else { 80 });
            }
        }
    }
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, color_type, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(&data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The CMS in the last signature's /Contents and how many zero bytes pad it; asserts the
/// padding is all zeros.
fn contents_of(signed: &[u8]) -> (usize, usize) {
    let key = b"/Contents <";
    let at = signed.windows(key.len()).rposition(|w| w == key).unwrap() + key.len();
    let end = at + signed[at..].iter().position(|&b| b == b'>').unwrap();
    let raw = hex::decode(&signed[at..end]).unwrap();
    assert_eq!(raw[0], 0x30, "a DER SEQUENCE");
    let (header, len) = match raw[1] {
        n if n < 0x80 => (2, usize::from(n)),
        n => {
            let count = usize::from(n & 0x7f);
            let len = raw[2..2 + count]
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            (2 + count, len)
        }
    };
    let cms = header + len;
    assert!(raw[cms..].iter().all(|&b| b == 0), "padding is zeros");
    (cms, raw.len() - cms)
}

/// /Contents fits the signature: it holds the longest CMS this signer can make, so the
/// padding is a few bytes (ECDSA signature values and the token's vary by a byte or
/// two), and a signed PDF grows by about 7.5 KB over its input, not the 17 KB it grew by
/// when 8 KB were reserved whatever the signature. Every PDF still validates: P-256 and
/// RSA, invisible and visible, and with the largest signed attribute a caller may add.
#[test]
fn signed_pdf_contents_fits_its_signature() {
    let pdf = sample_pdf();
    let dir = tmp_dir("fit");
    let attribute = SignedAttribute {
        oid: "1.3.6.1.4.1.55555.9".into(),
        value: vec![0xA5; MAX_ATTRIBUTE_VALUE],
    };
    let app = Appearance {
        page: 0,
        rect: [56.0, 600.0, 356.0, 680.0],
        lines: vec!["Digitally signed".into()],
        png: None,
    };
    for (name, key_type, most_growth) in [
        ("p256", KeyType::P256, 8 * 1024),
        ("rsa", KeyType::Rsa2048, 9 * 1024),
    ] {
        let pki = Pki::with_key_type(None, None, key_type).unwrap();
        let signer = pki.issue_signer(&identity(), now()).unwrap();
        let signed = pki.sign_pdf(&pdf, &signer, now(), None).unwrap();
        let (cms, padding) = contents_of(&signed);
        let growth = signed.len() - pdf.len();
        println!(
            "{name}: input {} B, signed {} B (+{growth}), CMS {cms} B, padding {padding} B",
            pdf.len(),
            signed.len()
        );
        assert!(growth < most_growth, "{name}: grew by {growth} bytes");
        assert!(padding <= 16, "{name}: {padding} bytes of padding");
        validate(&dir, &format!("fit-{name}.pdf"), &signed, &pki);

        let signer = pki.issue_signer(&identity(), now()).unwrap();
        let visible = pki
            .sign_pdf_with(
                &pdf,
                &signer,
                now(),
                Some(&app),
                std::slice::from_ref(&attribute),
            )
            .unwrap();
        let (cms_with, padding) = contents_of(&visible);
        assert!(
            cms_with > cms + MAX_ATTRIBUTE_VALUE,
            "the attribute is in the CMS"
        );
        assert!(padding <= 16, "{name} visible: {padding} bytes of padding");
        validate(&dir, &format!("fit-{name}-visible.pdf"), &visible, &pki);
    }
}
