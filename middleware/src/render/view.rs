//! What the templates see: reports turned into display-ready values.
//!
//! All formatting decisions (times, sizes, which events are chat, notes or special actions) are
//! made here in Rust, so templates stay simple loops and a template author cannot get escaping
//! wrong by accident: every value is plain text that Handlebars' `{{ }}` escapes.

use serde::Serialize;

use crate::beyondtrust::model::{ExitSurvey, Party, Session, SessionEvent};

#[derive(Debug, Clone, Serialize, Default)]
pub struct SessionView {
    pub lsid: String,
    pub appliance_id: String,
    pub session_type: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// The session's date (`2023-11-14`, UTC), shown once above the time-of-day chat.
    pub date: Option<String>,
    /// Time of day the session started / ended (`22:13:20`).
    pub start_clock: Option<String>,
    pub end_clock: Option<String>,
    /// Start in ISO 8601 (`2023-11-14T22:13:20Z`), for the session record.
    pub start_iso: Option<String>,
    /// The primary customer's company and issue, for the outcome lines.
    pub customer_company: Option<String>,
    pub issue: Option<String>,
    pub duration: Option<String>,
    pub duration_secs: Option<u64>,
    pub public_site: Option<String>,
    pub external_key: Option<String>,
    pub primary_customer: Option<String>,
    pub primary_rep: Option<String>,
    pub customers: Vec<CustomerView>,
    pub representatives: Vec<RepView>,
    pub custom_attributes: Vec<NameValue>,
    /// Chat messages, file transfers and special actions, in session order (notes excluded).
    pub transcript: Vec<TranscriptEntry>,
    pub files: Vec<FileView>,
    pub system_information: Vec<SysInfoView>,
    pub notes: Vec<NoteView>,
    pub links: Vec<Link>,
    pub file_transfer_count: Option<u64>,
    pub file_move_count: Option<u64>,
    pub file_delete_count: Option<u64>,
    /// Rating answers of exit surveys already in the report ("Customer survey: Rating" ->
    /// "5 of 5"); the survey comments follow with every answer.
    pub survey_scores: Vec<NameValue>,
    /// Transcript entries in the report (the comment may show only the latest ones).
    pub transcript_total: usize,
    /// Earlier transcript entries left out of this comment (they are in the attached report).
    pub transcript_omitted: usize,
    /// System Information categories left out of this comment by `system_information_categories`.
    pub system_information_omitted: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct CustomerView {
    pub name: Option<String>,
    pub username: Option<String>,
    pub company: Option<String>,
    pub company_code: Option<String>,
    pub public_ip: Option<String>,
    pub private_ip: Option<String>,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub issue: Option<String>,
    pub details: Option<String>,
    pub primary: bool,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RepView {
    pub name: Option<String>,
    pub username: Option<String>,
    pub public_ip: Option<String>,
    pub private_ip: Option<String>,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub session_owner: bool,
    pub primary: bool,
    pub time_involved: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct TranscriptEntry {
    pub time: String,
    /// Time of day (`22:15:03`), prefixed by the date when it differs from the session's.
    pub clock: String,
    pub event_type: String,
    pub is_chat: bool,
    pub is_file: bool,
    pub is_action: bool,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Message text split into lines (templates join them with `<br>`).
    pub lines: Vec<String>,
    pub files: Vec<FileView>,
    pub data: Vec<NameValue>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct FileView {
    pub name: String,
    pub size: Option<String>,
    pub bytes: Option<u64>,
    /// `upload`, `download`, or the event type for other file actions.
    pub direction: String,
    pub by: Option<String>,
    pub time: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SysInfoView {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct NoteView {
    pub time: String,
    pub by: Option<String>,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Link {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SurveyView {
    pub lsid: String,
    pub title: String,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<String>,
    pub primary_customer: Option<String>,
    pub primary_rep: Option<String>,
    pub questions: Vec<QuestionView>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct QuestionView {
    pub label: String,
    pub answers: Vec<String>,
    /// The answers in words: a rating as "4 of 5", several answers joined with ", ".
    pub answer_text: String,
}

/// `2023-11-14 22:13:20 UTC` from unix seconds.
pub fn format_unix(ts: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(ts).ok()?;
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.format(&fmt).ok()
}

/// `(date, time of day, ISO)` of unix seconds: `2023-11-14`, `22:13:20`, `2023-11-14T22:13:20Z`.
pub fn date_clock(ts: i64) -> Option<(String, String, String)> {
    let t = time::OffsetDateTime::from_unix_timestamp(ts).ok()?;
    let date = t
        .format(&time::macros::format_description!("[year]-[month]-[day]"))
        .ok()?;
    let clock = t
        .format(&time::macros::format_description!(
            "[hour]:[minute]:[second]"
        ))
        .ok()?;
    let iso = format!("{date}T{clock}Z");
    Some((date, clock, iso))
}

fn event_clock(e: &SessionEvent, session_date: Option<&str>) -> String {
    match e.unix.and_then(date_clock) {
        Some((date, clock, _)) if Some(date.as_str()) == session_date => clock,
        Some((date, clock, _)) => format!("{date} {clock}"),
        None => e.timestamp.clone(),
    }
}

fn event_time(e: &SessionEvent) -> String {
    e.unix
        .and_then(format_unix)
        .unwrap_or_else(|| e.timestamp.clone())
}

/// `1.0 MiB (1048576 bytes)`-style sizes, short for small files.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

fn hms(secs: u64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

fn party_name(p: &Option<Party>) -> Option<String> {
    p.as_ref().map(|p| p.name.clone()).filter(|n| !n.is_empty())
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// Only http(s) links are rendered, whatever the report contains.
fn link(label: &str, url: &Option<String>) -> Option<Link> {
    let url = url.as_deref()?;
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| Link {
        label: label.into(),
        url: url.into(),
    })
}

fn is_note(t: &str) -> bool {
    t.eq_ignore_ascii_case("Session Note Added")
}

fn is_chat(t: &str) -> bool {
    t.eq_ignore_ascii_case("Chat Message")
}

fn file_direction(t: &str) -> Option<String> {
    let l = t.to_ascii_lowercase();
    if l == "file upload" {
        Some("upload".into())
    } else if l == "file download" {
        Some("download".into())
    } else if l.starts_with("file ") {
        Some(t.to_string())
    } else {
        None
    }
}

fn event_files(e: &SessionEvent, direction: &str) -> Vec<FileView> {
    let by = party_name(&e.performed_by);
    let time = event_time(e);
    let mut out: Vec<FileView> = e
        .files
        .iter()
        .map(|f| FileView {
            name: f.filename.clone(),
            size: f.filesize.map(human_size),
            bytes: f.filesize,
            direction: direction.into(),
            by: by.clone(),
            time: time.clone(),
        })
        .collect();
    if let Some(name) = &e.filename {
        if !out.iter().any(|f| &f.name == name) {
            out.insert(
                0,
                FileView {
                    name: name.clone(),
                    size: e.filesize.map(human_size),
                    bytes: e.filesize,
                    direction: direction.into(),
                    by,
                    time,
                },
            );
        }
    }
    out
}

pub fn session_view(s: &Session, appliance_id: &str) -> SessionView {
    let mut v = SessionView {
        lsid: s.lsid.clone(),
        appliance_id: appliance_id.to_string(),
        session_type: s.session_type.clone(),
        start: s.start_time.as_ref().map(|t| {
            t.unix
                .and_then(format_unix)
                .unwrap_or_else(|| t.text.clone())
        }),
        end: s.end_time.as_ref().map(|t| {
            t.unix
                .and_then(format_unix)
                .unwrap_or_else(|| t.text.clone())
        }),
        duration: s.duration.clone().or_else(|| s.duration_secs().map(hms)),
        duration_secs: s.duration_secs(),
        public_site: s.public_site.clone(),
        external_key: s.external_key.clone(),
        primary_customer: s.primary_customer.clone(),
        primary_rep: s.primary_rep.clone(),
        file_transfer_count: s.file_transfer_count,
        file_move_count: s.file_move_count,
        file_delete_count: s.file_delete_count,
        ..Default::default()
    };
    if let Some((date, clock, iso)) = s
        .start_time
        .as_ref()
        .and_then(|t| t.unix)
        .and_then(date_clock)
    {
        v.date = Some(date);
        v.start_clock = Some(clock);
        v.start_iso = Some(iso);
    }
    v.end_clock = s
        .end_time
        .as_ref()
        .and_then(|t| t.unix)
        .and_then(date_clock)
        .map(|(date, clock, _)| {
            if Some(&date) == v.date.as_ref() {
                clock
            } else {
                format!("{date} {clock}")
            }
        });
    let primary = s
        .customers
        .iter()
        .find(|c| c.primary)
        .or(s.customers.first());
    v.customer_company = primary
        .and_then(|c| c.company.clone())
        .filter(|c| !c.is_empty());
    v.issue = primary
        .and_then(|c| c.issue.clone())
        .filter(|c| !c.is_empty());
    v.customers = s
        .customers
        .iter()
        .map(|c| CustomerView {
            name: c.name.clone().or_else(|| c.username.clone()),
            username: c.username.clone(),
            company: c.company.clone(),
            company_code: c.company_code.clone(),
            public_ip: c.public_ip.clone(),
            private_ip: c.private_ip.clone(),
            hostname: c.hostname.clone(),
            os: c.os.clone(),
            issue: c.issue.clone(),
            details: c.details.clone(),
            primary: c.primary,
        })
        .collect();
    v.representatives = s
        .representatives
        .iter()
        .map(|r| RepView {
            name: r
                .display_name
                .clone()
                .or_else(|| r.private_display_name.clone())
                .or_else(|| r.username.clone()),
            username: r.username.clone(),
            public_ip: r.public_ip.clone(),
            private_ip: r.private_ip.clone(),
            hostname: r.hostname.clone(),
            os: r.os.clone(),
            session_owner: r.session_owner,
            primary: r.primary,
            time_involved: r.seconds_involved.map(hms),
        })
        .collect();
    v.custom_attributes = s
        .custom_attributes
        .iter()
        .map(|a| NameValue {
            name: if a.display_name.is_empty() {
                a.code_name.clone()
            } else {
                a.display_name.clone()
            },
            value: a.value.clone(),
        })
        .collect();
    for e in &s.events {
        for cat in &e.system_information {
            let headers: Vec<String> = if cat.columns.is_empty() {
                cat.rows
                    .first()
                    .map(|r| r.iter().map(|(n, _)| n.clone()).collect())
                    .unwrap_or_default()
            } else {
                cat.columns
                    .iter()
                    .map(|(n, label)| {
                        if label.is_empty() {
                            n.clone()
                        } else {
                            label.clone()
                        }
                    })
                    .collect()
            };
            let rows = cat
                .rows
                .iter()
                .map(|r| r.iter().map(|(_, val)| val.clone()).collect())
                .collect();
            v.system_information.push(SysInfoView {
                name: cat.name.clone(),
                headers,
                rows,
            });
        }
        if is_note(&e.event_type) {
            v.notes.push(NoteView {
                time: event_time(e),
                by: party_name(&e.performed_by),
                lines: lines(e.body.as_deref().unwrap_or_default()),
            });
            continue;
        }
        let mut entry = TranscriptEntry {
            time: event_time(e),
            clock: event_clock(e, v.date.as_deref()),
            event_type: e.event_type.clone(),
            from: party_name(&e.performed_by),
            to: party_name(&e.destination),
            lines: e.body.as_deref().map(lines).unwrap_or_default(),
            data: e
                .data
                .iter()
                .map(|(n, val)| NameValue {
                    name: n.clone(),
                    value: val.clone(),
                })
                .collect(),
            ..Default::default()
        };
        if is_chat(&e.event_type) {
            entry.is_chat = true;
        } else if let Some(direction) = file_direction(&e.event_type) {
            entry.is_file = true;
            entry.files = event_files(e, &direction);
            v.files.extend(entry.files.iter().cloned());
        } else {
            entry.is_action = true;
            if !e.files.is_empty() || e.filename.is_some() {
                entry.files = event_files(e, &e.event_type);
                v.files.extend(entry.files.iter().cloned());
            }
        }
        v.transcript.push(entry);
    }
    v.transcript_total = v.transcript.len();
    for (title, questions) in [
        ("Customer survey", &s.customer_survey),
        ("Representative survey", &s.rep_survey),
    ] {
        for q in questions.iter().filter(|q| {
            q.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("radio"))
        }) {
            let label = q
                .report_header
                .clone()
                .or_else(|| q.label.clone())
                .or_else(|| q.name.clone())
                .unwrap_or_else(|| format!("Question {}", q.id));
            v.survey_scores.push(NameValue {
                name: format!("{title}: {label}"),
                value: answer_text(q.kind.as_deref(), &q.answers),
            });
        }
    }
    v.links = [
        link("Chat transcript", &s.chat_view_url),
        link("Chat transcript (download)", &s.chat_download_url),
        link("Session recording", &s.recording_view_url),
        link("Session recording (download)", &s.recording_download_url),
    ]
    .into_iter()
    .flatten()
    .chain(s.shell_recordings.iter().enumerate().flat_map(|(i, r)| {
        [
            link(&format!("Command shell recording {}", i + 1), &r.view_url),
            link(
                &format!("Command shell recording {} (download)", i + 1),
                &r.download_url,
            ),
        ]
        .into_iter()
        .flatten()
    }))
    .collect();
    v
}

pub fn survey_view(s: &ExitSurvey, title: &str) -> SurveyView {
    SurveyView {
        lsid: s.lsid.clone(),
        title: title.to_string(),
        submitted_by: party_name(&s.submitted_by),
        submitted_at: s.timestamp.and_then(format_unix),
        primary_customer: s.primary_customer.clone(),
        primary_rep: s.primary_rep.clone(),
        questions: s
            .questions
            .iter()
            .map(|q| QuestionView {
                label: q
                    .report_header
                    .clone()
                    .or_else(|| q.label.clone())
                    .or_else(|| q.name.clone())
                    .unwrap_or_else(|| format!("Question {}", q.id)),
                answers: q.answers.clone(),
                answer_text: answer_text(q.kind.as_deref(), &q.answers),
            })
            .collect(),
    }
}

/// Answers in words. A rating question (radio buttons answered with a number) reads "4 of 5"
/// (BeyondTrust's rating scales are 1-5; [guess] a scale up to 10 reads "7 of 10").
pub fn answer_text(kind: Option<&str>, answers: &[String]) -> String {
    let rating = kind.is_some_and(|k| k.eq_ignore_ascii_case("radio"));
    answers
        .iter()
        .map(|a| match a.trim().parse::<u32>() {
            Ok(n) if rating && (1..=5).contains(&n) => format!("{n} of 5"),
            Ok(n) if rating && (6..=10).contains(&n) => format!("{n} of 10"),
            _ => a.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The survey's rating as answered, for the session record: the first radio question with a
/// numeric answer.
pub fn survey_rating(s: &ExitSurvey) -> Option<String> {
    rating(&s.questions)
}

/// The first radio question's numeric answer.
pub fn rating(questions: &[crate::beyondtrust::model::Question]) -> Option<String> {
    questions
        .iter()
        .filter(|q| {
            q.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("radio"))
        })
        .flat_map(|q| q.answers.first())
        .find(|a| a.trim().parse::<u32>().is_ok())
        .map(|a| a.trim().to_string())
}

/// Whether a System Information category is one of `wanted` (case-insensitive; an entry
/// matches a category whose name contains it, so `disk` matches "Disk Drives").
pub fn category_wanted(name: &str, wanted: &[String]) -> bool {
    let name = name.to_lowercase();
    wanted
        .iter()
        .map(|w| w.trim().to_lowercase())
        .any(|w| !w.is_empty() && name.contains(&w))
}

/// Keeps only the wanted System Information categories; the names of the others are listed
/// in `system_information_omitted` (once each) so the comment can say what is left out.
pub fn limit_system_information(v: &mut SessionView, wanted: &[String]) {
    let all = std::mem::take(&mut v.system_information);
    for cat in all {
        if category_wanted(&cat.name, wanted) {
            v.system_information.push(cat);
        } else if !v.system_information_omitted.contains(&cat.name) {
            v.system_information_omitted.push(cat.name);
        }
    }
}
