//! The `start_session` URL a Help Center user opens, split where the snippet needs it.
//!
//! The URL is defined once, by [`crate::urls::start_session`]. Its issue part (host,
//! `issue_menu`, `codeName`, `c2cjs`) is known when the snippet is generated, so Rust writes it
//! into the snippet; the per-request part (the user's name, the subject, the request id) is only
//! known in the browser, where the snippet's script appends it the way `urls::start_session`
//! does: same order, same encoding ([`encode`]), empty name or subject left out.

use crate::urls::{self, StartSession};

pub use crate::urls::encode;

/// The request id used to cut the issue part off a full URL; any id works, the suffix is removed.
const CUT_ID: u64 = 1;

/// `https://HOST/api/start_session` — the form's action when scripts are off.
pub fn start_session_endpoint(host: &str) -> String {
    format!("https://{host}/api/start_session")
}

/// The issue part of the URL: `https://HOST/api/start_session?issue_menu=1&codeName=CODE&c2cjs=1`.
pub fn start_session_prefix(host: &str, code: &str) -> String {
    let session = StartSession {
        issue_code: code,
        ticket_id: CUT_ID,
        ..Default::default()
    };
    let full = urls::start_session(host, &session);
    let suffix = format!("&session.custom.external_key={CUT_ID}");
    match full.strip_suffix(&suffix) {
        Some(prefix) => prefix.to_string(),
        // Only reachable if urls::start_session changed shape; the tests below would fail first.
        None => full,
    }
}

/// The whole URL for one request: what the snippet's script opens for these values.
pub fn start_session_url(
    host: &str,
    code: &str,
    customer_name: &str,
    customer_details: &str,
    request_id: u64,
) -> String {
    urls::start_session(
        host,
        &StartSession {
            issue_code: code,
            customer_name,
            customer_details,
            ticket_id: request_id,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the snippet's script appends to the prefix, written in Rust (see `script.rs`).
    fn script_suffix(name: &str, details: &str, id: &str) -> String {
        [
            ("customer.name", name),
            ("customer.details", details),
            ("session.custom.external_key", id),
        ]
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("&{key}={}", encode(value)))
        .collect()
    }

    #[test]
    fn prefix_is_the_issue_part_of_the_documented_shape() {
        assert_eq!(
            start_session_prefix("support.example.com", "general_tech"),
            "https://support.example.com/api/start_session?issue_menu=1&codeName=general_tech&c2cjs=1"
        );
        assert_eq!(
            start_session_url("support.example.com", "general_tech", "Jane Doe", "Printer & fax", 123),
            "https://support.example.com/api/start_session?issue_menu=1&codeName=general_tech&c2cjs=1\
             &customer.name=Jane%20Doe&customer.details=Printer%20%26%20fax&session.custom.external_key=123"
        );
    }

    #[test]
    fn encodes_like_strict_encode_uri_component() {
        // The script uses encodeURIComponent and additionally encodes !'()*.
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode("!'()*"), "%21%27%28%29%2A");
        assert_eq!(encode("é 支"), "%C3%A9%20%E6%94%AF");
    }

    proptest! {
        #[test]
        fn prefix_plus_script_suffix_is_the_app_core_url(
            code in "[^\u{0}]{1,12}", name in any::<String>(), details in any::<String>(), id in 1u64..
        ) {
            let host = "support.example.com";
            prop_assert_eq!(
                start_session_prefix(host, &code) + &script_suffix(&name, &details, &id.to_string()),
                start_session_url(host, &code, &name, &details, id)
            );
        }
    }
}
