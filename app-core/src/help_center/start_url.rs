//! The `start_session` URL a Help Center user opens, split where the snippet needs it.
//!
//! The issue part (host, `issue_menu`, `codeName`, `c2cjs`) is known when the snippet is
//! generated, so Rust builds it and the snippet carries it verbatim; the per-request part (the
//! user's name, the subject, the request id) is only known in the browser, where the snippet's
//! script appends it with the same encoding as [`start_session_url`]. Keeping the prefix in Rust
//! means the URL shape has one definition.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded. The
/// snippet's script matches this with `encodeURIComponent` plus encoding of `!'()*`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes one query value (RFC 3986, UTF-8).
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// `https://HOST/api/start_session` — the form's action when scripts are off.
pub fn start_session_endpoint(host: &str) -> String {
    format!("https://{host}/api/start_session")
}

/// The issue part of the URL: `https://HOST/api/start_session?issue_menu=1&codeName=CODE&c2cjs=1`.
pub fn start_session_prefix(host: &str, code: &str) -> String {
    format!("{}?issue_menu=1&codeName={}&c2cjs=1", start_session_endpoint(host), encode(code))
}

/// The whole URL for one request: what the snippet's script opens for these values. An empty
/// name or subject is left out (the appliance then asks the user).
pub fn start_session_url(
    host: &str,
    code: &str,
    customer_name: &str,
    customer_details: &str,
    external_key: &str,
) -> String {
    let mut url = start_session_prefix(host, code);
    for (key, value) in [("customer.name", customer_name), ("customer.details", customer_details)] {
        if !value.is_empty() {
            url.push_str(&format!("&{key}={}", encode(value)));
        }
    }
    url.push_str(&format!("&session.custom.external_key={}", encode(external_key)));
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_documented_shape() {
        assert_eq!(
            start_session_url("support.example.com", "general_tech", "Jane Doe", "Printer & fax", "123"),
            "https://support.example.com/api/start_session?issue_menu=1&codeName=general_tech&c2cjs=1\
             &customer.name=Jane%20Doe&customer.details=Printer%20%26%20fax&session.custom.external_key=123"
        );
    }

    #[test]
    fn encodes_like_strict_encode_uri_component() {
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode("!'()*"), "%21%27%28%29%2A");
        assert_eq!(encode("é 支"), "%C3%A9%20%E6%94%AF");
        assert_eq!(encode("a=b&c#d?e/f+g"), "a%3Db%26c%23d%3Fe%2Ff%2Bg");
    }

    #[test]
    fn empty_name_and_subject_are_left_out() {
        assert_eq!(
            start_session_url("h", "c", "", "", "7"),
            "https://h/api/start_session?issue_menu=1&codeName=c&c2cjs=1&session.custom.external_key=7"
        );
    }
}
