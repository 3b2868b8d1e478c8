//! The document the flows sign: the simulator's own contract PDF, padded to the wanted
//! size with a comment and closed again with the same startxref (as bench/flow.py does),
//! so it stays a valid PDF whatever its size.

use crate::client::{expect, json_of, Conn, Target};
use serde_json::json;

pub async fn padded_contract(
    target: &Target,
    tenant: &str,
    size_kb: usize,
) -> Result<Vec<u8>, String> {
    let mut conn = Conn::new(target.clone()).with_header("x-signsim-tenant", tenant)?;
    let created = conn
        .json(
            hyper::Method::POST,
            "/uanataca/api/v1/request",
            &json!({
                "token": crate::uanataca::TOKEN, "given_name": "Bench", "surname_1": "Mark",
                "email": "b@example.com", "mobile_phone_number": "+34600000999",
            }),
        )
        .await?;
    let created = expect("create (setup)", created, 201)?;
    let pk = json_of("create (setup)", &created)?["details"]
        .as_u64()
        .ok_or("create (setup): no pk in details")?;
    let contract = conn
        .get(&format!("/uanataca/api/v1/document/{pk}/contract"))
        .await?;
    let pdf = expect("contract (setup)", contract, 200)?.body.to_vec();
    pad(pdf, size_kb)
}

/// `pdf` followed by a comment line that brings it to `size_kb` KB, then its own last
/// `startxref` again, so that readers still find the cross-reference table.
fn pad(mut pdf: Vec<u8>, size_kb: usize) -> Result<Vec<u8>, String> {
    let at = find_last(&pdf, b"startxref").ok_or("the contract has no startxref")?;
    let offset: Vec<u8> = pdf[at + b"startxref".len()..]
        .split(|b| b.is_ascii_whitespace())
        .find(|word| !word.is_empty())
        .ok_or("the contract's startxref has no offset")?
        .to_vec();
    let wanted = size_kb.saturating_mul(1024);
    pdf.extend(b"\n%");
    pdf.resize(pdf.len() + wanted.saturating_sub(pdf.len()), b'x');
    pdf.extend(b"\nstartxref\n");
    pdf.extend(&offset);
    pdf.extend(b"\n%%EOF\n");
    Ok(pdf)
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_keeps_the_last_startxref() {
        let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\nstartxref\n42\n%%EOF\n".to_vec();
        let padded = pad(pdf.clone(), 4).unwrap();
        assert!(padded.starts_with(&pdf));
        assert!(padded.len() >= 4096);
        assert!(padded.ends_with(b"startxref\n42\n%%EOF\n"));
    }

    #[test]
    fn a_pdf_without_startxref_is_refused() {
        assert!(pad(b"%PDF-1.7\n".to_vec(), 1).is_err());
    }
}
