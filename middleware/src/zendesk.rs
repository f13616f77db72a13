//! Zendesk REST client: private comments, tags, duration field, comment lookup, `users/me`.
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

use crate::beyondtrust::client::describe_reqwest;
use crate::config::ZendeskConfig;

mod tickets;
pub use tickets::Created;

#[derive(Debug, thiserror::Error)]
pub enum ZendeskError {
    #[error("Zendesk rate limit (HTTP 429){}", .retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx, timeout, connection failure. `sent` is false when the request certainly never
    /// reached Zendesk (connection refused).
    #[error("Zendesk unavailable: {message}")]
    Transient { message: String, sent: bool },
    #[error("Zendesk answered HTTP {status}: {message}")]
    Permanent { status: u16, message: String },
}

impl ZendeskError {
    /// Whether a ticket update that failed this way may nevertheless have been applied.
    pub fn may_have_applied(&self) -> bool {
        matches!(self, Self::Transient { sent: true, .. })
    }
}

fn transport(e: reqwest::Error) -> ZendeskError {
    let sent = !e.is_connect();
    ZendeskError::Transient {
        message: describe_reqwest(e),
        sent,
    }
}

/// Token bucket shared by every configuration that talks to one Zendesk instance, so bursts of
/// ticket updates stay under the Update Ticket limit (100/minute per account) instead of
/// causing 429 storms. A 429 pauses the whole bucket until `Retry-After` has passed.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    state: StdMutex<Bucket>,
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
        }
    }

    fn capacity_for(per_minute: u32) -> f64 {
        (per_minute as f64 / 10.0).max(1.0)
    }

    /// Waits until one request may be sent.
    pub async fn acquire(&self) {
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
                Some(d) => tokio::time::sleep(d).await,
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

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, ZendeskError> {
        self.limiter.acquire().await;
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(3600.0)));
            if let Some(d) = retry_after {
                self.limiter.pause(d);
            }
            return Err(ZendeskError::RateLimited { retry_after });
        }
        let body = resp.text().await.unwrap_or_default();
        let message = error_message(&body);
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Err(ZendeskError::Transient {
                message: format!("HTTP {}: {message}", status.as_u16()),
                sent: true,
            });
        }
        Err(ZendeskError::Permanent {
            status: status.as_u16(),
            message,
        })
    }

    /// Adds one private comment (and optionally sets numeric custom fields in the same update).
    pub async fn add_private_comment(
        &self,
        ticket_id: u64,
        html_body: &str,
        custom_fields: &[(u64, serde_json::Value)],
    ) -> Result<(), ZendeskError> {
        let mut ticket = json!({ "comment": { "html_body": html_body, "public": false } });
        if !custom_fields.is_empty() {
            ticket["custom_fields"] = custom_fields
                .iter()
                .map(|(id, value)| json!({ "id": id, "value": value }))
                .collect::<Vec<_>>()
                .into();
        }
        let url = format!("{}/api/v2/tickets/{ticket_id}.json", self.base);
        self.send(
            self.request(reqwest::Method::PUT, &url)
                .json(&json!({ "ticket": ticket })),
        )
        .await?;
        Ok(())
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

    /// Whether any comment on the ticket contains `marker` (follows pagination on this host only).
    pub async fn has_comment_with(
        &self,
        ticket_id: u64,
        marker: &str,
    ) -> Result<bool, ZendeskError> {
        let mut url = format!("{}/api/v2/tickets/{ticket_id}/comments.json", self.base);
        for _ in 0..100 {
            let resp = self.send(self.request(reqwest::Method::GET, &url)).await?;
            let page: CommentsPage = resp.json().await.map_err(|e| ZendeskError::Transient {
                message: describe_reqwest(e),
                sent: true,
            })?;
            let found = page.comments.iter().any(|c| {
                ["html_body", "body", "plain_body"].iter().any(|k| {
                    c[*k]
                        .as_str()
                        .is_some_and(|b| crate::render::contains_marker(b, marker))
                })
            });
            if found {
                return Ok(true);
            }
            match page.next_page {
                // Never send the credentials anywhere but the configured instance.
                Some(next) if next.starts_with(&self.base) && !next.is_empty() => url = next,
                _ => return Ok(false),
            }
        }
        Ok(false)
    }

    pub async fn me(&self) -> Result<User, ZendeskError> {
        let url = format!("{}/api/v2/users/me.json", self.base);
        let resp = self.send(self.request(reqwest::Method::GET, &url)).await?;
        let answer: UserAnswer = resp.json().await.map_err(|e| ZendeskError::Transient {
            message: describe_reqwest(e),
            sent: true,
        })?;
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
    fn basic_auth_header_is_sensitive_and_debug_hides_it() {
        let cfg = ZendeskConfig {
            url: "https://x.zendesk.com".into(),
            username: "a@b.c".into(),
            token: crate::secret::Secret::new("tok123"),
            tags: vec![],
            duration_field_id: None,
            duration_field_unit: Default::default(),
            update_rate_per_minute: 100,
            tickets: Default::default(),
        };
        let c = ZendeskClient::new(
            &cfg,
            Arc::new(RateLimiter::new(100)),
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(c.auth.is_sensitive());
        let expected = base64::engine::general_purpose::STANDARD.encode("a@b.c/token:tok123");
        assert_eq!(c.auth.to_str().unwrap(), format!("Basic {expected}"));
        assert!(!format!("{c:?}").contains(&expected));
    }
}
