//! Tiny PDF object serializer for the objects we (re)write in an incremental update.
//! lopdf's writer works on whole documents; we need byte-level control instead.

use lopdf::{Dictionary, Object};

use super::error::PkiError;

pub(crate) fn write_object(obj: &Object, out: &mut Vec<u8>) -> Result<(), PkiError> {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(fmt_num(f64::from(*r)).as_bytes()),
        Object::Name(n) => write_name(n, out),
        Object::String(s, _) => write_hex_string(s, out),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(item, out)?;
            }
            out.push(b']');
        }
        Object::Dictionary(d) => write_dict(d, out)?,
        Object::Reference((id, gen)) => out.extend_from_slice(format!("{id} {gen} R").as_bytes()),
        Object::Stream(_) => {
            return Err(PkiError::InvalidPdf(
                "stream object found where a direct object was expected".into(),
            ))
        }
    }
    Ok(())
}

pub(crate) fn write_dict(d: &Dictionary, out: &mut Vec<u8>) -> Result<(), PkiError> {
    out.extend_from_slice(b"<<");
    for (k, v) in d.iter() {
        write_name(k, out);
        out.push(b' ');
        write_object(v, out)?;
    }
    out.extend_from_slice(b">>");
    Ok(())
}

/// `N G obj <dict> stream ... endstream endobj`, with /Length set from `data`.
pub(crate) fn write_stream_object(
    id: (u32, u16),
    dict: &Dictionary,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), PkiError> {
    let mut d = dict.clone();
    d.set("Length", Object::Integer(data.len() as i64));
    out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
    write_dict(&d, out)?;
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    Ok(())
}

pub(crate) fn write_indirect(
    id: (u32, u16),
    obj: &Object,
    out: &mut Vec<u8>,
) -> Result<(), PkiError> {
    out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
    write_object(obj, out)?;
    out.extend_from_slice(b"\nendobj\n");
    Ok(())
}

fn write_name(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in name {
        let regular = b.is_ascii_graphic() && !b"()<>[]{}/%#".contains(&b);
        if regular {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

fn write_hex_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'<');
    let start = out.len();
    out.resize(start + 2 * s.len(), 0);
    upper_hex_into(s, &mut out[start..]);
    out.push(b'>');
}

/// Writes `bytes` as upper-case hex into the first `2 * bytes.len()` bytes of `out` (which
/// must hold them; a shorter `out` takes what fits). A table, in place: `hex::encode_upper`
/// builds a `String` char by char, which was 3 % of a signing flow's CPU for /Contents.
pub(crate) fn upper_hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

/// PDF number without exponent notation, trimmed of useless zeros.
pub(crate) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Literal string for content streams: escapes delimiters and writes non-ASCII
/// bytes (WinAnsi-encoded) as octal so the stream stays 7-bit.
pub(crate) fn literal_string(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03o}")),
        }
    }
    s.push(')');
    s
}
