//! The TOML configuration: `[server]` plus one `[[configuration]]` per appliance/Zendesk pair.
//!
//! The keys are a contract with the people who write the file (issue 4). Parsing goes through a
//! "raw" layer that keeps TOML spans, so every rejection names the file, line and key; the
//! validated [`Config`] holds plain types and [`Secret`]s only.
//!
//! Secrets may live in the environment instead of the file: each secret key has an `*_env`
//! sibling naming a variable to read it from (`client_secret_env`, `password_env`, `token_env`).
//! A value in the file wins over the variable only when the variable is not named.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::secret::Secret;

mod tickets;
pub use tickets::{plausible_email, SurveyRule, TicketSettings, UnassociatedSessions};

/// Event types the middleware knows how to process.
pub const SESSION_END: &str = "support_conference_end";
pub const CUSTOMER_SURVEY: &str = "support_conference_customer_exit_survey_completed";
pub const REP_SURVEY: &str = "support_conference_rep_exit_survey_completed";
pub const PROCESSABLE_EVENTS: [&str; 3] = [SESSION_END, CUSTOMER_SURVEY, REP_SURVEY];

/// The whole file, validated.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub server: ServerConfig,
    pub configurations: Vec<Configuration>,
    /// `[ingest]`: token, networks, TLS, timeouts of the events listener.
    pub ingest: crate::settings::IngestSettings,
    /// `[operations]`: retention, log format, claim lease.
    pub operations: crate::settings::Operations,
}

#[derive(Clone)]
pub struct ServerConfig {
    /// Where the appliance posts outbound events.
    pub events_listen: String,
    /// Admin UI and API (see [`crate::admin`]).
    pub admin_listen: String,
    /// Environment variable holding the admin password; when unset a random one is written to
    /// `admin-password` next to the SQLite database.
    pub admin_password_env: String,
    /// Base URL the appliance reaches the events listener at (e.g. `http://mw.example.com:8180`),
    /// shown in the admin as the Outbound Event URL; derived from `events_listen` when absent.
    pub events_public_url: Option<String>,
    pub database_url: String,
    pub templates_dir: Option<PathBuf>,
    /// Number of worker tasks processing stored events.
    pub workers: usize,
}

/// `database_url` may carry a Postgres password (`postgres://user:PASSWORD@host/db`): it is
/// shown without it.
impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("events_listen", &self.events_listen)
            .field("admin_listen", &self.admin_listen)
            .field("admin_password_env", &self.admin_password_env)
            .field("events_public_url", &self.events_public_url)
            .field("database_url", &redact_url_password(&self.database_url))
            .field("templates_dir", &self.templates_dir)
            .field("workers", &self.workers)
            .finish()
    }
}

/// The URL with any password replaced by `***` (unparseable URLs are hidden whole).
pub fn redact_url_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => raw.to_string(),
        Err(_) => "<unparseable URL>".to_string(),
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            events_listen: "0.0.0.0:8180".into(),
            admin_listen: "127.0.0.1:53231".into(),
            admin_password_env: "MIDDLEWARE_ADMIN_PASSWORD".into(),
            events_public_url: None,
            database_url: "sqlite://middleware.db?mode=rwc".into(),
            templates_dir: None,
            workers: 4,
        }
    }
}

/// One "plugin configuration": an appliance and the Zendesk instance its sessions go to.
#[derive(Debug, Clone)]
pub struct Configuration {
    pub name: String,
    pub appliance_id: String,
    pub disabled: bool,
    pub beyondtrust: BeyondTrustConfig,
    pub zendesk: ZendeskConfig,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplianceAuth {
    /// API account with OAuth client credentials (16.2.1+).
    OAuth {
        client_id: String,
        client_secret: Secret,
    },
    /// Older appliances: `username`/`password` parameters on every call.
    Legacy { username: String, password: Secret },
}

#[derive(Debug, Clone)]
pub struct BeyondTrustConfig {
    /// `host[:port]`, no scheme.
    pub host: String,
    pub auth: ApplianceAuth,
    pub locale: String,
    pub allow_invalid_certificates: bool,
    /// PEM file of the CA(s) that signed an appliance's internal certificate: trusted in
    /// addition to the system roots (instead of turning verification off).
    pub ca_file: Option<PathBuf>,
    pub use_non_tls: bool,
    pub outbound_event_types: Vec<String>,
    pub polling_event_types: Vec<String>,
    pub polling_interval_secs: u64,
    /// Failed attempts after which an event fails for good; `None`: only `retry_for_hours`.
    pub retry_attempt_limit: Option<u32>,
    /// Transient failures and rate limits are retried (capped exponential backoff) until the
    /// event has waited this long since it arrived (or since an operator requeued it).
    pub retry_for_hours: u32,
    pub retry_outbound_event_types: Vec<String>,
    pub retry_polling_event_types: Vec<String>,
}

impl BeyondTrustConfig {
    pub fn base_url(&self) -> String {
        let scheme = if self.use_non_tls { "http" } else { "https" };
        format!("{scheme}://{}", self.host)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DurationUnit {
    #[default]
    Seconds,
    Minutes,
}

#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    /// `https://SUBDOMAIN.zendesk.com`, no trailing slash.
    pub url: String,
    pub username: String,
    pub token: Secret,
    /// Tags added to the ticket with each session comment (optional).
    pub tags: Vec<String>,
    /// Numeric ticket field that receives the session duration (optional, time tracking).
    pub duration_field_id: Option<u64>,
    pub duration_field_unit: DurationUnit,
    /// Ticket updates per minute this middleware allows itself against this instance
    /// (Zendesk's Update Ticket endpoint allows 100 per minute per account).
    pub update_rate_per_minute: u32,
    /// System Information categories shown in the comment (case-insensitive; an entry matches
    /// a category whose name contains it). The attached full report has them all.
    pub system_information_categories: Vec<String>,
    /// Largest comment body, in characters (Zendesk refuses past about 65,000).
    pub comment_max_chars: usize,
    /// Tickets for unassociated sessions and survey rules (issue 15).
    pub tickets: TicketSettings,
}

/// Default `system_information_categories`: what the seed integration imported.
pub const DEFAULT_SYSINFO_CATEGORIES: [&str; 5] =
    ["general", "overview", "disk", "memory", "network"];
/// Default `comment_max_chars`, below Zendesk's ~65,000 with room for its own markup changes.
pub const DEFAULT_COMMENT_MAX_CHARS: usize = 60_000;
/// Bounds of `comment_max_chars`.
pub const COMMENT_MAX_CHARS_RANGE: std::ops::RangeInclusive<usize> = 10_000..=65_535;

/// A rejected configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {key}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        key: String,
        message: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Raw layer (what serde sees).

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    server: Option<RawServer>,
    #[serde(default)]
    configuration: Vec<Spanned<RawConfiguration>>,
    ingest: Option<Spanned<crate::settings::RawIngest>>,
    operations: Option<crate::settings::RawOperations>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    events_listen: Option<Spanned<String>>,
    admin_listen: Option<Spanned<String>>,
    admin_password_env: Option<Spanned<String>>,
    events_public_url: Option<Spanned<String>>,
    database_url: Option<Spanned<String>>,
    templates_dir: Option<PathBuf>,
    workers: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfiguration {
    name: Spanned<String>,
    appliance_id: Spanned<String>,
    #[serde(default)]
    disabled: bool,
    beyondtrust: Spanned<RawBeyondTrust>,
    zendesk: Spanned<RawZendesk>,
}

fn default_locale() -> String {
    "en-us".into()
}
fn default_outbound() -> Vec<Spanned<String>> {
    PROCESSABLE_EVENTS
        .iter()
        .map(|e| Spanned::new(0..0, e.to_string()))
        .collect()
}
fn default_retry() -> Vec<Spanned<String>> {
    default_outbound()
}
fn default_retry_polling() -> Vec<Spanned<String>> {
    vec![Spanned::new(0..0, SESSION_END.to_string())]
}
fn default_interval() -> Spanned<u64> {
    Spanned::new(0..0, 60)
}
fn default_retry_hours() -> u32 {
    24
}
fn default_rate() -> u32 {
    100
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBeyondTrust {
    host: Spanned<String>,
    client_id: Option<Spanned<String>>,
    client_secret: Option<Secret>,
    client_secret_env: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password: Option<Secret>,
    password_env: Option<Spanned<String>>,
    #[serde(default = "default_locale")]
    locale: String,
    #[serde(default)]
    allow_invalid_certificates: bool,
    ca_file: Option<PathBuf>,
    use_non_tls: Option<Spanned<bool>>,
    #[serde(default = "default_outbound")]
    outbound_event_types: Vec<Spanned<String>>,
    #[serde(default)]
    polling_event_types: Vec<Spanned<String>>,
    #[serde(default = "default_interval")]
    polling_interval_secs: Spanned<u64>,
    retry_attempt_limit: Option<u32>,
    #[serde(default = "default_retry_hours")]
    retry_for_hours: u32,
    #[serde(default = "default_retry")]
    retry_outbound_event_types: Vec<Spanned<String>>,
    #[serde(default = "default_retry_polling")]
    retry_polling_event_types: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZendesk {
    url: Spanned<String>,
    username: Spanned<String>,
    token: Option<Secret>,
    token_env: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
    duration_field_id: Option<u64>,
    #[serde(default)]
    duration_field_unit: DurationUnit,
    #[serde(default = "default_rate")]
    update_rate_per_minute: u32,
    system_information_categories: Option<Vec<String>>,
    comment_max_chars: Option<Spanned<usize>>,
    // Issue 15: see `config/tickets.rs`.
    unassociated_sessions: Option<Spanned<String>>,
    default_requester_email: Option<Spanned<String>>,
    requester_email_attribute: Option<Spanned<String>>,
    new_ticket_group_id: Option<u64>,
    new_ticket_brand_id: Option<u64>,
    #[serde(default)]
    new_ticket_tags: Vec<Spanned<String>>,
    #[serde(default)]
    survey_rules: Vec<Spanned<tickets::RawSurveyRule>>,
}

// ---------------------------------------------------------------------------------------------

/// Reads and validates a configuration file, taking `*_env` secrets from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&text, &file, &|name| std::env::var(name).ok())
}

/// Parses and validates configuration text. `file` names the source in errors; `env` looks up
/// variables named by `*_env` keys.
pub fn parse(
    text: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let v = Validator { text, file };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let key = v.key_at(span.start);
        v.error_at(span.start, &key, e.message())
    })?;

    let mut server = ServerConfig::default();
    if let Some(s) = raw.server {
        if let Some(a) = s.events_listen {
            v.check_socket_addr(&a, "server.events_listen")?;
            server.events_listen = a.into_inner();
        }
        if let Some(a) = s.admin_listen {
            v.check_socket_addr(&a, "server.admin_listen")?;
            server.admin_listen = a.into_inner();
        }
        if let Some(n) = s.admin_password_env {
            if n.get_ref().trim().is_empty() {
                return Err(v.error_at(
                    n.span().start,
                    "server.admin_password_env",
                    "must name an environment variable",
                ));
            }
            server.admin_password_env = n.into_inner();
        }
        if let Some(u) = s.events_public_url {
            let base = u.get_ref().trim().trim_end_matches('/').to_string();
            match url::Url::parse(&base) {
                Ok(p)
                    if (p.scheme() == "http" || p.scheme() == "https")
                        && p.host().is_some()
                        && p.query().is_none() => {}
                _ => {
                    return Err(v.error_at(
                        u.span().start,
                        "server.events_public_url",
                        "expected http(s)://HOST[:PORT]",
                    ))
                }
            }
            server.events_public_url = Some(base);
        }
        if let Some(u) = s.database_url {
            server.database_url = normalize_database_url(u.get_ref())
                .map_err(|m| v.error_at(u.span().start, "server.database_url", &m))?;
        }
        server.templates_dir = s.templates_dir;
        if let Some(w) = s.workers {
            if *w.get_ref() == 0 || *w.get_ref() > 64 {
                return Err(v.error_at(
                    w.span().start,
                    "server.workers",
                    "must be between 1 and 64",
                ));
            }
            server.workers = w.into_inner();
        }
    }

    let mut configurations = Vec::new();
    let mut names = HashSet::new();
    let mut appliances = HashSet::new();
    for c in raw.configuration {
        let start = c.span().start;
        let c = c.into_inner();
        let cfg = v.configuration(c, start, env)?;
        if !names.insert(cfg.name.to_lowercase()) {
            return Err(v.error_at(
                start,
                "name",
                &format!("configuration name {:?} is used twice", cfg.name),
            ));
        }
        if !cfg.disabled && !appliances.insert(cfg.appliance_id.to_ascii_lowercase()) {
            return Err(v.error_at(
                start,
                "appliance_id",
                &format!(
                    "appliance id {:?} is used by two enabled configurations",
                    cfg.appliance_id
                ),
            ));
        }
        configurations.push(cfg);
    }
    let fail = |offset: usize, key: &str, message: &str| v.error_at(offset, key, message);
    let ingest = match raw.ingest {
        Some(i) => {
            let start = i.span().start;
            crate::settings::ingest(i.into_inner(), start, env, &fail)?
        }
        None => Default::default(),
    };
    let operations = match raw.operations {
        Some(o) => crate::settings::operations(o, &fail)?,
        None => Default::default(),
    };
    Ok(Config {
        server,
        configurations,
        ingest,
        operations,
    })
}

/// sqlx only creates an SQLite file with `mode=rwc`; the documented `sqlite://middleware.db`
/// should just work, so add it when no mode is given.
fn normalize_database_url(url: &str) -> Result<String, String> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest.is_empty() {
            return Err("sqlite URL has no file".into());
        }
        if rest.contains("mode=") || rest.contains(":memory:") {
            return Ok(url.to_string());
        }
        let sep = if rest.contains('?') { '&' } else { '?' };
        return Ok(format!("{url}{sep}mode=rwc"));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    Err("expected sqlite://FILE or postgres://...".into())
}

/// Letters, digits, '.' and '_' (the appliance's outbound-event URL accepts nothing else).
pub fn valid_appliance_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

struct Validator<'a> {
    text: &'a str,
    file: &'a str,
}

impl Validator<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let col = offset
            - before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        (line, col)
    }

    /// The key written on the line holding `offset` (`key = value`), for toml's own errors.
    fn key_at(&self, offset: usize) -> String {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |p| p + 1);
        let line = self.text[start..].lines().next().unwrap_or("");
        match line.split_once('=') {
            Some((k, _)) => k.trim().to_string(),
            None => line.trim().to_string(),
        }
    }

    fn error_at(&self, offset: usize, key: &str, message: &str) -> ConfigError {
        let (line, column) = self.line_col(offset);
        ConfigError::Invalid {
            file: self.file.to_string(),
            line,
            column,
            key: key.to_string(),
            message: message.trim().to_string(),
        }
    }

    fn check_socket_addr(&self, s: &Spanned<String>, key: &str) -> Result<(), ConfigError> {
        s.get_ref()
            .parse::<std::net::SocketAddr>()
            .map(|_| ())
            .map_err(|_| self.error_at(s.span().start, key, "expected IP:PORT, e.g. 0.0.0.0:8180"))
    }

    fn secret(
        &self,
        value: Option<Secret>,
        var: Option<Spanned<String>>,
        key: &str,
        table_start: usize,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Secret>, ConfigError> {
        match var {
            Some(var) => match env(var.get_ref()) {
                Some(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                _ => Err(self.error_at(
                    var.span().start,
                    &format!("{key}_env"),
                    &format!("environment variable {} is not set", var.get_ref()),
                )),
            },
            None => {
                let _ = table_start;
                Ok(value.filter(|s| !s.is_empty()))
            }
        }
    }

    fn event_types(
        &self,
        list: Vec<Spanned<String>>,
        allowed: &[&str],
        key: &str,
    ) -> Result<Vec<String>, ConfigError> {
        list.into_iter()
            .map(|e| {
                if allowed.contains(&e.get_ref().as_str()) {
                    Ok(e.into_inner())
                } else {
                    Err(self.error_at(
                        e.span().start,
                        key,
                        &format!(
                            "unknown event type {:?}; expected one of {}",
                            e.get_ref(),
                            allowed.join(", ")
                        ),
                    ))
                }
            })
            .collect()
    }

    fn configuration(
        &self,
        c: RawConfiguration,
        start: usize,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Configuration, ConfigError> {
        if c.name.get_ref().trim().is_empty() {
            return Err(self.error_at(c.name.span().start, "name", "must not be empty"));
        }
        if !valid_appliance_id(c.appliance_id.get_ref()) {
            return Err(self.error_at(
                c.appliance_id.span().start,
                "appliance_id",
                "only letters, digits, '.' and '_' are allowed",
            ));
        }
        let _ = start;
        let bt_start = c.beyondtrust.span().start;
        let b = c.beyondtrust.into_inner();
        let host = b.host.get_ref().trim();
        if host.is_empty()
            || host.contains("://")
            || host.contains('/')
            || host.contains(char::is_whitespace)
        {
            return Err(self.error_at(
                b.host.span().start,
                "beyondtrust.host",
                "expected host or host:port without scheme or path",
            ));
        }
        let client_secret = self.secret(
            b.client_secret,
            b.client_secret_env,
            "beyondtrust.client_secret",
            bt_start,
            env,
        )?;
        let password = self.secret(
            b.password,
            b.password_env,
            "beyondtrust.password",
            bt_start,
            env,
        )?;
        let auth = match (b.client_id, b.username) {
            (Some(id), None) => {
                let secret = client_secret.ok_or_else(|| {
                    self.error_at(id.span().start, "beyondtrust.client_secret", "OAuth needs client_secret or client_secret_env")
                })?;
                if let Some(flag) = b.use_non_tls.as_ref().filter(|f| *f.get_ref()) {
                    return Err(self.error_at(
                        flag.span().start,
                        "beyondtrust.use_non_tls",
                        "OAuth cannot be used over plain HTTP; TLS cannot be disabled with client_id",
                    ));
                }
                ApplianceAuth::OAuth { client_id: id.into_inner(), client_secret: secret }
            }
            (None, Some(user)) => {
                let password = password.ok_or_else(|| {
                    self.error_at(user.span().start, "beyondtrust.password", "legacy account needs password or password_env")
                })?;
                ApplianceAuth::Legacy { username: user.into_inner(), password }
            }
            (Some(id), Some(_)) => {
                return Err(self.error_at(
                    id.span().start,
                    "beyondtrust.client_id",
                    "give either client_id/client_secret (OAuth) or username/password (legacy), not both",
                ))
            }
            (None, None) => {
                return Err(self.error_at(
                    bt_start,
                    "beyondtrust",
                    "needs client_id/client_secret (OAuth) or username/password (legacy)",
                ))
            }
        };
        if *b.polling_interval_secs.get_ref() == 0 {
            return Err(self.error_at(
                b.polling_interval_secs.span().start,
                "beyondtrust.polling_interval_secs",
                "must be at least 1",
            ));
        }
        let beyondtrust = BeyondTrustConfig {
            host: host.to_string(),
            auth,
            locale: b.locale,
            allow_invalid_certificates: b.allow_invalid_certificates,
            ca_file: b.ca_file,
            use_non_tls: b.use_non_tls.is_some_and(|f| f.into_inner()),
            outbound_event_types: self.event_types(
                b.outbound_event_types,
                &PROCESSABLE_EVENTS,
                "beyondtrust.outbound_event_types",
            )?,
            polling_event_types: self.event_types(
                b.polling_event_types,
                &[SESSION_END],
                "beyondtrust.polling_event_types",
            )?,
            polling_interval_secs: b.polling_interval_secs.into_inner(),
            retry_attempt_limit: b.retry_attempt_limit,
            retry_for_hours: b.retry_for_hours,
            retry_outbound_event_types: self.event_types(
                b.retry_outbound_event_types,
                &PROCESSABLE_EVENTS,
                "beyondtrust.retry_outbound_event_types",
            )?,
            retry_polling_event_types: self.event_types(
                b.retry_polling_event_types,
                &[SESSION_END],
                "beyondtrust.retry_polling_event_types",
            )?,
        };

        let zd_start = c.zendesk.span().start;
        let z = c.zendesk.into_inner();
        let url = z.url.get_ref().trim().trim_end_matches('/').to_string();
        match url::Url::parse(&url) {
            Ok(u)
                if (u.scheme() == "https" || u.scheme() == "http")
                    && u.host().is_some()
                    && u.username().is_empty()
                    && u.password().is_none() => {}
            _ => {
                return Err(self.error_at(
                    z.url.span().start,
                    "zendesk.url",
                    "expected https://SUBDOMAIN.zendesk.com",
                ))
            }
        }
        if z.username.get_ref().trim().is_empty() {
            return Err(self.error_at(
                z.username.span().start,
                "zendesk.username",
                "must not be empty",
            ));
        }
        let token = self
            .secret(z.token, z.token_env, "zendesk.token", zd_start, env)?
            .ok_or_else(|| self.error_at(zd_start, "zendesk.token", "needs token or token_env"))?;
        if z.update_rate_per_minute == 0 {
            return Err(self.error_at(
                zd_start,
                "zendesk.update_rate_per_minute",
                "must be at least 1",
            ));
        }
        let comment_max_chars = match z.comment_max_chars {
            None => DEFAULT_COMMENT_MAX_CHARS,
            Some(n) if COMMENT_MAX_CHARS_RANGE.contains(n.get_ref()) => n.into_inner(),
            Some(n) => {
                return Err(self.error_at(
                    n.span().start,
                    "zendesk.comment_max_chars",
                    &format!(
                        "must be between {} and {} (Zendesk refuses longer comments)",
                        COMMENT_MAX_CHARS_RANGE.start(),
                        COMMENT_MAX_CHARS_RANGE.end()
                    ),
                ))
            }
        };
        let tickets = self.ticket_settings(
            tickets::RawTicketKeys {
                unassociated_sessions: z.unassociated_sessions,
                default_requester_email: z.default_requester_email,
                requester_email_attribute: z.requester_email_attribute,
                new_ticket_group_id: z.new_ticket_group_id,
                new_ticket_brand_id: z.new_ticket_brand_id,
                new_ticket_tags: z.new_ticket_tags,
                survey_rules: z.survey_rules,
            },
            zd_start,
        )?;
        let zendesk = ZendeskConfig {
            url,
            username: z.username.into_inner(),
            token,
            tags: z.tags,
            duration_field_id: z.duration_field_id,
            duration_field_unit: z.duration_field_unit,
            update_rate_per_minute: z.update_rate_per_minute,
            system_information_categories: z.system_information_categories.unwrap_or_else(|| {
                DEFAULT_SYSINFO_CATEGORIES
                    .iter()
                    .map(|c| c.to_string())
                    .collect()
            }),
            comment_max_chars,
            tickets,
        };
        Ok(Configuration {
            name: c.name.into_inner(),
            appliance_id: c.appliance_id.into_inner(),
            disabled: c.disabled,
            beyondtrust,
            zendesk,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[server]
events_listen = "0.0.0.0:8180"
admin_listen  = "127.0.0.1:53231"
database_url  = "sqlite://middleware.db"
templates_dir = "templates"

[[configuration]]
name = "Production"
appliance_id = "default"
disabled = false
[configuration.beyondtrust]
host = "support.example.com"
client_id = "abc"
client_secret = "s3cr3t-client"
locale = "en-us"
allow_invalid_certificates = false
use_non_tls = false
outbound_event_types = ["support_conference_end",
  "support_conference_customer_exit_survey_completed",
  "support_conference_rep_exit_survey_completed"]
polling_event_types = []
polling_interval_secs = 60
retry_attempt_limit = 5
retry_outbound_event_types = ["support_conference_end"]
retry_polling_event_types = ["support_conference_end"]
[configuration.zendesk]
url = "https://example.zendesk.com"
username = "api@example.com"
token = "zd-t0ken"
"#;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn invalid(text: &str) -> (usize, String, String) {
        match parse(text, "m.toml", &no_env) {
            Err(ConfigError::Invalid {
                line,
                key,
                message,
                file,
                ..
            }) => {
                assert_eq!(file, "m.toml");
                (line, key, message)
            }
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("accepted invalid config"),
        }
    }

    #[test]
    fn parses_the_documented_file() {
        let c = parse(FULL, "m.toml", &no_env).unwrap();
        assert_eq!(c.server.database_url, "sqlite://middleware.db?mode=rwc");
        assert_eq!(
            c.server.templates_dir.as_deref(),
            Some(Path::new("templates"))
        );
        let p = &c.configurations[0];
        assert_eq!(p.name, "Production");
        assert_eq!(p.beyondtrust.base_url(), "https://support.example.com");
        assert_eq!(p.beyondtrust.outbound_event_types.len(), 3);
        assert!(
            matches!(&p.beyondtrust.auth, ApplianceAuth::OAuth { client_id, client_secret }
            if client_id == "abc" && client_secret.expose() == "s3cr3t-client")
        );
        assert_eq!(p.zendesk.token.expose(), "zd-t0ken");
    }

    #[test]
    fn comment_budget_and_categories_default_and_are_checked() {
        let c = parse(FULL, "m.toml", &no_env).unwrap();
        let z = &c.configurations[0].zendesk;
        assert_eq!(z.comment_max_chars, 60_000);
        assert_eq!(
            z.system_information_categories,
            ["general", "overview", "disk", "memory", "network"]
        );
        let text = format!(
            "{FULL}system_information_categories = [\"Processes\"]\ncomment_max_chars = 30000\n"
        );
        let c = parse(&text, "m.toml", &no_env).unwrap();
        let z = &c.configurations[0].zendesk;
        assert_eq!(
            (z.comment_max_chars, z.system_information_categories.clone()),
            (30_000, vec!["Processes".to_string()])
        );
        let (line, key, message) = invalid(&format!("{FULL}comment_max_chars = 70000\n"));
        assert_eq!(key, "zendesk.comment_max_chars");
        assert_eq!(line, FULL.lines().count() + 1);
        assert!(message.contains("65535"), "{message}");
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let c = parse(FULL, "m.toml", &no_env).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cr3t-client"));
        assert!(!dbg.contains("zd-t0ken"));
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let text = FULL.replace(
            "sqlite://middleware.db",
            "postgres://mw:db-pa55word@db.example.com:5432/mw",
        );
        let c = parse(&text, "m.toml", &no_env).unwrap();
        assert_eq!(
            c.server.database_url,
            "postgres://mw:db-pa55word@db.example.com:5432/mw"
        );
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("db-pa55word"), "{dbg}");
        assert!(
            dbg.contains("postgres://mw:***@db.example.com:5432/mw"),
            "{dbg}"
        );
    }

    #[test]
    fn empty_file_means_no_configurations() {
        let c = parse("", "m.toml", &no_env).unwrap();
        assert!(c.configurations.is_empty());
        assert_eq!(c.server.events_listen, "0.0.0.0:8180");
    }

    #[test]
    fn secrets_from_environment() {
        let text = FULL
            .replace(
                "client_secret = \"s3cr3t-client\"",
                "client_secret_env = \"BT_SECRET\"",
            )
            .replace("token = \"zd-t0ken\"", "token_env = \"ZD_TOKEN\"");
        let env = |n: &str| match n {
            "BT_SECRET" => Some("from-env".to_string()),
            "ZD_TOKEN" => Some("zd-env".to_string()),
            _ => None,
        };
        let c = parse(&text, "m.toml", &env).unwrap();
        let p = &c.configurations[0];
        assert!(
            matches!(&p.beyondtrust.auth, ApplianceAuth::OAuth { client_secret, .. } if client_secret.expose() == "from-env")
        );
        assert_eq!(p.zendesk.token.expose(), "zd-env");
        let Err(ConfigError::Invalid {
            line,
            key,
            message: msg,
            ..
        }) = parse(&text.replace("ZD_TOKEN", "MISSING_VAR"), "m.toml", &env)
        else {
            panic!("accepted a missing variable")
        };
        assert_eq!(key, "zendesk.token_env");
        assert!(msg.contains("MISSING_VAR"));
        assert_eq!(
            line,
            text.lines().position(|l| l.contains("token_env")).unwrap() + 1
        );
    }

    #[test]
    fn rejects_bad_appliance_id_with_line() {
        let text = FULL.replace("appliance_id = \"default\"", "appliance_id = \"bad id!\"");
        let (line, key, _) = invalid(&text);
        assert_eq!(key, "appliance_id");
        assert_eq!(
            line,
            text.lines()
                .position(|l| l.starts_with("appliance_id"))
                .unwrap()
                + 1
        );
    }

    #[test]
    fn rejects_oauth_without_tls() {
        let text = FULL.replace("use_non_tls = false", "use_non_tls = true");
        let (line, key, msg) = invalid(&text);
        assert_eq!(key, "beyondtrust.use_non_tls");
        assert!(msg.contains("OAuth"));
        assert_eq!(
            line,
            text.lines()
                .position(|l| l.starts_with("use_non_tls"))
                .unwrap()
                + 1
        );
    }

    #[test]
    fn legacy_account_may_use_plain_http() {
        let text = FULL
            .replace(
                "client_id = \"abc\"\nclient_secret = \"s3cr3t-client\"",
                "username = \"api\"\npassword = \"pw\"",
            )
            .replace("use_non_tls = false", "use_non_tls = true");
        let c = parse(&text, "m.toml", &no_env).unwrap();
        assert_eq!(
            c.configurations[0].beyondtrust.base_url(),
            "http://support.example.com"
        );
    }

    #[test]
    fn rejects_unknown_key_naming_it() {
        let text = FULL.replace("locale = \"en-us\"", "locale = \"en-us\"\nlocal_typo = 1");
        let (line, key, msg) = invalid(&text);
        assert_eq!(key, "local_typo");
        assert!(msg.contains("local_typo"), "{msg}");
        assert_eq!(
            line,
            text.lines()
                .position(|l| l.starts_with("local_typo"))
                .unwrap()
                + 1
        );
    }

    #[test]
    fn rejects_scheme_in_host_and_unknown_event() {
        let (_, key, _) = invalid(&FULL.replace(
            "host = \"support.example.com\"",
            "host = \"https://support.example.com\"",
        ));
        assert_eq!(key, "beyondtrust.host");
        let (_, key, msg) = invalid(&FULL.replace(
            "polling_event_types = []",
            "polling_event_types = [\"support_conference_begin\"]",
        ));
        assert_eq!(key, "beyondtrust.polling_event_types");
        assert!(msg.contains("support_conference_begin"));
    }

    #[test]
    fn rejects_duplicate_appliance_ids() {
        let second = FULL
            .split_once("[[configuration]]")
            .unwrap()
            .1
            .replace("Production", "Other");
        let text = format!("{FULL}\n[[configuration]]{second}");
        let (_, key, _) = invalid(&text);
        assert_eq!(key, "appliance_id");
    }

    #[test]
    fn error_messages_never_contain_secrets() {
        let text = FULL.replace(
            "url = \"https://example.zendesk.com\"",
            "url = \"not a url\"",
        );
        let err = parse(&text, "m.toml", &no_env).unwrap_err().to_string();
        assert!(err.contains("zendesk.url"), "{err}");
        assert!(!err.contains("zd-t0ken") && !err.contains("s3cr3t-client"));
    }
}

#[cfg(test)]
mod example_tests {
    #[test]
    fn the_example_file_is_valid() {
        let text = include_str!("../middleware.example.toml");
        let env = |n: &str| match n {
            "BT_CLIENT_SECRET" => Some("x".to_string()),
            "ZENDESK_API_TOKEN" => Some("y".to_string()),
            _ => None,
        };
        let c = super::parse(text, "middleware.example.toml", &env).unwrap();
        assert_eq!(c.configurations.len(), 1);
        assert_eq!(c.server.workers, 4);
    }
}
