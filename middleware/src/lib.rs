//! The middleware: BeyondTrust outbound events in, Zendesk private comments out.
//!
//! Module map (one job each):
//! - [`config`]: the TOML configuration contract, validation with file/line/key, env secrets.
//! - [`config_store`]: configurations in the database (imported from the file once), live reload.
//! - [`secret`]: the `Secret` newtype that keeps credentials out of logs and `Debug`.
//! - [`store`]: durable event queue, attempts and polling checkpoints (SQLite or Postgres).
//! - [`ingest`]: `POST /ERSPost` — store the appliance's outbound event, answer 200 fast.
//! - [`beyondtrust`]: appliance API client (tokens, reports) and namespace-agnostic XML parsing.
//! - [`zendesk`]: Zendesk REST client (private comments, tags, lookup) and rate limiting.
//! - [`ticket_key`]: which ticket of the configuration's Zendesk an external key names.
//! - [`render`]: Handlebars templates turning reports into escaped HTML comments.
//! - [`posting`]: what to post for an event (comment budget, attached full report or parts;
//!   pure) and posting it exactly once (upload, one ticket update per comment).
//! - [`unassociated`]: the ticket created for a session that names none (pure).
//! - [`survey_rules`]: status/tags a customer exit survey answer sets on its ticket (pure).
//! - [`worker`]: the pool that claims events and posts exactly one comment per session event.
//! - [`poller`]: the `SupportSessionListing` fallback for sites without outbound events.
//! - [`check`]: `middleware check` — credentials and permissions of every configuration.
//! - [`admin`]: the admin UI and JSON API on `admin_listen` (password, events, Retry, tests).
//! - [`app`]: shared state and timings; [`testing`]: an in-process app for integration tests.

pub mod admin;
pub mod app;
pub mod beyondtrust;
pub mod budget;
pub mod check;
pub mod config;
pub mod config_store;
pub mod guard;
pub mod ingest;
pub mod leader;
pub mod listener;
pub mod metrics;
pub mod poller;
pub mod posting;
pub mod render;
pub mod retention;
pub mod secret;
pub mod settings;
pub mod store;
pub mod survey_rules;
pub mod testing;
pub mod ticket_key;
pub mod unassociated;
pub mod worker;
pub mod zendesk;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use app::{Shared, StartError, Tuning};
pub use config::Config;

/// A middleware bound to its events and admin addresses, not yet serving.
pub struct Server {
    shared: Arc<Shared>,
    listener: TcpListener,
    admin_listener: TcpListener,
    admin: Arc<admin::AdminState>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown_tx: watch::Sender<bool>,
}

impl Server {
    /// Opens the store (running migrations), compiles templates, builds clients, finds the
    /// admin password, binds the events and admin listeners. Every start-time problem surfaces here.
    pub async fn bind(config: Config, tuning: Tuning) -> Result<Self, StartError> {
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let addr = config.server.events_listen.clone();
        let admin_addr = config.server.admin_listen.clone();
        let server_config = config.server.clone();
        // The store first: a second process on the same SQLite file stops here, having
        // touched nothing (not even the admin password file).
        let shared = Shared::build(config, tuning, shutdown_rx).await?;
        let (password, source) =
            admin::password::resolve(&server_config, &|name| std::env::var(name).ok())?;
        match &source {
            admin::password::PasswordSource::Env(var) => {
                tracing::info!(%var, "admin password from the environment")
            }
            admin::password::PasswordSource::File(path) => tracing::info!(
                path = %path.display(),
                var = %server_config.admin_password_env,
                "admin password is in this file (set the variable to choose one)"
            ),
        }
        let tls = shared
            .config
            .ingest
            .tls
            .as_ref()
            .map(listener::tls_acceptor)
            .transpose()?;
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let admin_listener =
            TcpListener::bind(&admin_addr)
                .await
                .map_err(|source| StartError::Bind {
                    addr: admin_addr,
                    source,
                })?;
        if let Ok(addr) = admin_listener.local_addr() {
            admin::warn_if_exposed(addr);
        }
        let admin = admin::AdminState::new(shared.clone(), password);
        Ok(Self {
            shared,
            listener,
            admin_listener,
            admin,
            tls,
            shutdown_tx,
        })
    }

    /// Whether the events listener speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn admin_addr(&self) -> std::io::Result<SocketAddr> {
        self.admin_listener.local_addr()
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Serves events, runs the workers and pollers until `shutdown` completes, then stops
    /// accepting, lets in-flight events finish (or releases them) and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self {
            shared,
            listener,
            admin_listener,
            admin,
            tls,
            shutdown_tx,
        } = self;
        let mut tasks = tokio::task::JoinSet::new();
        for id in 0..shared.config.server.workers {
            tasks.spawn(worker::run_worker(shared.clone(), id));
        }
        tasks.spawn(poller::supervise(shared.clone()));
        tasks.spawn(shared.clone().follow_configurations());
        if let Some(days) = shared.config.operations.retain_days {
            tasks.spawn(retention::run(shared.clone(), days));
        }
        let server = tokio::spawn(listener::serve(
            listener,
            ingest::router(shared.clone()),
            shared.config.ingest.clone(),
            tls,
            shutdown_tx.subscribe(),
        ));
        let mut stop = shutdown_tx.subscribe();
        let admin_server = axum::serve(
            admin_listener,
            admin::router(admin).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        let admin_server = tokio::spawn(async move { admin_server.await });
        shutdown.await;
        tracing::info!("shutting down: no new events accepted, finishing in-flight work");
        let _ = shutdown_tx.send(true);
        let served = server.await.unwrap_or(Ok(()));
        let admin_served = admin_server.await.unwrap_or(Ok(()));
        while tasks.join_next().await.is_some() {}
        shared.store.close().await;
        tracing::info!("stopped");
        served.and(admin_served)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("serving events failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// Runs the middleware with default timings until `shutdown` completes.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let tuning = Tuning {
        lease: config.operations.claim_lease,
        ..Tuning::default()
    };
    let server = Server::bind(config, tuning).await?;
    let scheme = if server.is_tls() { "https" } else { "http" };
    tracing::info!(addr = %server.local_addr()?, scheme, "listening for outbound events on /ERSPost");
    tracing::info!(addr = %server.admin_addr()?, "admin UI and API");
    server.run(shutdown).await?;
    Ok(())
}
