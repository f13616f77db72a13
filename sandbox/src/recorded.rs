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
    /// Whether the request carried `Connection: close`. BeyondTrust's API guide asks clients
    /// to close the connection after each call, so the middleware's tests assert this on every
    /// appliance call; it is recorded (truthfully) for every other call too.
    pub connection_close: bool,
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

/// Whether `headers` ask to close the connection after this exchange (`Connection: close`;
/// the header is a comma-separated, case-insensitive token list).
pub(crate) fn asks_connection_close(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}

/// Parameter names whose values must never be kept.
pub(crate) fn is_secret_param(name: &str) -> bool {
    matches!(name, "password" | "client_secret" | "access_token")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderMap, HeaderValue};

    fn with_connection(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::CONNECTION, HeaderValue::from_static(v));
        }
        headers
    }

    #[test]
    fn connection_close_is_a_case_insensitive_token() {
        assert!(asks_connection_close(&with_connection(&["close"])));
        assert!(asks_connection_close(&with_connection(&["Close"])));
        assert!(asks_connection_close(&with_connection(&["TE, close"])));
        assert!(asks_connection_close(&with_connection(&[
            "keep-alive",
            "close"
        ])));
        assert!(!asks_connection_close(&with_connection(&["keep-alive"])));
        assert!(!asks_connection_close(&with_connection(&["closed"])));
        assert!(!asks_connection_close(&HeaderMap::new()));
    }
}
