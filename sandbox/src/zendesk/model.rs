//! Tickets and comments as the Zendesk simulator stores and renders them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;

/// Zendesk's timestamp form: `2026-11-24T16:27:03Z`.
pub(crate) fn now_iso() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

/// One ticket custom field value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomField {
    pub id: u64,
    pub value: Value,
}

/// A file attached to a comment (uploaded first with `POST /api/v2/uploads.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: u64,
    pub file_name: String,
    pub content_type: String,
    pub size: usize,
    /// The uploaded bytes (not part of the API answers; tests read them).
    #[serde(skip)]
    pub content: Vec<u8>,
}

impl Attachment {
    pub(crate) fn to_json(&self, base_url: &str) -> Value {
        json!({
            "id": self.id,
            "file_name": self.file_name,
            "content_url": format!("{base_url}/attachments/token/{}/?name={}", self.id, self.file_name),
            "content_type": self.content_type,
            "size": self.size,
            "inline": false,
            "deleted": false,
        })
    }

    /// The content as text (lossy), for assertions.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.content).into_owned()
    }
}

/// One ticket comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: u64,
    pub author_id: u64,
    pub public: bool,
    /// Plain text (derived from `html_body` when only HTML was sent).
    pub body: String,
    /// HTML (derived from `body` when only plain text was sent).
    pub html_body: String,
    pub created_at: String,
    pub attachments: Vec<Attachment>,
}

impl Comment {
    pub(crate) fn to_json(&self, base_url: &str) -> Value {
        json!({
            "id": self.id,
            "type": "Comment",
            "author_id": self.author_id,
            "body": self.body,
            "html_body": self.html_body,
            "plain_body": self.body,
            "public": self.public,
            "attachments": self.attachments.iter().map(|a| a.to_json(base_url)).collect::<Vec<_>>(),
            "audit_id": self.id,
            "via": {"channel": "api"},
            "created_at": self.created_at,
        })
    }
}

/// One ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: u64,
    pub subject: String,
    pub status: String,
    pub tags: Vec<String>,
    pub custom_fields: Vec<CustomField>,
    pub comments: Vec<Comment>,
    pub created_at: String,
    pub updated_at: String,
    /// Set for tickets created through the API (`requester`); others show the sandbox end user.
    pub requester_id: Option<u64>,
    pub group_id: Option<u64>,
    pub brand_id: Option<u64>,
}

impl Ticket {
    pub(crate) fn to_json(&self, base_url: &str, requester_id: u64) -> Value {
        let requester_id = self.requester_id.unwrap_or(requester_id);
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/tickets/{}.json", self.id),
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.comments.first().map(|c| c.body.as_str()).unwrap_or(""),
            "status": self.status,
            "tags": self.tags,
            "custom_fields": self.custom_fields,
            "requester_id": requester_id,
            "submitter_id": requester_id,
            "assignee_id": null,
            "group_id": self.group_id,
            "brand_id": self.brand_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Plain text from HTML: tags removed, the common entities decoded.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// HTML from plain text, the way Zendesk wraps plain comments.
pub(crate) fn text_to_html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\n', "<br>");
    format!("<div class=\"zd-comment\" dir=\"auto\">{escaped}</div>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_text_convert_both_ways() {
        assert_eq!(html_to_text("<p>a &amp; <b>b</b></p>"), "a & b");
        assert_eq!(
            text_to_html("1 < 2\nok"),
            "<div class=\"zd-comment\" dir=\"auto\">1 &lt; 2<br>ok</div>"
        );
    }
}
