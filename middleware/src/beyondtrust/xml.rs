//! A tiny element tree keyed by LOCAL names.
//!
//! Appliances answer in at least three XML namespaces (bomgar.com, beyondtrust.com,
//! beyondtrust.com/sra), with or without prefixes. Building a tree of local names first lets the
//! typed parsers ignore namespaces entirely.

use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Concatenated direct text and CDATA content, unescaped.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct XmlError(pub String);

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of a child, `None` when absent or empty.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    pub fn trimmed_text(&self) -> String {
        self.text.trim().to_string()
    }
}

fn local(name: &[u8]) -> String {
    let name = match name.iter().rposition(|b| *b == b':') {
        Some(p) => &name[p + 1..],
        None => name,
    };
    String::from_utf8_lossy(name).into_owned()
}

fn element_from(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| XmlError(e.to_string()))?;
        let key = a.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let value = a
            .unescape_value()
            .map_err(|e| XmlError(e.to_string()))?
            .into_owned();
        attrs.push((local(key), value));
    }
    Ok(Element {
        name: local(start.name().as_ref()),
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Parses a document and returns its root element.
pub fn parse(xml: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        match reader.read_event().map_err(|e| XmlError(e.to_string()))? {
            Event::Start(s) => stack.push(element_from(&s)?),
            Event::Empty(s) => {
                let el = element_from(&s)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    let text = t.unescape().map_err(|e| XmlError(e.to_string()))?;
                    cur.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if root.is_some() && stack.is_empty() {
            break;
        }
    }
    if !stack.is_empty() {
        return Err(XmlError("unexpected end of document".into()));
    }
    root.ok_or_else(|| XmlError("empty document".into()))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn strips_prefixes_and_namespaces() {
        let root = parse(
            r#"<?xml version="1.0"?><r:a xmlns:r="urn:x" r:k="v"><r:b>t &amp; u</r:b><c/></r:a>"#,
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("k"), Some("v"));
        assert_eq!(root.child_text("b").as_deref(), Some("t & u"));
        assert!(root.child("c").is_some());
    }

    #[test]
    fn rejects_truncated_documents() {
        assert!(parse("<a><b>").is_err());
        assert!(parse("").is_err());
    }
}
