//! Minimal text-to-PDF generator (A4, standard Helvetica fonts, WinAnsi encoding).

use super::pdfobj::{fmt_num, literal_string};

const PAGE_W: f64 = 595.28;
const PAGE_H: f64 = 841.89;
const MARGIN: f64 = 56.0;
const TITLE_SIZE: f64 = 16.0;
const BODY_SIZE: f64 = 10.5;
const LEADING: f64 = 14.0;

/// Helvetica advance widths (1/1000 em) for ASCII 32..=126, from the standard AFM.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

/// Maps a char to its WinAnsiEncoding byte ('?' when not representable).
pub(crate) fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '\t' => b' ',
        _ => b'?',
    }
}

pub(crate) fn encode(s: &str) -> Vec<u8> {
    s.chars().map(win_ansi).collect()
}

/// Width of `s` in points at `size` (accented letters approximated as 556).
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    let units: u32 = s
        .chars()
        .map(|c| match c {
            ' '..='~' => u32::from(HELVETICA_WIDTHS[(c as usize) - 32]),
            _ => 556,
        })
        .sum();
    f64::from(units) * size / 1000.0
}

/// Greedy word wrap; words wider than the line are broken by characters.
pub(crate) fn wrap(text: &str, size: f64, max_w: f64) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut cur = String::new();
        for word in para.split_whitespace() {
            let candidate = if cur.is_empty() {
                word.to_string()
            } else {
                format!("{cur} {word}")
            };
            if text_width(&candidate, size) <= max_w {
                cur = candidate;
                continue;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            for c in word.chars() {
                cur.push(c);
                if text_width(&cur, size) > max_w && cur.chars().count() > 1 {
                    cur.pop();
                    lines.push(std::mem::take(&mut cur));
                    cur.push(c);
                }
            }
        }
        lines.push(cur);
    }
    lines
}

/// A real, readable PDF (A4, Helvetica) with a bold title and wrapped
/// `label: value` lines, spilling onto as many pages as needed.
pub fn text_pdf(title: &str, lines: &[(String, String)]) -> Vec<u8> {
    let text_w = PAGE_W - 2.0 * MARGIN;
    // Lay out first: each page is a list of (font, size, y, text).
    let mut pages: Vec<Vec<Line>> = vec![Vec::new()];
    let mut y = PAGE_H - MARGIN - TITLE_SIZE;
    for t in wrap(title, TITLE_SIZE, text_w) {
        if let Some(p) = pages.last_mut() {
            p.push(("F2", TITLE_SIZE, y, t));
        }
        y -= TITLE_SIZE * 1.3;
    }
    y -= LEADING;
    for (label, value) in lines {
        let entry = if label.is_empty() {
            value.clone()
        } else {
            format!("{label}: {value}")
        };
        for (i, l) in wrap(&entry, BODY_SIZE, text_w).into_iter().enumerate() {
            if y < MARGIN + LEADING {
                pages.push(Vec::new());
                y = PAGE_H - MARGIN - BODY_SIZE;
            }
            // The first line of an entry carries the label: draw it in bold.
            let font = if i == 0 && !label.is_empty() {
                "F2"
            } else {
                "F1"
            };
            if let Some(p) = pages.last_mut() {
                p.push((font, BODY_SIZE, y, l));
            }
            y -= LEADING;
        }
        y -= LEADING * 0.35;
    }
    render(title, &pages)
}

/// One line of a laid-out page: font (`F1` regular, `F2` bold), size, baseline, text.
type Line<'a> = (&'a str, f64, f64, String);

/// A sample document of exactly `pages` pages (at least one), each headed "Sample
/// document" and numbered, for tests that need a PDF to upload: the same bytes every time.
pub fn sample_pdf(pages: u32) -> Vec<u8> {
    let title = "Sample document";
    let text = "This document was made by signsim to be uploaded and signed in tests. \
                It holds no real agreement.";
    let laid: Vec<Vec<Line>> = (1..=pages.max(1))
        .map(|number| {
            let mut page = Vec::new();
            let mut y = PAGE_H - MARGIN - TITLE_SIZE;
            page.push(("F2", TITLE_SIZE, y, title.to_owned()));
            y -= TITLE_SIZE * 1.3 + LEADING;
            page.push(("F2", BODY_SIZE, y, format!("Section {number}")));
            for line in wrap(text, BODY_SIZE, PAGE_W - 2.0 * MARGIN) {
                y -= LEADING;
                page.push(("F1", BODY_SIZE, y, line));
            }
            page
        })
        .collect();
    render(title, &laid)
}

/// The PDF of laid-out `pages`, each with a "Page i of n" footer.
fn render(title: &str, pages: &[Vec<Line>]) -> Vec<u8> {
    let n = pages.len();
    // Object numbers: 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, 5 info,
    // then a (page, content) pair per page.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 6 + 2 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Count {n} /Kids [{}] >>", kids.join(" ")).into_bytes());
    for base in ["Helvetica", "Helvetica-Bold"] {
        objects.push(
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>"
            )
            .into_bytes(),
        );
    }
    let mut info = b"<< /Producer (signsim) /Title ".to_vec();
    info.extend_from_slice(literal_string(&encode(title)).as_bytes());
    info.extend_from_slice(b" >>");
    objects.push(info);
    for (i, items) in pages.iter().enumerate() {
        let mut content = String::from("BT\n");
        for (font, size, y, text) in items {
            let (line, size) = (literal_string(&encode(text)), fmt_num(*size));
            content.push_str(&format!(
                "/{font} {size} Tf 1 0 0 1 {} {} Tm {line} Tj\n",
                fmt_num(MARGIN),
                fmt_num(*y)
            ));
        }
        let footer = format!("Page {} of {n}", i + 1);
        content.push_str(&format!(
            "/F1 8 Tf 1 0 0 1 {} {} Tm ({footer}) Tj\nET\n",
            fmt_num(PAGE_W - MARGIN - text_width(&footer, 8.0)),
            fmt_num(MARGIN / 2.0)
        ));
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                fmt_num(PAGE_W),
                fmt_num(PAGE_H),
                7 + 2 * i
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"endstream");
        objects.push(stream);
    }

    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
