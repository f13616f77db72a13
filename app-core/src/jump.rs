//! The Jump form's rules: what an agent must fill in before a Jump can launch.
//!
//! The sidebar validates inline with these same rules, so the URL builder only ever sees a
//! [`JumpRequest`] that the representative console can act on.

use crate::jump_type::JumpType;
use crate::settings::Settings;

/// Shell Jump's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShellProtocol {
    #[default]
    Ssh,
    Telnet,
}

impl ShellProtocol {
    /// The value BeyondTrust expects (`protocol=ssh|telnet`).
    pub fn id(self) -> &'static str {
        match self {
            ShellProtocol::Ssh => "ssh",
            ShellProtocol::Telnet => "telnet",
        }
    }

    /// The inverse of [`ShellProtocol::id`].
    pub fn from_id(id: &str) -> Option<ShellProtocol> {
        match id {
            "ssh" => Some(ShellProtocol::Ssh),
            "telnet" => Some(ShellProtocol::Telnet),
            _ => None,
        }
    }

    /// The protocol's well-known port, the form's default.
    pub fn default_port(self) -> u16 {
        match self {
            ShellProtocol::Ssh => 22,
            ShellProtocol::Telnet => 23,
        }
    }
}

/// What the agent typed, as strings (the form's raw state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpInput {
    pub jump_type: JumpType,
    /// Hostname or IP, or the Jump Client search text.
    pub target: String,
    pub jumpoint: String,
    pub username: String,
    pub protocol: ShellProtocol,
    pub port: String,
}

/// A complete, launchable Jump; values trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JumpRequest {
    JumpClient {
        search: String,
    },
    LocalJump {
        hostname: String,
    },
    RemoteJump {
        target: String,
        jumpoint: String,
    },
    Rdp {
        target: String,
        jumpoint: String,
        username: String,
    },
    ShellJump {
        target: String,
        jumpoint: String,
        username: String,
        protocol: ShellProtocol,
        port: u16,
    },
}

/// The form field a problem belongs to (where the UI shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    JumpType,
    Target,
    Jumpoint,
    Port,
}

/// Why a Jump cannot launch yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JumpProblem {
    #[error("This Jump type is not enabled in the app settings.")]
    TypeNotEnabled,
    #[error("Enter the search text of the Jump Client.")]
    SearchRequired,
    #[error("Enter a hostname or IP address.")]
    TargetRequired,
    #[error("A hostname or IP address cannot contain spaces.")]
    TargetHasSpaces,
    #[error("Choose a Jumpoint.")]
    JumpointRequired,
    #[error("Enter a port number from 1 to 65535.")]
    PortInvalid,
}

impl JumpProblem {
    /// The field the problem is shown next to.
    pub fn field(self) -> Field {
        match self {
            JumpProblem::TypeNotEnabled => Field::JumpType,
            JumpProblem::SearchRequired
            | JumpProblem::TargetRequired
            | JumpProblem::TargetHasSpaces => Field::Target,
            JumpProblem::JumpointRequired => Field::Jumpoint,
            JumpProblem::PortInvalid => Field::Port,
        }
    }

    /// The translation key of the message.
    pub fn key(self) -> &'static str {
        match self {
            JumpProblem::TypeNotEnabled => "ui.jump_error.type_not_enabled",
            JumpProblem::SearchRequired => "ui.jump_error.search_required",
            JumpProblem::TargetRequired => "ui.jump_error.target_required",
            JumpProblem::TargetHasSpaces => "ui.jump_error.target_has_spaces",
            JumpProblem::JumpointRequired => "ui.jump_error.jumpoint_required",
            JumpProblem::PortInvalid => "ui.jump_error.port_invalid",
        }
    }
}

/// Parses a port typed by the agent: digits only, 1..=65535.
pub fn parse_port(raw: &str) -> Option<u16> {
    let raw = raw.trim();
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u16>().ok().filter(|p| *p > 0)
}

/// Checks the form against the settings; all problems at once, in the form's field order
/// (type, Jumpoint, target, port), so the first problem is the first field to fix.
pub fn validate(input: &JumpInput, settings: &Settings) -> Result<JumpRequest, Vec<JumpProblem>> {
    let mut problems = Vec::new();
    let kind = input.jump_type;
    if !settings.allows(kind) {
        problems.push(JumpProblem::TypeNotEnabled);
    }
    let jumpoint = input.jumpoint.trim();
    if kind.needs_jumpoint() && !settings.jumpoints.iter().any(|j| j == jumpoint) {
        problems.push(JumpProblem::JumpointRequired);
    }
    let target = input.target.trim();
    if target.is_empty() {
        problems.push(if kind == JumpType::JumpClient {
            JumpProblem::SearchRequired
        } else {
            JumpProblem::TargetRequired
        });
    } else if kind != JumpType::JumpClient && target.chars().any(char::is_whitespace) {
        problems.push(JumpProblem::TargetHasSpaces);
    }
    let port = if kind == JumpType::ShellJump {
        parse_port(&input.port)
    } else {
        Some(0)
    };
    if port.is_none() {
        problems.push(JumpProblem::PortInvalid);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (target, jumpoint, username) = (
        target.to_string(),
        jumpoint.to_string(),
        input.username.trim().to_string(),
    );
    Ok(match kind {
        JumpType::JumpClient => JumpRequest::JumpClient { search: target },
        JumpType::LocalJump => JumpRequest::LocalJump { hostname: target },
        JumpType::RemoteJump => JumpRequest::RemoteJump { target, jumpoint },
        JumpType::Rdp => JumpRequest::Rdp {
            target,
            jumpoint,
            username,
        },
        JumpType::ShellJump => JumpRequest::ShellJump {
            target,
            jumpoint,
            username,
            protocol: input.protocol,
            port: port.unwrap_or(input.protocol.default_port()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(types: &[JumpType]) -> Settings {
        Settings {
            hostname: "h.example".into(),
            issues: vec![],
            jumpoints: vec!["Main".into(), "DMZ".into()],
            jump_types: types.to_vec(),
        }
    }

    fn input(jump_type: JumpType, target: &str, jumpoint: &str, port: &str) -> JumpInput {
        JumpInput {
            jump_type,
            target: target.into(),
            jumpoint: jumpoint.into(),
            username: " root ".into(),
            protocol: ShellProtocol::Ssh,
            port: port.into(),
        }
    }

    #[test]
    fn valid_inputs_become_trimmed_requests() {
        let s = settings(&JumpType::ALL);
        assert_eq!(
            validate(&input(JumpType::JumpClient, " my laptop ", "", ""), &s),
            Ok(JumpRequest::JumpClient {
                search: "my laptop".into()
            })
        );
        assert_eq!(
            validate(&input(JumpType::ShellJump, "r1", "DMZ", " 2222 "), &s),
            Ok(JumpRequest::ShellJump {
                target: "r1".into(),
                jumpoint: "DMZ".into(),
                username: "root".into(),
                protocol: ShellProtocol::Ssh,
                port: 2222
            })
        );
        assert_eq!(
            validate(&input(JumpType::Rdp, "ws", "Main", "x"), &s),
            Ok(JumpRequest::Rdp {
                target: "ws".into(),
                jumpoint: "Main".into(),
                username: "root".into()
            })
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let s = settings(&[JumpType::JumpClient]);
        assert_eq!(
            validate(&input(JumpType::ShellJump, "a b", "Elsewhere", "70000"), &s),
            Err(vec![
                JumpProblem::TypeNotEnabled,
                JumpProblem::JumpointRequired,
                JumpProblem::TargetHasSpaces,
                JumpProblem::PortInvalid
            ])
        );
        assert_eq!(
            validate(&input(JumpType::JumpClient, "  ", "", ""), &s),
            Err(vec![JumpProblem::SearchRequired])
        );
        let all = settings(&JumpType::ALL);
        assert_eq!(
            validate(&input(JumpType::LocalJump, "", "", ""), &all),
            Err(vec![JumpProblem::TargetRequired])
        );
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port("1"), Some(1));
        assert_eq!(parse_port("65535"), Some(65535));
        for bad in ["0", "65536", "", "-1", "+22", "2 2", "22a"] {
            assert_eq!(parse_port(bad), None, "{bad}");
        }
        assert_eq!(JumpProblem::PortInvalid.field(), Field::Port);
        assert_eq!(
            ShellProtocol::from_id(ShellProtocol::Telnet.id()),
            Some(ShellProtocol::Telnet)
        );
    }
}
