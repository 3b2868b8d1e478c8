//! Just enough PNG handling to embed a signature image in a PDF.
//!
//! PDF's FlateDecode with a PNG predictor (/Predictor 15) reads IDAT data as-is, so
//! gray, RGB and palette images are embedded without decoding. Images with an alpha
//! channel are inflated (via lopdf) so the alpha can go to a separate /SMask.

use lopdf::{Dictionary, Object, Stream};

use super::error::PkiError;

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const MAX_PIXELS: u64 = 16_000_000;

pub(crate) struct PdfImage {
    pub width: u32,
    pub height: u32,
    /// Image XObject dictionary and data; /SMask is added by the caller.
    pub image: (Dictionary, Vec<u8>),
    pub smask: Option<(Dictionary, Vec<u8>)>,
}

fn bad(msg: &str) -> PkiError {
    PkiError::InvalidInput(format!("signature image: {msg}"))
}

fn image_dict(w: u32, h: u32, color_space: Object, bpc: u8) -> Dictionary {
    let mut d = Dictionary::new();
    d.set("Type", Object::Name(b"XObject".to_vec()));
    d.set("Subtype", Object::Name(b"Image".to_vec()));
    d.set("Width", Object::Integer(i64::from(w)));
    d.set("Height", Object::Integer(i64::from(h)));
    d.set("ColorSpace", color_space);
    d.set("BitsPerComponent", Object::Integer(i64::from(bpc)));
    d
}

fn flate_png_params(colors: u8, bpc: u8, columns: u32) -> Dictionary {
    let mut p = Dictionary::new();
    p.set("Predictor", Object::Integer(15));
    p.set("Colors", Object::Integer(i64::from(colors)));
    p.set("BitsPerComponent", Object::Integer(i64::from(bpc)));
    p.set("Columns", Object::Integer(i64::from(columns)));
    p
}

pub(crate) fn to_pdf_image(png: &[u8]) -> Result<PdfImage, PkiError> {
    if !png.starts_with(SIGNATURE) {
        return Err(bad("not a PNG file"));
    }
    let mut pos = SIGNATURE.len();
    let mut header = None;
    let mut palette = None;
    let mut idat = Vec::new();
    while pos + 8 <= png.len() {
        let len = u32::from_be_bytes([png[pos], png[pos + 1], png[pos + 2], png[pos + 3]]) as usize;
        let kind = &png[pos + 4..pos + 8];
        let start = pos + 8;
        let end = start
            .checked_add(len)
            .filter(|e| e + 4 <= png.len())
            .ok_or_else(|| bad("truncated chunk"))?;
        let data = &png[start..end];
        match kind {
            b"IHDR" if data.len() == 13 => header = Some(data.to_vec()),
            b"PLTE" => palette = Some(data.to_vec()),
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        pos = end + 4; // skip CRC
    }
    let h = header.ok_or_else(|| bad("missing IHDR"))?;
    let width = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let height = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    let (depth, color_type, interlace) = (h[8], h[9], h[12]);
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(bad("unsupported dimensions"));
    }
    if interlace != 0 {
        return Err(bad("interlaced PNGs are not supported"));
    }
    if idat.is_empty() {
        return Err(bad("no image data"));
    }
    let gray = || Object::Name(b"DeviceGray".to_vec());
    let rgb = || Object::Name(b"DeviceRGB".to_vec());
    let direct = |cs: Object, colors: u8, bpc: u8| {
        let mut d = image_dict(width, height, cs, bpc);
        d.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        d.set(
            "DecodeParms",
            Object::Dictionary(flate_png_params(colors, bpc, width)),
        );
        d
    };
    match (color_type, depth) {
        (0, 8) => Ok(PdfImage {
            width,
            height,
            image: (direct(gray(), 1, 8), idat),
            smask: None,
        }),
        (2, 8) => Ok(PdfImage {
            width,
            height,
            image: (direct(rgb(), 3, 8), idat),
            smask: None,
        }),
        (3, 1 | 2 | 4 | 8) => {
            let plte = palette
                .filter(|p| !p.is_empty() && p.len() % 3 == 0)
                .ok_or_else(|| bad("missing palette"))?;
            let cs = Object::Array(vec![
                Object::Name(b"Indexed".to_vec()),
                rgb(),
                Object::Integer((plte.len() / 3) as i64 - 1),
                Object::String(plte, lopdf::StringFormat::Hexadecimal),
            ]);
            Ok(PdfImage {
                width,
                height,
                image: (direct(cs, 1, depth), idat),
                smask: None,
            })
        }
        (4 | 6, 8) => split_alpha(width, height, color_type, idat),
        _ => Err(bad(
            "only 8-bit gray/RGB/RGBA/gray+alpha and palette PNGs are supported",
        )),
    }
}

/// Inflates and un-predicts an image with alpha, then splits colour and alpha planes.
fn split_alpha(
    width: u32,
    height: u32,
    color_type: u8,
    idat: Vec<u8>,
) -> Result<PdfImage, PkiError> {
    let channels: usize = if color_type == 6 { 4 } else { 2 };
    let mut d = Dictionary::new();
    d.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    d.set(
        "DecodeParms",
        Object::Dictionary(flate_png_params(channels as u8, 8, width)),
    );
    let expected = width as usize * height as usize * channels;
    // The inflated stream still carries one filter-type byte per row until the
    // predictor is undone, and the limit applies to that intermediate buffer.
    let inflated = (width as usize * channels + 1) * height as usize;
    let raw = Stream::new(d, idat)
        .decompressed_content_with_limit(inflated)
        .map_err(|e| bad(&format!("cannot inflate image data: {e}")))?;
    if raw.len() != expected {
        return Err(bad("image data has the wrong size"));
    }
    let mut color = Vec::with_capacity(expected / channels * (channels - 1));
    let mut alpha = Vec::with_capacity(expected / channels);
    for px in raw.chunks_exact(channels) {
        color.extend_from_slice(&px[..channels - 1]);
        alpha.push(px[channels - 1]);
    }
    let cs = if channels == 4 {
        b"DeviceRGB".to_vec()
    } else {
        b"DeviceGray".to_vec()
    };
    let compress = |dict: Dictionary, data: Vec<u8>| -> Result<(Dictionary, Vec<u8>), PkiError> {
        let mut s = Stream::new(dict, data);
        s.compress()
            .map_err(|e| bad(&format!("cannot compress image: {e}")))?;
        Ok((s.dict, s.content))
    };
    Ok(PdfImage {
        width,
        height,
        image: compress(image_dict(width, height, Object::Name(cs), 8), color)?,
        smask: Some(compress(
            image_dict(width, height, Object::Name(b"DeviceGray".to_vec()), 8),
            alpha,
        )?),
    })
}
