//! Visible signature appearance: what a caller asks for ([`Appearance`]: page, rectangle,
//! lines, an optional PNG) and its drawing as a form XObject.

use lopdf::{Dictionary, Object};

use super::error::PkiError;
use super::pdfgen::{encode, text_width, wrap};
use super::pdfobj::{fmt_num, literal_string};
use super::png;

/// Visible signature appearance.
#[derive(Debug, Clone, Default)]
pub struct Appearance {
    /// 0-based page index.
    pub page: u32,
    /// x1, y1, x2, y2 in PDF points from the bottom-left corner of the page.
    pub rect: [f64; 4],
    pub lines: Vec<String>,
    /// Optional PNG (8-bit gray/RGB/gray+alpha/RGBA, non-interlaced) drawn at the left.
    pub png: Option<bytes::Bytes>,
}

const PAD: f64 = 3.0;
const MAX_FONT: f64 = 12.0;
const MIN_WRAP_FONT: f64 = 5.0;

/// Stream objects to write: (object number, dictionary, data). The first is the /N
/// appearance form.
pub(crate) type StreamObjects = Vec<(u32, Dictionary, Vec<u8>)>;

fn name(s: &str) -> Object {
    Object::Name(s.as_bytes().to_vec())
}

fn real_array(v: &[f64]) -> Object {
    Object::Array(v.iter().map(|x| Object::Real(*x as f32)).collect())
}

/// Validates `rect` and returns (width, height).
pub(crate) fn rect_size(app: &Appearance) -> Result<(f64, f64), PkiError> {
    let [x1, y1, x2, y2] = app.rect;
    let (w, h) = (x2 - x1, y2 - y1);
    if app.rect.iter().any(|v| !v.is_finite()) || w < 1.0 || h < 1.0 {
        return Err(PkiError::InvalidInput(format!(
            "appearance rect must be [x1 y1 x2 y2] with x2>x1 and y2>y1, got {:?}",
            app.rect
        )));
    }
    Ok((w, h))
}

/// Largest font size (down to MIN_WRAP_FONT) at which the word-wrapped lines fit the
/// box; below that, lines are kept unwrapped and shrunk until they fit.
fn fit_text(lines: &[String], avail_w: f64, avail_h: f64) -> (f64, Vec<String>) {
    let mut size = MAX_FONT;
    while size >= MIN_WRAP_FONT {
        let wrapped: Vec<String> = lines.iter().flat_map(|l| wrap(l, size, avail_w)).collect();
        if wrapped.len() as f64 * size * 1.2 <= avail_h {
            return (size, wrapped);
        }
        size -= 0.5;
    }
    let mut size = (avail_h / (lines.len() as f64 * 1.2)).min(MAX_FONT);
    for line in lines {
        let unit = text_width(line, 1.0);
        if unit > 0.0 {
            size = size.min(avail_w / unit);
        }
    }
    (size.max(1.0), lines.to_vec())
}

/// Builds the appearance objects, numbering them from `*next_id`.
pub(crate) fn build(app: &Appearance, next_id: &mut u32) -> Result<StreamObjects, PkiError> {
    let (w, h) = rect_size(app)?;
    let form_id = *next_id;
    *next_id += 1;
    let mut objects = Vec::new();
    // White background so the text stays readable over page content, thin grey frame.
    let mut content = format!(
        "q 1 g 0 0 {} {} re f 0.4 G 0.75 w 0.5 0.5 {} {} re S\n",
        fmt_num(w),
        fmt_num(h),
        fmt_num(w - 1.0),
        fmt_num(h - 1.0)
    );

    let mut xobjects = Dictionary::new();
    let mut text_x = PAD;
    if let Some(png_bytes) = &app.png {
        let img = png::to_pdf_image(png_bytes)?;
        let (iw, ih) = (f64::from(img.width), f64::from(img.height));
        let max_w = if app.lines.is_empty() {
            w - 2.0 * PAD
        } else {
            w * 0.4
        };
        let mut draw_h = h - 2.0 * PAD;
        let mut draw_w = draw_h * iw / ih;
        if draw_w > max_w {
            draw_w = max_w;
            draw_h = draw_w * ih / iw;
        }
        let img_id = *next_id;
        *next_id += 1;
        let (mut dict, data) = img.image;
        if let Some((mask_dict, mask_data)) = img.smask {
            let mask_id = *next_id;
            *next_id += 1;
            dict.set("SMask", Object::Reference((mask_id, 0)));
            objects.push((mask_id, mask_dict, mask_data));
        }
        objects.push((img_id, dict, data));
        xobjects.set("Img", Object::Reference((img_id, 0)));
        content.push_str(&format!(
            "q {} 0 0 {} {} {} cm /Img Do Q\n",
            fmt_num(draw_w),
            fmt_num(draw_h),
            fmt_num(PAD),
            fmt_num((h - draw_h) / 2.0)
        ));
        text_x = 2.0 * PAD + draw_w;
    }

    if !app.lines.is_empty() {
        let (size, lines) = fit_text(&app.lines, (w - text_x - PAD).max(1.0), h - 2.0 * PAD);
        let leading = size * 1.2;
        let top = (h + lines.len() as f64 * leading) / 2.0 - size;
        content.push_str(&format!(
            "BT 0 g /Helv {} Tf {} TL {} {} Td\n",
            fmt_num(size),
            fmt_num(leading),
            fmt_num(text_x),
            fmt_num(top)
        ));
        for line in &lines {
            content.push_str(&literal_string(&encode(line)));
            content.push_str(" Tj T*\n");
        }
        content.push_str("ET\n");
    }
    content.push_str("Q\n");

    let mut font = Dictionary::new();
    font.set("Type", name("Font"));
    font.set("Subtype", name("Type1"));
    font.set("BaseFont", name("Helvetica"));
    font.set("Encoding", name("WinAnsiEncoding"));
    let mut fonts = Dictionary::new();
    fonts.set("Helv", Object::Dictionary(font));
    let mut resources = Dictionary::new();
    resources.set("Font", Object::Dictionary(fonts));
    if !xobjects.is_empty() {
        resources.set("XObject", Object::Dictionary(xobjects));
    }
    let mut form = Dictionary::new();
    form.set("Type", name("XObject"));
    form.set("Subtype", name("Form"));
    form.set("BBox", real_array(&[0.0, 0.0, w, h]));
    form.set("Resources", Object::Dictionary(resources));
    objects.insert(0, (form_id, form, content.into_bytes()));
    Ok(objects)
}
