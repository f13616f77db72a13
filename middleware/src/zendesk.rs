//! Zendesk REST client: ticket updates (private comment + added tags + duration field in one
//! PUT), uploads, the session-record lookup (newest first, every page), `users/me`.
//!
//! Errors are classified for the worker: 429 carries `Retry-After`; 5xx, timeouts and
//! connection failures are transient; 401/403/404/422 (and other 4xx) are permanent and keep
//! Zendesk's own message. The API token only ever travels in the `Authorization` header, which is
//! marked sensitive, and never appears in an error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use base64::Engine;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use app_core::marker::Marker;

use crate::beyondtrust::client::describe_reqwest;
use crate::config::ZendeskConfig;

mod tickets;
pub use tickets::Created;

#[derive(Debug, thiserror::Error)]
pub enum ZendeskError {
    #[error("Zendesk rate limit (HTTP 429){}", .retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx, timeout, connection failure. `sent` is false when the request certainly never
    /// reached Zendesk (connection refused). `retry_after` is Zendesk's `Retry-After` on a 503.
    #[error("Zendesk unavailable: {message}")]
    Transient {
        message: String,
        sent: bool,
        retry_after: Option<Duration>,
    },
    #[error("Zendesk answered HTTP {status}: {message}")]
    Permanent { status: u16, message: String },
}

impl ZendeskError {
    /// Whether a ticket update that failed this way may nevertheless have been applied.
    pub fn may_have_applied(&self) -> bool {
        matches!(self, Self::Transient { sent: true, .. })
    }

    /// When Zendesk said to come back (`Retry-After`), if it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// One request's place in the instance's rate budget, taken ahead of the request with
/// [`ZendeskClient::take_slot`], so a caller can wait for it before recording what it is about
/// to send (the worker's exactly-once marker).
#[must_use = "a slot is spent by the request it was taken for"]
pub struct Slot(());

fn transport(e: reqwest::Error) -> ZendeskError {
    let sent = !e.is_connect();
    ZendeskError::Transient {
        message: describe_reqwest(e),
        sent,
        retry_after: None,
    }
}

fn unreadable(e: reqwest::Error) -> ZendeskError {
    ZendeskError::Transient {
        message: describe_reqwest(e),
        sent: true,
        retry_after: None,
    }
}

/// `Retry-After` in seconds (Zendesk sends whole seconds; fractions are accepted), capped.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

/// Token bucket shared by every configuration that talks to one Zendesk instance, so bursts of
/// ticket updates stay under the Update Ticket limit (100/minute per account) instead of
/// causing 429 storms. A 429 pauses the whole bucket until `Retry-After` has passed.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    state: StdMutex<Bucket>,
    /// The account's budget shared with other instances (Postgres), consulted after the bucket.
    shared: std::sync::OnceLock<crate::budget::SharedBudget>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        Self {
            per_minute,
            state: StdMutex::new(Bucket {
                tokens: Self::capacity_for(per_minute),
                last: Instant::now(),
                paused_until: None,
            }),
            shared: std::sync::OnceLock::new(),
        }
    }

    /// Makes every request also take a slot of the account budget shared through the database.
    pub fn share_with(&self, budget: crate::budget::SharedBudget) {
        let _ = self.shared.set(budget);
    }

    fn capacity_for(per_minute: u32) -> f64 {
        (per_minute as f64 / 10.0).max(1.0)
    }

    /// Waits until one request may be sent.
    pub async fn acquire(&self) {
        self.acquire_local().await;
        if let Some(budget) = self.shared.get() {
            budget.acquire().await;
        }
    }

    async fn acquire_local(&self) {
        loop {
            let wait = {
                let mut b = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                if let Some(until) = b.paused_until {
                    if now < until {
                        Some(until - now)
                    } else {
                        b.paused_until = None;
                        None
                    }
                } else {
                    None
                }
                .or_else(|| {
                    // Refill so that burst + one minute of refill never exceeds the budget: any
                    // 60-second window then holds at most `per_minute` requests.
                    let rate = self.per_minute as f64 * 0.9 / 60.0;
                    b.tokens = (b.tokens + (now - b.last).as_secs_f64() * rate)
                        .min(Self::capacity_for(self.per_minute));
                    b.last = now;
                    if b.tokens >= 1.0 {
                        b.tokens -= 1.0;
                        None
                    } else {
                        Some(Duration::from_secs_f64((1.0 - b.tokens) / rate))
                    }
                })
            };
            match wait {
                None => return,
                Some(d) => {
                    crate::metrics::rate_limit_wait();
                    tokio::time::sleep(d).await
                }
            }
        }
    }

    /// Zendesk said 429: hold every request to this instance until `Retry-After` has passed.
    pub fn pause(&self, d: Duration) {
        let mut b = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + d;
        if b.paused_until.is_none_or(|u| u < until) {
            b.paused_until = Some(until);
        }
        if let Some(budget) = self.shared.get().cloned() {
            tokio::spawn(async move {
                if let Err(e) = budget.pause(d).await {
                    tracing::warn!(error = %e, "could not share the Zendesk pause");
                }
            });
        }
    }
}

/// One limiter per Zendesk base URL.
#[derive(Debug, Default)]
pub struct RateLimiters(StdMutex<HashMap<String, Arc<RateLimiter>>>);

impl RateLimiters {
    pub fn for_instance(&self, url: &str, per_minute: u32) -> Arc<RateLimiter> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(url.to_ascii_lowercase())
            .or_insert_with(|| Arc::new(RateLimiter::new(per_minute)))
            .clone()
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct User {
    pub id: Option<u64>,
    pub role: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize)]
struct UserAnswer {
    user: User,
}

/// Pages of comments read at most when looking for a session record.
const MAX_COMMENT_PAGES: usize = 60;

/// One ticket update as the middleware sends it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketUpdate {
    pub html_body: String,
    /// Tokens from [`ZendeskClient::upload`].
    pub uploads: Vec<String>,
    /// Added to the ticket's tags (never replacing them).
    pub additional_tags: Vec<String>,
    pub custom_fields: Vec<(u64, serde_json::Value)>,
    /// A new status in the same update (a survey rule's `solved`, for instance).
    pub status: Option<String>,
}

impl TicketUpdate {
    /// The request body: `{"ticket": {"comment": {...}, "additional_tags": [...], ...}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut comment = json!({ "html_body": self.html_body, "public": false });
        if !self.uploads.is_empty() {
            comment["uploads"] = json!(self.uploads);
        }
        let mut ticket = json!({ "comment": comment });
        if !self.additional_tags.is_empty() {
            ticket["additional_tags"] = json!(self.additional_tags);
        }
        if let Some(status) = &self.status {
            ticket["status"] = json!(status);
        }
        if !self.custom_fields.is_empty() {
            ticket["custom_fields"] = custom_fields_json(&self.custom_fields);
        }
        json!({ "ticket": ticket })
    }
}

/// Zendesk's `custom_fields` form: `[{"id": 123, "value": ...}]` (ticket updates and creation).
pub(crate) fn custom_fields_json(fields: &[(u64, serde_json::Value)]) -> serde_json::Value {
    fields
        .iter()
        .map(|(id, value)| json!({ "id": id, "value": value }))
        .collect::<Vec<_>>()
        .into()
}

#[derive(Deserialize)]
struct CommentsPage {
    #[serde(default)]
    comments: Vec<serde_json::Value>,
    next_page: Option<String>,
}

pub struct ZendeskClient {
    http: reqwest::Client,
    base: String,
    auth: HeaderValue,
    limiter: Arc<RateLimiter>,
}

impl std::fmt::Debug for ZendeskClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZendeskClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Zendesk's error bodies: `{"error": "RecordNotFound", "description": "Not found"}`,
/// `{"error": {"title": ..., "message": ...}}`, `{"error": "...", "details": {...}}`, or text.
fn error_message(body: &str) -> String {
    let trimmed: String = body.trim().chars().take(300).collect();
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return if trimmed.is_empty() {
            "no details".into()
        } else {
            trimmed
        };
    };
    let mut parts = Vec::new();
    match &v["error"] {
        serde_json::Value::String(s) => parts.push(s.clone()),
        serde_json::Value::Object(o) => {
            for k in ["title", "message"] {
                if let Some(s) = o.get(k).and_then(|x| x.as_str()) {
                    parts.push(s.to_string());
                }
            }
        }
        _ => {}
    }
    if let Some(d) = v["description"].as_str() {
        parts.push(d.to_string());
    }
    if let Some(details) = v.get("details").filter(|d| !d.is_null()) {
        parts.push(details.to_string().chars().take(300).collect());
    }
    if parts.is_empty() {
        trimmed
    } else {
        parts.join(": ")
    }
}

impl ZendeskClient {
    pub fn new(
        cfg: &ZendeskConfig,
        limiter: Arc<RateLimiter>,
        timeout: Duration,
    ) -> Result<Self, ZendeskError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("rsz-middleware/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(transport)?;
        let creds = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}/token:{}",
            cfg.username,
            cfg.token.expose()
        ));
        let mut auth = HeaderValue::from_str(&format!("Basic {creds}")).map_err(|_| {
            ZendeskError::Permanent {
                status: 0,
                message: "credentials contain invalid characters".into(),
            }
        })?;
        auth.set_sensitive(true);
        Ok(Self {
            http,
            base: cfg.url.trim_end_matches('/').to_string(),
            auth,
            limiter,
        })
    }

    /// Every request counts against the instance's budget (the plan limit counts them all).
    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
    }

    /// Waits for one request's place in the instance's rate budget.
    pub async fn take_slot(&self) -> Slot {
        self.limiter.acquire().await;
        Slot(())
    }

    /// The rate limiter shared by every client of this Zendesk instance.
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        &self.limiter
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, ZendeskError> {
        let slot = self.take_slot().await;
        self.send_in(slot, req).await
    }

    async fn send_in(
        &self,
        _slot: Slot,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ZendeskError> {
        let resp = req.send().await.map_err(|e| {
            crate::metrics::zendesk_call(0);
            transport(e)
        })?;
        let status = resp.status();
        crate::metrics::zendesk_call(status.as_u16());
        if status.is_success() {
            return Ok(resp);
        }
        let wait = retry_after(&resp);
        if status == StatusCode::TOO_MANY_REQUESTS {
            if let Some(d) = wait {
                self.limiter.pause(d);
            }
            return Err(ZendeskError::RateLimited { retry_after: wait });
        }
        let body = resp.text().await.unwrap_or_default();
        let message = error_message(&body);
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            // A 503 with Retry-After (maintenance, incident) holds the whole instance like a 429.
            if let Some(d) = wait.filter(|_| status == StatusCode::SERVICE_UNAVAILABLE) {
                self.limiter.pause(d);
            }
            return Err(ZendeskError::Transient {
                message: format!("HTTP {}: {message}", status.as_u16()),
                sent: true,
                retry_after: wait,
            });
        }
        Err(ZendeskError::Permanent {
            status: status.as_u16(),
            message,
        })
    }

    /// One ticket update: a private comment (with attached upload tokens), tags added without
    /// replacing the ticket's others (`additional_tags`), and custom fields, in one
    /// `PUT /api/v2/tickets/{id}.json`.
    pub async fn update_ticket(
        &self,
        ticket_id: u64,
        update: &TicketUpdate,
    ) -> Result<(), ZendeskError> {
        let slot = self.take_slot().await;
        self.update_ticket_in(slot, ticket_id, update).await
    }

    /// [`update_ticket`](Self::update_ticket) in a slot taken beforehand (the worker takes it
    /// before recording its exactly-once marker).
    pub async fn update_ticket_in(
        &self,
        slot: Slot,
        ticket_id: u64,
        update: &TicketUpdate,
    ) -> Result<(), ZendeskError> {
        let url = format!("{}/api/v2/tickets/{ticket_id}.json", self.base);
        self.send_in(
            slot,
            self.request(reqwest::Method::PUT, &url)
                .json(&update.to_json()),
        )
        .await?;
        Ok(())
    }

    /// Adds one private comment (and optionally sets custom fields in the same update).
    pub async fn add_private_comment(
        &self,
        ticket_id: u64,
        html_body: &str,
        custom_fields: &[(u64, serde_json::Value)],
    ) -> Result<(), ZendeskError> {
        let update = TicketUpdate {
            html_body: html_body.to_string(),
            custom_fields: custom_fields.to_vec(),
            ..TicketUpdate::default()
        };
        self.update_ticket(ticket_id, &update).await
    }

    /// Uploads a file for a later comment; answers the token for `comment.uploads`.
    pub async fn upload(
        &self,
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, ZendeskError> {
        let mut url =
            url::Url::parse(&format!("{}/api/v2/uploads.json", self.base)).map_err(|e| {
                ZendeskError::Permanent {
                    status: 0,
                    message: format!("bad Zendesk URL: {e}"),
                }
            })?;
        url.query_pairs_mut().append_pair("filename", filename);
        let resp = self
            .send(
                self.request(reqwest::Method::POST, url.as_str())
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(bytes),
            )
            .await?;
        let answer: serde_json::Value = resp.json().await.map_err(unreadable)?;
        answer["upload"]["token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ZendeskError::Transient {
                message: "upload answer carries no token".into(),
                sent: true,
                retry_after: None,
            })
    }

    /// Adds tags (PUT tags.json adds; it does not replace existing tags).
    pub async fn add_tags(&self, ticket_id: u64, tags: &[String]) -> Result<(), ZendeskError> {
        if tags.is_empty() {
            return Ok(());
        }
        let url = format!("{}/api/v2/tickets/{ticket_id}/tags.json", self.base);
        self.send(
            self.request(reqwest::Method::PUT, &url)
                .json(&json!({ "tags": tags })),
        )
        .await?;
        Ok(())
    }

    /// The session records of `wanted`'s event already on the ticket (any part), newest
    /// comments first, stopping once `enough` are found. Follows every `next_page` on the
    /// configured instance whatever host form Zendesk writes in it (only its path and query
    /// are used, so credentials never go elsewhere). When the listing cannot be read to the
    /// end the answer is an error, never "not there": posting again could duplicate.
    pub async fn find_records(
        &self,
        ticket_id: u64,
        wanted: &Marker,
        legacy: &str,
        enough: usize,
    ) -> Result<Vec<Marker>, ZendeskError> {
        let mut url = format!(
            "{}/api/v2/tickets/{ticket_id}/comments.json?sort_order=desc&per_page=100",
            self.base
        );
        let mut found: Vec<Marker> = Vec::new();
        // 5,000 comments per ticket at 100 per page: 50 pages; more means something is wrong.
        for _ in 0..MAX_COMMENT_PAGES {
            let resp = self.send(self.request(reqwest::Method::GET, &url)).await?;
            let page: CommentsPage = resp.json().await.map_err(unreadable)?;
            for c in &page.comments {
                let mut in_comment: Vec<Marker> = Vec::new();
                for k in ["html_body", "body", "plain_body"] {
                    let Some(text) = c[k].as_str() else { continue };
                    for m in app_core::marker::find_all(text) {
                        if m.same_event(wanted) && !in_comment.iter().any(|x| x.same_comment(&m)) {
                            in_comment.push(m);
                        }
                    }
                    if !legacy.is_empty()
                        && crate::render::contains_marker(text, legacy)
                        && in_comment.is_empty()
                    {
                        // Posted before session records existed: the whole event is there.
                        in_comment.push(Marker {
                            part: None,
                            ..wanted.clone()
                        });
                    }
                }
                for m in in_comment {
                    if !found.iter().any(|x| x.same_comment(&m)) {
                        found.push(m);
                    }
                }
            }
            if found.len() >= enough.max(1) || found.iter().any(|m| m.part.is_none()) {
                return Ok(found);
            }
            match page.next_page.as_deref().map(str::trim) {
                None | Some("") => return Ok(found),
                Some(next) => url = self.on_this_instance(next)?,
            }
        }
        Err(ZendeskError::Transient {
            message: format!(
                "ticket {ticket_id} has more than {MAX_COMMENT_PAGES} pages of comments; cannot tell whether the comment is already there"
            ),
            sent: true,
            retry_after: None,
        })
    }

    /// `next_page` rebased on the configured instance: Zendesk may write another host form
    /// (canonical subdomain behind host mapping, other case, explicit port).
    fn on_this_instance(&self, next: &str) -> Result<String, ZendeskError> {
        let bad = || ZendeskError::Transient {
            message: format!(
                "cannot follow next_page {:?}",
                next.chars().take(200).collect::<String>()
            ),
            sent: true,
            retry_after: None,
        };
        let path_and_query = if next.starts_with('/') {
            next.to_string()
        } else {
            let u = url::Url::parse(next).map_err(|_| bad())?;
            match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            }
        };
        if !path_and_query.starts_with("/api/v2/") {
            return Err(bad());
        }
        Ok(format!("{}{path_and_query}", self.base))
    }

    pub async fn me(&self) -> Result<User, ZendeskError> {
        let url = format!("{}/api/v2/users/me.json", self.base);
        let resp = self.send(self.request(reqwest::Method::GET, &url)).await?;
        let answer: UserAnswer = resp.json().await.map_err(unreadable)?;
        Ok(answer.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_extracted() {
        assert_eq!(
            error_message(r#"{"error":"RecordNotFound","description":"Not found"}"#),
            "RecordNotFound: Not found"
        );
        assert_eq!(
            error_message(r#"{"error":{"title":"Forbidden","message":"You do not have access"}}"#),
            "Forbidden: You do not have access"
        );
        assert!(error_message(r#"{"error":"RecordInvalid","description":"Record validation errors","details":{"base":[{"description":"too many comments"}]}}"#)
            .contains("too many comments"));
        assert_eq!(error_message("Rate limited\n"), "Rate limited");
        assert_eq!(error_message(""), "no details");
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_spaces_requests_after_the_burst() {
        let l = RateLimiter::new(60); // 1/s, burst of 6
        let start = Instant::now();
        for _ in 0..6 {
            l.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(10),
            "burst passes immediately"
        );
        l.acquire().await;
        assert!(
            start.elapsed() >= Duration::from_millis(990),
            "7th waits for a token: {:?}",
            start.elapsed()
        );
        l.pause(Duration::from_secs(30));
        let before = Instant::now();
        l.acquire().await;
        assert!(before.elapsed() >= Duration::from_secs(30));
    }

    #[test]
    fn one_update_carries_comment_uploads_added_tags_and_fields() {
        let u = TicketUpdate {
            html_body: "<p>x</p>".into(),
            uploads: vec!["tok".into()],
            additional_tags: vec!["remote_support".into()],
            custom_fields: vec![(7, json!(12))],
            status: Some("solved".into()),
        };
        assert_eq!(
            u.to_json(),
            json!({"ticket": {
                "comment": {"html_body": "<p>x</p>", "public": false, "uploads": ["tok"]},
                "additional_tags": ["remote_support"],
                "custom_fields": [{"id": 7, "value": 12}],
                "status": "solved",
            }})
        );
        let bare = TicketUpdate {
            html_body: "y".into(),
            ..TicketUpdate::default()
        };
        assert_eq!(
            bare.to_json(),
            json!({"ticket": {"comment": {"html_body": "y", "public": false}}})
        );
    }

    /// A client of `https://x.zendesk.com` for user `a@b.c` with token `tok123`.
    fn test_client() -> ZendeskClient {
        let cfg = ZendeskConfig {
            url: "https://x.zendesk.com".into(),
            username: "a@b.c".into(),
            token: crate::secret::Secret::new("tok123"),
            tags: vec![],
            duration_field_id: None,
            duration_field_unit: Default::default(),
            update_rate_per_minute: 100,
            system_information_categories: vec![],
            comment_max_chars: 60_000,
            tickets: Default::default(),
        };
        ZendeskClient::new(
            &cfg,
            Arc::new(RateLimiter::new(100)),
            Duration::from_secs(5),
        )
        .unwrap()
    }

    #[test]
    fn next_page_is_followed_on_the_configured_instance_only() {
        let c = test_client();
        for next in [
            "https://X.ZENDESK.COM:443/api/v2/tickets/1/comments.json?page=2",
            "https://support.example.com/api/v2/tickets/1/comments.json?page=2",
            "/api/v2/tickets/1/comments.json?page=2",
        ] {
            assert_eq!(
                c.on_this_instance(next).unwrap(),
                "https://x.zendesk.com/api/v2/tickets/1/comments.json?page=2"
            );
        }
        for bad in ["zendesk:unusable", "https://evil.test/steal", "page=2"] {
            assert!(c.on_this_instance(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn basic_auth_header_is_sensitive_and_debug_hides_it() {
        let c = test_client();
        assert!(c.auth.is_sensitive());
        let expected = base64::engine::general_purpose::STANDARD.encode("a@b.c/token:tok123");
        assert_eq!(c.auth.to_str().unwrap(), format!("Basic {expected}"));
        assert!(!format!("{c:?}").contains(&expected));
    }
}
