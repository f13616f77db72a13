//! Shared state of a running middleware: store, clients per configuration, templates, wake-ups.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::beyondtrust::{ApplianceClient, ApplianceError};
use crate::config::{Config, Configuration};
use crate::render::{RenderError, Renderer};
use crate::store::{Store, StoreError};
use crate::zendesk::{RateLimiters, ZendeskClient, ZendeskError};

/// Timings that production leaves at their defaults and tests shrink.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Whole-request timeout for appliance and Zendesk calls.
    pub http_timeout: Duration,
    /// How long a claimed event belongs to its worker before another may take it over.
    pub lease: Duration,
    /// First retry delay; doubles per failed attempt (with jitter), capped at `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Waiting for a lagging report: first delay, doubling, at most `report_wait_tries` checks.
    pub report_wait_base: Duration,
    pub report_wait_max_delay: Duration,
    pub report_wait_tries: u32,
    /// 429 answers tolerated for one event before it fails.
    pub max_throttled: i64,
    /// Longest a worker sleeps without looking for due events (safety net; wake-ups are explicit).
    pub idle_poll: Duration,
    /// Overlap when polling the session listing, to cover clock differences.
    pub poll_overlap_secs: i64,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            http_timeout: Duration::from_secs(30),
            lease: Duration::from_secs(600),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(600),
            report_wait_base: Duration::from_secs(2),
            report_wait_max_delay: Duration::from_secs(30),
            report_wait_tries: 8,
            max_throttled: 50,
            idle_poll: Duration::from_secs(30),
            poll_overlap_secs: 60,
        }
    }
}

/// A configuration with its clients.
#[derive(Debug)]
pub struct Runtime {
    pub cfg: Configuration,
    pub appliance: ApplianceClient,
    pub zendesk: ZendeskClient,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Template(#[from] RenderError),
    #[error("configuration {name}: {source}")]
    Appliance {
        name: String,
        source: ApplianceError,
    },
    #[error("configuration {name}: {source}")]
    Zendesk { name: String, source: ZendeskError },
    #[error("ingest TLS: {0}")]
    Tls(#[from] crate::listener::TlsError),
    #[error(transparent)]
    AdminPassword(#[from] crate::admin::password::PasswordError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Everything the ingest router, workers and poller share.
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub config: Config,
    pub runtimes: HashMap<String, Arc<Runtime>>,
    pub renderer: Renderer,
    pub tuning: Tuning,
    /// Rung when new work is stored.
    pub wake: Notify,
    /// Rung after every processed event (tests wait on it).
    pub progress: Notify,
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub async fn build(
        config: Config,
        tuning: Tuning,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, StartError> {
        let renderer = Renderer::new(config.server.templates_dir.as_deref())?;
        let store = Store::connect(&config.server.database_url).await?;
        let limiters = RateLimiters::default();
        let mut runtimes = HashMap::new();
        for cfg in &config.configurations {
            let appliance =
                ApplianceClient::new(&cfg.beyondtrust, tuning.http_timeout).map_err(|source| {
                    StartError::Appliance {
                        name: cfg.name.clone(),
                        source,
                    }
                })?;
            let limiter =
                limiters.for_instance(&cfg.zendesk.url, cfg.zendesk.update_rate_per_minute);
            if store.is_postgres() {
                // Several instances may share this database: the budget is the account's.
                limiter.share_with(crate::budget::SharedBudget::new(
                    store.clone(),
                    &cfg.zendesk.url,
                    cfg.zendesk.update_rate_per_minute,
                ));
            }
            let zendesk = ZendeskClient::new(&cfg.zendesk, limiter, tuning.http_timeout).map_err(
                |source| StartError::Zendesk {
                    name: cfg.name.clone(),
                    source,
                },
            )?;
            runtimes.insert(
                cfg.name.clone(),
                Arc::new(Runtime {
                    cfg: cfg.clone(),
                    appliance,
                    zendesk,
                }),
            );
        }
        Ok(Arc::new(Self {
            store,
            config,
            runtimes,
            renderer,
            tuning,
            wake: Notify::new(),
            progress: Notify::new(),
            shutdown,
        }))
    }

    /// The enabled configuration receiving events for `appliance_id` (case-insensitive).
    pub fn configuration_for_appliance(
        &self,
        appliance_id: &str,
    ) -> Result<&Configuration, String> {
        let mut disabled = None;
        for c in &self.config.configurations {
            if c.appliance_id.eq_ignore_ascii_case(appliance_id) {
                if !c.disabled {
                    return Ok(c);
                }
                disabled = Some(c);
            }
        }
        Err(match disabled {
            Some(c) => format!(
                "configuration {:?} for appliance id {appliance_id:?} is disabled",
                c.name
            ),
            None => format!("no configuration for appliance id {appliance_id:?}"),
        })
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}
