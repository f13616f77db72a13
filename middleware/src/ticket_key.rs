//! Which ticket of *this configuration's* Zendesk a session's external key names.
//!
//! The key forms (`123`, `#123`, a ticket URL) are the app's rule ([`app_core::external_key`]).
//! A URL names a ticket of the instance in its host only: a key pasted from another Zendesk
//! instance (a sandbox, another brand's account) would otherwise put the report on whatever
//! unrelated ticket has that number here.

/// The ticket id, or why the session counts as not associated with a ticket.
pub fn ticket_for(external_key: &str, zendesk_url: &str) -> Result<u64, String> {
    let key = external_key.trim();
    let Some(id) = app_core::external_key::ticket_id(key) else {
        return Err(if key.is_empty() {
            "session has no external key".into()
        } else {
            format!(
                "external key {:?} is not a ticket number, #number or ticket URL",
                shorten(key)
            )
        });
    };
    let Some(rest) = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
    else {
        return Ok(id);
    };
    let key_host = host_of(rest);
    let ours = url::Url::parse(zendesk_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match ours {
        Some(ours) if ours == key_host => Ok(id),
        _ => Err(format!(
            "external key {:?} is a ticket URL of another Zendesk host than this configuration's",
            shorten(key)
        )),
    }
}

/// Host of `host[:port]/...` (after the scheme), lower-case, without user info or port.
fn host_of(after_scheme: &str) -> String {
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_port.split(':').next().unwrap_or(host_port);
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn shorten(key: &str) -> String {
    key.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::ticket_for;

    const OURS: &str = "https://acme.zendesk.com";

    #[test]
    fn numbers_need_no_host() {
        assert_eq!(ticket_for("123", OURS), Ok(123));
        assert_eq!(ticket_for(" #42 ", OURS), Ok(42));
    }

    #[test]
    fn ticket_urls_count_only_on_this_configurations_host() {
        assert_eq!(
            ticket_for("https://acme.zendesk.com/agent/tickets/77", OURS),
            Ok(77)
        );
        assert_eq!(
            ticket_for("https://ACME.zendesk.com./agent/tickets/77/", OURS),
            Ok(77),
            "host names are case-insensitive; a trailing dot is the same host"
        );
        for other in [
            "https://other.zendesk.com/agent/tickets/77",
            "https://acme.zendesk.com.evil.example/agent/tickets/77",
            "https://acme.zendesk.com@evil.example/agent/tickets/77",
            "http://acme.zendesk.co/agent/tickets/77",
        ] {
            let err = ticket_for(other, OURS).unwrap_err();
            assert!(err.contains("another Zendesk host"), "{other}: {err}");
        }
        // A port in the configuration's URL (sandbox, proxies) still compares by host.
        assert_eq!(
            ticket_for(
                "http://127.0.0.1:8080/agent/tickets/5",
                "http://127.0.0.1:8080"
            ),
            Ok(5)
        );
    }

    #[test]
    fn other_keys_say_why() {
        assert_eq!(
            ticket_for("  ", OURS).unwrap_err(),
            "session has no external key"
        );
        assert!(ticket_for("abc", OURS).unwrap_err().contains("\"abc\""));
    }
}
