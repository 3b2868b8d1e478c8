//! Field checks every provider makes the same way: phone numbers, e-mail addresses,
//! country codes and file types told by their bytes.

/// `+34 600 123 123` or `0034600123123` → `+34600123123`; `None` without an international
/// prefix or with too few or too many digits.
pub fn international_phone(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let digits = compact
        .strip_prefix('+')
        .or_else(|| compact.strip_prefix("00"))?;
    let valid = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| format!("+{digits}"))
}

/// A loose check, as the services' own: something@domain.tld, no spaces.
pub fn valid_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Decodes a base64 payload as clients send it: standard or URL-safe alphabet, padded or
/// not, wrapped in lines, or as a `data:<type>;base64,` URL. `None` if it is none of these
/// or decodes to nothing.
pub fn decode_base64(text: &str) -> Option<bytes::Bytes> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let payload = match text.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => text,
    };
    let compact: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&compact).ok())
        .filter(|bytes| !bytes.is_empty())
        .map(bytes::Bytes::from)
}

/// Two ASCII letters (ISO 3166-1 alpha-2 shape).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic())
}

pub fn is_jpeg_or_png(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF]) || bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

/// A PDF starts with `%PDF-`, possibly after some junk within the first kilobyte.
pub fn is_pdf(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or(bytes);
    head.windows(5).any(|w| w == b"%PDF-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_need_an_international_prefix() {
        assert_eq!(
            international_phone("+34 600 123 123").as_deref(),
            Some("+34600123123")
        );
        assert_eq!(
            international_phone("0034600123123").as_deref(),
            Some("+34600123123")
        );
        assert_eq!(international_phone("600123123"), None);
        assert_eq!(international_phone("+34abc"), None);
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(valid_email("user@example.com"));
        assert!(!valid_email("user@example"));
        assert!(!valid_email("user example@x.com"));
        assert!(!valid_email("@x.com"));
    }

    #[test]
    fn base64_in_its_usual_forms() {
        assert_eq!(decode_base64("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64("aGVs\nbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(
            decode_base64("data:application/pdf;base64,aGVsbG8=").as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(decode_base64("not base64!"), None);
    }

    #[test]
    fn files_by_their_bytes() {
        assert!(is_pdf(b"%PDF-1.7\n"));
        assert!(is_pdf(b"\xef\xbb\xbf%PDF-1.4"));
        assert!(!is_pdf(b"just text"));
        assert!(is_jpeg_or_png(b"\x89PNG\r\n\x1a\nrest"));
        assert!(!is_jpeg_or_png(b"GIF89a"));
    }
}
