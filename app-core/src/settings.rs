//! The app's installation settings, as Zendesk's `client.metadata().settings` hands them over.
//!
//! Zendesk sends text and multiline parameters as strings and checkboxes as booleans — but older
//! installations and the settings API may send `"true"`/`"false"` strings, and a parameter an
//! admin never touched may be missing. Parsing accepts all of those, and collects *every* problem
//! (not just the first) so an admin can fix the configuration in one pass.
//!
//! Errors are a typed enum carrying a translation key and its arguments, so the sidebar shows
//! them in the agent's language; `Display` gives the English text for logs and native callers.

use crate::jump_type::JumpType;

/// One raw setting value, before interpretation.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// Absent or `null`.
    Missing,
    /// A string (text, multiline — or a checkbox sent as `"true"`).
    Text(String),
    /// A JSON boolean (a checkbox).
    Bool(bool),
}

/// An issue end users can pick when they start a session: `code=Name` in the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The issue's code name in BeyondTrust (`/login > Support > Issues`).
    pub code: String,
    /// The name shown to end users.
    pub name: String,
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The appliance's bare host, with an optional `:port` (no scheme, no path).
    pub hostname: String,
    /// The issues, in the order the admin listed them.
    pub issues: Vec<Issue>,
    /// The Jumpoint names, in order, without blanks or duplicates.
    pub jumpoints: Vec<String>,
    /// The Jump types agents may use, in [`JumpType::ALL`] order.
    pub jump_types: Vec<JumpType>,
}

/// A configuration problem. [`SettingsError::key`] and [`SettingsError::args`] give the
/// translation key (under `ui.settings_error.` in `translations/*.json`) and its placeholders.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "The Hostname setting is empty: enter the appliance's host name, e.g. support.example.com."
    )]
    HostnameMissing,
    #[error("The Hostname setting starts with a scheme: remove it and enter only {suggestion}.")]
    HostnameHasScheme { suggestion: String },
    #[error("The Hostname setting contains a path: remove everything from the first '/', '?' or '#' and enter only {suggestion}.")]
    HostnameHasPath { suggestion: String },
    #[error("The Hostname setting contains spaces: remove them.")]
    HostnameHasSpaces,
    #[error("The Hostname setting contains '{character}', which a host name cannot contain.")]
    HostnameBadCharacter { character: char },
    #[error("The Hostname setting has port '{port}': a port is a number from 1 to 65535.")]
    HostnameBadPort { port: String },
    #[error("The Hostname setting is {length} characters long: a host name has at most 253.")]
    HostnameTooLong { length: usize },
    #[error("The Hostname setting has the part '{label}': each dot-separated part of a host name is 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen.")]
    HostnameBadLabel { label: String },
    #[error("The Hostname setting '{host}' is not a valid IP address.")]
    HostnameBadAddress { host: String },
    #[error("Issues, line {line}: write it as issue_code=Issue Name.")]
    IssueLineMalformed { line: usize },
    #[error("Issues, line {line}: the code '{code}' is already used on line {first_line}.")]
    IssueCodeDuplicate {
        line: usize,
        code: String,
        first_line: usize,
    },
    #[error("'{}' is on but no Jumpoint is configured: add at least one Jumpoint (one per line) or turn it off.", toggle.setting_name())]
    JumpointRequired { toggle: JumpType },
    #[error("The setting {setting} should be true or false, not '{value}'.")]
    NotABoolean {
        setting: &'static str,
        value: String,
    },
}

impl SettingsError {
    /// The translation key of this problem's message.
    pub fn key(&self) -> &'static str {
        match self {
            SettingsError::HostnameMissing => "ui.settings_error.hostname_missing",
            SettingsError::HostnameHasScheme { .. } => "ui.settings_error.hostname_has_scheme",
            SettingsError::HostnameHasPath { .. } => "ui.settings_error.hostname_has_path",
            SettingsError::HostnameHasSpaces => "ui.settings_error.hostname_has_spaces",
            SettingsError::HostnameBadCharacter { .. } => {
                "ui.settings_error.hostname_bad_character"
            }
            SettingsError::HostnameBadPort { .. } => "ui.settings_error.hostname_bad_port",
            SettingsError::HostnameTooLong { .. } => "ui.settings_error.hostname_too_long",
            SettingsError::HostnameBadLabel { .. } => "ui.settings_error.hostname_bad_label",
            SettingsError::HostnameBadAddress { .. } => "ui.settings_error.hostname_bad_address",
            SettingsError::IssueLineMalformed { .. } => "ui.settings_error.issue_line_malformed",
            SettingsError::IssueCodeDuplicate { .. } => "ui.settings_error.issue_code_duplicate",
            SettingsError::JumpointRequired { .. } => "ui.settings_error.jumpoint_required",
            SettingsError::NotABoolean { .. } => "ui.settings_error.not_a_boolean",
        }
    }

    /// The placeholders of this problem's message. `toggle` and `setting` are parameter names;
    /// the UI replaces them by the parameter's translated label (`app.parameters.NAME.label`).
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            SettingsError::HostnameMissing | SettingsError::HostnameHasSpaces => vec![],
            SettingsError::HostnameHasScheme { suggestion }
            | SettingsError::HostnameHasPath { suggestion } => {
                vec![("suggestion", suggestion.clone())]
            }
            SettingsError::HostnameBadCharacter { character } => {
                vec![("character", character.to_string())]
            }
            SettingsError::HostnameBadPort { port } => vec![("port", port.clone())],
            SettingsError::HostnameTooLong { length } => vec![("length", length.to_string())],
            SettingsError::HostnameBadLabel { label } => vec![("label", label.clone())],
            SettingsError::HostnameBadAddress { host } => vec![("host", host.clone())],
            SettingsError::IssueLineMalformed { line } => vec![("line", line.to_string())],
            SettingsError::IssueCodeDuplicate {
                line,
                code,
                first_line,
            } => vec![
                ("line", line.to_string()),
                ("code", code.clone()),
                ("first_line", first_line.to_string()),
            ],
            SettingsError::JumpointRequired { toggle } => {
                vec![("toggle", toggle.setting_name().to_string())]
            }
            SettingsError::NotABoolean { setting, value } => {
                vec![("setting", setting.to_string()), ("value", value.clone())]
            }
        }
    }
}

impl Settings {
    /// Parses settings from a lookup by parameter name (the wasm side reads the JS object
    /// directly, so the app does not need a JSON parser).
    pub fn parse(lookup: impl Fn(&str) -> RawValue) -> Result<Settings, Vec<SettingsError>> {
        let mut problems = Vec::new();
        let hostname = match parse_hostname(&text(lookup("hostname"))) {
            Ok(host) => host,
            Err(problem) => {
                problems.push(problem);
                String::new()
            }
        };
        let issues = parse_issues(&text(lookup("issues")), &mut problems);
        let jumpoints = parse_jumpoints(&text(lookup("jumpoints")));
        let mut jump_types = Vec::new();
        for jump_type in JumpType::ALL {
            match toggle(jump_type, lookup(jump_type.setting_name())) {
                Ok(true) => {
                    if jump_type.needs_jumpoint() && jumpoints.is_empty() {
                        problems.push(SettingsError::JumpointRequired { toggle: jump_type });
                    }
                    jump_types.push(jump_type);
                }
                Ok(false) => {}
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            Ok(Settings {
                hostname,
                issues,
                jumpoints,
                jump_types,
            })
        } else {
            Err(problems)
        }
    }

    /// Parses the `settings` object of `client.metadata()` as JSON (native callers and tests).
    pub fn from_json(settings: &serde_json::Value) -> Result<Settings, Vec<SettingsError>> {
        Settings::parse(|name| match settings.get(name) {
            None | Some(serde_json::Value::Null) => RawValue::Missing,
            Some(serde_json::Value::Bool(b)) => RawValue::Bool(*b),
            Some(serde_json::Value::String(s)) => RawValue::Text(s.clone()),
            Some(other) => RawValue::Text(other.to_string()),
        })
    }

    /// Whether agents may use this Jump type.
    pub fn allows(&self, jump_type: JumpType) -> bool {
        self.jump_types.contains(&jump_type)
    }
}

fn text(value: RawValue) -> String {
    match value {
        RawValue::Missing => String::new(),
        RawValue::Text(s) => s,
        RawValue::Bool(b) => b.to_string(),
    }
}

fn toggle(jump_type: JumpType, value: RawValue) -> Result<bool, SettingsError> {
    match value {
        RawValue::Missing => Ok(jump_type.enabled_by_default()),
        RawValue::Bool(b) => Ok(b),
        RawValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" | "" => Ok(false),
            _ => Err(SettingsError::NotABoolean {
                setting: jump_type.setting_name(),
                value: s,
            }),
        },
    }
}

/// The longest DNS name (RFC 1035, in its dotted text form).
pub const MAX_HOSTNAME: usize = 253;
/// The longest label of a DNS name.
const MAX_LABEL: usize = 63;

/// Checks a bare `host[:port]`: a DNS name, an IPv4 address or a bracketed IPv6 address, with
/// an optional port. Surrounding spaces are forgiven; everything else is explained. The value
/// goes into every URL the app and the Help Center snippet build, so nothing that could end or
/// extend a URL or markup (quotes, `<`, `&`, `/`, `?`, `#`, spaces) passes.
pub fn parse_hostname(raw: &str) -> Result<String, SettingsError> {
    let host = raw.trim();
    if host.is_empty() {
        return Err(SettingsError::HostnameMissing);
    }
    if let Some((_, rest)) = host.split_once("://") {
        return Err(match host_part(rest) {
            "" => SettingsError::HostnameMissing,
            host => SettingsError::HostnameHasScheme {
                suggestion: host.to_string(),
            },
        });
    }
    if host.contains(['/', '?', '#']) {
        return Err(match host_part(host) {
            "" => SettingsError::HostnameMissing,
            host => SettingsError::HostnameHasPath {
                suggestion: host.to_string(),
            },
        });
    }
    if host.chars().any(char::is_whitespace) {
        return Err(SettingsError::HostnameHasSpaces);
    }
    let (name, port) = split_port(host);
    let name_ok = if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        check_chars(v6, |c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        check_chars(name, |c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'
        })
    };
    name_ok?;
    if name.is_empty() || name == "[]" {
        return Err(SettingsError::HostnameMissing);
    }
    if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(SettingsError::HostnameBadAddress {
                host: name.to_string(),
            });
        }
    } else {
        check_dns_name(name)?;
    }
    if let Some(port) = port {
        if !matches!(port.parse::<u32>(), Ok(1..=65535))
            || !port.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(SettingsError::HostnameBadPort {
                port: port.to_string(),
            });
        }
    }
    Ok(host.to_ascii_lowercase())
}

/// Length and label rules of a DNS name; a name whose last label is all digits must be an IPv4
/// address (browsers read `10.0.0.300` as a broken address, not as a name).
fn check_dns_name(name: &str) -> Result<(), SettingsError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.len() > MAX_HOSTNAME {
        return Err(SettingsError::HostnameTooLong {
            length: name.chars().count(),
        });
    }
    for label in trimmed.split('.') {
        if label.is_empty()
            || label.len() > MAX_LABEL
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return Err(SettingsError::HostnameBadLabel {
                label: label.to_string(),
            });
        }
    }
    let last = trimmed.rsplit('.').next().unwrap_or_default();
    if last.bytes().all(|b| b.is_ascii_digit()) && trimmed.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(SettingsError::HostnameBadAddress {
            host: name.to_string(),
        });
    }
    Ok(())
}

fn check_chars(name: &str, ok: impl Fn(char) -> bool) -> Result<(), SettingsError> {
    match name.chars().find(|c| !ok(*c)) {
        Some(character) => Err(SettingsError::HostnameBadCharacter { character }),
        None => Ok(()),
    }
}

/// The part before any path, query or fragment (what the admin most likely meant).
fn host_part(s: &str) -> &str {
    s.split(['/', '?', '#']).next().unwrap_or(s).trim()
}

/// Splits `name[:port]`, minding bracketed IPv6 addresses.
fn split_port(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => {
                let (name, rest) = host.split_at(end + 1);
                (name, rest.strip_prefix(':'))
            }
            None => (host, None),
        };
    }
    match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    }
}

fn parse_issues(raw: &str, problems: &mut Vec<SettingsError>) -> Vec<Issue> {
    let mut issues: Vec<(usize, Issue)> = Vec::new();
    for (index, line) in raw.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((code, name)) = line.split_once('=') else {
            problems.push(SettingsError::IssueLineMalformed { line: line_no });
            continue;
        };
        let (code, name) = (code.trim(), name.trim());
        if code.is_empty() || name.is_empty() || code.chars().any(char::is_whitespace) {
            problems.push(SettingsError::IssueLineMalformed { line: line_no });
            continue;
        }
        if let Some((first_line, _)) = issues.iter().find(|(_, issue)| issue.code == code) {
            problems.push(SettingsError::IssueCodeDuplicate {
                line: line_no,
                code: code.to_string(),
                first_line: *first_line,
            });
            continue;
        }
        issues.push((
            line_no,
            Issue {
                code: code.to_string(),
                name: name.to_string(),
            },
        ));
    }
    issues.into_iter().map(|(_, issue)| issue).collect()
}

fn parse_jumpoints(raw: &str) -> Vec<String> {
    let mut jumpoints: Vec<String> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !jumpoints.iter().any(|j| j == line) {
            jumpoints.push(line.to_string());
        }
    }
    jumpoints
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> serde_json::Value {
        json!({
            "hostname": "support.example.com",
            "issues": "general_tech=General Technical Issues\n\n  billing = Billing questions  \n",
            "jumpoints": "Main Office\n\nDMZ\n",
            "allow_jump_client": true,
            "allow_local_jump": "false",
            "allow_remote_jump": "true",
            "allow_rdp": false,
            "allow_shell_jump": true,
        })
    }

    #[test]
    fn parses_a_complete_configuration() {
        let s = Settings::from_json(&good()).expect("valid");
        assert_eq!(s.hostname, "support.example.com");
        assert_eq!(
            s.issues,
            vec![
                Issue {
                    code: "general_tech".into(),
                    name: "General Technical Issues".into()
                },
                Issue {
                    code: "billing".into(),
                    name: "Billing questions".into()
                },
            ]
        );
        assert_eq!(s.jumpoints, vec!["Main Office", "DMZ"]);
        assert_eq!(
            s.jump_types,
            vec![
                JumpType::JumpClient,
                JumpType::RemoteJump,
                JumpType::ShellJump
            ]
        );
        assert!(s.allows(JumpType::ShellJump) && !s.allows(JumpType::Rdp));
    }

    #[test]
    fn missing_toggles_take_the_manifest_defaults() {
        let s =
            Settings::from_json(&json!({"hostname": "h.example", "issues": "a=A"})).expect("valid");
        assert_eq!(
            s.jump_types,
            vec![JumpType::JumpClient, JumpType::LocalJump]
        );
        assert!(s.jumpoints.is_empty());
    }

    #[test]
    fn hostname_accepts_host_and_port() {
        for ok in [
            "support.example.com",
            " Support.Example.com ",
            "10.0.0.5:8443",
            "[::1]:443",
            "bt_1.local",
            "127.0.0.1:8443",
            "support.example.com.",
            "xn--bcher-kva.example",
        ] {
            assert!(parse_hostname(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            parse_hostname(" Support.Example.com ").as_deref(),
            Ok("support.example.com")
        );
    }

    #[test]
    fn hostname_errors_say_what_to_fix() {
        assert_eq!(parse_hostname("  "), Err(SettingsError::HostnameMissing));
        assert_eq!(
            parse_hostname("https://"),
            Err(SettingsError::HostnameMissing)
        );
        assert_eq!(
            parse_hostname("/login"),
            Err(SettingsError::HostnameMissing)
        );
        assert_eq!(
            parse_hostname("https://support.example.com/login"),
            Err(SettingsError::HostnameHasScheme {
                suggestion: "support.example.com".into()
            })
        );
        assert_eq!(
            parse_hostname("support.example.com/api"),
            Err(SettingsError::HostnameHasPath {
                suggestion: "support.example.com".into()
            })
        );
        assert_eq!(
            parse_hostname("support example.com"),
            Err(SettingsError::HostnameHasSpaces)
        );
        assert_eq!(
            parse_hostname("support!.example.com"),
            Err(SettingsError::HostnameBadCharacter { character: '!' })
        );
        for (raw, character) in [
            ("support\".example.com", '"'),
            ("support'.example.com", '\''),
            ("support<b>.example.com", '<'),
            ("a&b.example.com", '&'),
            ("user@support.example.com", '@'),
        ] {
            assert_eq!(
                parse_hostname(raw),
                Err(SettingsError::HostnameBadCharacter { character }),
                "{raw}"
            );
        }
        let label = "a".repeat(63);
        let long = [label.as_str(); 4].join(".");
        assert_eq!(long.len(), 255);
        assert_eq!(
            parse_hostname(&long),
            Err(SettingsError::HostnameTooLong { length: 255 })
        );
        let at_limit = format!("{}.{}", [label.as_str(); 3].join("."), "b".repeat(61));
        assert_eq!(at_limit.len(), MAX_HOSTNAME);
        assert!(parse_hostname(&at_limit).is_ok());
        for (raw, label) in [
            ("support..example.com", ""),
            (".example.com", ""),
            ("-bad.example.com", "-bad"),
            ("bad-.example.com", "bad-"),
            (&format!("{}a.example.com", label), &*format!("{}a", label)),
        ] {
            assert_eq!(
                parse_hostname(raw),
                Err(SettingsError::HostnameBadLabel {
                    label: label.to_string()
                }),
                "{raw}"
            );
        }
        for raw in ["10.0.0.300", "1.2.3", "[::g]", "[1:2]:443"] {
            assert!(
                matches!(
                    parse_hostname(raw),
                    Err(SettingsError::HostnameBadAddress { .. })
                        | Err(SettingsError::HostnameBadCharacter { .. })
                ),
                "{raw}: {:?}",
                parse_hostname(raw)
            );
        }
        assert_eq!(
            parse_hostname("10.0.0.300"),
            Err(SettingsError::HostnameBadAddress {
                host: "10.0.0.300".into()
            })
        );
        for port in ["0", "65536", "x", ""] {
            assert_eq!(
                parse_hostname(&format!("h.example:{port}")),
                Err(SettingsError::HostnameBadPort { port: port.into() })
            );
        }
    }

    #[test]
    fn collects_every_problem_with_line_numbers() {
        let problems = Settings::from_json(&json!({
            "hostname": "http://bt.example.com",
            "issues": "ok=Fine\nno equals sign\n\n=No code\ndup=One\ndup=Two\ncode=",
            "jumpoints": "  \n",
            "allow_jump_client": "maybe",
            "allow_remote_jump": true,
            "allow_rdp": "true",
            "allow_shell_jump": false,
        }))
        .expect_err("invalid");
        assert_eq!(
            problems,
            vec![
                SettingsError::HostnameHasScheme {
                    suggestion: "bt.example.com".into()
                },
                SettingsError::IssueLineMalformed { line: 2 },
                SettingsError::IssueLineMalformed { line: 4 },
                SettingsError::IssueCodeDuplicate {
                    line: 6,
                    code: "dup".into(),
                    first_line: 5
                },
                SettingsError::IssueLineMalformed { line: 7 },
                SettingsError::NotABoolean {
                    setting: "allow_jump_client",
                    value: "maybe".into()
                },
                SettingsError::JumpointRequired {
                    toggle: JumpType::RemoteJump
                },
                SettingsError::JumpointRequired {
                    toggle: JumpType::Rdp
                },
            ]
        );
    }

    #[test]
    fn errors_carry_keys_args_and_english_text() {
        let e = SettingsError::JumpointRequired {
            toggle: JumpType::ShellJump,
        };
        assert_eq!(e.key(), "ui.settings_error.jumpoint_required");
        assert_eq!(e.args(), vec![("toggle", "allow_shell_jump".to_string())]);
        assert!(e.to_string().contains("add at least one Jumpoint"));
        let e = SettingsError::IssueLineMalformed { line: 3 };
        assert_eq!(e.args(), vec![("line", "3".to_string())]);
        assert_eq!(
            e.to_string(),
            "Issues, line 3: write it as issue_code=Issue Name."
        );
    }

    #[test]
    fn jumpoints_drop_blanks_and_duplicates() {
        assert_eq!(parse_jumpoints(" A \n\nB\nA\r\n"), vec!["A", "B"]);
    }
}
