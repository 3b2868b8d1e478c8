//! How a signature looks on the page: the rectangle, the image and the text the one-shot
//! service draws, with `%(CN)s`-style fields filled from the certificate just issued.

use crate::engine::timefmt;
use crate::pki::{Appearance, SignerCert};
use bytes::Bytes;
use time::OffsetDateTime;

/// Where and how to show the signature on one document.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VisibleSignature {
    /// Page index, from 0.
    pub page: u32,
    /// `x1, y1, x2, y2` in points from the bottom-left corner.
    pub rect: [f64; 4],
    /// A PNG drawn in the rectangle.
    #[serde(with = "crate::engine::state::blob::option")]
    pub image: Option<Bytes>,
}

/// The signature text: lines with `%(CN)s`, `%(SUBJECT)s`, `%(E)s`, `%(DATE)s` fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SignatureText {
    pub lines: Vec<String>,
    /// Python strftime, e.g. `%d/%m/%Y %H:%M:%S`.
    pub date_format: String,
    /// A zone `timefmt::offset_at` knows; checked by the surface.
    pub timezone: String,
}

impl Default for SignatureText {
    fn default() -> Self {
        SignatureText {
            lines: vec!["Signed by %(CN)s".into(), "Date: %(DATE)s".into()],
            date_format: "%d/%m/%Y %H:%M:%S".into(),
            timezone: "UTC".into(),
        }
    }
}

impl SignatureText {
    /// The lines with their fields filled in for `cert`, signing at `now`.
    pub fn render(&self, cert: &SignerCert, email: &str, now: OffsetDateTime) -> Vec<String> {
        let local = timefmt::in_zone(now, &self.timezone);
        let date = timefmt::strftime(local, &self.date_format, &self.timezone);
        self.lines
            .iter()
            .map(|line| {
                line.replace("%(CN)s", cert.common_name())
                    .replace("%(CN)", cert.common_name())
                    .replace("%(SUBJECT)s", cert.subject_string())
                    .replace("%(E)s", email)
                    .replace("%(DATE)s", &date)
            })
            .collect()
    }
}

/// The PKI appearance of `visible`, with `text` (if any) rendered for `cert`.
pub fn appearance(
    visible: &VisibleSignature,
    text: Option<&SignatureText>,
    cert: &SignerCert,
    email: &str,
    now: OffsetDateTime,
) -> Appearance {
    Appearance {
        page: visible.page,
        rect: visible.rect,
        lines: text.map(|t| t.render(cert, email, now)).unwrap_or_default(),
        png: visible.image.clone(),
    }
}
