//! A visible signature's image: the PNG a client uploads (Uanataca's `/api/v1/image`) is
//! decoded and drawn into the signature appearance of a fixed, valid PDF.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signsim::pki::{Appearance, Pki, SignerCert, SignerIdentity};
use std::sync::OnceLock;

struct Fixture {
    pki: Pki,
    cert: SignerCert,
    pdf: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let pki = Pki::new(Some(7), None).expect("the CA is made");
        let who = SignerIdentity {
            given_name: "Ana".into(),
            surname_1: "Ruiz".into(),
            surname_2: None,
            serial_number: "IDCES-00000000T".into(),
            country: "ES".into(),
            email: None,
        };
        let cert = pki
            .issue_signer(&who, time::OffsetDateTime::now_utc())
            .expect("a signer certificate");
        let pdf = signsim::pki::text_pdf("Fuzz", &[("Purpose".into(), "appearance".into())]);
        Fixture { pki, cert, pdf }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let appearance = Appearance {
        page: 0,
        rect: [36.0, 36.0, 236.0, 96.0],
        lines: vec!["Signed by Ana Ruiz".into(), "2024-01-31".into()],
        png: Some(bytes::Bytes::copy_from_slice(data)),
    };
    let now = time::OffsetDateTime::now_utc();
    let _ = fixture
        .pki
        .sign_pdf(&fixture.pdf, &fixture.cert, now, Some(&appearance));
});
