//! The reporting API's XML documents, in the shapes of the reference fixtures
//! (`rs-SupportSession.reconstructed.xml`, `rs-session_summary_list...`, `rs-exit_survey_list...`).

use time::macros::format_description;
use time::OffsetDateTime;

use super::sessions::{Customer, Party, Rep, ScriptedEvent, Session, SessionSpec, SurveyQuestion};
use super::unix_now;
use super::xml::{base64, needs_encoding, Doc};

/// `2023-11-14T22:13:20+00:00`.
pub(crate) fn iso(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]+00:00"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// `HH:MM:SS` (hours may exceed 24).
pub(crate) fn hms(seconds: i64) -> String {
    let s = seconds.max(0);
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// Members of a session with their `gsnumber`s: representatives first (1..), then customers.
struct Members {
    reps: Vec<Rep>,
    customers: Vec<Customer>,
}

impl Members {
    fn of(spec: &SessionSpec) -> Members {
        Members {
            reps: spec.reps_or_default(),
            customers: spec.customers_or_default(),
        }
    }
    fn rep_gs(&self, i: usize) -> String {
        (i + 1).to_string()
    }
    fn customer_gs(&self, i: usize) -> String {
        (self.reps.len() + i + 1).to_string()
    }
    /// (type, gsnumber, shown name) of a party; out-of-range indexes mean the primary one.
    fn party(&self, party: Party) -> (&'static str, String, String) {
        match party {
            Party::Rep(i) => {
                let i = if i < self.reps.len() { i } else { 0 };
                (
                    "representative",
                    self.rep_gs(i),
                    self.reps[i].display_name.clone(),
                )
            }
            Party::Customer(i) => {
                let i = if i < self.customers.len() { i } else { 0 };
                (
                    "customer",
                    self.customer_gs(i),
                    self.customers[i].name.clone(),
                )
            }
            Party::System => ("system", "0".into(), "System".into()),
        }
    }
    /// Who a party's chat or file goes to: the other side's primary member.
    fn counterpart(&self, party: Party) -> Option<Party> {
        match party {
            Party::Rep(_) => Some(Party::CUSTOMER),
            Party::Customer(_) => Some(Party::REP),
            Party::System => None,
        }
    }
}

fn party_elem(doc: &mut Doc, members: &Members, name: &str, party: Party) {
    let (kind, gs, shown) = members.party(party);
    doc.text(name, &[("type", kind), ("gsnumber", &gs)], &shown);
}

/// `<body>` or, for text XML cannot carry, `<encoded_body>` (base64 of the UTF-8 text).
fn body_elem(doc: &mut Doc, text: &str) {
    if needs_encoding(text) {
        doc.text("encoded_body", &[], &base64(text));
    } else {
        doc.text("body", &[], text);
    }
}

fn download_url(base: &str, lsid: &str, mode: &str) -> String {
    format!("{base}/session_download?lsid=l%3D{lsid}%3Bh%3D{lsid}%3Bt%3Dsd%3Bm%3D{mode}")
}

pub(crate) fn session_list(ns: &str, base_url: &str, sessions: &[(Session, bool)]) -> String {
    let mut doc = Doc::new();
    doc.open("session_list", &[("xmlns", ns)]);
    for (session, shows_end) in sessions {
        write_session(&mut doc, base_url, session, *shows_end);
    }
    doc.close("session_list");
    doc.finish()
}

fn write_session(doc: &mut Doc, base: &str, s: &Session, shows_end: bool) {
    let members = Members::of(&s.spec);
    let end = if shows_end { s.end_time } else { None };
    let until = end.unwrap_or_else(|| unix_now().max(s.start_time));
    doc.open("session", &[("lsid", &s.lsid)]);
    doc.text("session_type", &[], "support");
    doc.text("lseq", &[], &s.lseq.to_string());
    doc.text(
        "start_time",
        &[("timestamp", &s.start_time.to_string())],
        &iso(s.start_time),
    );
    if let Some(end) = end {
        doc.text("end_time", &[("timestamp", &end.to_string())], &iso(end));
    }
    doc.text("duration", &[], &hms(until - s.start_time));
    doc.text("public_site", &[("id", "1")], "Default");
    doc.text("external_key", &[], s.external_key.as_deref().unwrap_or(""));
    doc.open("custom_attributes", &[]);
    for (code, display, value) in &s.custom_attributes {
        doc.text(
            "custom_attribute",
            &[("display_name", display), ("code_name", code)],
            value,
        );
    }
    doc.close("custom_attributes");
    let chat = download_url(base, &s.lsid, "chat");
    doc.text(
        "session_chat_view_url",
        &[],
        &format!("{chat}&dl_action=chat&view=1"),
    );
    doc.text(
        "session_chat_download_url",
        &[],
        &format!("{chat}&dl_action=chat"),
    );
    if s.spec.has_recording {
        let screen = download_url(base, &s.lsid, "screen");
        doc.text(
            "session_recording_view_url",
            &[],
            &format!("{screen}&view=1"),
        );
        doc.text("session_recording_download_url", &[], &screen);
    }
    let transfers = s
        .spec
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                ScriptedEvent::FileUpload { .. } | ScriptedEvent::FileDownload { .. }
            )
        })
        .count();
    doc.text("file_transfer_count", &[], &transfers.to_string());
    doc.text("file_move_count", &[], "0");
    doc.text("file_delete_count", &[], "0");
    let rep0 = &members.reps[0];
    doc.text(
        "primary_customer",
        &[("gsnumber", &members.customer_gs(0))],
        &members.customers[0].name,
    );
    doc.text(
        "primary_rep",
        &[
            ("gsnumber", &members.rep_gs(0)),
            ("id", &rep0.id.to_string()),
        ],
        &rep0.display_name,
    );
    doc.open("customer_list", &[]);
    for (i, c) in members.customers.iter().enumerate() {
        doc.open("customer", &[("gsnumber", &members.customer_gs(i))]);
        doc.text("username", &[], &c.username);
        doc.text("public_ip", &[], &c.public_ip);
        doc.text("private_ip", &[], &c.private_ip);
        doc.text("hostname", &[], &c.hostname);
        doc.text("os", &[], &c.os);
        doc.text("primary_cust", &[], if i == 0 { "1" } else { "0" });
        doc.open("info", &[]);
        doc.text("name", &[], &c.name);
        doc.text("company", &[], &c.company);
        doc.text("company_code", &[], &c.company_code);
        doc.text("issue", &[], &c.issue);
        doc.text("details", &[], &c.details);
        doc.close("info");
        doc.close("customer");
    }
    doc.close("customer_list");
    doc.open("rep_list", &[]);
    for (i, r) in members.reps.iter().enumerate() {
        doc.open(
            "representative",
            &[("gsnumber", &members.rep_gs(i)), ("id", &r.id.to_string())],
        );
        doc.text("username", &[], &r.username);
        doc.text("display_name", &[], &r.display_name);
        doc.text("public_display_name", &[], &r.public_display_name);
        doc.text("private_display_name", &[], &r.private_display_name);
        doc.text("public_ip", &[], &r.public_ip);
        doc.text("private_ip", &[], &r.private_ip);
        doc.text("hostname", &[], &r.hostname);
        doc.text("os", &[], &r.os);
        doc.text("session_owner", &[], if i == 0 { "1" } else { "0" });
        doc.text("primary_rep", &[], if i == 0 { "1" } else { "0" });
        doc.text(
            "seconds_involved",
            &[],
            &(until - s.start_time).max(0).to_string(),
        );
        doc.text("invited", &[], if i == 0 { "0" } else { "1" });
        doc.close("representative");
    }
    doc.close("rep_list");
    doc.text("team_list", &[], "");
    write_events(doc, s, &members, end);
    if end.is_some() {
        write_session_surveys(doc, s);
    }
    doc.close("session");
}

fn event_open(doc: &mut Doc, at: i64, kind: &str) {
    doc.open(
        "event",
        &[("timestamp", &at.to_string()), ("event_type", kind)],
    );
}

fn write_events(doc: &mut Doc, s: &Session, members: &Members, end: Option<i64>) {
    doc.open("session_details", &[]);
    event_open(doc, s.start_time, "Session Start");
    doc.text(
        "destination",
        &[("type", "system"), ("gsnumber", "0")],
        "Pre-start Conference",
    );
    doc.close("event");
    let joins = (0..members.reps.len())
        .map(Party::Rep)
        .chain((0..members.customers.len()).map(Party::Customer));
    for (i, party) in joins.enumerate() {
        event_open(
            doc,
            s.start_time + (i as i64 + 1).min(9),
            "Conference Member Added",
        );
        party_elem(doc, members, "destination", party);
        doc.close("event");
    }
    for (i, event) in s.spec.events.iter().enumerate() {
        let at = s.event_time(i);
        match event {
            ScriptedEvent::Chat { from, text } => {
                event_open(doc, at, "Chat Message");
                party_elem(doc, members, "performed_by", *from);
                if let Some(to) = members.counterpart(*from) {
                    party_elem(doc, members, "destination", to);
                }
                body_elem(doc, text);
            }
            ScriptedEvent::FileUpload { by, name, size }
            | ScriptedEvent::FileDownload { by, name, size } => {
                let kind = if matches!(event, ScriptedEvent::FileUpload { .. }) {
                    "File Upload"
                } else {
                    "File Download"
                };
                event_open(doc, at, kind);
                party_elem(doc, members, "performed_by", *by);
                if let Some(to) = members.counterpart(*by) {
                    party_elem(doc, members, "destination", to);
                }
                doc.text("filename", &[], name);
                doc.text("filesize", &[], &size.to_string());
            }
            ScriptedEvent::Note { by, text } => {
                event_open(doc, at, "Session Note Added");
                party_elem(doc, members, "performed_by", *by);
                body_elem(doc, text);
            }
            ScriptedEvent::SystemInfo { categories } => {
                event_open(doc, at, "System Information Retrieved");
                party_elem(doc, members, "performed_by", Party::REP);
                doc.open("system_information", &[]);
                for category in categories {
                    doc.open("category", &[("name", &category.name)]);
                    doc.open("description", &[]);
                    for (field, description) in &category.columns {
                        doc.text("field", &[("name", field)], description);
                    }
                    doc.close("description");
                    doc.open("data", &[]);
                    for row in &category.rows {
                        doc.open("row", &[]);
                        for (field, value) in row {
                            doc.text("field", &[("name", field)], value);
                        }
                        doc.close("row");
                    }
                    doc.close("data");
                    doc.close("category");
                }
                doc.close("system_information");
            }
        }
        doc.close("event");
    }
    if let Some(end) = end {
        event_open(doc, end, "Session End");
        party_elem(doc, members, "performed_by", Party::REP);
        doc.close("event");
    }
    doc.close("session_details");
}

/// Customer or representative exit survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Survey {
    Customer,
    Rep,
}

impl Survey {
    pub fn questions(self, spec: &SessionSpec) -> &[SurveyQuestion] {
        match self {
            Survey::Customer => &spec.customer_survey,
            Survey::Rep => &spec.rep_survey,
        }
    }
    /// When the survey was submitted: shortly after the session ended.
    fn timestamp(self, s: &Session) -> i64 {
        let end = s.end_time.unwrap_or(s.start_time);
        match self {
            Survey::Customer => end + 30,
            Survey::Rep => end + 40,
        }
    }
}

fn question_list(doc: &mut Doc, questions: &[SurveyQuestion]) {
    doc.open("question_list", &[]);
    for q in questions {
        doc.open("question", &[("id", &q.id.to_string())]);
        doc.text("type", &[], &q.kind);
        doc.text("name", &[], &q.name);
        doc.text("label", &[], &q.label);
        doc.text("report_header", &[], &q.report_header);
        doc.open("answer_list", &[]);
        for answer in &q.answers {
            doc.text("answer", &[], answer);
        }
        doc.close("answer_list");
        doc.close("question");
    }
    doc.close("question_list");
}

fn write_session_surveys(doc: &mut Doc, s: &Session) {
    for (which, list, item) in [
        (Survey::Customer, "cust_survey_list", "cust_exit_survey"),
        (Survey::Rep, "rep_survey_list", "rep_exit_survey"),
    ] {
        let questions = which.questions(&s.spec);
        if questions.is_empty() {
            continue;
        }
        doc.open(list, &[]);
        doc.open(item, &[("timestamp", &which.timestamp(s).to_string())]);
        question_list(doc, questions);
        doc.close(item);
        doc.close(list);
    }
}

pub(crate) fn summary_list(ns: &str, sessions: &[&Session]) -> String {
    let mut doc = Doc::new();
    doc.open("session_summary_list", &[("xmlns", ns)]);
    for s in sessions {
        doc.empty(
            "session_summary",
            &[
                ("lsid", &s.lsid),
                ("external_key", s.external_key.as_deref().unwrap_or("")),
                (
                    "has_recording",
                    if s.spec.has_recording { "1" } else { "0" },
                ),
            ],
        );
    }
    doc.close("session_summary_list");
    doc.finish()
}

pub(crate) fn exit_survey_list(ns: &str, sessions: &[&Session], which: Survey) -> String {
    let mut doc = Doc::new();
    doc.open("exit_survey_list", &[("xmlns", ns)]);
    for s in sessions {
        let members = Members::of(&s.spec);
        doc.open(
            "exit_survey",
            &[
                ("lsid", &s.lsid),
                ("timestamp", &which.timestamp(s).to_string()),
            ],
        );
        let (kind, by) = match which {
            Survey::Customer => ("cust", members.party(Party::CUSTOMER)),
            Survey::Rep => ("rep", members.party(Party::REP)),
        };
        doc.text(
            "submitted_by",
            &[("type", kind), ("gsnumber", &by.1)],
            &by.2,
        );
        doc.text(
            "primary_customer",
            &[("gsnumber", &members.customer_gs(0))],
            &members.customers[0].name,
        );
        doc.text(
            "primary_rep",
            &[
                ("gsnumber", &members.rep_gs(0)),
                ("id", &members.reps[0].id.to_string()),
            ],
            &members.reps[0].display_name,
        );
        question_list(&mut doc, which.questions(&s.spec));
        doc.close("exit_survey");
    }
    doc.close("exit_survey_list");
    doc.finish()
}
