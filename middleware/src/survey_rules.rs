//! Survey rules (pure): which configured rules a customer exit survey matches, what they change
//! on the ticket given its current status, and the sentence the survey comment says about it.
//!
//! Rules only ever move a ticket forward: a solved ticket is not reopened (its status stays,
//! tags are still added), and a closed ticket is not touched at all (Zendesk refuses every
//! update of a closed ticket; the worker records the event as left alone).

use handlebars::html_escape;

use crate::beyondtrust::ExitSurvey;
use crate::config::SurveyRule;

/// What the matched rules do to the ticket, in the survey comment's own update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketChange {
    /// New status, when it changes.
    pub status: Option<String>,
    /// Tags added (`additional_tags`: existing tags stay).
    pub add_tags: Vec<String>,
    /// One sentence per matched rule, plain text.
    pub sentences: Vec<String>,
}

/// What to do with the survey's ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Post the survey with this change (empty when no rule matched).
    Change(TicketChange),
    /// The ticket is closed: post nothing.
    Closed,
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Rules matched by any of the surveys, in configuration order.
pub fn matching<'a>(rules: &'a [SurveyRule], surveys: &[ExitSurvey]) -> Vec<&'a SurveyRule> {
    rules
        .iter()
        .filter(|r| {
            surveys.iter().flat_map(|s| &s.questions).any(|q| {
                [&q.name, &q.label, &q.report_header]
                    .into_iter()
                    .flatten()
                    .any(|text| same(text, &r.question))
                    && q.answers.iter().any(|a| same(a, &r.answer))
            })
        })
        .collect()
}

/// The change the matched rules make to a ticket whose status is `current`. The first matched
/// rule with a status decides the status.
pub fn decide(matched: &[&SurveyRule], current: &str) -> Decision {
    if current == "closed" {
        return Decision::Closed;
    }
    let mut change = TicketChange::default();
    let mut status_taken = false;
    for rule in matched {
        let mut did = Vec::new();
        if let Some(wanted) = &rule.status {
            if status_taken {
                did.push(format!(
                    "status {wanted} not set (an earlier rule set the status)"
                ));
            } else if wanted == current {
                did.push(format!("the ticket was already {current}"));
                status_taken = true;
            } else if current == "solved" {
                did.push(format!(
                    "the ticket is solved and was not reopened (the rule asks for {wanted})"
                ));
                status_taken = true;
            } else {
                did.push(format!("status set to {wanted}"));
                change.status = Some(wanted.clone());
                status_taken = true;
            }
        }
        if !rule.tags.is_empty() {
            did.push(format!("tags added: {}", rule.tags.join(", ")));
            for t in &rule.tags {
                if !change.add_tags.contains(t) {
                    change.add_tags.push(t.clone());
                }
            }
        }
        change.sentences.push(format!(
            "Survey rule \u{201c}{}\u{201d} = \u{201c}{}\u{201d}: {}.",
            rule.question,
            rule.answer,
            did.join("; ")
        ));
    }
    Decision::Change(change)
}

/// The sentences as an HTML paragraph for the end of the survey comment ("" when none).
pub fn html(change: &TicketChange) -> String {
    if change.sentences.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = change.sentences.iter().map(|s| html_escape(s)).collect();
    format!("\n<p><em>{}</em></p>", lines.join("<br>"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::beyondtrust::model::Question;

    fn rule(q: &str, a: &str, status: Option<&str>, tags: &[&str]) -> SurveyRule {
        SurveyRule {
            question: q.into(),
            answer: a.into(),
            status: status.map(str::to_string),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn survey(label: &str, answer: &str) -> ExitSurvey {
        ExitSurvey {
            questions: vec![Question {
                id: "1".into(),
                name: Some("resolved".into()),
                label: Some(label.into()),
                answers: vec![answer.into()],
                ..Question::default()
            }],
            ..ExitSurvey::default()
        }
    }

    #[test]
    fn a_rule_matches_question_and_answer_case_insensitively() {
        let rules = vec![
            rule("Was your issue resolved?", "yes", Some("solved"), &[]),
            rule("resolved", "No", None, &["unresolved"]),
        ];
        let yes = [survey("Was your issue RESOLVED? ", "Yes")];
        assert_eq!(matching(&rules, &yes), vec![&rules[0]]);
        let no = [survey("Was your issue resolved?", "No")];
        assert_eq!(matching(&rules, &no), vec![&rules[1]], "matched by name");
        assert!(matching(&rules, &[survey("Other", "Maybe")]).is_empty());
        assert!(matching(&rules, &[]).is_empty());
    }

    #[test]
    fn matching_rule_solves_and_tags_and_says_so() {
        let r = rule(
            "Was your issue resolved?",
            "Yes",
            Some("solved"),
            &["fixed"],
        );
        let Decision::Change(c) = decide(&[&r], "open") else {
            panic!("open tickets change")
        };
        assert_eq!(c.status.as_deref(), Some("solved"));
        assert_eq!(c.add_tags, vec!["fixed"]);
        assert_eq!(
            c.sentences,
            vec!["Survey rule \u{201c}Was your issue resolved?\u{201d} = \u{201c}Yes\u{201d}: status set to solved; tags added: fixed."]
        );
        assert!(html(&c).contains("status set to solved"));
        assert_eq!(html(&TicketChange::default()), "");
    }

    #[test]
    fn solved_tickets_are_not_reopened_and_closed_ones_not_touched() {
        let reopen = rule("q", "a", Some("open"), &["t"]);
        let Decision::Change(c) = decide(&[&reopen], "solved") else {
            panic!()
        };
        assert_eq!(c.status, None, "never reopen");
        assert_eq!(c.add_tags, vec!["t"]);
        assert!(c.sentences[0].contains("not reopened"), "{:?}", c.sentences);
        let solve = rule("q", "a", Some("solved"), &[]);
        let Decision::Change(c) = decide(&[&solve], "solved") else {
            panic!()
        };
        assert_eq!(c.status, None);
        assert!(c.sentences[0].contains("already solved"));
        assert_eq!(decide(&[&solve], "closed"), Decision::Closed);
    }

    #[test]
    fn the_first_rule_with_a_status_wins() {
        let a = rule("q", "a", Some("pending"), &[]);
        let b = rule("q2", "b", Some("solved"), &["x"]);
        let Decision::Change(c) = decide(&[&a, &b], "new") else {
            panic!()
        };
        assert_eq!(c.status.as_deref(), Some("pending"));
        assert_eq!(c.add_tags, vec!["x"]);
        assert!(c.sentences[1].contains("not set"));
    }
}
