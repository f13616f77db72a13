//! Writing the appliance's XML answers with quick-xml (which escapes text and attributes).

use std::io::Cursor;

use base64::Engine;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::{Deserialize, Serialize};

pub(crate) const CONTENT_TYPE: &str = "text/xml; charset=UTF-8";

/// Which vendor's namespace URIs the appliance answers with (real appliances use both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XmlNamespace {
    /// `https://www.beyondtrust.com/namespaces/API/...` (current documentation).
    #[default]
    #[serde(rename = "beyondtrust")]
    BeyondTrust,
    /// `http://www.bomgar.com/namespaces/API/...` (older appliances).
    Bomgar,
    /// `http://www.beyondtrust.com/sra/namespaces/API/...`, as a real cloud appliance of the
    /// sibling PRA product answered (`pra-session_list.real.xml`): a third form clients must
    /// read by local names (the command form is assumed by analogy: only reporting was seen).
    #[serde(rename = "beyondtrust_sra")]
    BeyondTrustSra,
}

impl XmlNamespace {
    pub fn reporting(self) -> &'static str {
        match self {
            XmlNamespace::BeyondTrust => "https://www.beyondtrust.com/namespaces/API/reporting",
            XmlNamespace::Bomgar => "http://www.bomgar.com/namespaces/API/reporting",
            XmlNamespace::BeyondTrustSra => {
                "http://www.beyondtrust.com/sra/namespaces/API/reporting"
            }
        }
    }
    pub fn command(self) -> &'static str {
        match self {
            XmlNamespace::BeyondTrust => "https://www.beyondtrust.com/namespaces/API/command",
            XmlNamespace::Bomgar => "http://www.bomgar.com/namespaces/API/command",
            XmlNamespace::BeyondTrustSra => "http://www.beyondtrust.com/sra/namespaces/API/command",
        }
    }
}

/// Whether XML 1.0 can carry `c` at all (even escaped).
fn xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// True when `text` holds characters XML 1.0 cannot carry; such text goes in `encoded_body`.
pub(crate) fn needs_encoding(text: &str) -> bool {
    !text.chars().all(xml_char)
}

pub(crate) fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// Replaces characters XML cannot carry (names and other plain fields never get
/// `encoded_body`).
fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    if needs_encoding(text) {
        text.chars()
            .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// An indented XML document under construction.
pub(crate) struct Doc {
    writer: Writer<Cursor<Vec<u8>>>,
}

impl Doc {
    pub fn new() -> Doc {
        let mut writer = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
        // Writing into memory cannot fail.
        let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        Doc { writer }
    }

    fn start_tag<'a>(name: &'a str, attrs: &[(&str, &str)]) -> BytesStart<'a> {
        let mut tag = BytesStart::new(name);
        for (key, value) in attrs {
            tag.push_attribute((*key, sanitize(value).as_ref()));
        }
        tag
    }

    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let _ = self
            .writer
            .write_event(Event::Start(Self::start_tag(name, attrs)));
    }

    pub fn close(&mut self, name: &str) {
        let _ = self.writer.write_event(Event::End(BytesEnd::new(name)));
    }

    /// `<name attrs>text</name>`, or `<name attrs></name>` for empty text (as appliances do).
    pub fn text(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        let _ = self
            .writer
            .write_event(Event::Start(Self::start_tag(name, attrs)));
        if !text.is_empty() {
            let _ = self
                .writer
                .write_event(Event::Text(BytesText::new(&sanitize(text))));
        }
        let _ = self.writer.write_event(Event::End(BytesEnd::new(name)));
    }

    /// `<name attrs/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let _ = self
            .writer
            .write_event(Event::Empty(Self::start_tag(name, attrs)));
    }

    pub fn finish(self) -> String {
        let mut bytes = self.writer.into_inner().into_inner();
        bytes.push(b'\n');
        String::from_utf8(bytes).unwrap_or_default()
    }
}

/// `<error xmlns="...">message</error>`, the appliance's answer to a failed call.
pub(crate) fn error_body(namespace_uri: &str, message: &str) -> String {
    let mut doc = Doc::new();
    doc.text("error", &[("xmlns", namespace_uri)], message);
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut doc = Doc::new();
        doc.text("a", &[("v", "x\"<&")], "1 < 2 & <b>");
        let out = doc.finish();
        assert!(
            out.contains(r#"<a v="x&quot;&lt;&amp;">1 &lt; 2 &amp; &lt;b&gt;</a>"#),
            "{out}"
        );
    }

    #[test]
    fn control_characters_are_detected_and_never_written_raw() {
        assert!(needs_encoding("bell\u{7}"));
        assert!(!needs_encoding("tab\tnewline\nünïcödé ✓ 😀"));
        let mut doc = Doc::new();
        doc.text("a", &[], "x\u{1}y");
        assert!(!doc.finish().contains('\u{1}'));
    }

    #[test]
    fn error_body_has_the_error_root_and_namespace() {
        let body = error_body(
            XmlNamespace::Bomgar.reporting(),
            "No archives found for the given search criteria.",
        );
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert!(body.contains(r#"<error xmlns="http://www.bomgar.com/namespaces/API/reporting">No archives found for the given search criteria.</error>"#));
    }
}
