//! `[configuration.zendesk]` keys for sessions without a ticket and for survey rules (issue 15).
//!
//! ```toml
//! unassociated_sessions = "create_ticket"        # or "record" (the default)
//! default_requester_email = "remote-support@example.com"
//! requester_email_attribute = "email"            # session custom attribute holding an e-mail
//! new_ticket_group_id = 360001
//! new_ticket_brand_id = 360002
//! new_ticket_tags = ["remote_support"]
//! survey_rules = [
//!   { question = "Was your issue resolved?", answer = "Yes", status = "solved", tags = ["resolved_in_session"] },
//! ]
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Validator};

/// What happens to a session end whose external key names no ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnassociatedSessions {
    /// Record it as `unassociated` (nothing is posted).
    #[default]
    Record,
    /// Create a ticket with the report as its first private comment.
    CreateTicket,
}

/// Statuses a survey rule may set (`new` and `closed` cannot be set by an update).
pub const RULE_STATUSES: [&str; 4] = ["open", "pending", "hold", "solved"];

/// A customer exit survey answer that changes the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRule {
    /// Matched against the question's name, label or report header (case-insensitive).
    pub question: String,
    /// Matched against the answers (case-insensitive, trimmed).
    pub answer: String,
    pub status: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSettings {
    pub unassociated_sessions: UnassociatedSessions,
    /// Requester of created tickets when the report carries no usable e-mail.
    pub default_requester_email: Option<String>,
    /// Code name of the session custom attribute holding the customer's e-mail.
    pub requester_email_attribute: String,
    pub new_ticket_group_id: Option<u64>,
    pub new_ticket_brand_id: Option<u64>,
    pub new_ticket_tags: Vec<String>,
    pub survey_rules: Vec<SurveyRule>,
}

impl Default for TicketSettings {
    fn default() -> Self {
        Self {
            unassociated_sessions: UnassociatedSessions::Record,
            default_requester_email: None,
            requester_email_attribute: "email".into(),
            new_ticket_group_id: None,
            new_ticket_brand_id: None,
            new_ticket_tags: Vec::new(),
            survey_rules: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSurveyRule {
    question: Spanned<String>,
    answer: Spanned<String>,
    status: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
}

/// The raw keys, as `RawZendesk` holds them.
pub(super) struct RawTicketKeys {
    pub unassociated_sessions: Option<Spanned<String>>,
    pub default_requester_email: Option<Spanned<String>>,
    pub requester_email_attribute: Option<Spanned<String>>,
    pub new_ticket_group_id: Option<u64>,
    pub new_ticket_brand_id: Option<u64>,
    pub new_ticket_tags: Vec<Spanned<String>>,
    pub survey_rules: Vec<Spanned<RawSurveyRule>>,
}

/// The light check Zendesk makes of a requester e-mail.
pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.contains(char::is_whitespace)
}

impl Validator<'_> {
    fn tag(&self, t: Spanned<String>, key: &str) -> Result<String, ConfigError> {
        let tag = t.get_ref().trim();
        if tag.is_empty() || tag.contains(char::is_whitespace) || tag.contains(',') {
            return Err(self.error_at(
                t.span().start,
                key,
                &format!(
                    "tag {:?} must be one word (no spaces or commas)",
                    t.get_ref()
                ),
            ));
        }
        Ok(tag.to_lowercase())
    }

    pub(super) fn ticket_settings(
        &self,
        raw: RawTicketKeys,
        zd_start: usize,
    ) -> Result<TicketSettings, ConfigError> {
        let mut s = TicketSettings::default();
        if let Some(mode) = raw.unassociated_sessions {
            s.unassociated_sessions = match mode.get_ref().as_str() {
                "record" => UnassociatedSessions::Record,
                "create_ticket" => UnassociatedSessions::CreateTicket,
                other => {
                    return Err(self.error_at(
                        mode.span().start,
                        "zendesk.unassociated_sessions",
                        &format!(
                            "unknown value {other:?}; expected \"record\" or \"create_ticket\""
                        ),
                    ))
                }
            };
        }
        if let Some(email) = raw.default_requester_email {
            let e = email.get_ref().trim();
            if !plausible_email(e) {
                return Err(self.error_at(
                    email.span().start,
                    "zendesk.default_requester_email",
                    "expected an e-mail address like remote-support@example.com",
                ));
            }
            s.default_requester_email = Some(e.to_string());
        }
        if s.unassociated_sessions == UnassociatedSessions::CreateTicket
            && s.default_requester_email.is_none()
        {
            return Err(self.error_at(
                zd_start,
                "zendesk.default_requester_email",
                "unassociated_sessions = \"create_ticket\" needs default_requester_email (the requester when a session carries no customer e-mail)",
            ));
        }
        if let Some(attr) = raw.requester_email_attribute {
            if attr.get_ref().trim().is_empty() {
                return Err(self.error_at(
                    attr.span().start,
                    "zendesk.requester_email_attribute",
                    "must name a session custom attribute",
                ));
            }
            s.requester_email_attribute = attr.get_ref().trim().to_string();
        }
        s.new_ticket_group_id = raw.new_ticket_group_id;
        s.new_ticket_brand_id = raw.new_ticket_brand_id;
        s.new_ticket_tags = raw
            .new_ticket_tags
            .into_iter()
            .map(|t| self.tag(t, "zendesk.new_ticket_tags"))
            .collect::<Result<_, _>>()?;
        for rule in raw.survey_rules {
            let at = rule.span().start;
            let r = rule.into_inner();
            for (v, key) in [(&r.question, "question"), (&r.answer, "answer")] {
                if v.get_ref().trim().is_empty() {
                    return Err(self.error_at(
                        v.span().start,
                        &format!("zendesk.survey_rules.{key}"),
                        "must not be empty",
                    ));
                }
            }
            let status = match r.status {
                Some(st) if RULE_STATUSES.contains(&st.get_ref().as_str()) => Some(st.into_inner()),
                Some(st) => {
                    return Err(self.error_at(
                        st.span().start,
                        "zendesk.survey_rules.status",
                        &format!(
                            "unknown status {:?}; expected one of {}",
                            st.get_ref(),
                            RULE_STATUSES.join(", ")
                        ),
                    ))
                }
                None => None,
            };
            let tags: Vec<String> = r
                .tags
                .into_iter()
                .map(|t| self.tag(t, "zendesk.survey_rules.tags"))
                .collect::<Result<_, _>>()?;
            if status.is_none() && tags.is_empty() {
                return Err(self.error_at(
                    at,
                    "zendesk.survey_rules",
                    "a rule needs a status, tags, or both",
                ));
            }
            s.survey_rules.push(SurveyRule {
                question: r.question.get_ref().trim().to_string(),
                answer: r.answer.get_ref().trim().to_string(),
                status,
                tags,
            });
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Config, ConfigError};
    use super::*;

    fn with(zendesk_extra: &str) -> Result<Config, ConfigError> {
        let text = format!(
            r#"
[[configuration]]
name = "P"
appliance_id = "default"
[configuration.beyondtrust]
host = "support.example.com"
client_id = "abc"
client_secret = "s"
[configuration.zendesk]
url = "https://example.zendesk.com"
username = "api@example.com"
token = "t"
{zendesk_extra}
"#
        );
        parse(&text, "t.toml", &|_| None)
    }

    fn error(extra: &str) -> (String, String) {
        match with(extra) {
            Err(ConfigError::Invalid { key, message, .. }) => (key, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_record_unassociated_sessions_and_have_no_rules() {
        let c = with("").unwrap();
        assert_eq!(
            c.configurations[0].zendesk.tickets,
            TicketSettings::default()
        );
        assert_eq!(
            c.configurations[0].zendesk.tickets.unassociated_sessions,
            UnassociatedSessions::Record
        );
    }

    #[test]
    fn all_keys_parse() {
        let c = with(
            r#"unassociated_sessions = "create_ticket"
default_requester_email = " rs@example.com "
requester_email_attribute = "cust_email"
new_ticket_group_id = 11
new_ticket_brand_id = 12
new_ticket_tags = ["Remote_Support"]
survey_rules = [
  { question = "Was your issue resolved?", answer = "Yes", status = "solved", tags = ["fixed"] },
  { question = "q2", answer = "No", tags = ["not_fixed"] },
]"#,
        )
        .unwrap();
        let t = &c.configurations[0].zendesk.tickets;
        assert_eq!(t.unassociated_sessions, UnassociatedSessions::CreateTicket);
        assert_eq!(t.default_requester_email.as_deref(), Some("rs@example.com"));
        assert_eq!(t.requester_email_attribute, "cust_email");
        assert_eq!(
            (t.new_ticket_group_id, t.new_ticket_brand_id),
            (Some(11), Some(12))
        );
        assert_eq!(t.new_ticket_tags, vec!["remote_support"]);
        assert_eq!(t.survey_rules.len(), 2);
        assert_eq!(t.survey_rules[0].status.as_deref(), Some("solved"));
        assert_eq!(t.survey_rules[1].status, None);
    }

    #[test]
    fn the_example_files_commented_keys_are_valid_when_uncommented() {
        let text: String = include_str!("../../middleware.example.toml")
            .lines()
            .map(|l| {
                let keys = [
                    "unassociated_sessions",
                    "default_requester_email",
                    "requester_email_attribute",
                    "new_ticket_group_id",
                    "survey_rules",
                ];
                match l.strip_prefix("# ") {
                    Some(rest) if keys.iter().any(|k| rest.starts_with(k)) => rest,
                    _ => l,
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let env = |_: &str| Some("x".to_string());
        let c = parse(&text, "example", &env).unwrap();
        let t = &c.configurations[0].zendesk.tickets;
        assert_eq!(t.unassociated_sessions, UnassociatedSessions::CreateTicket);
        assert_eq!(t.survey_rules.len(), 1);
        assert_eq!(t.new_ticket_group_id, Some(360001));
    }

    #[test]
    fn bad_values_are_rejected_with_their_key() {
        assert_eq!(
            error(r#"unassociated_sessions = "create""#).0,
            "zendesk.unassociated_sessions"
        );
        let (key, msg) = error(r#"unassociated_sessions = "create_ticket""#);
        assert_eq!(key, "zendesk.default_requester_email");
        assert!(msg.contains("needs default_requester_email"), "{msg}");
        assert_eq!(
            error(r#"default_requester_email = "nobody""#).0,
            "zendesk.default_requester_email"
        );
        assert_eq!(
            error(r#"new_ticket_tags = ["two words"]"#).0,
            "zendesk.new_ticket_tags"
        );
        let (key, msg) =
            error(r#"survey_rules = [{ question = "q", answer = "a", status = "closed" }]"#);
        assert_eq!(key, "zendesk.survey_rules.status");
        assert!(msg.contains("open, pending, hold, solved"), "{msg}");
        assert_eq!(
            error(r#"survey_rules = [{ question = "q", answer = "a" }]"#).0,
            "zendesk.survey_rules"
        );
        assert_eq!(
            error(r#"survey_rules = [{ question = " ", answer = "a", tags = ["x"] }]"#).0,
            "zendesk.survey_rules.question"
        );
        assert!(with(r#"survey_rules = [{ question = "q", answer = "a", tag = ["x"] }]"#).is_err());
    }
}
