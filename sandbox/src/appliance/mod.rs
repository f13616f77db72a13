//! The simulated BeyondTrust Remote Support appliance.
//!
//! Routes: `/oauth2/token`, `/api/command`, `/api/reporting`, `/api/client_script`,
//! `/api/start_session` (the simulated API, subject to the fault plan) and `/_control/...`
//! (JSON control API for tests and the demo, never faulted).

mod client_script;
mod command;
mod control;
mod oauth;
mod outbound;
mod params;
mod report_xml;
mod reporting;
mod sessions;
mod xml;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::routing::{any, get};
use axum::{middleware, Router};
use rand::Rng;
use serde::Serialize;

pub use outbound::DeliveredEvent;
pub use sessions::{
    Customer, Load, Party, Rep, ScriptedEvent, SessionSpec, SurveyQuestion, SysInfoCategory,
};
pub use xml::XmlNamespace;

use crate::faults::{self, Faults};
use crate::recorded::RecordedCall;
use crate::server::{self, ServerHandle};
use crate::{SandboxError, SandboxOptions};
use sessions::Session;

/// Fixed facts about one running appliance.
#[derive(Debug)]
struct Config {
    base_url: String,
    host: String,
    client_id: String,
    client_secret: String,
    legacy_username: String,
    legacy_password: String,
    oauth_only: bool,
    appliance_id: String,
    cert_pem: Option<String>,
}

/// A session key issued by `generate_session_key`.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedSessionKey {
    pub short_key: String,
    pub queue_id: String,
    pub external_key: Option<String>,
    pub expires: i64,
}

#[derive(Debug)]
struct State {
    namespace: XmlNamespace,
    tokens: oauth::Tokens,
    sessions: Vec<Session>,
    next_lseq: u64,
    session_keys: Vec<IssuedSessionKey>,
    api_calls: Vec<RecordedCall>,
    token_calls: Vec<RecordedCall>,
    client_scripts: Vec<RecordedCall>,
    start_sessions: Vec<RecordedCall>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    state: Mutex<State>,
    faults: Faults,
    outbound: outbound::Queue,
}

/// Cheap, cloneable handle to a running simulated appliance.
#[derive(Debug, Clone)]
pub struct Appliance {
    inner: Arc<Inner>,
}

pub(crate) fn random_hex(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

pub(crate) fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Binds the appliance and starts its server and outbound worker.
pub(crate) async fn start(
    opts: &SandboxOptions,
) -> Result<(Appliance, ServerHandle), SandboxError> {
    let listener = server::bind("the appliance", opts.appliance_port).await?;
    let port = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind {
            what: "the appliance",
            port: opts.appliance_port,
            source,
        })?
        .port();
    let tls = if opts.appliance_tls {
        Some(crate::tls::self_signed()?)
    } else {
        None
    };
    let host = format!("127.0.0.1:{port}");
    let scheme = if tls.is_some() { "https" } else { "http" };
    let appliance = Appliance::new(
        Config {
            base_url: format!("{scheme}://{host}"),
            host,
            client_id: random_hex(32),
            client_secret: random_token(48),
            legacy_username: "api_user".into(),
            legacy_password: random_token(24),
            oauth_only: opts.oauth_only,
            appliance_id: "sandbox".into(),
            cert_pem: tls.as_ref().map(|t| t.cert_pem.clone()),
        },
        opts,
    );
    appliance.start_worker();
    let handle = server::spawn(
        listener,
        appliance.router(),
        tls.map(|t| t.acceptor),
        appliance.inner.faults.clone(),
    );
    Ok((appliance, handle))
}

impl Appliance {
    fn new(config: Config, opts: &SandboxOptions) -> Appliance {
        Appliance {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State {
                    namespace: opts.xml_namespace,
                    tokens: oauth::Tokens::new(opts.token_lifetime),
                    sessions: Vec::new(),
                    next_lseq: 1000,
                    session_keys: Vec::new(),
                    api_calls: Vec::new(),
                    token_calls: Vec::new(),
                    client_scripts: Vec::new(),
                    start_sessions: Vec::new(),
                }),
                faults: Faults::default(),
                outbound: outbound::Queue::new(opts.events_url.clone(), opts.event_retry_backoff),
            }),
        }
    }

    /// An appliance not bound to any port, for router tests.
    #[cfg(test)]
    pub(crate) fn for_tests(opts: &SandboxOptions) -> Appliance {
        Appliance::new(
            Config {
                base_url: "https://127.0.0.1:9".into(),
                host: "127.0.0.1:9".into(),
                client_id: "test-client".into(),
                client_secret: "test-secret".into(),
                legacy_username: "api_user".into(),
                legacy_password: "legacy-pass".into(),
                oauth_only: opts.oauth_only,
                appliance_id: "sandbox".into(),
                cert_pem: None,
            },
            opts,
        )
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The whole router: simulated API (faulted) plus `/_control` (never faulted).
    pub(crate) fn router(&self) -> Router {
        let api = Router::new()
            .route("/oauth2/token", any(oauth::token))
            .route("/api/command", any(command::handle))
            .route("/api/command.ns", any(command::handle))
            .route("/api/reporting", any(reporting::handle))
            .route("/api/reporting.ns", any(reporting::handle))
            .route("/api/client_script", get(client_script::client_script))
            .route("/api/start_session", get(client_script::start_session))
            .layer(middleware::from_fn_with_state(
                self.inner.faults.clone(),
                faults::apply,
            ))
            .with_state(self.clone());
        Router::new()
            .nest("/_control", control::router(self.clone()))
            .merge(api)
    }

    /// `https://127.0.0.1:PORT` (or `http://` without TLS).
    pub fn base_url(&self) -> String {
        self.inner.config.base_url.clone()
    }
    /// `127.0.0.1:PORT`: what the middleware's `host` setting takes.
    pub fn host(&self) -> String {
        self.inner.config.host.clone()
    }
    /// Whether the appliance answers HTTPS.
    pub fn is_tls(&self) -> bool {
        self.inner.config.cert_pem.is_some()
    }
    /// PEM of the self-signed certificate (None over plain HTTP), for clients that trust it.
    pub fn certificate_pem(&self) -> Option<String> {
        self.inner.config.cert_pem.clone()
    }
    pub fn client_id(&self) -> String {
        self.inner.config.client_id.clone()
    }
    pub fn client_secret(&self) -> String {
        self.inner.config.client_secret.clone()
    }
    pub fn legacy_username(&self) -> String {
        self.inner.config.legacy_username.clone()
    }
    pub fn legacy_password(&self) -> String {
        self.inner.config.legacy_password.clone()
    }
    /// `appliance_id` sent with outbound events.
    pub fn appliance_id(&self) -> String {
        self.inner.config.appliance_id.clone()
    }
    /// `/_control` base URL.
    pub fn control_url(&self) -> String {
        format!("{}/_control", self.inner.config.base_url)
    }
    /// Switches the namespace of XML answers.
    pub fn set_xml_namespace(&self, namespace: XmlNamespace) {
        self.state().namespace = namespace;
    }
    /// Where outbound events go; `None` holds them in the queue.
    pub fn set_events_url(&self, url: Option<String>) {
        self.inner.outbound.set_url(url);
    }
    /// Lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, d: Duration) {
        self.state().tokens.set_lifetime(d);
    }
    /// Tokens currently valid.
    pub fn live_tokens(&self) -> usize {
        self.state().tokens.live()
    }
    /// Successful and failed `POST /oauth2/token` calls so far.
    pub fn token_requests(&self) -> usize {
        self.state().tokens.requests()
    }
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Starts a running session; returns its lsid (32 hex characters).
    pub fn create_session(&self, spec: SessionSpec) -> String {
        let lsid = random_hex(32);
        // Without an explicit start, the scripted activity happened just before now, so the
        // session can end now.
        let scripted = 10 * (spec.events.len() as i64 + 1);
        let start_time = spec.start_time.unwrap_or_else(|| unix_now() - scripted);
        let mut state = self.state();
        state.next_lseq += 1;
        let session = Session {
            lsid: lsid.clone(),
            lseq: state.next_lseq,
            start_time,
            end_time: None,
            external_key: spec.external_key.clone(),
            custom_attributes: spec.custom_attributes.clone(),
            lag_remaining: 0,
            unarchived_remaining: 0,
            spec,
        };
        state.sessions.push(session);
        lsid
    }

    /// Ends a running session now and queues its outbound events: `support_conference_end`,
    /// then the customer and representative exit survey events when the spec has surveys.
    /// Unknown or already ended sessions are left alone.
    pub fn end_session(&self, lsid: &str) {
        let events = {
            let mut state = self.state();
            let Some(session) = state.sessions.iter_mut().find(|s| s.lsid == lsid) else {
                return;
            };
            if session.end_time.is_some() {
                return;
            }
            let end = unix_now().max(session.last_activity());
            session.end_time = Some(end);
            let mut names = vec!["support_conference_end"];
            if !session.spec.customer_survey.is_empty() {
                names.push("support_conference_customer_exit_survey_completed");
            }
            if !session.spec.rep_survey.is_empty() {
                names.push("support_conference_rep_exit_survey_completed");
            }
            names
                .into_iter()
                .map(|name| self.event_fields(name, session, end, &[]))
                .collect::<Vec<_>>()
        };
        for fields in events {
            self.inner.outbound.push(fields);
        }
    }

    /// Queues any outbound event for a known session (e.g. `support_conference_begin`, a member
    /// event with `type`/`name`/... in `extra`, or an unknown event name). Returns false for an
    /// unknown lsid.
    pub fn queue_event(&self, lsid: &str, event: &str, extra: &[(&str, &str)]) -> bool {
        let fields = {
            let state = self.state();
            let Some(session) = state.sessions.iter().find(|s| s.lsid == lsid) else {
                return false;
            };
            self.event_fields(event, session, unix_now(), extra)
        };
        self.inner.outbound.push(fields);
        true
    }

    fn event_fields(
        &self,
        event: &str,
        session: &Session,
        timestamp: i64,
        extra: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let mut fields = vec![
            ("event".to_string(), event.to_string()),
            ("version".to_string(), outbound::EVENT_VERSION.to_string()),
            ("timestamp".to_string(), timestamp.to_string()),
            (
                "appliance_id".to_string(),
                self.inner.config.appliance_id.clone(),
            ),
            ("lsid".to_string(), session.lsid.clone()),
        ];
        if let Some(key) = session.external_key.as_ref().filter(|k| !k.is_empty()) {
            fields.push(("external_key".to_string(), key.clone()));
        }
        fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        fields
    }

    /// The session's report answers without `end_time` for its next `fetches_without_end_time`
    /// `SupportSession` fetches.
    pub fn report_lag(&self, lsid: &str, fetches_without_end_time: u32) {
        if let Some(session) = self.state().sessions.iter_mut().find(|s| s.lsid == lsid) {
            session.lag_remaining = fetches_without_end_time;
        }
    }

    /// The session is not archived yet for its next `fetches` `SupportSession` fetches: they
    /// answer "No archives found for the given search criteria." (HTTP 200), as a real
    /// appliance does for a session that ended moments ago.
    pub fn archive_lag(&self, lsid: &str, fetches: u32) {
        if let Some(session) = self.state().sessions.iter_mut().find(|s| s.lsid == lsid) {
            session.unarchived_remaining = fetches;
        }
    }

    /// External key the session currently carries (None for unknown sessions or no key).
    pub fn session_external_key(&self, lsid: &str) -> Option<String> {
        self.state()
            .sessions
            .iter()
            .find(|s| s.lsid == lsid)
            .and_then(|s| s.external_key.clone())
    }

    /// Lsids of all sessions, oldest first.
    pub fn session_ids(&self) -> Vec<String> {
        self.state()
            .sessions
            .iter()
            .map(|s| s.lsid.clone())
            .collect()
    }

    /// Waits (on a notification) until at least `n` events were delivered with a 200 answer.
    pub async fn wait_events_delivered(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<(), SandboxError> {
        self.inner.outbound.wait_delivered(n, timeout).await
    }
    /// Events delivered so far, in delivery order.
    pub fn delivered_events(&self) -> Vec<DeliveredEvent> {
        self.inner.outbound.delivered()
    }
    /// Events queued and not yet delivered (including one being retried).
    pub fn pending_events(&self) -> usize {
        self.inner.outbound.pending()
    }
    /// Every `GET /api/client_script` call, refused ones too (their `status` is 400).
    pub fn client_scripts(&self) -> Vec<RecordedCall> {
        self.state().client_scripts.clone()
    }
    /// Valid `GET /api/start_session` calls.
    pub fn start_sessions(&self) -> Vec<RecordedCall> {
        self.state().start_sessions.clone()
    }
    /// Every authenticated `/api/command` and `/api/reporting` call (no secrets).
    pub fn api_calls(&self) -> Vec<RecordedCall> {
        self.state().api_calls.clone()
    }
    /// Every `POST /oauth2/token` call, refused ones too (never the Authorization header or a
    /// secret), e.g. to check each carried `Connection: close`.
    pub fn token_calls(&self) -> Vec<RecordedCall> {
        self.state().token_calls.clone()
    }
    /// Session keys issued by `generate_session_key`.
    pub fn session_keys(&self) -> Vec<IssuedSessionKey> {
        self.state().session_keys.clone()
    }

    fn start_worker(&self) {
        self.inner.outbound.start_worker();
    }

    pub(crate) fn stop_worker(&self) {
        self.inner.outbound.stop();
    }
}
