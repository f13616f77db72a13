//! HTTP client for one appliance (one configuration).
//!
//! - OAuth tokens are cached per configuration behind a tokio `Mutex`: whoever needs a token
//!   holds the lock while fetching, so there is never more than one live token request per
//!   configuration (an API account keeps at most 30 live tokens and the 31st evicts the oldest).
//! - Tokens are refreshed shortly before `expires_in` runs out, and a 401 triggers exactly one
//!   fresh token and one retry (the token may have been evicted by another client).
//! - Every call sends `Connection: close`, as BeyondTrust's API guide asks.
//! - Errors never carry URLs (legacy credentials travel as query parameters) nor tokens.

use std::time::Duration;

use reqwest::header::{HeaderValue, CONNECTION};
use reqwest::StatusCode;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::model::{self, ApiInfo, ExitSurvey, ReportError, Session, SessionSummary};
use crate::config::{ApplianceAuth, BeyondTrustConfig};

#[derive(Debug, thiserror::Error)]
pub enum ApplianceError {
    /// Connection refused/reset, timeout, DNS: worth retrying.
    #[error("appliance unreachable: {0}")]
    Transport(String),
    #[error("appliance answered HTTP {0}")]
    Status(u16),
    /// 429 or 503 with `Retry-After`: the appliance said when to come back.
    #[error("appliance answered HTTP {status}, retry after {}s", .retry_after.as_secs())]
    Busy { status: u16, retry_after: Duration },
    /// A 5xx whose body is the appliance's `<error>message</error>`: transient, message kept.
    #[error("appliance answered HTTP {status}: {message}")]
    ServerError { status: u16, message: String },
    #[error("appliance rejected the API credentials: {0}")]
    Auth(String),
    #[error(transparent)]
    Report(#[from] ReportError),
    /// `ca_file` missing or not PEM certificates.
    #[error("beyondtrust.ca_file {path}: {message}")]
    CaFile { path: String, message: String },
}

impl ApplianceError {
    /// Whether a later attempt may succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Status(s) => *s >= 500 || *s == 429 || *s == 408,
            Self::Busy { .. } => true,
            Self::ServerError { .. } => true,
            Self::Auth(_) => false,
            Self::CaFile { .. } => false,
            Self::Report(ReportError::Api(_)) => false,
            // A truncated body is usually a dropped connection.
            Self::Report(ReportError::Xml(_)) => true,
            Self::Report(ReportError::UnexpectedRoot { .. }) => false,
        }
    }

    /// When the appliance said to come back (`Retry-After` on 429/503), if it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Busy { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the appliance), at most an hour.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(3600)))
}

/// The appliance's `<error>` for a search that found nothing ("No archives found for the given
/// search criteria.", as a real appliance answers).
fn is_no_archives(message: &str) -> bool {
    message.to_ascii_lowercase().contains("no archives found")
}

/// Describes a reqwest failure without its URL (which may hold legacy credentials).
fn transport(e: reqwest::Error) -> ApplianceError {
    ApplianceError::Transport(describe_reqwest(e))
}

pub(crate) fn describe_reqwest(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "reading the answer failed"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut msg = kind.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[derive(Clone)]
struct CachedToken {
    value: String,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Which survey report to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyKind {
    Customer,
    Representative,
}

impl SurveyKind {
    fn report(self) -> &'static str {
        match self {
            Self::Customer => "SupportCustExitSurvey",
            Self::Representative => "SupportRepExitSurvey",
        }
    }
}

pub struct ApplianceClient {
    http: reqwest::Client,
    base_url: String,
    auth: ApplianceAuth,
    locale: String,
    token: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for ApplianceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplianceClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ApplianceClient {
    pub fn new(cfg: &BeyondTrustConfig, timeout: Duration) -> Result<Self, ApplianceError> {
        let mut builder = reqwest::Client::builder();
        if let Some(path) = &cfg.ca_file {
            let fail = |message: String| ApplianceError::CaFile {
                path: path.display().to_string(),
                message,
            };
            let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| fail(format!("not PEM certificates: {e}")))?;
            if certs.is_empty() {
                return Err(fail("no certificate in the file".into()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .danger_accept_invalid_certs(cfg.allow_invalid_certificates)
            .pool_max_idle_per_host(0)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("rsz-middleware/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(transport)?;
        Ok(Self {
            http,
            base_url: cfg.base_url(),
            auth: cfg.auth.clone(),
            locale: cfg.locale.clone(),
            token: Mutex::new(None),
        })
    }

    /// Returns a valid token, fetching one if none is cached or it is about to expire.
    async fn token(
        &self,
        client_id: &str,
        secret: &crate::secret::Secret,
    ) -> Result<String, ApplianceError> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref() {
            if Instant::now() < t.refresh_at {
                return Ok(t.value.clone());
            }
        }
        let resp = self
            .http
            .post(format!("{}/oauth2/token", self.base_url))
            .header(CONNECTION, HeaderValue::from_static("close"))
            .basic_auth(client_id, Some(secret.expose()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED
            || status == StatusCode::BAD_REQUEST
            || status == StatusCode::FORBIDDEN
        {
            return Err(ApplianceError::Auth(format!(
                "token request answered HTTP {}",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(match retry_after(&resp) {
                Some(retry_after)
                    if status == StatusCode::TOO_MANY_REQUESTS
                        || status == StatusCode::SERVICE_UNAVAILABLE =>
                {
                    ApplianceError::Busy {
                        status: status.as_u16(),
                        retry_after,
                    }
                }
                _ => ApplianceError::Status(status.as_u16()),
            });
        }
        let answer: TokenAnswer = resp.json().await.map_err(|e| {
            ApplianceError::Transport(format!("token answer unreadable: {}", describe_reqwest(e)))
        })?;
        if let Some(tt) = &answer.token_type {
            if !tt.eq_ignore_ascii_case("bearer") {
                return Err(ApplianceError::Auth(format!(
                    "unsupported token type {tt:?}"
                )));
            }
        }
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        // Refresh a little early: a quarter of the lifetime, at most a minute.
        let margin = (lifetime / 4).min(Duration::from_secs(60));
        *guard = Some(CachedToken {
            value: answer.access_token.clone(),
            refresh_at: Instant::now() + lifetime - margin,
        });
        Ok(answer.access_token)
    }

    /// Forgets `used` if it is still the cached token (someone else may have refreshed already).
    async fn invalidate(&self, used: &str) {
        let mut guard = self.token.lock().await;
        if guard.as_ref().is_some_and(|t| t.value == used) {
            *guard = None;
        }
    }

    /// GET `path` with `params`, authenticated; returns the body text of a 2xx answer.
    async fn call(&self, path: &str, params: &[(&str, &str)]) -> Result<String, ApplianceError> {
        let url = format!("{}{}", self.base_url, path);
        let mut retried = false;
        loop {
            let mut req = self
                .http
                .get(&url)
                .header(CONNECTION, HeaderValue::from_static("close"))
                .query(params);
            let mut used_token = None;
            match &self.auth {
                ApplianceAuth::OAuth {
                    client_id,
                    client_secret,
                } => {
                    let token = self.token(client_id, client_secret).await?;
                    req = req.bearer_auth(&token);
                    used_token = Some(token);
                }
                ApplianceAuth::Legacy { username, password } => {
                    req = req.query(&[
                        ("username", username.as_str()),
                        ("password", password.expose()),
                    ]);
                }
            }
            let resp = req.send().await.map_err(|e| {
                crate::metrics::appliance_call(0);
                transport(e)
            })?;
            let status = resp.status();
            crate::metrics::appliance_call(status.as_u16());
            if status == StatusCode::UNAUTHORIZED {
                if let (Some(token), false) = (used_token, retried) {
                    self.invalidate(&token).await;
                    retried = true;
                    continue;
                }
                return Err(ApplianceError::Auth("API call answered HTTP 401".into()));
            }
            if status == StatusCode::FORBIDDEN {
                return Err(ApplianceError::Auth(
                    "API call answered HTTP 403 (permissions?)".into(),
                ));
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
            {
                if let Some(retry_after) = retry_after(&resp) {
                    return Err(ApplianceError::Busy {
                        status: status.as_u16(),
                        retry_after,
                    });
                }
            }
            if !status.is_success() {
                // The appliance may explain itself with an <error> body.
                let body = resp.text().await.unwrap_or_default();
                if let Ok(root) = super::xml::parse(&body) {
                    if root.name == "error" && !root.trimmed_text().is_empty() {
                        if status.is_server_error() {
                            return Err(ApplianceError::ServerError {
                                status: status.as_u16(),
                                message: root.trimmed_text(),
                            });
                        }
                        return Err(ReportError::Api(root.trimmed_text()).into());
                    }
                }
                return Err(ApplianceError::Status(status.as_u16()));
            }
            return resp.text().await.map_err(transport);
        }
    }

    fn report_params<'a>(
        &'a self,
        report: &'a str,
        extra: &[(&'a str, &'a str)],
    ) -> Vec<(&'a str, &'a str)> {
        let mut p = vec![("generate_report", report)];
        p.extend_from_slice(extra);
        if !self.locale.is_empty() {
            p.push(("locale", self.locale.as_str()));
        }
        p
    }

    /// `SupportSession` for one lsid; `None` when the appliance has no such session (yet).
    ///
    /// A session that just ended may not be archived yet: the appliance then answers "No
    /// archives found for the given search criteria." for its lsid, which means "not yet".
    pub async fn support_session(&self, lsid: &str) -> Result<Option<Session>, ApplianceError> {
        let body = self
            .call(
                "/api/reporting",
                &self.report_params("SupportSession", &[("lsid", lsid)]),
            )
            .await?;
        let sessions = match model::parse_session_list(&body) {
            Err(ReportError::Api(m)) if is_no_archives(&m) => return Ok(None),
            other => other?,
        };
        Ok(sessions
            .into_iter()
            .find(|s| s.lsid == lsid || s.lsid.is_empty()))
    }

    /// Sessions that ended at or after `since` (unix seconds), oldest first as the appliance lists them.
    pub async fn session_listing(&self, since: i64) -> Result<Vec<SessionSummary>, ApplianceError> {
        let since = since.to_string();
        let params = self.report_params(
            "SupportSessionListing",
            &[("end_time", since.as_str()), ("duration", "0")],
        );
        let body = self.call("/api/reporting", &params).await?;
        match model::parse_session_summary_list(&body) {
            // "No archives found for the given search criteria." is how an empty result looks.
            Err(ReportError::Api(m)) if is_no_archives(&m) => Ok(Vec::new()),
            other => Ok(other?),
        }
    }

    pub async fn exit_surveys(
        &self,
        kind: SurveyKind,
        lsid: &str,
    ) -> Result<Vec<ExitSurvey>, ApplianceError> {
        let params = self.report_params(kind.report(), &[("lsid", lsid), ("report_type", "rep")]);
        let body = self.call("/api/reporting", &params).await?;
        match model::parse_exit_survey_list(&body) {
            Err(ReportError::Api(m)) if is_no_archives(&m) => Ok(Vec::new()),
            other => Ok(other?),
        }
    }

    pub async fn api_info(&self) -> Result<ApiInfo, ApplianceError> {
        let body = self
            .call("/api/command", &[("action", "get_api_info")])
            .await?;
        Ok(model::parse_api_info(&body)?)
    }
}
