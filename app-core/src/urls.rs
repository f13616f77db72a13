//! URLs the agent's browser (client scripts) and end users (`start_session`) open on the appliance.
//!
//! Every parameter value is percent-encoded with the RFC 3986 *unreserved* set only (`A-Z a-z 0-9
//! - . _ ~` stay, everything else becomes `%XX` of its UTF-8 bytes), so no value can add, split or
//! end a parameter — `&`, `=`, `#`, `+`, quotes and newlines included. Every URL carries
//! `session.custom.external_key=<ticket id>`, which is how the session's report finds its ticket.
//!
//! The host is taken as given: pass [`crate::settings::Settings::hostname`], already validated.

use crate::jump::JumpRequest;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything except RFC 3986's unreserved characters.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one query value (RFC 3986, unreserved set only).
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, NOT_UNRESERVED).to_string()
}

/// A query string under construction: keys are fixed API names, values are always encoded.
struct Query(String);

impl Query {
    fn new(base: String) -> Query {
        Query(base)
    }

    fn param(mut self, key: &str, value: &str) -> Query {
        self.0.push(if self.0.contains('?') { '&' } else { '?' });
        self.0.push_str(key);
        self.0.push('=');
        self.0.push_str(&encode(value));
        self
    }

    /// Adds the parameter only when `value` is not empty (optional console fields).
    fn optional(self, key: &str, value: &str) -> Query {
        if value.is_empty() {
            self
        } else {
            self.param(key, value)
        }
    }

    fn external_key(self, ticket_id: u64) -> String {
        self.param("session.custom.external_key", &ticket_id.to_string())
            .0
    }
}

fn client_script(host: &str, action: &str) -> Query {
    Query::new(format!("https://{host}/api/client_script"))
        .param("type", "rep")
        .param("operation", "generate")
        .param("action", action)
}

/// Opens the representative console's Generate Session Key dialog for this ticket.
pub fn generate_session_key(host: &str, ticket_id: u64) -> String {
    client_script(host, "generate_session_key").external_key(ticket_id)
}

/// Starts the Jump the agent asked for (see [`JumpRequest`]), tied to this ticket.
pub fn jump(host: &str, ticket_id: u64, request: &JumpRequest) -> String {
    let query = match request {
        // The documented form (BeyondTrust's client scripting API); the older
        // `start_pinned_client_session` is no longer listed there.
        JumpRequest::JumpClient { search } => client_script(host, "start_jump_item_session")
            .param("jump.method", "pinned")
            .param("search_string", search),
        JumpRequest::LocalJump { hostname } => {
            client_script(host, "push_and_start_local").param("hostname", hostname)
        }
        JumpRequest::RemoteJump { target, jumpoint } => {
            client_script(host, "push_and_start_remote")
                .param("target", target)
                .param("jumpoint", jumpoint)
        }
        JumpRequest::Rdp {
            target,
            jumpoint,
            username,
        } => client_script(host, "start_rdp_session")
            .param("target", target)
            .param("jumpoint", jumpoint)
            .optional("username", username),
        JumpRequest::ShellJump {
            target,
            jumpoint,
            username,
            protocol,
            port,
        } => client_script(host, "start_shell_jump_session")
            .param("target", target)
            .param("jumpoint", jumpoint)
            .optional("username", username)
            .param("protocol", protocol.id())
            .param("port", &port.to_string()),
    };
    query.external_key(ticket_id)
}

/// What an end user's "Get Support Now" link starts (Help Center click-to-chat).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartSession<'a> {
    /// The issue's code name (`Issue::code`).
    pub issue_code: &'a str,
    /// The customer's name shown to the representative (omitted when empty; BeyondTrust keeps
    /// the first 100 characters).
    pub customer_name: &'a str,
    /// Free text shown as the session's details (omitted when empty), e.g. the ticket subject.
    pub customer_details: &'a str,
    /// The ticket the session belongs to.
    pub ticket_id: u64,
}

/// `https://HOST/api/start_session?issue_menu=1&codeName=..&c2cjs=1&customer.name=..&customer.details=..&session.custom.external_key=ID`:
/// starts a click-to-chat session in the end user's browser, routed by the issue and tied to the
/// ticket. Shared by the sidebar crate and the Help Center snippet.
pub fn start_session(host: &str, session: &StartSession<'_>) -> String {
    Query::new(format!("https://{host}/api/start_session"))
        .param("issue_menu", "1")
        .param("codeName", session.issue_code)
        .param("c2cjs", "1")
        .optional("customer.name", session.customer_name)
        .optional("customer.details", session.customer_details)
        .external_key(session.ticket_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jump::ShellProtocol;
    use proptest::prelude::*;

    const HOST: &str = "support.example.com";

    #[test]
    fn generate_session_key_url() {
        assert_eq!(
            generate_session_key(HOST, 123),
            "https://support.example.com/api/client_script?type=rep&operation=generate&action=generate_session_key&session.custom.external_key=123"
        );
    }

    #[test]
    fn jump_client_url() {
        let r = JumpRequest::JumpClient {
            search: "ACME laptop #7".into(),
        };
        assert_eq!(
            jump(HOST, 42, &r),
            "https://support.example.com/api/client_script?type=rep&operation=generate&action=start_jump_item_session&jump.method=pinned&search_string=ACME%20laptop%20%237&session.custom.external_key=42"
        );
    }

    #[test]
    fn local_jump_url() {
        let r = JumpRequest::LocalJump {
            hostname: "10.0.0.5".into(),
        };
        assert_eq!(
            jump(HOST, 42, &r),
            "https://support.example.com/api/client_script?type=rep&operation=generate&action=push_and_start_local&hostname=10.0.0.5&session.custom.external_key=42"
        );
    }

    #[test]
    fn remote_jump_url() {
        let r = JumpRequest::RemoteJump {
            target: "db-01.corp".into(),
            jumpoint: "Main Office".into(),
        };
        assert_eq!(
            jump("bt.example.com:8443", 7, &r),
            "https://bt.example.com:8443/api/client_script?type=rep&operation=generate&action=push_and_start_remote&target=db-01.corp&jumpoint=Main%20Office&session.custom.external_key=7"
        );
    }

    #[test]
    fn rdp_url_with_and_without_username() {
        let r = JumpRequest::Rdp {
            target: "ws-9".into(),
            jumpoint: "DMZ".into(),
            username: "CORP\\jane".into(),
        };
        assert_eq!(
            jump(HOST, 5, &r),
            "https://support.example.com/api/client_script?type=rep&operation=generate&action=start_rdp_session&target=ws-9&jumpoint=DMZ&username=CORP%5Cjane&session.custom.external_key=5"
        );
        let r = JumpRequest::Rdp {
            target: "ws-9".into(),
            jumpoint: "DMZ".into(),
            username: String::new(),
        };
        assert_eq!(
            jump(HOST, 5, &r),
            "https://support.example.com/api/client_script?type=rep&operation=generate&action=start_rdp_session&target=ws-9&jumpoint=DMZ&session.custom.external_key=5"
        );
    }

    #[test]
    fn shell_jump_url() {
        let r = JumpRequest::ShellJump {
            target: "router.lan".into(),
            jumpoint: "DMZ".into(),
            username: "admin".into(),
            protocol: ShellProtocol::Telnet,
            port: 2323,
        };
        assert_eq!(
            jump(HOST, 9, &r),
            "https://support.example.com/api/client_script?type=rep&operation=generate&action=start_shell_jump_session&target=router.lan&jumpoint=DMZ&username=admin&protocol=telnet&port=2323&session.custom.external_key=9"
        );
    }

    #[test]
    fn start_session_url() {
        let s = StartSession {
            issue_code: "general_tech",
            customer_name: "Zoë O'Brien",
            customer_details: "Printer & scanner",
            ticket_id: 31,
        };
        assert_eq!(
            start_session(HOST, &s),
            "https://support.example.com/api/start_session?issue_menu=1&codeName=general_tech&c2cjs=1&customer.name=Zo%C3%AB%20O%27Brien&customer.details=Printer%20%26%20scanner&session.custom.external_key=31"
        );
        let bare = StartSession {
            issue_code: "x",
            ticket_id: 1,
            ..Default::default()
        };
        assert_eq!(
            start_session(HOST, &bare),
            "https://support.example.com/api/start_session?issue_menu=1&codeName=x&c2cjs=1&session.custom.external_key=1"
        );
    }

    /// Decodes a query with the `url` crate (an independent parser) into its pairs.
    fn pairs(u: &str) -> Vec<(String, String)> {
        url::Url::parse(u)
            .expect("valid URL")
            .query_pairs()
            .into_owned()
            .collect()
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[a-z &#=+?%\"'\\n\\r\\t/\u{e9}\u{1f600}]{0,24}",
        ]
    }

    /// Any Jump request, with arbitrary strings in every free-text field.
    fn jump_request() -> impl Strategy<Value = JumpRequest> {
        let protocol = prop_oneof![Just(ShellProtocol::Ssh), Just(ShellProtocol::Telnet)];
        prop_oneof![
            value().prop_map(|search| JumpRequest::JumpClient { search }),
            value().prop_map(|hostname| JumpRequest::LocalJump { hostname }),
            (value(), value())
                .prop_map(|(target, jumpoint)| JumpRequest::RemoteJump { target, jumpoint }),
            (value(), value(), value()).prop_map(|(target, jumpoint, username)| JumpRequest::Rdp {
                target,
                jumpoint,
                username
            }),
            (value(), value(), value(), protocol, 1u16..).prop_map(
                |(target, jumpoint, username, protocol, port)| JumpRequest::ShellJump {
                    target,
                    jumpoint,
                    username,
                    protocol,
                    port
                }
            ),
        ]
    }

    /// The pairs a request must decode to, in order (written independently of `jump`).
    fn expected_pairs(request: &JumpRequest, id: u64) -> Vec<(String, String)> {
        let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (action, mut params) = match request {
            JumpRequest::JumpClient { search } => (
                "start_jump_item_session",
                owned(&[("jump.method", "pinned"), ("search_string", search)]),
            ),
            JumpRequest::LocalJump { hostname } => {
                ("push_and_start_local", owned(&[("hostname", hostname)]))
            }
            JumpRequest::RemoteJump { target, jumpoint } => (
                "push_and_start_remote",
                owned(&[("target", target), ("jumpoint", jumpoint)]),
            ),
            JumpRequest::Rdp {
                target,
                jumpoint,
                username,
            } => {
                let mut p = owned(&[("target", target), ("jumpoint", jumpoint)]);
                if !username.is_empty() {
                    p.extend(owned(&[("username", username)]));
                }
                ("start_rdp_session", p)
            }
            JumpRequest::ShellJump {
                target,
                jumpoint,
                username,
                protocol,
                port,
            } => {
                let mut p = owned(&[("target", target), ("jumpoint", jumpoint)]);
                if !username.is_empty() {
                    p.extend(owned(&[("username", username)]));
                }
                p.extend(owned(&[
                    ("protocol", protocol.id()),
                    ("port", &port.to_string()),
                ]));
                ("start_shell_jump_session", p)
            }
        };
        let mut want = owned(&[
            ("type", "rep"),
            ("operation", "generate"),
            ("action", action),
        ]);
        want.append(&mut params);
        want.extend(owned(&[("session.custom.external_key", &id.to_string())]));
        want
    }

    proptest! {
        /// Every Jump action: each value comes back exactly as given, and no value adds, splits
        /// or ends a parameter (the decoded pairs are exactly the expected ones, in order).
        #[test]
        fn every_jump_action_round_trips_its_values(request in jump_request(), id in 1u64..) {
            let url = jump(HOST, id, &request);
            prop_assert!(!url.contains('#'), "a fragment would cut the query: {}", url);
            prop_assert_eq!(pairs(&url), expected_pairs(&request, id));
        }

        #[test]
        fn start_session_values_round_trip(code in value(), name in value(), details in value(), id in 1u64..) {
            let u = start_session(HOST, &StartSession { issue_code: &code, customer_name: &name, customer_details: &details, ticket_id: id });
            prop_assert!(!u.contains('#'));
            let got = pairs(&u);
            let mut want = vec![
                ("issue_menu".to_string(), "1".to_string()),
                ("codeName".into(), code),
                ("c2cjs".into(), "1".into()),
            ];
            if !name.is_empty() { want.push(("customer.name".into(), name)); }
            if !details.is_empty() { want.push(("customer.details".into(), details)); }
            want.push(("session.custom.external_key".into(), id.to_string()));
            prop_assert_eq!(got, want);
        }

        #[test]
        fn encoded_values_use_only_unreserved_and_percent(v in any::<String>()) {
            let e = encode(&v);
            prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        }
    }
}
