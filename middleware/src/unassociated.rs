//! A ticket for a session that names none (pure): subject, requester, the request body and the
//! idempotency key of `POST /api/v2/tickets.json`.
//!
//! The key is derived from the session alone, and the body from the session report alone, so a
//! retry after a crash or a lost answer sends the same key with the same body and Zendesk
//! answers with the ticket it already created instead of making a second one.

use serde_json::{json, Value};

use crate::beyondtrust::model::Customer;
use crate::beyondtrust::Session;
use crate::config::{plausible_email, TicketSettings};

/// Longest subject we build (Zendesk shows about this much in views; the report has the rest).
pub const MAX_SUBJECT_CHARS: usize = 150;
/// Zendesk's limit for `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Who the new ticket is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub name: String,
    pub email: String,
    /// True when the session carried no usable e-mail and the configured default is used.
    pub is_default: bool,
}

/// Everything the creation sends.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub subject: String,
    pub requester: Requester,
    pub group_id: Option<u64>,
    pub brand_id: Option<u64>,
    pub tags: Vec<String>,
    /// The session report, the ticket's first (private) comment.
    pub html: String,
    /// Upload tokens attached to the first comment (the full report, when it is attached).
    pub uploads: Vec<String>,
    pub custom_fields: Vec<(u64, Value)>,
}

/// `rsz-create:<appliance>:<lsid>`: one ticket per session, whichever worker or attempt asks.
pub fn idempotency_key(appliance_id: &str, lsid: &str) -> String {
    format!("rsz-create:{}:{lsid}", appliance_id.to_ascii_lowercase())
        .chars()
        .take(MAX_IDEMPOTENCY_KEY)
        .collect()
}

fn primary_customer(s: &Session) -> Option<&Customer> {
    s.customers
        .iter()
        .find(|c| c.primary)
        .or_else(|| s.customers.first())
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|x| !x.is_empty())
}

/// "Remote support: ISSUE (CUSTOMER)", with what the report has.
pub fn subject(s: &Session) -> String {
    let c = primary_customer(s);
    let issue = c.and_then(|c| non_empty(&c.issue));
    let who = c.and_then(|c| non_empty(&c.name).or(non_empty(&c.username)));
    let text = match (issue, who) {
        (Some(i), Some(w)) => format!("Remote support: {i} ({w})"),
        (Some(i), None) => format!("Remote support: {i}"),
        (None, Some(w)) => format!("Remote support session with {w}"),
        (None, None) => "Remote support session".to_string(),
    };
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= MAX_SUBJECT_CHARS {
        text
    } else {
        let mut cut: String = text.chars().take(MAX_SUBJECT_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// The customer's e-mail from the configured custom attribute, else the default requester.
pub fn requester(s: &Session, settings: &TicketSettings) -> Option<Requester> {
    let name = primary_customer(s)
        .and_then(|c| non_empty(&c.name).or(non_empty(&c.username)))
        .map(str::to_string);
    let email = s
        .custom_attributes
        .iter()
        .find(|a| {
            a.code_name
                .eq_ignore_ascii_case(&settings.requester_email_attribute)
        })
        .map(|a| a.value.trim())
        .filter(|v| plausible_email(v));
    if let Some(email) = email {
        let name = name.unwrap_or_else(|| local_part(email));
        return Some(Requester {
            name,
            email: email.to_string(),
            is_default: false,
        });
    }
    let email = settings.default_requester_email.clone()?;
    // The default requester is one shared user: never name it after this session's customer.
    Some(Requester {
        name: local_part(&email),
        email,
        is_default: true,
    })
}

fn local_part(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_string()
}

/// The ticket for `s`; `None` when no requester can be found (no e-mail and no default).
pub fn new_ticket(
    s: &Session,
    settings: &TicketSettings,
    session_tags: &[String],
    html: String,
    custom_fields: Vec<(u64, Value)>,
) -> Option<NewTicket> {
    let mut tags: Vec<String> = Vec::new();
    for t in settings.new_ticket_tags.iter().chain(session_tags) {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    Some(NewTicket {
        subject: subject(s),
        requester: requester(s, settings)?,
        group_id: settings.new_ticket_group_id,
        brand_id: settings.new_ticket_brand_id,
        tags,
        html,
        uploads: Vec::new(),
        custom_fields,
    })
}

/// The JSON body of `POST /api/v2/tickets.json`.
pub fn request_body(t: &NewTicket) -> Value {
    let mut ticket = json!({
        "subject": t.subject,
        "requester": { "name": t.requester.name, "email": t.requester.email },
        "comment": { "html_body": t.html, "public": false },
    });
    if !t.uploads.is_empty() {
        ticket["comment"]["uploads"] = t.uploads.clone().into();
    }
    if let Some(g) = t.group_id {
        ticket["group_id"] = g.into();
    }
    if let Some(b) = t.brand_id {
        ticket["brand_id"] = b.into();
    }
    if !t.tags.is_empty() {
        ticket["tags"] = t.tags.clone().into();
    }
    if !t.custom_fields.is_empty() {
        ticket["custom_fields"] = crate::zendesk::custom_fields_json(&t.custom_fields);
    }
    json!({ "ticket": ticket })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::beyondtrust::model::CustomAttribute;
    use crate::config::UnassociatedSessions;

    fn settings() -> TicketSettings {
        TicketSettings {
            unassociated_sessions: UnassociatedSessions::CreateTicket,
            default_requester_email: Some("rs@example.com".into()),
            new_ticket_group_id: Some(5),
            new_ticket_tags: vec!["remote_support".into()],
            ..TicketSettings::default()
        }
    }

    fn session(name: Option<&str>, issue: Option<&str>, email: Option<&str>) -> Session {
        let mut s = Session {
            lsid: "abc".into(),
            ..Session::default()
        };
        s.customers.push(Customer {
            name: Some("Someone Else".into()),
            ..Customer::default()
        });
        s.customers.push(Customer {
            primary: true,
            name: name.map(str::to_string),
            issue: issue.map(str::to_string),
            ..Customer::default()
        });
        if let Some(e) = email {
            s.custom_attributes.push(CustomAttribute {
                code_name: "Email".into(),
                display_name: "E-mail".into(),
                value: e.into(),
            });
        }
        s
    }

    #[test]
    fn subject_names_the_issue_and_the_primary_customer() {
        let s = session(Some("Ann  Smith"), Some("Printer\noffline"), None);
        assert_eq!(subject(&s), "Remote support: Printer offline (Ann Smith)");
        assert_eq!(
            subject(&session(None, Some("VPN"), None)),
            "Remote support: VPN"
        );
        assert_eq!(
            subject(&session(Some("Bo"), None, None)),
            "Remote support session with Bo"
        );
        assert_eq!(subject(&Session::default()), "Remote support session");
        let long = subject(&session(Some("x"), Some(&"y".repeat(400)), None));
        assert_eq!(long.chars().count(), MAX_SUBJECT_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn requester_is_the_customer_with_an_email_else_the_default() {
        let with = requester(
            &session(Some("Ann"), None, Some(" ann@example.org ")),
            &settings(),
        );
        assert_eq!(
            with,
            Some(Requester {
                name: "Ann".into(),
                email: "ann@example.org".into(),
                is_default: false
            })
        );
        for s in [
            session(Some("Ann"), None, None),
            session(Some("Ann"), None, Some("not-an-email")),
        ] {
            let r = requester(&s, &settings()).unwrap();
            assert_eq!(
                (r.name.as_str(), r.email.as_str(), r.is_default),
                ("rs", "rs@example.com", true),
                "the shared default user is not renamed after a customer"
            );
        }
        let none = TicketSettings {
            default_requester_email: None,
            ..settings()
        };
        assert_eq!(requester(&session(Some("Ann"), None, None), &none), None);
    }

    #[test]
    fn body_has_a_private_first_comment_and_the_configured_extras() {
        let s = session(Some("Ann"), Some("VPN"), Some("ann@example.org"));
        let t = new_ticket(
            &s,
            &settings(),
            &["bt".to_string(), "remote_support".to_string()],
            "<p>report</p>".into(),
            vec![(77, json!(120))],
        )
        .unwrap();
        let body = request_body(&t);
        assert_eq!(
            body,
            json!({"ticket": {
                "subject": "Remote support: VPN (Ann)",
                "requester": {"name": "Ann", "email": "ann@example.org"},
                "comment": {"html_body": "<p>report</p>", "public": false},
                "group_id": 5,
                "tags": ["remote_support", "bt"],
                "custom_fields": [{"id": 77, "value": 120}],
            }})
        );
        assert_eq!(body, request_body(&t.clone()), "same session, same body");
    }

    #[test]
    fn key_is_per_session_and_bounded() {
        assert_eq!(idempotency_key("Site_1", "l1"), "rsz-create:site_1:l1");
        assert_ne!(idempotency_key("a", "l1"), idempotency_key("a", "l2"));
        assert_eq!(
            idempotency_key("a", &"x".repeat(400)).len(),
            MAX_IDEMPOTENCY_KEY
        );
    }
}
