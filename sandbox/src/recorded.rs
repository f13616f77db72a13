//! What the simulators remember about the calls they received.

use serde::Serialize;

/// One received call, as tests and the control API see it. Secrets (`password`,
/// `Authorization`) are never recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedCall {
    pub method: String,
    pub path: String,
    /// `action` / `generate_report` for appliance calls; `None` elsewhere.
    pub action: Option<String>,
    /// Query and form parameters in the order received (secrets removed).
    pub params: Vec<(String, String)>,
    /// Request body for JSON APIs (Zendesk), `None` otherwise.
    pub body: Option<String>,
    /// HTTP status of the answer.
    pub status: u16,
}

impl RecordedCall {
    /// First value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parameter names whose values must never be kept.
pub(crate) fn is_secret_param(name: &str) -> bool {
    matches!(name, "password" | "client_secret" | "access_token")
}
