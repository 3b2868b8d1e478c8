//! The pages people open from the links providers "send" (signing links, biometric
//! links): small server-rendered HTML, no scripts needed, each form posting to the same
//! admin calls the tests use.

use axum::response::Html;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A whole page around `body` (already HTML; escape what comes from users).
pub fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · signsim</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
header {{ font-size: .85rem; color: #666; border-bottom: 1px solid #ddd; margin-bottom: 1rem; }}
form {{ margin: 1rem 0; }}
label {{ display: block; margin: .5rem 0 .2rem; }}
input, select, button {{ font-size: 1rem; padding: .4rem; }}
button {{ margin-right: .5rem; }}
.note {{ background: #f5f5f5; padding: .5rem; border-radius: 4px; }}
table {{ border-collapse: collapse; font-size: .85rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
</style>
</head>
<body>
<header>signsim — simulated page, not the real provider</header>
<h1>{title}</h1>
{body}
</body>
</html>
"#,
        title = escape(title),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
