//! Shared state of a running middleware: store, clients per configuration, templates, wake-ups.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::beyondtrust::{ApplianceClient, ApplianceError};
use crate::config::{Config, Configuration};
use crate::config_store::{ConfigStore, ConfigStoreError};
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
    #[error("stored configurations: {0}")]
    Configurations(#[from] ConfigStoreError),
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

/// The clients of every stored configuration, replaced as a whole when configurations change.
#[derive(Debug, Default)]
pub struct Runtimes {
    /// The configurations' generation in the database this set was built from.
    pub generation: i64,
    /// In the order the admin lists them (only configurations that validate).
    pub list: Vec<Arc<Runtime>>,
    /// Each runtime's stored document, to keep clients (and their tokens) of unchanged ones.
    docs: HashMap<String, String>,
}

impl Runtimes {
    pub fn get(&self, name: &str) -> Option<&Arc<Runtime>> {
        self.list.iter().find(|r| r.cfg.name == name)
    }

    pub fn values(&self) -> impl Iterator<Item = &Arc<Runtime>> {
        self.list.iter()
    }
}

/// Everything the ingest router, workers and poller share.
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    /// The file's `[server]` settings and its configurations as read at start (imported into
    /// the database at the first start only; see [`Shared::runtimes`] for the live set).
    pub config: Config,
    runtimes: watch::Sender<Arc<Runtimes>>,
    limiters: RateLimiters,
    reload_lock: tokio::sync::Mutex<()>,
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

fn build_runtime(
    cfg: &Configuration,
    tuning: &Tuning,
    limiters: &RateLimiters,
    store: &Store,
) -> Result<Runtime, StartError> {
    let appliance =
        ApplianceClient::new(&cfg.beyondtrust, tuning.http_timeout).map_err(|source| {
            StartError::Appliance {
                name: cfg.name.clone(),
                source,
            }
        })?;
    let limiter = limiters.for_instance(&cfg.zendesk.url, cfg.zendesk.update_rate_per_minute);
    if store.is_postgres() {
        // Several instances may share this database: the budget is the account's.
        limiter.share_with(crate::budget::SharedBudget::new(
            store.clone(),
            &cfg.zendesk.url,
            cfg.zendesk.update_rate_per_minute,
        ));
    }
    let zendesk =
        ZendeskClient::new(&cfg.zendesk, limiter, tuning.http_timeout).map_err(|source| {
            StartError::Zendesk {
                name: cfg.name.clone(),
                source,
            }
        })?;
    Ok(Runtime {
        cfg: cfg.clone(),
        appliance,
        zendesk,
    })
}

impl Shared {
    pub async fn build(
        config: Config,
        tuning: Tuning,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Self>, StartError> {
        let renderer = Renderer::new(config.server.templates_dir.as_deref())?;
        let store = Store::connect_with(&config.server.database_url, tuning.http_timeout).await?;
        Self::build_with_store(config, tuning, store, renderer, shutdown).await
    }

    /// [`build`](Self::build) on an already open store: another "process" sharing one database,
    /// with its own clients and rate limiters (tests of scale-out on one store).
    pub async fn build_with_store(
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
        // Every configuration of the file must at least build its clients (as before).
        let limiters = RateLimiters::default();
        for cfg in &config.configurations {
            build_runtime(cfg, &tuning, &limiters, &store)?;
        }
        let configs = ConfigStore::new(&store);
        if configs.import_once(&config.configurations).await? {
            if !config.configurations.is_empty() {
                tracing::info!(
                    count = config.configurations.len(),
                    "configurations imported from the file; from now on the database is authoritative (manage them in the admin)"
                );
            }
        } else if !config.configurations.is_empty() {
            tracing::warn!("the database holds the configurations; the file's [[configuration]] sections are not read again (change them in the admin; `middleware config export` writes the current set)");
        }
        let shared = Arc::new(Self {
            store,
            config,
            runtimes: watch::channel(Arc::new(Runtimes::default())).0,
            limiters,
            reload_lock: tokio::sync::Mutex::new(()),
            renderer,
            tuning,
            wake: Notify::new(),
            progress: Notify::new(),
            store_failures: Default::default(),
            shutdown,
        });
        shared.reload_configurations().await?;
        Ok(shared)
    }

    /// The configurations in effect now (a snapshot; later changes replace it, not mutate it).
    pub fn runtimes(&self) -> Arc<Runtimes> {
        self.runtimes.borrow().clone()
    }

    /// The runtime of the configuration named `name`, if it exists now.
    pub fn runtime(&self, name: &str) -> Option<Arc<Runtime>> {
        self.runtimes.borrow().get(name).cloned()
    }

    /// Wakes when the set of configurations changes (the poller supervisor follows it).
    pub fn watch_runtimes(&self) -> watch::Receiver<Arc<Runtimes>> {
        self.runtimes.subscribe()
    }

    /// The configurations table of this middleware's database.
    pub fn config_store(&self) -> ConfigStore {
        ConfigStore::new(&self.store)
    }

    /// Re-reads the stored configurations and swaps in new clients for the changed ones.
    /// A configuration whose clients cannot be built is left out and logged.
    pub async fn reload_configurations(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let (generation, stored) = self.config_store().load().await.map_err(|e| match e {
            ConfigStoreError::Store(s) => s,
            other => StoreError::from(sqlx::Error::Protocol(other.to_string())),
        })?;
        let old = self.runtimes();
        let mut next = Runtimes {
            generation,
            ..Runtimes::default()
        };
        for s in stored {
            let cfg = match s.parsed {
                Ok(c) => c,
                Err(reason) => {
                    tracing::warn!(configuration = %s.name, %reason, "stored configuration is not valid; it is not used");
                    continue;
                }
            };
            let doc = s.doc.to_string();
            let reuse = old
                .get(&cfg.name)
                .filter(|_| old.docs.get(&cfg.name) == Some(&doc))
                .cloned();
            let rt = match reuse {
                Some(rt) => rt,
                None => match build_runtime(&cfg, &self.tuning, &self.limiters, &self.store) {
                    Ok(rt) => Arc::new(rt),
                    Err(e) => {
                        tracing::warn!(configuration = %cfg.name, error = %e, "configuration cannot be used");
                        continue;
                    }
                },
            };
            next.docs.insert(cfg.name.clone(), doc);
            next.list.push(rt);
        }
        if old.generation == 0 {
            for rt in &next.list {
                let c = &rt.cfg;
                tracing::info!(
                    configuration = %c.name,
                    appliance_id = %c.appliance_id,
                    host = %c.beyondtrust.host,
                    zendesk = %c.zendesk.url,
                    disabled = c.disabled,
                    "configuration in effect"
                );
            }
        } else if old.generation != generation {
            tracing::info!(
                generation,
                count = next.list.len(),
                "configurations changed; applied without restart"
            );
        }
        self.runtimes.send_replace(Arc::new(next));
        Ok(())
    }

    /// Reloads when another instance (or this one) changed the configurations; runs until
    /// shutdown, checking every [`crate::config_store::CHECK_EVERY`].
    pub async fn follow_configurations(self: Arc<Self>) {
        let mut shutdown = self.shutdown.clone();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(crate::config_store::CHECK_EVERY) => {}
                _ = shutdown.changed() => {}
            }
            if self.is_shutting_down() {
                break;
            }
            match self.config_store().generation().await {
                Ok(g) if g != self.runtimes().generation => {
                    if let Err(e) = self.reload_configurations().await {
                        tracing::warn!(error = %e, "reloading configurations failed; will try again");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "checking configurations failed; will try again")
                }
            }
        }
    }

    /// The enabled configuration receiving events for `appliance_id` (case-insensitive).
    pub fn configuration_for_appliance(&self, appliance_id: &str) -> Result<Arc<Runtime>, String> {
        let runtimes = self.runtimes();
        let mut disabled = None;
        for rt in runtimes.values() {
            if rt.cfg.appliance_id.eq_ignore_ascii_case(appliance_id) {
                if !rt.cfg.disabled {
                    return Ok(rt.clone());
                }
                disabled = Some(rt.cfg.name.clone());
            }
        }
        Err(match disabled {
            Some(name) => {
                format!("configuration {name:?} for appliance id {appliance_id:?} is disabled")
            }
            None => format!("no configuration for appliance id {appliance_id:?}"),
        })
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}
