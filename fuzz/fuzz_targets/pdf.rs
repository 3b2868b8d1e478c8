//! The PDF checker and signer on whatever bytes a client uploads: `check_pdf` (what every
//! provider calls on an upload), then, for what it accepts, a PAdES signature with and
//! without a visible appearance, and the page helpers IdentiaSign uses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signsim::pki::{self, Appearance, Pki, SignerCert, SignerIdentity};
use std::sync::OnceLock;

fn signer() -> &'static (Pki, SignerCert) {
    static SIGNER: OnceLock<(Pki, SignerCert)> = OnceLock::new();
    SIGNER.get_or_init(|| {
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
        (pki, cert)
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = pki::page_count(data);
    if pki::check_pdf(data).is_err() {
        return;
    }
    let (pki, cert) = signer();
    let now = time::OffsetDateTime::now_utc();
    let _ = pki.sign_pdf(data, cert, now, None);
    let appearance = Appearance {
        page: 0,
        rect: [36.0, 36.0, 236.0, 96.0],
        lines: vec!["Signed by Ana Ruiz".into()],
        png: None,
    };
    let _ = pki.sign_pdf(data, cert, now, Some(&appearance));
    let _ = pki::append_pages(data, data);
});
