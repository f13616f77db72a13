//! "Sessions on this ticket": the sidebar's list, built from the ticket's comments.
//!
//! Every comment the middleware posts carries a session record ([`crate::marker`], `rsz/1`).
//! Comments written before the record existed carry only the older reference footer
//! (`Ref: rsz:APPLIANCE:LSID:EVENT[:TS]`); those still identify the session (no start, duration
//! or representative), so a ticket's history never disappears from the list.
//!
//! One row per session (appliance + lsid): the session-end report gives date, representative,
//! duration and the comment to link to; survey comments add the score. Rows are newest first.

use crate::marker::{self, Marker};

/// One ticket comment, the fields the list needs (Zendesk's comments API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    /// ISO 8601, UTC.
    pub created_at: String,
    /// Plain text body.
    pub body: String,
    pub html_body: String,
}

/// One session on the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub appliance: String,
    pub lsid: String,
    /// The session's start, or (older records) the date its first comment was posted.
    pub when: String,
    pub rep: Option<String>,
    pub duration_secs: Option<u64>,
    /// The customer survey's rating, when known.
    pub survey: Option<String>,
    /// The comment to open: the session report (part 1 when split), else the first seen.
    pub comment_id: u64,
    /// Whether the session's end report is on the ticket (else only other events are).
    pub ended: bool,
}

/// Event names the middleware writes.
const SESSION_END: &str = "support_conference_end";
const CUSTOMER_SURVEY: &str = "support_conference_customer_exit_survey_completed";

/// Every record in `comment`: the versioned ones, or else the older footers.
fn records(comment: &Comment) -> Vec<Marker> {
    let text = if comment.html_body.is_empty() {
        &comment.body
    } else {
        &comment.html_body
    };
    let mut found = marker::find_all(text);
    if found.is_empty() {
        found = legacy_records(text);
    }
    found
}

/// `rsz:APPLIANCE:LSID:EVENT[:TS]` footers (appliance ids are letters, digits, `.` and `_`).
fn legacy_records(text: &str) -> Vec<Marker> {
    text.match_indices("rsz:")
        .filter(|(at, _)| {
            text[..*at]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || c == '>')
        })
        .filter_map(|(at, m)| {
            let rest = &text[at + m.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '-')))
                .unwrap_or(rest.len());
            let mut parts = rest[..end].splitn(4, ':');
            let (appliance, lsid, event) = (parts.next()?, parts.next()?, parts.next()?);
            if lsid.is_empty() || event.is_empty() {
                return None;
            }
            let mut m = Marker::new(appliance, lsid, event);
            m.ts = parts.next().filter(|t| !t.is_empty()).map(str::to_string);
            Some(m)
        })
        .collect()
}

/// The sessions recorded in `comments` (in Zendesk's order, oldest first), newest first.
pub fn sessions(comments: &[Comment]) -> Vec<SessionRow> {
    // Zendesk lists a ticket's comments oldest first, so "first seen" is the earliest comment.
    let mut rows: Vec<SessionRow> = Vec::new();
    for comment in comments {
        for record in records(comment) {
            let at = match rows
                .iter()
                .position(|r| r.appliance == record.appliance && r.lsid == record.lsid)
            {
                Some(at) => at,
                None => {
                    rows.push(SessionRow {
                        appliance: record.appliance.clone(),
                        lsid: record.lsid.clone(),
                        when: comment.created_at.clone(),
                        rep: None,
                        duration_secs: None,
                        survey: None,
                        comment_id: comment.id,
                        ended: false,
                    });
                    rows.len() - 1
                }
            };
            let row = &mut rows[at];
            let first_part = record.part.is_none_or(|(n, _)| n == 1);
            if record.event == SESSION_END && first_part && !row.ended {
                row.ended = true;
                row.comment_id = comment.id;
            }
            if let Some(start) = record.start.filter(|s| !s.is_empty()) {
                row.when = start;
            }
            row.rep = record.rep.or(row.rep.take());
            row.duration_secs = record.duration_secs.or(row.duration_secs);
            if record.event == CUSTOMER_SURVEY || record.survey.is_some() {
                row.survey = record.survey.or(row.survey.take());
            }
        }
    }
    newest_first(&mut rows);
    rows
}

/// Insertion sort, newest first: a ticket has few sessions, and the wasm stays smaller than
/// with the standard library's sort.
fn newest_first(rows: &mut [SessionRow]) {
    for i in 1..rows.len() {
        let mut j = i;
        while j > 0
            && (&rows[j - 1].when, rows[j - 1].comment_id) < (&rows[j].when, rows[j].comment_id)
        {
            rows.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// `1 h 02 min`, `12 min 34 s`, `45 s`.
pub fn duration_text(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

/// `2026-11-24 16:27 UTC` from an ISO 8601 UTC time (as written by the middleware and Zendesk).
pub fn date_text(iso: &str) -> String {
    match (iso.get(..10), iso.get(11..16)) {
        (Some(date), Some(time)) if iso.as_bytes().get(10) == Some(&b'T') => {
            format!("{date} {time} UTC")
        }
        _ => iso.to_string(),
    }
}

/// Seconds since the unix epoch of an ISO 8601 UTC time `YYYY-MM-DDTHH:MM:SSZ`.
pub fn unix_time(iso: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| iso.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, s) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(id: u64, at: &str, html: &str) -> Comment {
        Comment {
            id,
            created_at: at.into(),
            body: String::new(),
            html_body: html.into(),
        }
    }

    fn record(lsid: &str, event: &str, f: impl FnOnce(&mut Marker)) -> String {
        let mut m = Marker::new("prod", lsid, event);
        f(&mut m);
        format!("<p>report</p>\n<p><small>{}</small></p>", m.to_line())
    }

    #[test]
    fn sessions_merge_reports_parts_and_surveys_newest_first() {
        let comments = vec![
            comment(
                10,
                "2026-11-24T17:00:00Z",
                &record("old", SESSION_END, |m| {
                    m.start = Some("2026-11-24T16:00:00Z".into());
                    m.duration_secs = Some(754);
                    m.rep = Some("Ann Rep".into());
                    m.part = Some((1, 2));
                }),
            ),
            comment(
                11,
                "2026-11-24T17:00:01Z",
                &record("old", SESSION_END, |m| m.part = Some((2, 2))),
            ),
            comment(
                12,
                "2026-11-24T17:00:05Z",
                &record("old", CUSTOMER_SURVEY, |m| {
                    m.ts = Some("1764003605".into());
                    m.survey = Some("5".into());
                }),
            ),
            comment(
                20,
                "2026-11-25T09:00:00Z",
                &record("new", SESSION_END, |m| {
                    m.start = Some("2026-11-25T08:30:00Z".into());
                    m.rep = Some("Bob".into());
                }),
            ),
            comment(
                21,
                "2026-11-25T09:10:00Z",
                "<p>A reply from the agent mentioning rsz/1 in prose.</p>",
            ),
        ];
        let rows = sessions(&comments);
        assert_eq!(rows.len(), 2, "{rows:#?}");
        assert_eq!(rows[0].lsid, "new");
        assert_eq!(rows[0].survey, None);
        assert_eq!(rows[1].lsid, "old");
        assert_eq!(rows[1].when, "2026-11-24T16:00:00Z");
        assert_eq!(rows[1].rep.as_deref(), Some("Ann Rep"));
        assert_eq!(rows[1].duration_secs, Some(754));
        assert_eq!(rows[1].survey.as_deref(), Some("5"));
        assert_eq!(rows[1].comment_id, 10);
        assert!(rows[1].ended);
    }

    #[test]
    fn older_footers_still_list_the_session() {
        let comments = vec![
            comment(5, "2026-11-20T10:00:00Z", "<p>Session report</p>\n<p><small>Ref: rsz:default:a1b2:support_conference_end</small></p>"),
            comment(6, "2026-11-20T10:01:00Z", "<p>Survey</p>\n<p><small>Ref: rsz:default:a1b2:support_conference_customer_exit_survey_completed:1763632860</small></p>"),
        ];
        let rows = sessions(&comments);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].lsid.as_str(), rows[0].comment_id, rows[0].ended),
            ("a1b2", 5, true)
        );
        assert_eq!(rows[0].when, "2026-11-20T10:00:00Z");
        assert!(sessions(&[comment(1, "x", "mirsz:a:b:c")]).is_empty());
    }

    #[test]
    fn texts() {
        assert_eq!(duration_text(45), "45 s");
        assert_eq!(duration_text(754), "12 min 34 s");
        assert_eq!(duration_text(3720), "1 h 02 min");
        assert_eq!(date_text("2026-11-24T16:27:03Z"), "2026-11-24 16:27 UTC");
        assert_eq!(date_text("yesterday"), "yesterday");
        assert_eq!(unix_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_time("2026-11-24T16:27:03Z"), Some(1_795_537_623));
        assert_eq!(unix_time("nope"), None);
    }
}
