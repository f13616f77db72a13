//! Typed views of the appliance's XML answers (reporting and command APIs).
//!
//! Success is decided by the root element name: the appliance answers HTTP 200 with an
//! `<error>` root for many failures, and that becomes [`ReportError::Api`] with its message.
//! Unknown elements are ignored so newer appliances keep working.

use base64::Engine;

use super::xml::{self, Element, XmlError};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The appliance answered `<error>message</error>`.
    #[error("appliance error: {0}")]
    Api(String),
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("unexpected answer: root element <{found}>, expected <{expected}>")]
    UnexpectedRoot {
        expected: &'static str,
        found: String,
    },
}

fn root(xml_text: &str, expected: &'static str) -> Result<Element, ReportError> {
    let root = xml::parse(xml_text)?;
    if root.name == "error" {
        return Err(ReportError::Api(root.trimmed_text()));
    }
    if root.name != expected {
        return Err(ReportError::UnexpectedRoot {
            expected,
            found: root.name,
        });
    }
    Ok(root)
}

/// A time element: `<start_time timestamp="1700000000">2023-11-14T22:13:20+00:00</start_time>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timestamp {
    pub unix: Option<i64>,
    pub text: String,
}

impl Timestamp {
    fn from(el: &Element) -> Option<Self> {
        let unix = el.attr("timestamp").and_then(|t| t.trim().parse().ok());
        let text = el.trimmed_text();
        if unix.is_none() && text.is_empty() {
            return None;
        }
        Some(Self { unix, text })
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomAttribute {
    pub code_name: String,
    pub display_name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShellRecording {
    pub view_url: Option<String>,
    pub download_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Customer {
    pub gsnumber: Option<String>,
    pub username: Option<String>,
    pub public_ip: Option<String>,
    pub private_ip: Option<String>,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub primary: bool,
    pub name: Option<String>,
    pub company: Option<String>,
    pub company_code: Option<String>,
    pub issue: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Representative {
    pub gsnumber: Option<String>,
    pub id: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub public_display_name: Option<String>,
    pub private_display_name: Option<String>,
    pub public_ip: Option<String>,
    pub private_ip: Option<String>,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub session_owner: bool,
    pub primary: bool,
    pub seconds_involved: Option<u64>,
    pub invited: bool,
}

/// Who did something or to whom (`performed_by`, `destination`, `submitted_by`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Party {
    /// `system`, `customer`, `representative` (surveys: `cust`, `rep`).
    pub kind: String,
    pub gsnumber: Option<String>,
    pub name: String,
}

impl Party {
    fn from(el: &Element) -> Self {
        Self {
            kind: el.attr("type").unwrap_or_default().to_string(),
            gsnumber: el.attr("gsnumber").map(str::to_string),
            name: el.trimmed_text(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileInfo {
    pub filename: String,
    pub filesize: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SysInfoCategory {
    pub name: String,
    /// `(field name, human label)` from `<description>`.
    pub columns: Vec<(String, String)>,
    /// Each row's `(field name, value)` pairs in document order.
    pub rows: Vec<Vec<(String, String)>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionEvent {
    /// The `timestamp` attribute as sent (unix seconds on appliances; ISO in some mocks).
    pub timestamp: String,
    pub unix: Option<i64>,
    pub event_type: String,
    pub performed_by: Option<Party>,
    pub destination: Option<Party>,
    /// Text of the event; `encoded_body` (base64) wins over `body` when present and valid.
    pub body: Option<String>,
    pub filename: Option<String>,
    pub filesize: Option<u64>,
    pub files: Vec<FileInfo>,
    pub data: Vec<(String, String)>,
    pub system_information: Vec<SysInfoCategory>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Session {
    pub lsid: String,
    pub session_type: Option<String>,
    pub lseq: Option<String>,
    pub start_time: Option<Timestamp>,
    /// Absent while the appliance is still writing the report.
    pub end_time: Option<Timestamp>,
    pub duration: Option<String>,
    pub public_site: Option<String>,
    pub external_key: Option<String>,
    pub custom_attributes: Vec<CustomAttribute>,
    pub chat_view_url: Option<String>,
    pub chat_download_url: Option<String>,
    pub recording_view_url: Option<String>,
    pub recording_download_url: Option<String>,
    pub shell_recordings: Vec<ShellRecording>,
    pub file_transfer_count: Option<u64>,
    pub file_move_count: Option<u64>,
    pub file_delete_count: Option<u64>,
    pub primary_customer: Option<String>,
    pub primary_rep: Option<String>,
    pub customers: Vec<Customer>,
    pub representatives: Vec<Representative>,
    pub events: Vec<SessionEvent>,
    pub has_customer_survey: bool,
    pub has_rep_survey: bool,
    /// Questions of the exit surveys already in the report (first survey of each kind).
    pub customer_survey: Vec<Question>,
    pub rep_survey: Vec<Question>,
}

impl Session {
    /// Duration in seconds from the start/end timestamps, else from `HH:MM:SS`.
    pub fn duration_secs(&self) -> Option<u64> {
        if let (Some(s), Some(e)) = (
            self.start_time.as_ref().and_then(|t| t.unix),
            self.end_time.as_ref().and_then(|t| t.unix),
        ) {
            if e >= s {
                return Some((e - s) as u64);
            }
        }
        let d = self.duration.as_deref()?;
        let mut total = 0u64;
        for part in d.split(':') {
            total = total * 60 + part.trim().parse::<u64>().ok()?;
        }
        Some(total)
    }
}

fn flag(el: &Element, name: &str) -> bool {
    el.child_text(name)
        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn number(el: &Element, name: &str) -> Option<u64> {
    el.child_text(name).and_then(|v| v.parse().ok())
}

fn parse_customer(c: &Element) -> Customer {
    let info = c.child("info");
    let info_text = |n: &str| info.and_then(|i| i.child_text(n));
    Customer {
        gsnumber: c.attr("gsnumber").map(str::to_string),
        username: c.child_text("username"),
        public_ip: c.child_text("public_ip"),
        private_ip: c.child_text("private_ip"),
        hostname: c.child_text("hostname"),
        os: c.child_text("os"),
        primary: flag(c, "primary_cust"),
        name: info_text("name"),
        company: info_text("company"),
        company_code: info_text("company_code"),
        issue: info_text("issue"),
        details: info_text("details"),
    }
}

fn parse_rep(r: &Element) -> Representative {
    Representative {
        gsnumber: r.attr("gsnumber").map(str::to_string),
        id: r.attr("id").map(str::to_string),
        username: r.child_text("username"),
        display_name: r.child_text("display_name"),
        public_display_name: r.child_text("public_display_name"),
        private_display_name: r.child_text("private_display_name"),
        public_ip: r.child_text("public_ip"),
        private_ip: r.child_text("private_ip"),
        hostname: r.child_text("hostname"),
        os: r.child_text("os"),
        session_owner: flag(r, "session_owner"),
        primary: flag(r, "primary_rep"),
        seconds_involved: number(r, "seconds_involved"),
        invited: flag(r, "invited"),
    }
}

fn parse_sysinfo(si: &Element) -> Vec<SysInfoCategory> {
    si.children("category")
        .map(|cat| SysInfoCategory {
            name: cat.attr("name").unwrap_or_default().to_string(),
            columns: cat
                .child("description")
                .map(|d| {
                    d.children("field")
                        .map(|f| {
                            (
                                f.attr("name").unwrap_or_default().to_string(),
                                f.trimmed_text(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            rows: cat
                .child("data")
                .map(|d| {
                    d.children("row")
                        .map(|row| {
                            row.children("field")
                                .map(|f| {
                                    (
                                        f.attr("name").unwrap_or_default().to_string(),
                                        f.trimmed_text(),
                                    )
                                })
                                .collect()
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

fn decode_body(ev: &Element) -> Option<String> {
    if let Some(enc) = ev.child_text("encoded_body") {
        let cleaned: String = enc.chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    ev.child("body")
        .map(|b| b.text.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn parse_event(ev: &Element) -> SessionEvent {
    let timestamp = ev.attr("timestamp").unwrap_or_default().to_string();
    SessionEvent {
        unix: timestamp.trim().parse().ok(),
        timestamp,
        event_type: ev.attr("event_type").unwrap_or_default().to_string(),
        performed_by: ev.child("performed_by").map(Party::from),
        destination: ev.child("destination").map(Party::from),
        body: decode_body(ev),
        filename: ev.child_text("filename"),
        filesize: number(ev, "filesize"),
        files: ev
            .child("files")
            .map(|fs| {
                fs.children("file")
                    .map(|f| FileInfo {
                        filename: f.child_text("filename").unwrap_or_default(),
                        filesize: number(f, "filesize"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        data: ev
            .child("data")
            .map(|d| {
                d.children("value")
                    .map(|v| {
                        let value = v
                            .attr("value")
                            .map(str::to_string)
                            .unwrap_or_else(|| v.trimmed_text());
                        (v.attr("name").unwrap_or_default().to_string(), value)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        system_information: ev
            .child("system_information")
            .map(parse_sysinfo)
            .unwrap_or_default(),
    }
}

fn parse_session(s: &Element) -> Session {
    let url = |n: &str| s.child_text(n);
    Session {
        lsid: s.attr("lsid").unwrap_or_default().to_string(),
        session_type: s.child_text("session_type"),
        lseq: s.child_text("lseq"),
        start_time: s.child("start_time").and_then(Timestamp::from),
        end_time: s.child("end_time").and_then(Timestamp::from),
        duration: s.child_text("duration"),
        public_site: s.child_text("public_site"),
        external_key: s.child_text("external_key"),
        custom_attributes: s
            .child("custom_attributes")
            .map(|ca| {
                ca.children("custom_attribute")
                    .map(|a| CustomAttribute {
                        code_name: a.attr("code_name").unwrap_or_default().to_string(),
                        display_name: a.attr("display_name").unwrap_or_default().to_string(),
                        value: a.trimmed_text(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        chat_view_url: url("session_chat_view_url"),
        chat_download_url: url("session_chat_download_url"),
        recording_view_url: url("session_recording_view_url"),
        recording_download_url: url("session_recording_download_url"),
        shell_recordings: s
            .child("command_shell_recordings")
            .map(|c| {
                c.children("command_shell_recording")
                    .map(|r| ShellRecording {
                        view_url: r.child_text("view_url"),
                        download_url: r.child_text("download_url"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        file_transfer_count: number(s, "file_transfer_count"),
        file_move_count: number(s, "file_move_count"),
        file_delete_count: number(s, "file_delete_count"),
        primary_customer: s.child_text("primary_customer"),
        primary_rep: s.child_text("primary_rep"),
        customers: s
            .child("customer_list")
            .map(|l| l.children("customer").map(parse_customer).collect())
            .unwrap_or_default(),
        representatives: s
            .child("rep_list")
            .map(|l| l.children("representative").map(parse_rep).collect())
            .unwrap_or_default(),
        events: s
            .child("session_details")
            .map(|d| d.children("event").map(parse_event).collect())
            .unwrap_or_default(),
        has_customer_survey: s
            .child("cust_survey_list")
            .is_some_and(|l| !l.children.is_empty()),
        has_rep_survey: s
            .child("rep_survey_list")
            .is_some_and(|l| !l.children.is_empty()),
        customer_survey: s
            .child("cust_survey_list")
            .and_then(|l| l.child("cust_exit_survey"))
            .map(parse_questions)
            .unwrap_or_default(),
        rep_survey: s
            .child("rep_survey_list")
            .and_then(|l| l.child("rep_exit_survey"))
            .map(parse_questions)
            .unwrap_or_default(),
    }
}

/// `SupportSession` report: `<session_list>`.
pub fn parse_session_list(xml_text: &str) -> Result<Vec<Session>, ReportError> {
    let root = root(xml_text, "session_list")?;
    Ok(root.children("session").map(parse_session).collect())
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionSummary {
    pub lsid: String,
    pub external_key: Option<String>,
    pub has_recording: bool,
}

/// `SupportSessionListing` report: `<session_summary_list>`.
pub fn parse_session_summary_list(xml_text: &str) -> Result<Vec<SessionSummary>, ReportError> {
    let root = root(xml_text, "session_summary_list")?;
    Ok(root
        .children("session_summary")
        .filter_map(|s| {
            let lsid = s.attr("lsid")?.trim().to_string();
            Some(SessionSummary {
                lsid,
                external_key: s
                    .attr("external_key")
                    .map(str::to_string)
                    .filter(|k| !k.is_empty()),
                has_recording: s.attr("has_recording") == Some("1"),
            })
        })
        .filter(|s| !s.lsid.is_empty())
        .collect())
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Question {
    pub id: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub label: Option<String>,
    pub report_header: Option<String>,
    pub answers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExitSurvey {
    pub lsid: String,
    pub timestamp: Option<i64>,
    pub submitted_by: Option<Party>,
    pub primary_customer: Option<String>,
    pub primary_rep: Option<String>,
    pub questions: Vec<Question>,
}

/// `SupportCustExitSurvey` / `SupportRepExitSurvey` reports: `<exit_survey_list>`.
pub fn parse_exit_survey_list(xml_text: &str) -> Result<Vec<ExitSurvey>, ReportError> {
    let root = root(xml_text, "exit_survey_list")?;
    Ok(root
        .children("exit_survey")
        .map(|s| ExitSurvey {
            lsid: s.attr("lsid").unwrap_or_default().to_string(),
            timestamp: s
                .attr("timestamp")
                .or_else(|| s.attr("ts"))
                .and_then(|t| t.trim().parse().ok()),
            submitted_by: s.child("submitted_by").map(Party::from),
            primary_customer: s.child_text("primary_customer"),
            primary_rep: s.child_text("primary_rep"),
            questions: parse_questions(s),
        })
        .collect())
}

/// `question_list/question` of an exit survey element.
fn parse_questions(survey: &Element) -> Vec<Question> {
    survey
        .child("question_list")
        .map(|ql| {
            ql.children("question")
                .map(|q| Question {
                    id: q.attr("id").unwrap_or_default().to_string(),
                    kind: q.child_text("type"),
                    name: q.child_text("name"),
                    label: q.child_text("label"),
                    report_header: q.child_text("report_header"),
                    answers: q
                        .child("answer_list")
                        .map(|al| al.children("answer").map(|a| a.trimmed_text()).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiInfo {
    pub api_version: Option<String>,
    pub company_name: Option<String>,
    pub timestamp: Option<i64>,
    /// `perm_*` entries, as child elements or attributes of `<permissions>`.
    pub permissions: Vec<(String, String)>,
}

impl ApiInfo {
    pub fn permission(&self, name: &str) -> Option<&str> {
        self.permissions
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `get_api_info`: `<api_information>`.
pub fn parse_api_info(xml_text: &str) -> Result<ApiInfo, ReportError> {
    let root = root(xml_text, "api_information")?;
    let mut permissions = Vec::new();
    if let Some(p) = root.child("permissions") {
        permissions.extend(p.attrs.iter().cloned());
        for c in &p.children {
            // <perm_x>v</perm_x> or <permission name="perm_x" value="v"/>
            match (c.attr("name"), c.attr("value")) {
                (Some(n), Some(v)) => permissions.push((n.to_string(), v.to_string())),
                _ => permissions.push((c.name.clone(), c.trimmed_text())),
            }
        }
    }
    // Some versions put the perm_* elements directly under the root.
    for c in root.children.iter().filter(|c| c.name.starts_with("perm_")) {
        permissions.push((c.name.clone(), c.trimmed_text()));
    }
    Ok(ApiInfo {
        api_version: root.child_text("api_version"),
        company_name: root.child_text("company_name"),
        timestamp: root.child_text("timestamp").and_then(|t| t.parse().ok()),
        permissions,
    })
}
