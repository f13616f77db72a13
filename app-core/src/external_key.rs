//! The external-key rule: which Zendesk ticket a BeyondTrust session belongs to.
//!
//! The representative may type the key by hand, so a plain number, `#123`, or a Zendesk ticket URL
//! are all accepted; anything else means the session is not associated with a ticket.

/// Parses a session's `external_key` into a Zendesk ticket id.
pub fn ticket_id(external_key: &str) -> Option<u64> {
    let key = external_key.trim();
    let key = key.strip_prefix('#').unwrap_or(key);
    if let Some(id) = parse_id(key) {
        return Some(id);
    }
    // https://SUBDOMAIN.zendesk.com/agent/tickets/123 (optionally with a trailing slash, query or fragment)
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))?;
    let path = rest.split_once('/')?.1;
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or(path)
        .trim_end_matches('/');
    let id = path
        .strip_prefix("agent/tickets/")
        .or_else(|| path.strip_prefix("tickets/"))?;
    parse_id(id)
}

fn parse_id(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::ticket_id;

    #[test]
    fn accepts_number_hash_and_ticket_url() {
        assert_eq!(ticket_id("123"), Some(123));
        assert_eq!(ticket_id(" #42 "), Some(42));
        assert_eq!(
            ticket_id("https://acme.zendesk.com/agent/tickets/77"),
            Some(77)
        );
        assert_eq!(
            ticket_id("https://acme.zendesk.com/agent/tickets/77/"),
            Some(77)
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "abc",
            "0",
            "12a",
            "https://acme.zendesk.com/agent/users/5",
            "#",
            "-3",
        ] {
            assert_eq!(ticket_id(bad), None, "{bad:?}");
        }
    }
}
