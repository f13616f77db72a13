//! What the validator reports: errors (Zendesk would refuse the upload) and warnings (Zendesk
//! would accept it but flag it), each naming the file it is about.
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

/// One message. Displays as `<file>: <message>`, where `<message>` is worded exactly as Zendesk's
/// validator words it, so a user can search for it in Zendesk's documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub file: String,
    pub message: String,
}

impl Finding {
    pub fn error(file: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Error,
            file: file.into(),
            message: message.into(),
        }
    }

    pub fn warning(file: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            level: Level::Warning,
            file: file.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// All findings of one validation run, in the order the rules ran.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// Adds a finding unless the same one is already there (two locations with the same bad
    /// URL make one message).
    pub fn push(&mut self, finding: Finding) {
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    pub fn error(&mut self, file: impl Into<String>, message: impl Into<String>) {
        self.push(Finding::error(file, message));
    }

    pub fn warning(&mut self, file: impl Into<String>, message: impl Into<String>) {
        self.push(Finding::warning(file, message));
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.level == Level::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.level == Level::Warning)
    }

    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }
}
