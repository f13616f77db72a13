//! What the admin shows, gathered once for both the HTML pages and the JSON API. Nothing here
//! holds a secret: configurations are copied field by field, never whole.

use serde::Serialize;

use crate::app::Shared;
use crate::check::{check_configuration, CheckReport};
use crate::config::{ApplianceAuth, Configuration, ServerConfig};
use crate::store::{Status, StoreError, StoredEvent};

/// Rows per events page.
pub const PAGE_SIZE: usize = 200;

/// Statuses in the order the dashboard lists them.
pub const STATUSES: [Status; 7] = [
    Status::Received,
    Status::Processing,
    Status::Done,
    Status::Failed,
    Status::Unassociated,
    Status::Skipped,
    Status::Retry,
];

#[derive(Debug, Serialize)]
pub struct StatusCount {
    pub status: &'static str,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct ConfigurationView {
    pub name: String,
    pub appliance_id: String,
    pub appliance_host: String,
    /// `OAuth` or `legacy`.
    pub auth: &'static str,
    pub zendesk_url: String,
    pub zendesk_username: String,
    pub enabled: bool,
    pub polling_event_types: Vec<String>,
    pub polling_interval_secs: u64,
    /// What to paste into the appliance's Outbound Events HTTP recipient.
    pub outbound_event_url: String,
    /// What to paste into the appliance's Rep Console custom link (opens the ticket).
    pub custom_link_url: String,
}

#[derive(Debug, Serialize)]
pub struct EventRow {
    pub id: i64,
    /// When the middleware stored it (UTC).
    pub received_at: String,
    pub configuration: String,
    pub event_type: String,
    pub lsid: String,
    pub source: &'static str,
    pub status: &'static str,
    /// Attempts made and recorded (each with its error), the same number the detail lists.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub ticket_id: Option<i64>,
    pub ticket_url: Option<String>,
    /// Failed, unassociated or waiting events can be made due again.
    pub retryable: bool,
}

#[derive(Debug, Serialize)]
pub struct AttemptView {
    pub at: String,
    pub error: String,
}

#[derive(Debug, Serialize)]
pub struct EventDetail {
    #[serde(flatten)]
    pub row: EventRow,
    pub appliance_id: String,
    pub event_timestamp: String,
    pub updated_at: String,
    /// The form fields as the appliance sent them.
    pub fields: Vec<(String, String)>,
    pub attempt_log: Vec<AttemptView>,
}

#[derive(Debug, Serialize)]
pub struct TestResult {
    pub configuration: String,
    pub ok: bool,
    pub passed: Vec<String>,
    pub failed: Vec<String>,
    /// Every check with its outcome, BeyondTrust first.
    pub checks: Vec<CheckLine>,
    /// What to paste into the appliance's Outbound Events HTTP recipient.
    pub outbound_event_url: String,
    /// What to paste into the appliance's Rep Console custom link.
    pub custom_link_url: String,
}

#[derive(Debug, Serialize)]
pub struct CheckLine {
    /// `BeyondTrust` or `Zendesk`.
    pub target: &'static str,
    pub ok: bool,
    /// What passed, or why it failed in words an admin can act on.
    pub detail: String,
}

impl TestResult {
    fn new(r: CheckReport, server: &ServerConfig, c: &Configuration) -> Self {
        let mut checks: Vec<CheckLine> = r
            .passed
            .iter()
            .map(|l| (true, l))
            .chain(r.failed.iter().map(|l| (false, l)))
            .map(|(ok, l)| CheckLine {
                target: if l.starts_with("Zendesk") {
                    "Zendesk"
                } else {
                    "BeyondTrust"
                },
                ok,
                detail: l.clone(),
            })
            .collect();
        checks.sort_by_key(|c| c.target != "BeyondTrust");
        Self {
            ok: r.ok(),
            configuration: r.configuration,
            passed: r.passed,
            failed: r.failed,
            checks,
            outbound_event_url: outbound_event_url(server, &c.appliance_id),
            custom_link_url: custom_link_url(&c.zendesk.url),
        }
    }
}

/// The representative console's custom link that opens the session's ticket.
pub fn custom_link_url(zendesk_url: &str) -> String {
    format!("{zendesk_url}/agent/tickets/%SESSION.CUSTOM.EXTERNAL_KEY%")
}

pub enum RetryOutcome {
    Requeued,
    NotFound,
    /// The event is in a state Retry does not apply to (done, processing, ...).
    NotRetryable(&'static str),
}

static LOCAL_OFFSET: std::sync::OnceLock<time::UtcOffset> = std::sync::OnceLock::new();

/// The machine's time zone offset for the admin's times. The binary reads it before it starts
/// any thread (the only moment the OS offset can be read soundly); without it times are UTC.
pub fn set_local_offset(offset: time::UtcOffset) {
    let _ = LOCAL_OFFSET.set(offset);
}

/// A stored time (ms since the epoch) in the middleware's local time, with the zone.
pub fn format_ms(ms: i64) -> String {
    format_ms_at(
        ms,
        LOCAL_OFFSET.get().copied().unwrap_or(time::UtcOffset::UTC),
    )
}

/// `2023-11-14 23:13:20 UTC+01:00` (or `... UTC` when the offset is zero).
pub fn format_ms_at(ms: i64, offset: time::UtcOffset) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let zone = if offset.is_utc() {
        "UTC".to_string()
    } else {
        let (h, m, _) = offset.as_hms();
        format!(
            "UTC{}{:02}:{:02}",
            if offset.is_negative() { '-' } else { '+' },
            h.unsigned_abs(),
            m.unsigned_abs()
        )
    };
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .map(|t| t.to_offset(offset))
        .and_then(|t| t.format(&fmt).ok())
        .map(|t| format!("{t} {zone}"))
        .unwrap_or_else(|| ms.to_string())
}

/// The appliance's event timestamp (unix seconds) readable, the raw value kept after it.
pub fn readable_timestamp(raw: &str) -> String {
    match raw.trim().parse::<i64>() {
        Ok(secs) if secs > 0 => format!("{} ({raw})", format_ms(secs.saturating_mul(1000))),
        _ => raw.to_string(),
    }
}

/// Counts for every status in [`STATUSES`] order, zeros included.
pub async fn status_counts(shared: &Shared) -> Result<Vec<StatusCount>, StoreError> {
    let counts = shared.store.status_counts().await?;
    Ok(STATUSES
        .iter()
        .map(|s| StatusCount {
            status: s.as_str(),
            count: counts
                .iter()
                .find(|(c, _)| c == s)
                .map_or(0, |(_, n)| usize::try_from(*n).unwrap_or(0)),
        })
        .collect())
}

/// `http://HOST:PORT` the appliance should post to: `events_public_url`, else `events_listen`
/// with an unspecified address replaced by this machine's host name.
pub fn events_base_url(server: &ServerConfig) -> String {
    if let Some(u) = &server.events_public_url {
        return u.clone();
    }
    match server.events_listen.parse::<std::net::SocketAddr>() {
        Ok(addr) if !addr.ip().is_unspecified() => format!("http://{addr}"),
        Ok(addr) => format!("http://{}:{}", host_name(), addr.port()),
        Err(_) => format!("http://{}", server.events_listen),
    }
}

/// This machine's host name (empty when it cannot be read).
pub fn machine_host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "MIDDLEWARE_HOST".into())
}

pub fn outbound_event_url(server: &ServerConfig, appliance_id: &str) -> String {
    let base = events_base_url(server);
    if appliance_id.eq_ignore_ascii_case("default") {
        format!("{base}/ERSPost")
    } else {
        format!("{base}/ERSPost?appliance={appliance_id}")
    }
}

pub fn configuration(server: &ServerConfig, c: &Configuration) -> ConfigurationView {
    ConfigurationView {
        name: c.name.clone(),
        appliance_id: c.appliance_id.clone(),
        appliance_host: c.beyondtrust.host.clone(),
        auth: match c.beyondtrust.auth {
            ApplianceAuth::OAuth { .. } => "OAuth",
            ApplianceAuth::Legacy { .. } => "legacy",
        },
        zendesk_url: c.zendesk.url.clone(),
        zendesk_username: c.zendesk.username.clone(),
        enabled: !c.disabled,
        polling_event_types: c.beyondtrust.polling_event_types.clone(),
        polling_interval_secs: c.beyondtrust.polling_interval_secs,
        outbound_event_url: outbound_event_url(server, &c.appliance_id),
        custom_link_url: custom_link_url(&c.zendesk.url),
    }
}

pub fn configurations(shared: &Shared) -> Vec<ConfigurationView> {
    shared
        .runtimes()
        .values()
        .map(|rt| configuration(&shared.config.server, &rt.cfg))
        .collect()
}

fn retryable(status: Status) -> bool {
    matches!(
        status,
        Status::Failed | Status::Unassociated | Status::Retry
    )
}

/// One event as listed; `attempts` is the number of recorded attempts (the attempt log's length).
pub fn row(shared: &Shared, e: &StoredEvent, attempts: i64) -> EventRow {
    let rt = shared.runtime(&e.configuration);
    let zendesk = rt.as_ref().map(|r| r.cfg.zendesk.url.as_str());
    EventRow {
        id: e.id,
        received_at: format_ms(e.created_at),
        configuration: e.configuration.clone(),
        event_type: e.event_type.clone(),
        lsid: e.lsid.clone(),
        source: e.source.as_str(),
        status: e.status.as_str(),
        attempts,
        last_error: e.last_error.clone(),
        ticket_id: e.ticket_id,
        ticket_url: match (zendesk, e.ticket_id) {
            (Some(z), Some(t)) => Some(format!("{z}/agent/tickets/{t}")),
            _ => None,
        },
        retryable: retryable(e.status),
    }
}

/// Newest first, optionally one status, page `page` (0-based) of `page_size`; also whether an
/// older page exists.
pub async fn page_of(
    shared: &Shared,
    status: Option<Status>,
    page: usize,
    page_size: usize,
) -> Result<(Vec<EventRow>, bool), StoreError> {
    let size = i64::try_from(page_size).unwrap_or(i64::MAX - 1);
    let offset = i64::try_from(page.saturating_mul(page_size)).unwrap_or(i64::MAX);
    let events = shared.store.recent_events(status, size + 1, offset).await?;
    let more = events.len() > page_size;
    let events: Vec<StoredEvent> = events.into_iter().take(page_size).collect();
    Ok((rows(shared, &events).await?, more))
}

async fn rows(shared: &Shared, events: &[StoredEvent]) -> Result<Vec<EventRow>, StoreError> {
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    let counts = shared.store.attempt_counts(&ids).await?;
    Ok(events
        .iter()
        .map(|e| row(shared, e, counts.get(&e.id).copied().unwrap_or(0)))
        .collect())
}

/// Events of a session id (lsid) or a ticket number (`123` or `#123`), newest first.
pub async fn search(shared: &Shared, q: &str) -> Result<Vec<EventRow>, StoreError> {
    let events = shared
        .store
        .search_events(q.trim(), PAGE_SIZE as i64)
        .await?;
    rows(shared, &events).await
}

pub async fn event_detail(shared: &Shared, id: i64) -> Result<Option<EventDetail>, StoreError> {
    let Some(e) = shared.store.event(id).await? else {
        return Ok(None);
    };
    let attempts = shared.store.attempts(id).await?;
    Ok(Some(EventDetail {
        row: row(shared, &e, attempts.len() as i64),
        appliance_id: e.appliance_id.clone(),
        event_timestamp: readable_timestamp(&e.event_timestamp),
        updated_at: format_ms(e.updated_at),
        fields: e.fields.clone(),
        attempt_log: attempts
            .into_iter()
            .map(|a| AttemptView {
                at: format_ms(a.at),
                error: a.error,
            })
            .collect(),
    }))
}

/// Runs `middleware check` for one configuration; `None` when no configuration has that name.
pub async fn test_connection(shared: &Shared, name: &str) -> Option<TestResult> {
    let rt = shared.runtime(name)?;
    let report = check_configuration(&rt.cfg, shared.tuning.http_timeout).await;
    Some(TestResult::new(report, &shared.config.server, &rt.cfg))
}

/// Makes a failed, unassociated or waiting event due now and wakes the workers.
pub async fn retry(shared: &Shared, id: i64) -> Result<RetryOutcome, StoreError> {
    let Some(e) = shared.store.event(id).await? else {
        return Ok(RetryOutcome::NotFound);
    };
    if !retryable(e.status) {
        return Ok(RetryOutcome::NotRetryable(e.status.as_str()));
    }
    if !shared.store.requeue(id).await? {
        // Picked up or finished between the two queries.
        let now = shared
            .store
            .event(id)
            .await?
            .map_or("gone", |e| e.status.as_str());
        return Ok(RetryOutcome::NotRetryable(now));
    }
    tracing::info!(id, "event requeued from the admin");
    shared.wake.notify_waiters();
    Ok(RetryOutcome::Requeued)
}

/// Requeues every failed event (the admin's "Retry all failed"); returns how many.
pub async fn retry_failed(shared: &Shared) -> Result<u64, StoreError> {
    let n = shared.store.requeue_failed().await?;
    tracing::info!(events = n, "every failed event requeued from the admin");
    if n > 0 {
        shared.wake.notify_waiters();
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_url_omits_the_default_appliance() {
        let mut s = ServerConfig {
            events_listen: "10.0.0.5:8180".into(),
            ..ServerConfig::default()
        };
        assert_eq!(
            outbound_event_url(&s, "default"),
            "http://10.0.0.5:8180/ERSPost"
        );
        assert_eq!(
            outbound_event_url(&s, "Prod_2"),
            "http://10.0.0.5:8180/ERSPost?appliance=Prod_2"
        );
        s.events_public_url = Some("https://mw.example.com".into());
        assert_eq!(
            outbound_event_url(&s, "x"),
            "https://mw.example.com/ERSPost?appliance=x"
        );
        s = ServerConfig::default();
        let url = outbound_event_url(&s, "default");
        assert!(
            url.starts_with("http://")
                && url.ends_with(":8180/ERSPost")
                && !url.contains("0.0.0.0"),
            "{url}"
        );
    }

    #[test]
    fn event_timestamps_are_readable() {
        assert_eq!(
            readable_timestamp("1700000000"),
            "2023-11-14 22:13:20 UTC (1700000000)"
        );
        assert_eq!(readable_timestamp(""), "");
        assert_eq!(readable_timestamp("abc"), "abc");
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(format_ms(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_ms(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
    }
}
