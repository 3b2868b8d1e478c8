//! PAdES baseline-T signing as an incremental update (ISO 32000-1 §7.5.6, ETSI EN 319 142-1).
//!
//! The original bytes are kept verbatim; we append the signature dictionary, the
//! widget/field, the updated page, catalog or AcroForm, and a new cross-reference
//! section (a classic table, or an xref stream when the original uses one), then
//! patch /ByteRange and /Contents in place. /Contents reserves room for the longest CMS
//! the signer can make (`SignedDataBuilder::build_longest`), so a signed PDF carries about
//! 6 KB of signature (as hex) rather than a fixed 16 KB. The time-stamp token comes from
//! the caller ([`Stamp`], over the TSA), so this file knows certificates, not the `Pki`
//! that holds them.

use lopdf::{Dictionary, Document, Object, ObjectId};
use sha2::{Digest, Sha256};

use super::appearance::{self, Appearance};
use super::certs::SignerCert;
use super::cms_sign::{der_attribute, SignedDataBuilder, ID_DATA};
use super::error::PkiError;
use super::pdfobj::{upper_hex_into, write_dict, write_indirect, write_stream_object};

const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
const BYTE_RANGE_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

fn invalid(msg: impl Into<String>) -> PkiError {
    PkiError::InvalidPdf(msg.into())
}

/// Byte-level facts about the original file that lopdf does not expose reliably.
struct Layout {
    /// Offset of the last cross-reference section (the /Prev of our update).
    startxref: usize,
    /// Whether that section is a cross-reference stream rather than a table.
    xref_stream: bool,
}

fn inspect(pdf: &[u8]) -> Result<Layout, PkiError> {
    let head = &pdf[..pdf.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(invalid("not a PDF file (no %PDF- header)"));
    }
    let tail_start = pdf.len().saturating_sub(2048);
    let tail = &pdf[tail_start..];
    let eof = rfind(tail, b"%%EOF").ok_or_else(|| invalid("no %%EOF marker (truncated file?)"))?;
    let sx = rfind(&tail[..eof], b"startxref")
        .ok_or_else(|| invalid("no startxref before %%EOF (truncated file?)"))?;
    let num: String = tail[sx + 9..eof]
        .iter()
        .map(|&b| b as char)
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let startxref: usize = num
        .parse()
        .map_err(|_| invalid(format!("bad startxref value {num:?}")))?;
    if startxref >= pdf.len() {
        return Err(invalid(
            "startxref points past the end of the file (truncated file?)",
        ));
    }
    let at = &pdf[startxref..];
    let skip = at.iter().take_while(|b| b.is_ascii_whitespace()).count();
    Ok(Layout {
        startxref,
        xref_stream: !at[skip..].starts_with(b"xref"),
    })
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Whether `sign_pdf` can sign `pdf`: it parses, is not encrypted or damaged, and has
/// pages. Surfaces call it at upload, so a bad file is refused before any OTP is spent.
pub(crate) fn check(pdf: &[u8]) -> Result<(), PkiError> {
    inspect(pdf)?;
    let doc = load(pdf)?;
    if doc.get_pages().is_empty() {
        return Err(invalid("document has no pages"));
    }
    Ok(())
}

fn load(pdf: &[u8]) -> Result<Document, PkiError> {
    let doc = Document::load_mem(pdf).map_err(|e| invalid(format!("cannot parse: {e}")))?;
    if doc.trailer.get(b"Encrypt").is_ok() || doc.encryption_state.is_some() {
        return Err(PkiError::UnsupportedPdf(
            "encrypted PDFs cannot be signed; remove the encryption first".into(),
        ));
    }
    if doc.xref_recovery.is_some() {
        return Err(invalid(
            "damaged cross-reference table; re-save the document before signing",
        ));
    }
    Ok(doc)
}

fn deref<'a>(doc: &'a Document, obj: &'a Object) -> Result<&'a Object, PkiError> {
    doc.dereference(obj)
        .map(|(_, o)| o)
        .map_err(|e| invalid(format!("dangling reference: {e}")))
}

/// Resolves an optional array entry (direct or indirect) into an owned Vec.
fn array_entry(doc: &Document, dict: &Dictionary, key: &[u8]) -> Result<Vec<Object>, PkiError> {
    match dict.get(key) {
        Ok(obj) => match deref(doc, obj)? {
            Object::Array(a) => Ok(a.clone()),
            Object::Null => Ok(Vec::new()),
            _ => Err(invalid(format!(
                "/{} is not an array",
                String::from_utf8_lossy(key)
            ))),
        },
        Err(_) => Ok(Vec::new()),
    }
}

/// PDF date string in UTC, e.g. `D:20240131120000+00'00'`.
fn pdf_date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00'",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// First `SignatureN` not used as a top-level field name.
fn field_name(doc: &Document, fields: &[Object]) -> String {
    let taken: Vec<Vec<u8>> = fields
        .iter()
        .filter_map(|f| doc.dereference(f).ok())
        .filter_map(|(_, f)| f.as_dict().ok())
        .filter_map(|d| d.get(b"T").ok())
        .filter_map(|t| t.as_str().ok().map(<[u8]>::to_vec))
        .collect();
    (1..)
        .map(|n| format!("Signature{n}"))
        .find(|n| !taken.iter().any(|t| t == n.as_bytes()))
        .unwrap_or_else(|| "Signature".into())
}

/// PAdES baseline-T signature of `pdf` by `signer`, as an incremental update: `ca_der` is
/// embedded after the signer's certificate, and `stamp` makes the time-stamp token over
/// the SHA-256 of the signature value. /Contents is as large as the longest CMS this
/// signer, chain and TSA can make, not a fixed size.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_pdf(
    ca_der: &[u8],
    stamp: &Stamp<'_, impl Fn(&[u8]) -> Result<Vec<u8>, PkiError>>,
    pdf: &[u8],
    signer: &SignerCert,
    now: time::OffsetDateTime,
    appearance: Option<&Appearance>,
    extra_attrs: &[(der::asn1::ObjectIdentifier, Vec<u8>)],
) -> Result<Vec<u8>, PkiError> {
    let layout = inspect(pdf)?;
    let doc = load(pdf)?;

    let root_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| invalid("trailer has no /Root reference"))?;
    let mut catalog = doc
        .get_dictionary(root_id)
        .map_err(|_| invalid("/Root is not a dictionary"))?
        .clone();
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(invalid("document has no pages"));
    }
    let page_index = appearance.map_or(0, |a| a.page) as usize;
    let page_id = *pages.values().nth(page_index).ok_or_else(|| {
        PkiError::InvalidInput(format!(
            "page {page_index} does not exist (document has {} pages)",
            pages.len()
        ))
    })?;
    let mut page = doc
        .get_dictionary(page_id)
        .map_err(|_| invalid("page object is not a dictionary"))?
        .clone();
    if let Some(a) = appearance {
        appearance::rect_size(a)?;
    }

    // New object numbers start above both lopdf's view and the trailer's /Size.
    let size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .unwrap_or(0);
    let highest = doc
        .max_id
        .max(u32::try_from(size.max(1) - 1).unwrap_or(u32::MAX));
    // ISO 32000-1 Annex C caps indirect objects at 8,388,607; staying below it also
    // keeps the `+ n` arithmetic below from overflowing on hostile input.
    if highest >= 8_000_000 {
        return Err(invalid("object numbers out of range"));
    }
    let mut next_id = highest + 1;
    let sig_id = next_id;
    let widget_id = next_id + 1;
    next_id += 2;

    // AcroForm: rewrite it in place if indirect, otherwise inline in the catalog.
    let (acro_id, mut acro): (Option<ObjectId>, Dictionary) = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => (
            Some(*id),
            doc.get_dictionary(*id)
                .map_err(|_| invalid("/AcroForm is not a dictionary"))?
                .clone(),
        ),
        Ok(Object::Dictionary(d)) => (None, d.clone()),
        _ => (None, Dictionary::new()),
    };
    if page_id == root_id || acro_id.is_some_and(|id| id == root_id || id == page_id) {
        return Err(invalid(
            "catalog, page and AcroForm must be distinct objects",
        ));
    }
    let mut fields = array_entry(&doc, &acro, b"Fields")?;
    let name = field_name(&doc, &fields);
    fields.push(Object::Reference((widget_id, 0)));
    acro.set("Fields", Object::Array(fields));
    acro.set("SigFlags", Object::Integer(3));

    let mut annots = array_entry(&doc, &page, b"Annots")?;
    annots.push(Object::Reference((widget_id, 0)));
    page.set("Annots", Object::Array(annots));

    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", Object::string_literal(name));
    widget.set("V", Object::Reference((sig_id, 0)));
    widget.set("P", Object::Reference(page_id));
    widget.set("F", Object::Integer(132)); // Print | Locked
    let mut streams = Vec::new();
    let rect = match appearance {
        Some(a) => {
            streams = appearance::build(a, &mut next_id)?;
            // The form XObject comes first.
            let form_id = streams
                .first()
                .map(|(id, _, _)| *id)
                .ok_or_else(|| invalid("the appearance produced no form XObject"))?;
            let mut ap = Dictionary::new();
            ap.set("N", Object::Reference((form_id, 0)));
            widget.set("AP", Object::Dictionary(ap));
            a.rect
        }
        None => [0.0; 4],
    };
    widget.set(
        "Rect",
        Object::Array(rect.iter().map(|v| Object::Real(*v as f32)).collect()),
    );

    // The form dictionary that gains our field: the AcroForm object itself when it is
    // indirect, otherwise the catalog with the AcroForm inline.
    let form = match acro_id {
        Some(id) => (id, acro),
        None => {
            catalog.set("AcroForm", Object::Dictionary(acro));
            (root_id, catalog)
        }
    };
    let mut trailer = Dictionary::new();
    trailer.set("Root", Object::Reference(root_id));
    for key in [b"Info".as_slice(), b"ID".as_slice()] {
        if let Ok(v) = doc.trailer.get(key) {
            trailer.set(key.to_vec(), v.clone());
        }
    }
    trailer.set("Prev", Object::Integer(layout.startxref as i64));
    let update = Update {
        sig_head: format!("{sig_id} 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M ({}) /ByteRange ", pdf_date(now)),
        sig_id,
        widget: ((widget_id, 0), Object::Dictionary(widget)),
        page: (page_id, Object::Dictionary(page)),
        form: (form.0, Object::Dictionary(form.1)),
        streams,
        trailer,
        xref_stream: layout.xref_stream,
        next_id,
    };

    // --- reserve /Contents, hash the ByteRange, sign, patch /Contents -----------
    // The room is the longest CMS this signer can make here: the real one differs only
    // in the signature value's DER length (ECDSA) and the token's, each at most the
    // filler's. Zeros pad the rest of /Contents, as PDF writers do.
    let chain = [ca_der];
    let filler = der_attribute(ID_AA_SIGNATURE_TIME_STAMP_TOKEN, stamp.longest)?;
    let mut capacity = cms_builder(signer, &chain, &[0; 32], extra_attrs)
        .build_longest(|_| Ok(vec![filler]))?
        .len();
    for _ in 0..2 {
        let (mut out, contents) = update.write(pdf, capacity)?;
        let mut hasher = Sha256::new();
        hasher.update(&out[..contents.start]);
        hasher.update(&out[contents.end..]);
        let digest = hasher.finalize();
        let cms = cms_builder(signer, &chain, &digest, extra_attrs).build(|signature| {
            let token = (stamp.token)(&Sha256::digest(signature))?;
            Ok(vec![der_attribute(
                ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
                &token,
            )?])
        })?;
        if cms.len() <= capacity {
            let hex_start = contents.start + 1;
            if let Some(room) = out.get_mut(hex_start..hex_start + 2 * cms.len()) {
                upper_hex_into(&cms, room);
                return Ok(out);
            }
        }
        // Not reached while the bound above holds; should a token ever outgrow its
        // filler, the layout is made again around what was signed rather than refused.
        capacity = cms.len().saturating_add(RESERVE_SLACK);
    }
    Err(PkiError::Encoding(format!(
        "the CMS signature outgrew its reserved {capacity} bytes twice"
    )))
}

/// Bytes added to a reservation made again after a signature outgrew the first one (an
/// ECDSA signature value varies by a byte or two from one signing to the next).
const RESERVE_SLACK: usize = 64;

/// The time-stamp authority as signing needs it: `token` makes a token over the SHA-256
/// of the signature value; `longest` is a token no made one is longer than
/// (`tsa::longest_token`), to size the room for the signature before anything is signed.
pub(crate) struct Stamp<'a, F: Fn(&[u8]) -> Result<Vec<u8>, PkiError>> {
    pub token: F,
    pub longest: &'a [u8],
}

fn cms_builder<'a>(
    signer: &'a SignerCert,
    chain: &'a [&'a [u8]],
    digest: &'a [u8],
    extra_attrs: &'a [(der::asn1::ObjectIdentifier, Vec<u8>)],
) -> SignedDataBuilder<'a> {
    SignedDataBuilder {
        cert_der: signer.cert_der(),
        key: &signer.key,
        extra_certs: chain,
        content_type: ID_DATA,
        econtent: None,
        message_digest: digest,
        // PAdES forbids signingTime in the CMS; the time lives in /M and the TST.
        signing_time: None,
        extra_attrs,
    }
}

/// The objects of the incremental update, ready to be written around a /Contents of
/// any size.
struct Update {
    /// The signature dictionary up to its /ByteRange value.
    sig_head: String,
    sig_id: u32,
    widget: (ObjectId, Object),
    page: (ObjectId, Object),
    /// The AcroForm, or the catalog holding it inline.
    form: (ObjectId, Object),
    streams: appearance::StreamObjects,
    trailer: Dictionary,
    xref_stream: bool,
    /// The first object number not used (the xref stream's own, when there is one).
    next_id: u32,
}

impl Update {
    /// `pdf` followed by the update, with `capacity` bytes (as hex zeros) reserved in
    /// /Contents and /ByteRange patched around them; returns the bytes and where the
    /// hex string `<...>` lies.
    fn write(
        &self,
        pdf: &[u8],
        capacity: usize,
    ) -> Result<(Vec<u8>, std::ops::Range<usize>), PkiError> {
        let mut out = Vec::with_capacity(pdf.len() + 2 * capacity + 4096);
        out.extend_from_slice(pdf);
        if !pdf.ends_with(b"\n") && !pdf.ends_with(b"\r") {
            out.push(b'\n');
        }
        let mut xref: Vec<(u32, u16, usize)> = Vec::new();

        xref.push((self.sig_id, 0, out.len()));
        out.extend_from_slice(self.sig_head.as_bytes());
        let byte_range_at = out.len();
        out.extend_from_slice(BYTE_RANGE_PLACEHOLDER.as_bytes());
        out.extend_from_slice(b" /Contents ");
        let contents_start = out.len();
        out.push(b'<');
        out.resize(out.len() + 2 * capacity, b'0');
        out.push(b'>');
        let contents_end = out.len();
        out.extend_from_slice(b" >>\nendobj\n");

        for (id, object) in [&self.widget, &self.page, &self.form] {
            xref.push((id.0, id.1, out.len()));
            write_indirect(*id, object, &mut out)?;
        }
        for (id, dict, data) in &self.streams {
            xref.push((*id, 0, out.len()));
            write_stream_object((*id, 0), dict, data, &mut out)?;
        }
        let mut trailer = self.trailer.clone();
        if self.xref_stream {
            write_xref_stream(&mut out, &mut xref, trailer, self.next_id)?;
        } else {
            trailer.set("Size", Object::Integer(i64::from(self.next_id)));
            write_xref_table(&mut out, &mut xref, &trailer)?;
        }

        let tail_len = out.len() - contents_end;
        let ranges = format!("[0 {contents_start} {contents_end} {tail_len}]");
        let padded = format!("{ranges:<width$}", width = BYTE_RANGE_PLACEHOLDER.len());
        if padded.len() != BYTE_RANGE_PLACEHOLDER.len() {
            return Err(invalid("document too large for the /ByteRange placeholder"));
        }
        out[byte_range_at..byte_range_at + padded.len()].copy_from_slice(padded.as_bytes());
        Ok((out, contents_start..contents_end))
    }
}

/// Groups sorted object numbers into consecutive runs: (first, count).
fn subsections(entries: &[(u32, u16, usize)]) -> Vec<(u32, usize)> {
    let mut runs: Vec<(u32, usize)> = Vec::new();
    for (id, _, _) in entries {
        match runs.last_mut() {
            Some((first, count)) if *first + *count as u32 == *id => *count += 1,
            _ => runs.push((*id, 1)),
        }
    }
    runs
}

fn write_xref_table(
    out: &mut Vec<u8>,
    entries: &mut [(u32, u16, usize)],
    trailer: &Dictionary,
) -> Result<(), PkiError> {
    entries.sort_unstable();
    let xref_at = out.len();
    out.extend_from_slice(b"xref\n");
    let mut i = 0;
    for (first, count) in subsections(entries) {
        out.extend_from_slice(format!("{first} {count}\n").as_bytes());
        for (_, gen, off) in &entries[i..i + count] {
            // Each entry is exactly 20 bytes including the two-byte EOL.
            out.extend_from_slice(format!("{off:010} {gen:05} n\r\n").as_bytes());
        }
        i += count;
    }
    out.extend_from_slice(b"trailer\n");
    write_dict(trailer, out)?;
    out.extend_from_slice(format!("\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    Ok(())
}

/// Uncompressed cross-reference stream (ISO 32000-1 §7.5.8) with /W [1 4 2].
fn write_xref_stream(
    out: &mut Vec<u8>,
    entries: &mut Vec<(u32, u16, usize)>,
    mut dict: Dictionary,
    xref_id: u32,
) -> Result<(), PkiError> {
    let xref_at = out.len();
    entries.push((xref_id, 0, xref_at));
    entries.sort_unstable();
    let mut data = Vec::with_capacity(entries.len() * 7);
    for (_, gen, off) in entries.iter() {
        let off = u32::try_from(*off).map_err(|_| invalid("file larger than 4 GB"))?;
        data.push(1u8);
        data.extend_from_slice(&off.to_be_bytes());
        data.extend_from_slice(&gen.to_be_bytes());
    }
    let index = subsections(entries)
        .into_iter()
        .flat_map(|(first, count)| {
            [
                Object::Integer(i64::from(first)),
                Object::Integer(count as i64),
            ]
        })
        .collect();
    dict.set("Type", Object::Name(b"XRef".to_vec()));
    dict.set("Size", Object::Integer(i64::from(xref_id) + 1));
    dict.set(
        "W",
        Object::Array(vec![
            Object::Integer(1),
            Object::Integer(4),
            Object::Integer(2),
        ]),
    );
    dict.set("Index", Object::Array(index));
    write_stream_object((xref_id, 0), &dict, &data, out)?;
    out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{text_pdf, Pki, SignerIdentity};
    use std::cell::Cell;

    fn identity() -> SignerIdentity {
        SignerIdentity {
            given_name: "Ana".into(),
            surname_1: "Ruiz".into(),
            surname_2: None,
            serial_number: "IDCES-12345678Z".into(),
            country: "ES".into(),
            email: None,
        }
    }

    /// A token bound that is too short (as if the TSA's tokens grew) makes the first
    /// layout too small for the CMS: the PDF is laid out and signed again around the
    /// size made, not refused, and the result holds the whole CMS with its ByteRange
    /// around it.
    #[test]
    fn a_cms_larger_than_its_reservation_is_laid_out_again() {
        let pki = Pki::new(Some(7), None).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let signer = pki.issue_signer(&identity(), now).unwrap();
        let pdf = text_pdf("t", &[("a".into(), "b".into())]);
        let calls = Cell::new(0);
        let stamp = Stamp {
            token: |imprint: &[u8]| {
                calls.set(calls.get() + 1);
                super::super::tsa::timestamp_token(
                    &pki.tsa,
                    &pki.ca.cert_der,
                    vec![0x11; 16],
                    imprint,
                    now,
                )
            },
            // A bare NULL: far shorter than any token.
            longest: &[0x05, 0x00],
        };
        let signed = sign_pdf(&pki.ca.cert_der, &stamp, &pdf, &signer, now, None, &[]).unwrap();
        assert_eq!(calls.get(), 2, "signed twice: once too large, once fitting");
        let at = rfind(&signed, b"/Contents <").unwrap() + 11;
        let end = at + signed[at..].iter().position(|&b| b == b'>').unwrap();
        let raw = hex::decode(&signed[at..end]).unwrap();
        let mut reader = der::SliceReader::new(&raw).unwrap();
        let cms = <cms::content_info::ContentInfo as der::Decode>::decode(&mut reader);
        assert!(cms.is_ok(), "the CMS decodes");
        let padding = raw.iter().rev().take_while(|&&b| b == 0).count();
        assert!(
            (1..=RESERVE_SLACK + 4).contains(&padding),
            "{padding} bytes of padding"
        );
        let ranges = format!(
            "/ByteRange [0 {} {} {}",
            at - 1,
            end + 1,
            signed.len() - end - 1
        );
        assert!(rfind(&signed, ranges.as_bytes()).is_some(), "{ranges}");
    }
}
