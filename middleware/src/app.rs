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
    /// How long a claimed event belongs to its worker before another may take it over. The
    /// worker renews it every third of `lease` while it works and right before each ticket
    /// update; keep it well above `http_timeout`.
    pub lease: Duration,
    /// First retry delay; doubles per failed attempt (with jitter), capped at `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Waiting for a lagging report: first delay, doubling, at most `report_wait_tries` checks.
    pub report_wait_base: Duration,
    pub report_wait_max_delay: Duration,
    pub report_wait_tries: u32,
    /// A worker that cannot reach the database waits this long, doubling per failure, up to
    /// `store_backoff_max`, instead of spinning.
    pub store_backoff_base: Duration,
    pub store_backoff_max: Duration,
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
            store_backoff_base: Duration::from_secs(1),
            store_backoff_max: Duration::from_secs(60),
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
    /// Database errors the workers met while looking for work (admin, tests).
    pub store_failures: std::sync::atomic::AtomicU64,
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub async fn build(
        config: Config,
        tuning: Tuning,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, StartError> {
        let renderer = Renderer::new(config.server.templates_dir.as_deref())?;
        let store = Store::connect_with(&config.server.database_url, tuning.http_timeout).await?;
        Self::build_with_store(config, tuning, store, renderer, shutdown)
    }

    /// [`build`](Self::build) on an already open store: another "process" sharing one database,
    /// with its own clients and rate limiters (tests of scale-out on one store).
    pub fn build_with_store(
        config: Config,
        tuning: Tuning,
        store: Store,
        renderer: Renderer,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, StartError> {
        if tuning.lease < tuning.http_timeout * 2 {
            tracing::warn!(
                lease_ms = tuning.lease.as_millis() as u64,
                http_timeout_ms = tuning.http_timeout.as_millis() as u64,
                "the lease is shorter than two HTTP timeouts; renewals keep claims alive, but a stalled worker is taken over sooner"
            );
        }
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
            store_failures: Default::default(),
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
