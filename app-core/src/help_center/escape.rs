//! Escaping for values the app's settings put into a Help Center template.
//!
//! The snippet is pasted into a Curlybars (Handlebars-like) template, so a value is dangerous
//! twice: as HTML (quotes, `<`, `&`) and as template syntax (`{{` would be compiled by Help
//! Center). Everything interpolated goes through [`html`], which covers both.

/// Escapes `value` for HTML text and for a double- or single-quoted attribute, and neutralises
/// template braces so no setting can become Curlybars code. Control characters are dropped: a
/// NUL or an escape character in an issue name is never intended and some parsers choke on it.
pub fn html(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '{' => out.push_str("&#123;"),
            '}' => out.push_str("&#125;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::html;

    #[test]
    fn each_dangerous_character_is_an_entity() {
        for (raw, escaped) in [
            ("&", "&amp;"),
            ("<", "&lt;"),
            (">", "&gt;"),
            ("\"", "&quot;"),
            ("'", "&#39;"),
            ("{", "&#123;"),
            ("}", "&#125;"),
        ] {
            assert_eq!(html(raw), escaped, "{raw:?}");
            assert_eq!(
                html(&format!("a{raw}b")),
                format!("a{escaped}b"),
                "{raw:?} inside text"
            );
        }
    }

    #[test]
    fn unicode_passes_through_and_controls_are_dropped() {
        assert_eq!(html("Ünïcödé 支持 🚀"), "Ünïcödé 支持 🚀");
        assert_eq!(html("a\u{0}b\u{1b}c\td"), "abcd");
    }

    #[test]
    fn already_escaped_text_is_escaped_again() {
        // An issue literally called "R&amp;D" must display as typed, not as "R&D".
        assert_eq!(html("R&amp;D"), "R&amp;amp;D");
    }
}
