//! The Help Center "Get Support Now" snippet and the admin's instructions for pasting it.
//!
//! Seed: "Create a Method for End-Users to Request Support" and "Click-to-Chat for Help Center
//! Users". An admin copies the snippet from the sidebar's Customize Help Center dialog into the
//! theme's `templates/request_page.hbs`; on their own request, Help Center users then pick an
//! issue and start a click-to-chat session tied to the request (`session.custom.external_key`).
//!
//! The generator takes plain values (hostname, `(code, name)` pairs, texts) rather than the
//! settings type, so it is usable from the sidebar, the middleware or a command-line tool alike.

mod escape;
pub mod instructions;
mod script;
mod snippet;
pub mod start_url;

pub use escape::html as escape_html;
pub use script::{FORM_ID, SCRIPT};
pub use snippet::{normalize_hostname, snippet, NOT_CLOSED, REQUESTER_ONLY};

use serde::Serialize;

/// The words the snippet shows and the admin's steps; [`Default`] is English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetTexts {
    /// The label of the issue picker, e.g. "What do you need help with?".
    pub issue_label: String,
    /// The button, "Get Support Now" in the seed.
    pub button: String,
    /// Shown after the click while the chat window opens, e.g. "Starting your chat…".
    pub starting: String,
    /// The admin's steps, in order (plain text).
    pub instructions: Vec<String>,
}

impl Default for SnippetTexts {
    fn default() -> Self {
        Self {
            issue_label: "What do you need help with?".into(),
            button: "Get Support Now".into(),
            starting: "Starting your chat…".into(),
            instructions: instructions::english_steps(),
        }
    }
}

/// What the admin pastes, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// Template markup (form and inline script) to paste into [`Snippet::template`]. It uses Help
    /// Center's own `{{request.id}}`, `{{request.subject}}` and `{{request.requester.name}}`,
    /// inside `{{#is}}` conditions (requester only, request not closed).
    pub markup: String,
    /// The theme file to edit, `templates/request_page.hbs`.
    pub template: &'static str,
    /// The Copenhagen line to paste below.
    pub anchor: &'static str,
    /// The admin's steps, in order.
    pub instructions: Vec<String>,
}

/// Why no snippet can be generated from the current settings. Each message tells the admin what
/// to fix; [`SnippetError::key`] names the matching translation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnippetError {
    #[error("Set the BeyondTrust appliance hostname in the app settings to generate the Help Center snippet.")]
    MissingHostname,
    #[error("The hostname in the app settings is not a bare appliance host name (like support.example.com, optionally with :port): fix it in the app settings.")]
    InvalidHostname,
    #[error("Add at least one issue (one code=Name per line) in the app settings: the Get Support Now button needs an issue to start a session.")]
    NoIssues,
    #[error("Issue {position} in the app settings has no code name; write it as code=Name.")]
    EmptyIssueCode { position: usize },
}

impl SnippetError {
    /// The translation key (under `help_center`) of this message.
    pub fn key(&self) -> &'static str {
        match self {
            Self::MissingHostname => "error_missing_hostname",
            Self::InvalidHostname => "error_invalid_hostname",
            Self::NoIssues => "error_no_issues",
            Self::EmptyIssueCode { .. } => "error_empty_issue_code",
        }
    }
}

/// The snippet for validated settings (the sidebar's case).
pub fn from_settings(
    settings: &crate::settings::Settings,
    texts: &SnippetTexts,
) -> Result<Snippet, SnippetError> {
    let issues: Vec<(String, String)> = settings
        .issues
        .iter()
        .map(|issue| (issue.code.clone(), issue.name.clone()))
        .collect();
    snippet(&settings.hostname, &issues, texts)
}
