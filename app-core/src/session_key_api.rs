//! Generating a session key through the appliance's API from the sidebar (optional API mode).
//!
//! The sidebar never sees the API client's credentials: they are `secure` app settings, and the
//! requests built here carry only Zendesk's `{{setting.NAME}}` placeholders, which Zendesk's
//! request proxy (`client.request` with `secure: true`) replaces server-side, and only in the
//! scopes the manifest declares. Placeholders are plain string substitution: the proxy does not
//! base64-encode. HTTP Basic credentials are therefore sent as the base64 of the placeholder
//! pair, which the proxy decodes, fills (`basic_auth_username`/`basic_auth_password` scopes) and
//! re-encodes; see `manifest.json` and the ZAF stand-in in `sandbox/src/workspace`.
//!
//! Flow: `POST https://HOST/oauth2/token` (client credentials) → bearer token kept in page
//! memory only → `GET https://HOST/api/command?action=generate_session_key&...`; a 401 answer gets
//! one fresh token. Answers are XML whose root decides success (`<session_key>`) or failure
//! (`<error>`, even with HTTP 200); elements are matched by local name (appliances use several
//! namespaces).

use crate::settings::RawValue;
use crate::urls::encode;

/// The placeholder Zendesk's proxy replaces with the secure `api_client_id` setting.
pub const CLIENT_ID_PLACEHOLDER: &str = "{{setting.api_client_id}}";
/// The placeholder Zendesk's proxy replaces with the secure `api_client_secret` setting.
pub const CLIENT_SECRET_PLACEHOLDER: &str = "{{setting.api_client_secret}}";
/// Lifetime asked for each key (seconds): an hour, long enough to send it by mail.
pub const KEY_TTL_SECS: u64 = 3600;

/// The API-mode settings (non-secure parts: the sidebar cannot read secure settings at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    /// `queue_id` of `generate_session_key`.
    pub queue: String,
}

/// A problem with the API-mode settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiSettingsError {
    #[error("The session key queue '{0}' is neither general nor of the form kind:value (e.g. rep:12, team:3, rep_username:jdoe, issue:printers).")]
    BadQueue(String),
}

impl ApiSettings {
    /// `Ok(None)`: API mode is off (`api_session_keys` unchecked), the console dialog is used.
    pub fn parse(
        lookup: impl Fn(&str) -> RawValue,
    ) -> Result<Option<ApiSettings>, ApiSettingsError> {
        let on = match lookup("api_session_keys") {
            RawValue::Bool(b) => b,
            RawValue::Text(t) => t.trim().eq_ignore_ascii_case("true"),
            RawValue::Missing => false,
        };
        if !on {
            return Ok(None);
        }
        let queue = match lookup("session_queue") {
            RawValue::Text(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => "general".to_string(),
        };
        if !valid_queue(&queue) {
            return Err(ApiSettingsError::BadQueue(queue));
        }
        Ok(Some(ApiSettings { queue }))
    }
}

/// `general` or `KIND:VALUE` (BeyondTrust documents `rep:ID`, `team:ID`, `rep_username:NAME`,
/// `issue:CODE`). Only the shape is checked here: the appliance knows its reps, teams, issues
/// and (in newer versions) other kinds, and its `<error>` answer is shown to the agent as written.
pub fn valid_queue(queue: &str) -> bool {
    if queue == "general" {
        return true;
    }
    let Some((kind, value)) = queue.split_once(':') else {
        return false;
    };
    !kind.is_empty()
        && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        && !value.is_empty()
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// One request for `client.request` (Zendesk's proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    pub url: String,
    /// `GET` or `POST`.
    pub method: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: Option<&'static str>,
    pub data: Option<String>,
    /// Whether the proxy must substitute secure settings (`secure: true`).
    pub secure: bool,
}

/// `POST https://HOST/oauth2/token` with the client credentials as placeholders.
pub fn token_request(host: &str) -> ProxyRequest {
    let pair = format!("{CLIENT_ID_PLACEHOLDER}:{CLIENT_SECRET_PLACEHOLDER}");
    ProxyRequest {
        url: format!("https://{host}/oauth2/token"),
        method: "POST",
        headers: vec![
            (
                "Authorization",
                format!("Basic {}", base64(pair.as_bytes())),
            ),
            ("Connection", "close".into()),
        ],
        content_type: Some("application/x-www-form-urlencoded"),
        data: Some("grant_type=client_credentials".into()),
        secure: true,
    }
}

/// `generate_session_key` for `ticket_id` with a bearer token.
pub fn generate_request(
    host: &str,
    settings: &ApiSettings,
    ticket_id: u64,
    token: &str,
) -> ProxyRequest {
    ProxyRequest {
        url: format!(
            "https://{host}/api/command?action=generate_session_key&type=support&queue_id={}&ttl={KEY_TTL_SECS}&session.custom.external_key={ticket_id}",
            encode(&settings.queue)
        ),
        method: "GET",
        headers: vec![
            ("Authorization", format!("Bearer {token}")),
            ("Connection", "close".into()),
        ],
        content_type: None,
        data: None,
        secure: false,
    }
}

/// Standard base64 with padding (only used for the constant placeholder pair).
fn base64(input: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A generated key, from the appliance's `<session_key>` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey {
    /// The 7-character key the customer types.
    pub short_key: String,
    /// The link that starts the session with the key filled in.
    pub key_url: String,
    /// Expiry, unix seconds.
    pub expires: i64,
}

impl SessionKey {
    /// Whole seconds left at `now` (unix seconds); 0 once expired.
    pub fn seconds_left(&self, now: i64) -> u64 {
        (self.expires - now).max(0) as u64
    }

    /// The public site's origin (`https://host`), from the key URL.
    pub fn site(&self) -> &str {
        let after_scheme = self.key_url.find("://").map(|i| i + 3).unwrap_or(0);
        let end = self.key_url[after_scheme..]
            .find(['/', '?', '#'])
            .map(|i| i + after_scheme)
            .unwrap_or(self.key_url.len());
        &self.key_url[..end]
    }
}

/// `m:ss` or `h:mm:ss` for a countdown.
pub fn countdown(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Why no key could be shown. Each has its own message in the sidebar, which also offers the
/// representative console's dialog as the fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFailure {
    /// The appliance answered `<error>`: its message, shown as written.
    Appliance(String),
    /// Zendesk's proxy could not reach the appliance (private address, DNS, TLS, timeout) or
    /// the host is not in the app's `domainWhitelist`.
    Unreachable,
    /// The token endpoint refused the API client's id or secret.
    BadCredentials,
    /// The API account may not generate session keys (HTTP 403).
    NotPermitted,
    /// The key's time ran out before the agent sent it.
    Expired,
    /// An answer the sidebar cannot read (logged in detail, summarised to the agent).
    Unexpected(String),
}

impl KeyFailure {
    /// Translation key under `ui.session_key.error.`.
    pub fn key(&self) -> &'static str {
        match self {
            KeyFailure::Appliance(_) => "ui.session_key.error.appliance",
            KeyFailure::Unreachable => "ui.session_key.error.unreachable",
            KeyFailure::BadCredentials => "ui.session_key.error.credentials",
            KeyFailure::NotPermitted => "ui.session_key.error.not_permitted",
            KeyFailure::Expired => "ui.session_key.error.expired",
            KeyFailure::Unexpected(_) => "ui.session_key.error.unexpected",
        }
    }
}

/// What the proxy answered: HTTP status (0: no answer at all) and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAnswer {
    pub status: u16,
    pub body: String,
}

/// What to do after the token request.
pub fn read_token_answer(
    answer: &ProxyAnswer,
    access_token: Option<String>,
) -> Result<String, KeyFailure> {
    match answer.status {
        200 => access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| KeyFailure::Unexpected("token answer without access_token".into())),
        400 | 401 => Err(KeyFailure::BadCredentials),
        403 => Err(KeyFailure::NotPermitted),
        _ => Err(transport_failure(answer)),
    }
}

/// Outcome of one `generate_session_key` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerateOutcome {
    Key(SessionKey),
    /// 401: the token expired or was evicted; fetch one fresh token and retry once.
    TokenRejected,
    Failed(KeyFailure),
}

/// Reads the answer to `generate_session_key`.
pub fn read_generate_answer(answer: &ProxyAnswer) -> GenerateOutcome {
    match answer.status {
        401 => return GenerateOutcome::TokenRejected,
        403 => {
            return GenerateOutcome::Failed(match xml_error(&answer.body) {
                Some(message) => KeyFailure::Appliance(message),
                None => KeyFailure::NotPermitted,
            })
        }
        200 => {}
        _ => {
            // 4xx/5xx may still carry an <error> with the appliance's words.
            return GenerateOutcome::Failed(match xml_error(&answer.body) {
                Some(message) if answer.status >= 400 && answer.status < 500 => {
                    KeyFailure::Appliance(message)
                }
                _ => transport_failure(answer),
            });
        }
    }
    match root_name(&answer.body) {
        Some("error") => GenerateOutcome::Failed(KeyFailure::Appliance(
            xml_error(&answer.body).unwrap_or_default(),
        )),
        Some("session_key") => match parse_session_key(&answer.body) {
            Ok(key) => GenerateOutcome::Key(key),
            Err(e) => GenerateOutcome::Failed(KeyFailure::Unexpected(e)),
        },
        other => GenerateOutcome::Failed(KeyFailure::Unexpected(format!(
            "answer root <{}> is neither session_key nor error",
            other.unwrap_or("")
        ))),
    }
}

/// Status 0 (no answer) and gateway errors: the proxy could not reach the appliance.
fn transport_failure(answer: &ProxyAnswer) -> KeyFailure {
    match answer.status {
        0 | 502 | 503 | 504 | 407 => KeyFailure::Unreachable,
        s => KeyFailure::Unexpected(format!("HTTP {s}")),
    }
}

fn parse_session_key(xml: &str) -> Result<SessionKey, String> {
    let field =
        |name: &'static str| element_text(xml, name).ok_or(format!("session_key lacks {name}"));
    let short_key = field("short_key")?;
    let key_url = field("key_url")?;
    let expires = field("expires")?
        .trim()
        .parse::<i64>()
        .map_err(|_| "session_key expires is not a unix time".to_string())?;
    if short_key.trim().is_empty() || !key_url.starts_with("http") {
        return Err("session_key has an empty key or a key_url that is not a URL".into());
    }
    Ok(SessionKey {
        short_key: short_key.trim().to_string(),
        key_url: key_url.trim().to_string(),
        expires,
    })
}

/// The text of an `<error>` root, if the body is one.
fn xml_error(xml: &str) -> Option<String> {
    (root_name(xml) == Some("error")).then(|| {
        element_text(xml, "error")
            .unwrap_or_default()
            .trim()
            .to_string()
    })
}

/// Local name of the root element (prolog, comments and doctype skipped).
pub fn root_name(xml: &str) -> Option<&str> {
    let mut rest = xml;
    loop {
        let at = rest.find('<')?;
        rest = &rest[at + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        let name = &rest[..end];
        return Some(name.rsplit(':').next().unwrap_or(name));
    }
}

/// The decoded text of the first element with local name `name` (any prefix). `None` if absent;
/// an empty element gives `Some("")`.
pub fn element_text(xml: &str, name: &str) -> Option<String> {
    let mut from = 0;
    while let Some(found) = xml[from..].find('<') {
        let open = from + found + 1;
        let tag_end = open + xml[open..].find('>')?;
        let tag = &xml[open..tag_end];
        from = tag_end + 1;
        if tag.starts_with(['/', '?', '!']) {
            continue;
        }
        let qname = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if qname.rsplit(':').next() != Some(name) {
            continue;
        }
        if tag.ends_with('/') {
            return Some(String::new());
        }
        let close = format!("</{qname}>");
        let end = from + xml[from..].find(&close)?;
        return Some(decode_entities(strip_cdata(&xml[from..end])));
    }
    None
}

fn strip_cdata(text: &str) -> &str {
    text.strip_prefix("<![CDATA[")
        .and_then(|t| t.strip_suffix("]]>"))
        .unwrap_or(text)
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(semi) = after.find(';').filter(|i| *i <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "https://www.beyondtrust.com/namespaces/API/command";

    fn settings(queue: &str) -> ApiSettings {
        ApiSettings {
            queue: queue.into(),
        }
    }

    #[test]
    fn api_mode_is_off_unless_switched_on_and_the_queue_is_checked() {
        let lookup = |on: RawValue, queue: RawValue| {
            ApiSettings::parse(move |name| match name {
                "api_session_keys" => on.clone(),
                "session_queue" => queue.clone(),
                _ => RawValue::Missing,
            })
        };
        assert_eq!(lookup(RawValue::Missing, RawValue::Missing), Ok(None));
        assert_eq!(
            lookup(RawValue::Bool(false), RawValue::Text("rep:1".into())),
            Ok(None)
        );
        assert_eq!(
            lookup(RawValue::Bool(true), RawValue::Missing),
            Ok(Some(settings("general")))
        );
        assert_eq!(
            lookup(
                RawValue::Text("true".into()),
                RawValue::Text(" team:4 ".into())
            ),
            Ok(Some(settings("team:4")))
        );
        assert_eq!(
            lookup(RawValue::Bool(true), RawValue::Text("team 4".into())),
            Err(ApiSettingsError::BadQueue("team 4".into()))
        );
        for ok in [
            "general",
            "rep:12",
            "team:3",
            "rep_username:jdoe",
            "issue:printers",
        ] {
            assert!(valid_queue(ok), "{ok}");
        }
        for bad in ["", "rep:", ":1", "Rep:1", "rep_username:j doe", "General"] {
            assert!(!valid_queue(bad), "{bad}");
        }
    }

    #[test]
    fn token_request_carries_placeholders_only_base64_encoded_for_basic_auth() {
        let r = token_request("bt.example.com:8443");
        assert_eq!(r.url, "https://bt.example.com:8443/oauth2/token");
        assert_eq!(r.method, "POST");
        assert!(r.secure);
        assert_eq!(r.data.as_deref(), Some("grant_type=client_credentials"));
        // base64("{{setting.api_client_id}}:{{setting.api_client_secret}}"), checked by decoding.
        let auth = &r
            .headers
            .iter()
            .find(|(k, _)| *k == "Authorization")
            .unwrap()
            .1;
        let encoded = auth.strip_prefix("Basic ").unwrap();
        assert_eq!(
            decode64(encoded),
            "{{setting.api_client_id}}:{{setting.api_client_secret}}"
        );
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    fn decode64(s: &str) -> String {
        const ABC: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.chars().filter(|c| *c != '=') {
            bits = bits << 6 | ABC.find(c).unwrap() as u32;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
                bits &= (1 << n) - 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn generate_request_ties_the_key_to_the_ticket_and_encodes_the_queue() {
        let r = generate_request(
            "bt.example.com",
            &settings("rep_username:j.doe+x"),
            42,
            "tok",
        );
        assert_eq!(
            r.url,
            "https://bt.example.com/api/command?action=generate_session_key&type=support&queue_id=rep_username%3Aj.doe%2Bx&ttl=3600&session.custom.external_key=42"
        );
        assert!(!r.secure);
        assert!(r.headers.contains(&("Authorization", "Bearer tok".into())));
        assert!(!r.url.contains("{{"));
    }

    fn ok(body: &str) -> ProxyAnswer {
        ProxyAnswer {
            status: 200,
            body: body.into(),
        }
    }

    #[test]
    fn session_key_answer_is_read_by_local_names_with_entities() {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<session_key type=\"support\" xmlns=\"{NS}\"><short_key>1234567</short_key><key_url>https://bt.example.com/?ak=ab&amp;x=1</key_url><expires>1800000000</expires><mail_subject>Support Invitation</mail_subject><mail_body>Go to https://bt.example.com &amp; enter 1234567.\n\nhttps://bt.example.com/?ak=ab</mail_body></session_key>"
        );
        let GenerateOutcome::Key(key) = read_generate_answer(&ok(&xml)) else {
            panic!()
        };
        assert_eq!(key.short_key, "1234567");
        assert_eq!(key.key_url, "https://bt.example.com/?ak=ab&x=1");
        assert_eq!(key.expires, 1_800_000_000);
        assert_eq!(key.site(), "https://bt.example.com");
        assert_eq!(key.seconds_left(1_800_000_000 - 61), 61);
        assert_eq!(key.seconds_left(1_800_000_001), 0);
        // Prefixed elements (another namespace style) read the same.
        let prefixed = "<ns:session_key xmlns:ns=\"x\"><ns:short_key>7654321</ns:short_key><ns:key_url>https://h/?ak=1</ns:key_url><ns:expires>5</ns:expires></ns:session_key>";
        assert!(
            matches!(read_generate_answer(&ok(prefixed)), GenerateOutcome::Key(k) if k.short_key == "7654321")
        );
    }

    #[test]
    fn failures_are_told_apart() {
        let error = format!("<error xmlns=\"{NS}\">Invalid queue_id.</error>");
        assert_eq!(
            read_generate_answer(&ok(&error)),
            GenerateOutcome::Failed(KeyFailure::Appliance("Invalid queue_id.".into()))
        );
        assert_eq!(
            read_generate_answer(&ProxyAnswer {
                status: 400,
                body: error.clone()
            }),
            GenerateOutcome::Failed(KeyFailure::Appliance("Invalid queue_id.".into()))
        );
        assert_eq!(
            read_generate_answer(&ProxyAnswer {
                status: 401,
                body: error
            }),
            GenerateOutcome::TokenRejected
        );
        assert_eq!(
            read_generate_answer(&ProxyAnswer {
                status: 0,
                body: String::new()
            }),
            GenerateOutcome::Failed(KeyFailure::Unreachable)
        );
        assert_eq!(
            read_generate_answer(&ProxyAnswer {
                status: 502,
                body: "<html>Bad gateway</html>".into()
            }),
            GenerateOutcome::Failed(KeyFailure::Unreachable)
        );
        assert!(matches!(
            read_generate_answer(&ok("<html><body>login</body></html>")),
            GenerateOutcome::Failed(KeyFailure::Unexpected(_))
        ));
        assert!(matches!(
            read_generate_answer(&ok("<session_key><short_key>1</short_key></session_key>")),
            GenerateOutcome::Failed(KeyFailure::Unexpected(m)) if m.contains("key_url")
        ));
        let token = |status| {
            read_token_answer(
                &ProxyAnswer {
                    status,
                    body: String::new(),
                },
                None,
            )
        };
        assert_eq!(token(401), Err(KeyFailure::BadCredentials));
        assert_eq!(token(400), Err(KeyFailure::BadCredentials));
        assert_eq!(token(0), Err(KeyFailure::Unreachable));
        assert!(matches!(token(200), Err(KeyFailure::Unexpected(_))));
        assert_eq!(
            read_token_answer(&ok("{}"), Some("abc".into())),
            Ok("abc".to_string())
        );
    }

    #[test]
    fn countdown_formats() {
        assert_eq!(countdown(0), "0:00");
        assert_eq!(countdown(59), "0:59");
        assert_eq!(countdown(3599), "59:59");
        assert_eq!(countdown(3600), "1:00:00");
    }
}
