//! The scripted session model: what a test says happened in a support session.
//!
//! A [`SessionSpec`] is a builder; `SessionSpec::default().external_key("42")` is already a
//! complete session with one customer ("Jane Customer") and one representative ("John Rep").
//! The appliance turns a spec into report XML and outbound events.

use serde::{Deserialize, Serialize};

/// One customer in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    pub name: String,
    pub username: String,
    pub company: String,
    pub company_code: String,
    pub issue: String,
    pub details: String,
    pub public_ip: String,
    pub private_ip: String,
    pub hostname: String,
    pub os: String,
}

impl Default for Customer {
    fn default() -> Self {
        Customer {
            name: "Jane Customer".into(),
            username: "jcustomer".into(),
            company: "Example Corp".into(),
            company_code: "EX1".into(),
            issue: "General Support".into(),
            details: "Printer does not work".into(),
            public_ip: "203.0.113.10:51000".into(),
            private_ip: "10.0.0.5".into(),
            hostname: "JANE-PC".into(),
            os: "Windows 11 Pro".into(),
        }
    }
}

impl Customer {
    /// The default customer with another name.
    pub fn named(name: impl Into<String>) -> Self {
        Customer {
            name: name.into(),
            ..Customer::default()
        }
    }
}

/// One representative in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rep {
    /// The representative's user id on the appliance (`primary_rep[@id]`).
    pub id: u32,
    pub username: String,
    pub display_name: String,
    pub public_display_name: String,
    pub private_display_name: String,
    pub public_ip: String,
    pub private_ip: String,
    pub hostname: String,
    pub os: String,
}

impl Default for Rep {
    fn default() -> Self {
        Rep {
            id: 7,
            username: "jrep".into(),
            display_name: "John Rep".into(),
            public_display_name: "John".into(),
            private_display_name: "John Rep".into(),
            public_ip: "198.51.100.20:52000".into(),
            private_ip: "10.1.0.7".into(),
            hostname: "REP-LAPTOP".into(),
            os: "Windows 10 Enterprise".into(),
        }
    }
}

impl Rep {
    /// The default representative with another display name and id.
    pub fn named(display_name: impl Into<String>, id: u32) -> Self {
        let display_name = display_name.into();
        Rep {
            id,
            username: display_name.to_lowercase().replace(' ', "."),
            public_display_name: display_name.clone(),
            private_display_name: display_name.clone(),
            display_name,
            ..Rep::default()
        }
    }
}

/// Who did something: the n-th customer or representative (0 = primary), or the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Customer(usize),
    Rep(usize),
    System,
}

impl Party {
    /// The primary customer.
    pub const CUSTOMER: Party = Party::Customer(0);
    /// The primary representative.
    pub const REP: Party = Party::Rep(0);
}

/// One category of "System Information Retrieved".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SysInfoCategory {
    pub name: String,
    /// Column descriptions: (field name, human description).
    pub columns: Vec<(String, String)>,
    /// Rows of (field name, value).
    pub rows: Vec<Vec<(String, String)>>,
}

impl SysInfoCategory {
    /// A category with one row whose columns are described by their own names.
    pub fn single_row<N: Into<String>, V: Into<String>>(
        name: impl Into<String>,
        fields: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let row: Vec<(String, String)> = fields
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        SysInfoCategory {
            name: name.into(),
            columns: row.iter().map(|(n, _)| (n.clone(), n.clone())).collect(),
            rows: vec![row],
        }
    }
}

/// `(name, rows, columns)` of a realistic Windows System Information retrieval: the small
/// categories the seed imports (overview, disk, memory, network) and the large ones it leaves
/// out (processes, services, installed programs, drivers, ...).
const REALISTIC: &[(&str, usize, &[&str])] = &[
    (
        "Overview",
        1,
        &[
            "Computer Name",
            "Operating System",
            "Version",
            "Manufacturer",
            "Model",
            "Processor",
            "Memory",
            "Domain",
            "User",
            "Uptime",
        ],
    ),
    (
        "Disk Drives",
        3,
        &["Drive", "File System", "Size", "Free Space", "Label"],
    ),
    ("Memory", 4, &["Slot", "Capacity", "Speed", "Manufacturer"]),
    (
        "Network Adapters",
        4,
        &[
            "Name",
            "MAC Address",
            "IP Address",
            "Gateway",
            "DNS Servers",
            "DHCP",
        ],
    ),
    (
        "Processes",
        140,
        &["Name", "PID", "User", "Memory", "CPU Time", "Path"],
    ),
    (
        "Services",
        180,
        &["Name", "Display Name", "Status", "Startup Type", "Account"],
    ),
    (
        "Installed Programs",
        110,
        &["Name", "Publisher", "Version", "Installed On", "Size"],
    ),
    (
        "Drivers",
        130,
        &["Name", "Description", "Type", "Status", "Path"],
    ),
    (
        "Startup Programs",
        18,
        &["Name", "Command", "Location", "User"],
    ),
    (
        "Scheduled Tasks",
        40,
        &["Name", "Status", "Next Run", "Last Result"],
    ),
    ("Printers", 3, &["Name", "Driver", "Port", "Default"]),
    (
        "Windows Updates",
        60,
        &["HotFix ID", "Description", "Installed On"],
    ),
];

impl SysInfoCategory {
    /// A realistic retrieval: 12 categories, hundreds of rows. `variant` changes the values so
    /// several retrievals in one session differ.
    pub fn realistic(variant: usize) -> Vec<SysInfoCategory> {
        REALISTIC
            .iter()
            .map(|(name, rows, columns)| SysInfoCategory {
                name: name.to_string(),
                columns: columns
                    .iter()
                    .map(|c| (c.replace(' ', "_").to_lowercase(), c.to_string()))
                    .collect(),
                rows: (0..*rows)
                    .map(|r| {
                        columns
                            .iter()
                            .enumerate()
                            .map(|(i, c)| {
                                (
                                    c.replace(' ', "_").to_lowercase(),
                                    format!(
                                        "{c} {} of row {r} (#{variant}.{i})",
                                        name.to_lowercase()
                                    ),
                                )
                            })
                            .collect()
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Generated bulk for a session (control API and tests): realistic System Information
/// retrievals and a long chat, appended after the scripted events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Load {
    pub system_info_retrievals: usize,
    pub chat_lines: usize,
}

/// One question of an exit survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyQuestion {
    pub id: u32,
    /// `radio`, `text`, `checkbox`, ...
    pub kind: String,
    pub name: String,
    pub label: String,
    pub report_header: String,
    pub answers: Vec<String>,
}

impl SurveyQuestion {
    /// A question from its name and one answer; `rating` and `comments` get the labels the
    /// appliance's default surveys use.
    pub fn new(id: u32, name: impl Into<String>, answer: impl Into<String>) -> Self {
        let name = name.into();
        let (kind, label, header) = match name.as_str() {
            "rating" => ("radio", "How would you rate this session?", "Rating"),
            "comments" => ("text", "Comments", "Comments"),
            other => ("text", other, other),
        };
        SurveyQuestion {
            id,
            kind: kind.into(),
            label: label.into(),
            report_header: header.into(),
            name,
            answers: vec![answer.into()],
        }
    }
}

/// One scripted thing that happens during the session, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ScriptedEvent {
    Chat { from: Party, text: String },
    FileUpload { by: Party, name: String, size: u64 },
    FileDownload { by: Party, name: String, size: u64 },
    Note { by: Party, text: String },
    SystemInfo { categories: Vec<SysInfoCategory> },
}

/// Description of a scripted support session (builder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SessionSpec {
    pub external_key: Option<String>,
    /// Empty means one default customer.
    pub customers: Vec<Customer>,
    /// Empty means one default representative.
    pub reps: Vec<Rep>,
    pub events: Vec<ScriptedEvent>,
    /// (code_name, display_name, value)
    pub custom_attributes: Vec<(String, String, String)>,
    pub customer_survey: Vec<SurveyQuestion>,
    pub rep_survey: Vec<SurveyQuestion>,
    /// Unix time; `None` = just early enough that the scripted activity ends at creation.
    pub start_time: Option<i64>,
    pub has_recording: bool,
}

fn questions<N: Into<String>, A: Into<String>>(
    answers: impl IntoIterator<Item = (N, A)>,
) -> Vec<SurveyQuestion> {
    answers
        .into_iter()
        .enumerate()
        .map(|(i, (n, a))| SurveyQuestion::new(i as u32 + 1, n, a))
        .collect()
}

impl SessionSpec {
    pub fn external_key(mut self, key: impl Into<String>) -> Self {
        self.external_key = Some(key.into());
        self
    }
    /// Adds a customer (the first one added is the primary customer).
    pub fn customer(mut self, customer: Customer) -> Self {
        self.customers.push(customer);
        self
    }
    /// Adds a representative (the first one added is the primary representative and owner).
    pub fn rep(mut self, rep: Rep) -> Self {
        self.reps.push(rep);
        self
    }
    pub fn chat(mut self, from: Party, text: impl Into<String>) -> Self {
        self.events.push(ScriptedEvent::Chat {
            from,
            text: text.into(),
        });
        self
    }
    pub fn file_upload(mut self, by: Party, name: impl Into<String>, size: u64) -> Self {
        self.events.push(ScriptedEvent::FileUpload {
            by,
            name: name.into(),
            size,
        });
        self
    }
    pub fn file_download(mut self, by: Party, name: impl Into<String>, size: u64) -> Self {
        self.events.push(ScriptedEvent::FileDownload {
            by,
            name: name.into(),
            size,
        });
        self
    }
    pub fn note(mut self, by: Party, text: impl Into<String>) -> Self {
        self.events.push(ScriptedEvent::Note {
            by,
            text: text.into(),
        });
        self
    }
    pub fn system_info(mut self, categories: Vec<SysInfoCategory>) -> Self {
        self.events.push(ScriptedEvent::SystemInfo { categories });
        self
    }
    pub fn custom_attribute(
        mut self,
        code_name: impl Into<String>,
        display_name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.custom_attributes
            .push((code_name.into(), display_name.into(), value.into()));
        self
    }
    /// Customer exit survey: `[("rating", "5"), ("comments", "Great help")]`.
    pub fn customer_survey<N: Into<String>, A: Into<String>>(
        mut self,
        answers: impl IntoIterator<Item = (N, A)>,
    ) -> Self {
        self.customer_survey = questions(answers);
        self
    }
    /// Representative exit survey, same form as [`SessionSpec::customer_survey`].
    pub fn rep_survey<N: Into<String>, A: Into<String>>(
        mut self,
        answers: impl IntoIterator<Item = (N, A)>,
    ) -> Self {
        self.rep_survey = questions(answers);
        self
    }
    pub fn start_time(mut self, unix: i64) -> Self {
        self.start_time = Some(unix);
        self
    }
    /// Appends `load`: `system_info_retrievals` realistic retrievals ([`SysInfoCategory::realistic`])
    /// spread through `chat_lines` numbered chat lines alternating customer / representative.
    pub fn with_load(mut self, load: Load) -> Self {
        let every = load.chat_lines / (load.system_info_retrievals + 1);
        let mut retrieved = 0;
        for i in 0..load.chat_lines {
            if retrieved < load.system_info_retrievals && every > 0 && i > 0 && i % every == 0 {
                self = self.system_info(SysInfoCategory::realistic(retrieved));
                retrieved += 1;
            }
            let from = if i % 2 == 0 {
                Party::CUSTOMER
            } else {
                Party::REP
            };
            self = self.chat(
                from,
                format!("chat line {:04}: step {i} of the troubleshooting", i + 1),
            );
        }
        for v in retrieved..load.system_info_retrievals {
            self = self.system_info(SysInfoCategory::realistic(v));
        }
        self
    }
    pub fn recording(mut self, has_recording: bool) -> Self {
        self.has_recording = has_recording;
        self
    }

    pub(crate) fn customers_or_default(&self) -> Vec<Customer> {
        if self.customers.is_empty() {
            vec![Customer::default()]
        } else {
            self.customers.clone()
        }
    }
    pub(crate) fn reps_or_default(&self) -> Vec<Rep> {
        if self.reps.is_empty() {
            vec![Rep::default()]
        } else {
            self.reps.clone()
        }
    }
}

/// A session the appliance knows about.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Session {
    pub lsid: String,
    pub lseq: u64,
    pub spec: SessionSpec,
    pub start_time: i64,
    pub end_time: Option<i64>,
    /// Current external key (the spec's, or one set later by `set_session_attributes`).
    pub external_key: Option<String>,
    /// Custom attributes, including ones set later.
    pub custom_attributes: Vec<(String, String, String)>,
    /// Report fetches still to answer without `end_time`.
    pub lag_remaining: u32,
    /// `SupportSession` fetches still to answer "No archives found" (not archived yet).
    pub unarchived_remaining: u32,
}

impl Session {
    /// Unix time of the n-th scripted event (events are ten seconds apart after the members
    /// joined).
    pub fn event_time(&self, index: usize) -> i64 {
        self.start_time + 10 * (index as i64 + 1)
    }

    /// Whether a `SupportSession` fetch finds the session archived; counts the fetch against
    /// `unarchived_remaining`.
    pub fn archived_for_fetch(&mut self) -> bool {
        if self.unarchived_remaining > 0 {
            self.unarchived_remaining -= 1;
            return false;
        }
        true
    }

    /// Last moment of scripted activity, before which the session cannot end.
    pub fn last_activity(&self) -> i64 {
        self.event_time(self.spec.events.len())
    }

    /// Whether a report fetch should show the session as ended; consumes one unit of lag.
    pub fn report_shows_end(&mut self) -> bool {
        if self.end_time.is_none() {
            return false;
        }
        if self.lag_remaining > 0 {
            self.lag_remaining -= 1;
            return false;
        }
        true
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;

    #[test]
    fn load_adds_realistic_system_information_and_a_long_chat() {
        let spec = SessionSpec::default().with_load(Load {
            system_info_retrievals: 3,
            chat_lines: 1500,
        });
        let chats = spec
            .events
            .iter()
            .filter(|e| matches!(e, ScriptedEvent::Chat { .. }))
            .count();
        assert_eq!(chats, 1500);
        let retrievals: Vec<&Vec<SysInfoCategory>> = spec
            .events
            .iter()
            .filter_map(|e| match e {
                ScriptedEvent::SystemInfo { categories } => Some(categories),
                _ => None,
            })
            .collect();
        assert_eq!(retrievals.len(), 3);
        assert!(retrievals[0].len() >= 10);
        let rows: usize = retrievals[0].iter().map(|c| c.rows.len()).sum();
        assert!(rows >= 500, "{rows} rows");
        assert_ne!(retrievals[0], retrievals[1], "retrievals differ");
        // Spread through the chat, not all at the end.
        assert!(!matches!(
            spec.events.last(),
            Some(ScriptedEvent::SystemInfo { .. })
        ));
    }
}
